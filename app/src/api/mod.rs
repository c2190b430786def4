//! Server functions: the browser's only way to act. Each is a thin adapter: it takes the session and the
//! request's facts, calls a plain function of `server`, and turns its error into words for the user.

pub mod account;
pub mod admin;
pub mod import;
pub mod providers;
pub mod settings;
pub mod tracks;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use axum::http::{HeaderValue, StatusCode, header::RETRY_AFTER};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use server::{AppState, Error, auth::AuthSession, auth::User, http::client::ClientAddress};

    use crate::error::AppError;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| fail(Error::Config("no AppState in the Leptos context".into())))
    }

    pub async fn session() -> Result<AuthSession, AppError> {
        leptos_axum::extract::<AuthSession>()
            .await
            .map_err(|err| fail(Error::Session(format!("no session layer: {err}"))))
    }

    /// The signed-in user, or the "please log in" error with status 401.
    pub async fn user() -> Result<User, AppError> {
        session().await?.user.ok_or_else(|| fail(Error::Unauthenticated))
    }

    pub async fn client() -> String {
        leptos_axum::extract::<ClientAddress>()
            .await
            .map_or_else(|_| "unknown".to_owned(), |ClientAddress(address)| address)
    }

    /// The row id a request names. A malformed id is as unknown as someone else's.
    pub fn row_id(id: &str) -> Result<uuid::Uuid, AppError> {
        id.parse().map_err(|_| fail(Error::NotFound))
    }

    /// The user-facing form of `err`, with the response's status (and `Retry-After`) set to match. Errors
    /// that are not about the request are logged here with their details, which the user never sees.
    pub fn fail(err: Error) -> AppError {
        let status = match &err {
            Error::Invalid(_) | Error::TokenInvalid => StatusCode::BAD_REQUEST,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::EmailTaken => StatusCode::CONFLICT,
            Error::WrongCredentials | Error::Unauthenticated => StatusCode::UNAUTHORIZED,
            Error::WrongPassword | Error::AccountDisabled => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if !err.is_users() {
            tracing::error!(error = %err, "a server function failed");
        }
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
            if let Error::RateLimited { retry_after } = &err {
                response.insert_header(RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            }
        }
        AppError::Message(err.public_message())
    }
}
