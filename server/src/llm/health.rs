//! Whether a provider answers: the cheapest real request each API has (listing its models, or Ollama's
//! tags), with the user's key. Only a success is healthy; a rejected key, a limit, a failure or silence is
//! unreachable, with the reason in our own words: a provider's answer is never passed on, since it could
//! echo the key.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::{Client, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use super::providers::{self, Kind};
use crate::{Error, Result, auth::User, vault::Vault};

/// How long a check waits for an answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// The Azure OpenAI data-plane version the checks speak.
pub const AZURE_API_VERSION: &str = "2024-10-21";
/// The Anthropic API version the requests name, as its API requires.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unreachable(String),
}

impl Health {
    pub fn status(&self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unreachable(_) => "unreachable",
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Healthy => None,
            Self::Unreachable(why) => Some(why),
        }
    }
}

/// What a provider needs for a request: where it is, which model, and its key.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: Kind,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub key: Option<SecretString>,
}

impl Target {
    fn base(&self) -> String {
        self.base_url
            .as_deref()
            .or(self.kind.default_base_url())
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned()
    }

    /// A request to `path` under the provider's base URL, authenticated as its API expects. Keys travel in
    /// headers only, never in a URL that could reach a log.
    pub fn request(&self, client: &Client, method: reqwest::Method, path: &str) -> RequestBuilder {
        let mut url = format!("{}{path}", self.base());
        if self.kind == Kind::AzureOpenAi {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str("api-version=");
            url.push_str(AZURE_API_VERSION);
        }
        let request = client.request(method, url);
        let key = self
            .key
            .as_ref()
            .map(|key| key.expose_secret().to_owned())
            .unwrap_or_default();
        match self.kind {
            Kind::Anthropic => request
                .header("x-api-key", key)
                .header("anthropic-version", ANTHROPIC_VERSION),
            Kind::OpenAi => request.bearer_auth(key),
            Kind::GoogleGemini => request.header("x-goog-api-key", key),
            Kind::AzureOpenAi => request.header("api-key", key),
            Kind::Ollama => request,
        }
    }

    /// The cheapest request that proves the key and the address work.
    fn check_path(&self) -> &'static str {
        match self.kind {
            Kind::Anthropic | Kind::OpenAi => "/v1/models",
            Kind::GoogleGemini => "/v1beta/models",
            Kind::AzureOpenAi => "/openai/models",
            Kind::Ollama => "/api/tags",
        }
    }
}

/// Asks the provider and says what came back, within `timeout`.
pub async fn check(client: &Client, target: &Target, timeout: Duration) -> Health {
    let sent = target
        .request(client, reqwest::Method::GET, target.check_path())
        .timeout(timeout)
        .send()
        .await;
    match sent {
        Ok(response) => judge(response.status()),
        Err(err) if err.is_timeout() => Health::Unreachable(match timeout.as_secs_f64().ceil() as u64 {
            0 | 1 => "no answer within a second".to_owned(),
            secs => format!("no answer within {secs} seconds"),
        }),
        Err(err) if err.is_connect() => Health::Unreachable("could not connect: check the base URL".into()),
        Err(err) => {
            tracing::info!(error = %err, "a provider's health check failed");
            Health::Unreachable("the request failed: check the base URL".into())
        }
    }
}

/// What an answer's status says about the provider.
pub(super) fn judge(status: StatusCode) -> Health {
    let code = status.as_u16();
    match status {
        s if s.is_success() => Health::Healthy,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            Health::Unreachable(format!("key rejected ({code})"))
        }
        StatusCode::TOO_MANY_REQUESTS => Health::Unreachable(format!(
            "rate limited ({code}): the key is over its limit for now"
        )),
        StatusCode::NOT_FOUND => {
            Health::Unreachable(format!("not found ({code}): check the base URL and the model"))
        }
        s if s.is_server_error() => Health::Unreachable(format!("the service failed ({code})")),
        _ => Health::Unreachable(format!("unexpected answer ({code})")),
    }
}

/// A provider's health as its last check left it.
#[derive(Debug, Clone)]
pub struct Checked {
    pub health: Health,
    pub checked_at: DateTime<Utc>,
}

/// Checks the owner's provider now and records the outcome, whatever it is.
pub async fn check_now(
    pool: &PgPool,
    vault: &Vault,
    client: &Client,
    owner: &User,
    id: Uuid,
) -> Result<Checked> {
    check_and_record(pool, vault, client, owner.id, id).await
}

/// How many providers the periodic round checks at once.
const AT_ONCE: usize = 4;

/// Checks every enabled provider of every user, a few at a time, and records each outcome; returns how
/// many were checked. One that cannot be checked (its row just deleted) does not stop the others.
pub async fn check_all(pool: &PgPool, vault: &Vault, client: &Client) -> Result<usize> {
    use futures_util::StreamExt;
    let rows = sqlx::query!(
        "select id, user_id from llm_providers where enabled order by last_health_check_at nulls first"
    )
    .fetch_all(pool)
    .await?;
    let outcomes: Vec<Result<Checked>> = futures_util::stream::iter(rows)
        .map(|row| check_and_record(pool, vault, client, row.user_id, row.id))
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    for err in outcomes.iter().filter_map(|outcome| outcome.as_ref().err()) {
        tracing::warn!(error = %err, "a provider could not be checked");
    }
    Ok(outcomes.iter().filter(|outcome| outcome.is_ok()).count())
}

async fn check_and_record(
    pool: &PgPool,
    vault: &Vault,
    client: &Client,
    owner: Uuid,
    id: Uuid,
) -> Result<Checked> {
    let health = match providers::target(pool, vault, owner, id).await {
        Ok(target) => check(client, &target, CHECK_TIMEOUT).await,
        // A key that no longer opens cannot be checked: the provider is unreachable until it is entered again.
        Err(Error::Invalid(why)) => Health::Unreachable(why),
        Err(err) => return Err(err),
    };
    let checked_at = record(pool, owner, id, &health).await?;
    Ok(Checked { health, checked_at })
}

/// Writes what a check (or a request that failed) found out about the owner's provider.
pub(super) async fn record(pool: &PgPool, owner: Uuid, id: Uuid, health: &Health) -> Result<DateTime<Utc>> {
    sqlx::query_scalar!(
        r#"update llm_providers set health_status = $3, health_detail = $4, last_health_check_at = now()
           where id = $1 and user_id = $2
           returning last_health_check_at as "checked!: DateTime<Utc>""#,
        id,
        owner,
        health.status(),
        health.detail()
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_success_is_healthy() {
        assert_eq!(judge(StatusCode::OK), Health::Healthy);
        for (status, words) in [
            (StatusCode::UNAUTHORIZED, "key rejected (401)"),
            (StatusCode::FORBIDDEN, "key rejected (403)"),
            (StatusCode::TOO_MANY_REQUESTS, "rate limited (429)"),
            (StatusCode::NOT_FOUND, "not found (404)"),
            (StatusCode::BAD_GATEWAY, "the service failed (502)"),
            (StatusCode::BAD_REQUEST, "unexpected answer (400)"),
        ] {
            let health = judge(status);
            assert_eq!(health.status(), "unreachable");
            assert!(
                health.detail().is_some_and(|d| d.starts_with(words)),
                "{status}: {health:?}"
            );
        }
    }
}
