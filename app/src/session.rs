//! Who is signed in, as the pages see it: one resource, refreshed whenever an action that changes it
//! completes.

use leptos::prelude::*;

use crate::{
    api::account::{LogIn, LogOut, LogOutEverywhere, Register, SignedIn, me},
    error::AppError,
};

#[derive(Clone, Copy)]
pub struct Session {
    pub me: Resource<Result<Option<SignedIn>, AppError>>,
    pub log_in: ServerAction<LogIn>,
    pub log_out: ServerAction<LogOut>,
    pub log_out_everywhere: ServerAction<LogOutEverywhere>,
    pub register: ServerAction<Register>,
}

pub fn provide_session() {
    let log_in = ServerAction::<LogIn>::new();
    let log_out = ServerAction::<LogOut>::new();
    let log_out_everywhere = ServerAction::<LogOutEverywhere>::new();
    let register = ServerAction::<Register>::new();
    let me = Resource::new(
        move || {
            (
                log_in.version().get(),
                log_out.version().get(),
                log_out_everywhere.version().get(),
                register.version().get(),
            )
        },
        |_| me(),
    );
    provide_context(Session {
        me,
        log_in,
        log_out,
        log_out_everywhere,
        register,
    });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
