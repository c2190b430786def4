//! Accounts: register, log in and out, confirm the address, reset and change the password, change the
//! address. All of them POST; the ones that need a session say so first.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{client, fail, session, state, user};
use crate::error::AppError;

/// What the pages know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub email: String,
    pub role: String,
    pub confirmed: bool,
}

/// The signed-in user, or `None`.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<SignedIn>, AppError> {
    Ok(session().await?.user.map(|user| SignedIn {
        email: user.email,
        role: user.role.as_str().to_owned(),
        confirmed: user.confirmed_at.is_some(),
    }))
}

/// A new account, logged in at once; a confirmation link goes to the address.
#[server(endpoint = "register")]
pub async fn register(email: String, password: String) -> Result<(), AppError> {
    let state = state()?;
    let user = server::auth::account::register(&state, &client().await, &email, &password)
        .await
        .map_err(fail)?;
    server::auth::log_in(&mut session().await?, &user)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(endpoint = "login")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let state = state()?;
    let user = server::auth::account::authenticate(&state, &client().await, &email, &password)
        .await
        .map_err(fail)?;
    server::auth::log_in(&mut session().await?, &user)
        .await
        .map_err(fail)?;
    leptos_axum::redirect(&server::auth::safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn log_out() -> Result<(), AppError> {
    session()
        .await?
        .logout()
        .await
        .map_err(|err| fail(server::Error::Session(err.to_string())))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Ends every session of the signed-in user, this one included.
#[server(endpoint = "logout-everywhere")]
pub async fn log_out_everywhere() -> Result<(), AppError> {
    let user = user().await?;
    server::auth::account::log_out_everywhere(&state()?, &user)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Mails a reset link if the address has an account; answers the same either way.
#[server(endpoint = "forgot-password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    server::auth::account::request_password_reset(&state()?, &client().await, &email)
        .await
        .map_err(fail)
}

#[server(endpoint = "reset-password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    server::auth::account::reset_password(&state()?, &token, &password)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/login?reset=done");
    Ok(())
}

/// Confirms the address the link was mailed to. A POST from a button, because mail scanners open links.
#[server(endpoint = "confirm-email")]
pub async fn confirm_email(token: String) -> Result<String, AppError> {
    let user = server::auth::account::confirm_email(&state()?, &token)
        .await
        .map_err(fail)?;
    Ok(user.email)
}

#[server(endpoint = "resend-confirmation")]
pub async fn resend_confirmation() -> Result<(), AppError> {
    let user = user().await?;
    server::auth::account::resend_confirmation(&state()?, &client().await, &user)
        .await
        .map_err(fail)
}

/// A new password; other sessions end, this one stays.
#[server(endpoint = "change-password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let mut session = session().await?;
    let user = session
        .user
        .clone()
        .ok_or_else(|| fail(server::Error::Unauthenticated))?;
    let user = server::auth::account::change_password(&state()?, &user, &current_password, &new_password)
        .await
        .map_err(fail)?;
    server::auth::log_in(&mut session, &user).await.map_err(fail)
}

/// Mails a link to the new address; it becomes the account's when the link is used.
#[server(endpoint = "change-email")]
pub async fn change_email(current_password: String, new_email: String) -> Result<(), AppError> {
    let user = user().await?;
    server::auth::account::request_email_change(&state()?, &user, &current_password, &new_email)
        .await
        .map_err(fail)
}
