//! The user's LLM providers on the settings page. A key goes to the server and never comes back: the page
//! gets its last four characters.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{fail, row_id, state, user};
use crate::error::AppError;

/// The provider types, as (value, label, whether it takes a key, a hint for the base URL field).
pub const KINDS: [(&str, &str, bool, &str); 5] = [
    (
        "anthropic",
        "Anthropic",
        true,
        "Leave empty for api.anthropic.com",
    ),
    (
        "openai",
        "OpenAI or compatible",
        true,
        "Leave empty for api.openai.com, or a compatible server's address",
    ),
    (
        "google_gemini",
        "Google Gemini",
        true,
        "Leave empty for generativelanguage.googleapis.com",
    ),
    (
        "ollama",
        "Ollama (no key)",
        false,
        "Leave empty for http://localhost:11434",
    ),
    (
        "azure_openai",
        "Azure OpenAI",
        true,
        "Your resource, like https://my-resource.openai.azure.com",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLine {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub enabled: bool,
    /// `healthy`, `unreachable` or `unknown`.
    pub health: String,
    /// Why the last check found it unreachable: `key rejected (401)`.
    pub health_detail: Option<String>,
    /// `••••abcd`
    pub key_hint: Option<String>,
}

#[server(endpoint = "providers")]
pub async fn list_providers() -> Result<Vec<ProviderLine>, AppError> {
    let me = user().await?;
    let state = state()?;
    let providers = server::llm::providers::list(&state.pool, &state.vault, &me)
        .await
        .map_err(fail)?;
    Ok(providers
        .into_iter()
        .map(|provider| ProviderLine {
            id: provider.id.to_string(),
            kind: provider.kind.as_str().to_owned(),
            name: provider.name,
            base_url: provider.base_url,
            model: provider.model,
            enabled: provider.enabled,
            health: provider.health_status,
            health_detail: provider.health_detail,
            key_hint: provider.key_hint,
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn entry(
    kind: &str,
    name: String,
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    enabled: bool,
) -> Result<server::llm::providers::Entry, AppError> {
    Ok(server::llm::providers::Entry {
        kind: server::llm::providers::Kind::parse(kind).map_err(fail)?,
        name,
        api_key: api_key.map(server::SecretString::from),
        base_url,
        model,
        enabled,
    })
}

/// Adds a provider, tried after the others. A plain form: `api_key` may be empty only for Ollama.
#[server(endpoint = "add-provider")]
pub async fn add_provider(
    kind: String,
    name: String,
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
) -> Result<(), AppError> {
    let me = user().await?;
    let state = state()?;
    let entry = entry(&kind, name, api_key, base_url, model, true)?;
    server::llm::providers::add(&state.pool, &state.vault, &me, entry)
        .await
        .map(drop)
        .map_err(fail)
}

/// Changes a provider; an empty key keeps the stored one. The switch is sent only when on.
#[server(endpoint = "edit-provider")]
#[allow(clippy::too_many_arguments)]
pub async fn edit_provider(
    id: String,
    kind: String,
    name: String,
    api_key: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    enabled: Option<String>,
) -> Result<(), AppError> {
    let me = user().await?;
    let state = state()?;
    let entry = entry(&kind, name, api_key, base_url, model, enabled.is_some())?;
    server::llm::providers::update(&state.pool, &state.vault, &me, row_id(&id)?, entry)
        .await
        .map_err(fail)
}

#[server(endpoint = "delete-provider")]
pub async fn delete_provider(id: String) -> Result<(), AppError> {
    let me = user().await?;
    server::llm::providers::delete(&state()?.pool, &me, row_id(&id)?)
        .await
        .map_err(fail)
}

/// Moves a provider one place earlier (`up`) or later in the order requests try them.
#[server(endpoint = "move-provider")]
pub async fn move_provider(id: String, up: bool) -> Result<(), AppError> {
    let me = user().await?;
    server::llm::providers::reorder(&state()?.pool, &me, row_id(&id)?, up)
        .await
        .map_err(fail)
}

/// Checks the provider now with the cheapest real request its API has, and records what came back.
#[server(endpoint = "test-provider")]
pub async fn test_provider(id: String) -> Result<(), AppError> {
    let me = user().await?;
    let state = state()?;
    server::llm::health::check_now(&state.pool, &state.vault, &state.http.services, &me, row_id(&id)?)
        .await
        .map(drop)
        .map_err(fail)
}
