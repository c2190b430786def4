//! A value only the browser keeps: JavaScript objects (an `AudioContext`, picked files) and closures over them.
//!
//! Leptos keeps a thread-local value on the server in a wrapper that panics when it is dropped on another
//! thread, and a server-rendered page's values are dropped on whichever thread its stream ends: the panic cut
//! pages short at random. The server never runs the handlers that use these values, so it keeps none.

use leptos::prelude::*;

pub struct BrowserValue<T: 'static>(Option<StoredValue<T, LocalStorage>>);

impl<T: 'static> Clone for BrowserValue<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for BrowserValue<T> {}

impl<T: 'static> BrowserValue<T> {
    pub fn new(value: impl FnOnce() -> T) -> Self {
        Self(cfg!(feature = "hydrate").then(|| StoredValue::new_local(value())))
    }

    pub fn with_value<R>(&self, read: impl FnOnce(&T) -> R) -> Option<R> {
        self.0.and_then(|value| value.try_with_value(read))
    }

    pub fn try_update_value<R>(&self, change: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.0.and_then(|value| value.try_update_value(change))
    }

    pub fn update_value(&self, change: impl FnOnce(&mut T)) {
        self.try_update_value(change);
    }

    pub fn set_value(&self, new: T) {
        self.update_value(|value| *value = new);
    }
}
