//! The account flows: register, log in, confirm an address, reset or change a password, change the
//! address, log out everywhere. Pages call these through thin server functions; tests call them too.

use crate::{
    AppState, Error, Result,
    auth::{
        password,
        token::{self, Purpose},
        user::{self, User},
    },
    mail::Mail,
    rate_limit::{
        self, LOGIN_PER_ACCOUNT, LOGIN_PER_ADDRESS, REGISTER_PER_ADDRESS, RESET_PER_ACCOUNT,
        RESET_PER_ADDRESS,
    },
};

/// A new account, with a confirmation link mailed to it. `client` is the caller's address, for the
/// rate limit.
pub async fn register(state: &AppState, client: &str, email: &str, new_password: &str) -> Result<User> {
    rate_limit::hit(&state.pool, REGISTER_PER_ADDRESS, client).await?;
    let email = user::normalize_email(email)?;
    password::check_policy(new_password, &email)?;
    let hashed = password::hash(new_password.to_owned()).await?;
    let user = user::insert(&state.pool, &email, &hashed).await?;
    tracing::info!(user.id = %user.id, role = ?user.role, "registered");
    send_confirmation(state, &user, &user.email).await;
    Ok(user)
}

/// The user with this email and password, counted against the rate limits for the address and the
/// account. Wrong email and wrong password are one error, in the same time.
pub async fn authenticate(state: &AppState, client: &str, email: &str, given_password: &str) -> Result<User> {
    rate_limit::hit(&state.pool, LOGIN_PER_ADDRESS, client).await?;
    rate_limit::hit(&state.pool, LOGIN_PER_ACCOUNT, email.trim()).await?;
    if given_password.chars().count() > password::MAX_CHARS {
        return Err(Error::WrongCredentials);
    }
    let found = user::find_by_email(&state.pool, email.trim()).await?;
    let stored = found.as_ref().map(|user| user.hashed_password.clone());
    match (password::verify(given_password.to_owned(), stored).await?, found) {
        (true, Some(user)) if user::is_disabled(&state.pool, user.id).await? => Err(Error::AccountDisabled),
        (true, Some(user)) => Ok(user),
        _ => Err(Error::WrongCredentials),
    }
}

/// Mails a reset link if the address has an account. Says nothing either way, so nobody learns which
/// addresses have accounts; a failure to send is only logged, for the same reason.
pub async fn request_password_reset(state: &AppState, client: &str, email: &str) -> Result<()> {
    rate_limit::hit(&state.pool, RESET_PER_ADDRESS, client).await?;
    rate_limit::hit(&state.pool, RESET_PER_ACCOUNT, email.trim()).await?;
    let Some(user) = user::find_by_email(&state.pool, email.trim()).await? else {
        return Ok(());
    };
    let token = token::issue(&state.pool, user.id, Purpose::ResetPassword, &user.email).await?;
    let link = format!("{}/reset-password?token={token}", state.config.public_origin());
    send(
        state,
        Mail {
            to: user.email.clone(),
            subject: "Reset your Sound Forge Alchemy password".into(),
            body: format!(
                "Someone asked to reset the password of your Sound Forge Alchemy account.\n\n\
                 To choose a new one, open this link within an hour:\n{link}\n\n\
                 If it was not you, ignore this mail: your password stays as it is."
            ),
        },
    )
    .await;
    Ok(())
}

/// Sets a new password with a reset token. The token and every other reset link die, and so does every
/// session of the user.
pub async fn reset_password(state: &AppState, token_text: &str, new_password: &str) -> Result<User> {
    let mut tx = state.pool.begin().await?;
    let grant = token::consume(&mut *tx, Purpose::ResetPassword, token_text).await?;
    let account = user::find_enabled(&mut *tx, grant.user_id)
        .await?
        .ok_or(Error::TokenInvalid)?;
    password::check_policy(new_password, &account.email)?;
    let hashed = password::hash(new_password.to_owned()).await?;
    let account = user::set_password(&mut *tx, account.id, &hashed).await?;
    token::revoke_all(&mut *tx, account.id, Purpose::ResetPassword).await?;
    tx.commit().await?;
    tracing::info!(user.id = %account.id, "password reset");
    Ok(account)
}

/// Confirms the address a token was mailed to; for a requested change, that address becomes the
/// account's, and older confirmation links die.
pub async fn confirm_email(state: &AppState, token_text: &str) -> Result<User> {
    let mut tx = state.pool.begin().await?;
    let grant = token::consume(&mut *tx, Purpose::Confirm, token_text).await?;
    let before = user::find_enabled(&mut *tx, grant.user_id)
        .await?
        .ok_or(Error::TokenInvalid)?;
    let account = user::confirm_email(&mut *tx, grant.user_id, &grant.sent_to).await?;
    if before.email != account.email {
        token::revoke_all(&mut *tx, account.id, Purpose::Confirm).await?;
    }
    tx.commit().await?;
    Ok(account)
}

/// Mails a new confirmation link to the account's address.
pub async fn resend_confirmation(state: &AppState, client: &str, account: &User) -> Result<()> {
    rate_limit::hit(&state.pool, RESET_PER_ADDRESS, client).await?;
    send_confirmation(state, account, &account.email).await;
    Ok(())
}

/// A new password, given the current one. Every session of the user ends; the caller logs the current
/// one back in with the returned user.
pub async fn change_password(
    state: &AppState,
    account: &User,
    current: &str,
    new_password: &str,
) -> Result<User> {
    check_current_password(account, current).await?;
    password::check_policy(new_password, &account.email)?;
    let hashed = password::hash(new_password.to_owned()).await?;
    let account = user::set_password(&state.pool, account.id, &hashed).await?;
    tracing::info!(user.id = %account.id, "password changed");
    Ok(account)
}

/// Mails a confirmation link to `new_email`; the address changes when it is used.
pub async fn request_email_change(
    state: &AppState,
    account: &User,
    current: &str,
    new_email: &str,
) -> Result<()> {
    check_current_password(account, current).await?;
    let new_email = user::normalize_email(new_email)?;
    if new_email.eq_ignore_ascii_case(&account.email) {
        return Err(Error::Invalid("That is already your email address.".into()));
    }
    if user::find_by_email(&state.pool, &new_email).await?.is_some() {
        return Err(Error::EmailTaken);
    }
    send_confirmation(state, account, &new_email).await;
    Ok(())
}

/// Ends every session of the user, on every device.
pub async fn log_out_everywhere(state: &AppState, account: &User) -> Result<()> {
    user::renew_security_stamp(&state.pool, account.id).await?;
    tracing::info!(user.id = %account.id, "logged out everywhere");
    Ok(())
}

async fn check_current_password(account: &User, current: &str) -> Result<()> {
    if password::verify(current.to_owned(), Some(account.hashed_password.clone())).await? {
        Ok(())
    } else {
        Err(Error::WrongPassword)
    }
}

async fn send_confirmation(state: &AppState, account: &User, address: &str) {
    let token = match token::issue(&state.pool, account.id, Purpose::Confirm, address).await {
        Ok(token) => token,
        Err(err) => {
            tracing::error!(error = %err, user.id = %account.id, "cannot issue a confirmation token");
            return;
        }
    };
    let link = format!("{}/confirm-email?token={token}", state.config.public_origin());
    send(
        state,
        Mail {
            to: address.to_owned(),
            subject: "Confirm your email for Sound Forge Alchemy".into(),
            body: format!(
                "Open this link within a week to confirm this address for your Sound Forge Alchemy \
                 account:\n{link}\n\nIf you did not ask for it, ignore this mail."
            ),
        },
    )
    .await;
}

/// Sends, logging a failure rather than returning it: the flows that mail must not tell the caller
/// more than they already say.
async fn send(state: &AppState, mail: Mail) {
    let to = mail.to.clone();
    if let Err(err) = state.mailer.send(mail).await {
        tracing::error!(error = %err, %to, "cannot send mail");
    }
}
