//! The one error type server functions return: a message a user can read, and nothing else.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Says what went wrong, in words for the user.
    #[error("{0}")]
    Message(String),
    /// The call itself failed: the network, or a request the server could not read.
    #[error("The server could not be reached. Check your connection and try again.")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this is a request we could not read: the client's fault, not ours.
        #[cfg(feature = "ssr")]
        if matches!(
            value,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_)
        ) && let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        {
            response.set_status(axum::http::StatusCode::BAD_REQUEST);
        }
        Self::Transport(value.to_string())
    }
}
