//! A user's LLM providers: the rows, their sealed keys and their order. Every function takes the owner;
//! another user's provider is [`Error::NotFound`]. A key goes in and is never given back out: the page
//! gets only its last four characters.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use uuid::Uuid;

use super::health::Target;
use crate::{
    Error, Result,
    auth::User,
    vault::{self, Owner, Vault},
};

/// The APIs we speak, by their `provider_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Anthropic,
    OpenAi,
    GoogleGemini,
    Ollama,
    AzureOpenAi,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Anthropic,
        Kind::OpenAi,
        Kind::GoogleGemini,
        Kind::Ollama,
        Kind::AzureOpenAi,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::GoogleGemini => "google_gemini",
            Self::Ollama => "ollama",
            Self::AzureOpenAi => "azure_openai",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| Error::Invalid("Choose one of the listed provider types.".into()))
    }

    /// Ollama runs on the user's own machine and takes no key.
    pub fn needs_key(self) -> bool {
        self != Self::Ollama
    }

    /// Where the API lives when the user gives no base URL; Azure has none, every resource has its own.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Anthropic => Some("https://api.anthropic.com"),
            Self::OpenAi => Some("https://api.openai.com"),
            Self::GoogleGemini => Some("https://generativelanguage.googleapis.com"),
            Self::Ollama => Some("http://localhost:11434"),
            Self::AzureOpenAi => None,
        }
    }
}

/// A provider as its owner's page shows it: the key only as its last four characters.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: Uuid,
    pub kind: Kind,
    pub name: String,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub enabled: bool,
    pub priority: i32,
    pub health_status: String,
    /// Why the last check found it unreachable.
    pub health_detail: Option<String>,
    pub last_health_check_at: Option<DateTime<Utc>>,
    /// `••••abcd`; `None` without a key. A key that no longer opens (a master key lost) says so.
    pub key_hint: Option<String>,
}

/// What a user enters for a provider. On an edit, `api_key: None` keeps the stored key.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: Kind,
    pub name: String,
    pub api_key: Option<SecretString>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub enabled: bool,
}

const MAX_NAME: usize = 100;
const MAX_KEY: usize = 1000;

impl Entry {
    /// The entry cleaned up (trimmed, empty fields dropped) and checked.
    fn checked(mut self, adding: bool) -> Result<Self> {
        self.name = self.name.trim().to_owned();
        let blank = |value: Option<String>| value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        self.base_url = blank(self.base_url);
        self.model = blank(self.model);
        self.api_key = self
            .api_key
            .map(|key| key.expose_secret().trim().to_owned())
            .filter(|key| !key.is_empty())
            .map(SecretString::from);
        if self.name.is_empty()
            || self.name.chars().count() > MAX_NAME
            || self.name.chars().any(char::is_control)
        {
            return Err(Error::Invalid(format!(
                "Give the provider a name of 1 to {MAX_NAME} characters."
            )));
        }
        if let Some(key) = &self.api_key {
            let key = key.expose_secret();
            if key.len() > MAX_KEY || key.chars().any(char::is_whitespace) {
                return Err(Error::Invalid(
                    "That does not look like an API key: it has spaces in it or is far too long.".into(),
                ));
            }
        }
        if adding && self.kind.needs_key() && self.api_key.is_none() {
            return Err(Error::Invalid("This provider needs its API key.".into()));
        }
        if !self.kind.needs_key() && self.api_key.is_some() {
            return Err(Error::Invalid("Ollama takes no API key; leave it empty.".into()));
        }
        match &self.base_url {
            Some(url) => {
                let parsed = url::Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"));
                if parsed.is_none() {
                    return Err(Error::Invalid(
                        "The base URL must be a web address starting with http:// or https://.".into(),
                    ));
                }
            }
            None if self.kind.default_base_url().is_none() => {
                return Err(Error::Invalid(
                    "Azure OpenAI needs your resource's address, like https://my-resource.openai.azure.com."
                        .into(),
                ));
            }
            None => {}
        }
        if self.kind == Kind::AzureOpenAi && self.model.is_none() {
            return Err(Error::Invalid(
                "Azure OpenAI needs the deployment's name as the model.".into(),
            ));
        }
        Ok(self)
    }

    /// The entered key, sealed for row `id` of `owner`.
    fn sealed_key(&self, vault: &Vault, owner: &User, id: Uuid) -> Option<Vec<u8>> {
        self.api_key
            .as_ref()
            .map(|key| vault.seal(key, Owner::provider_key(owner.id, id)))
    }
}

/// The owner's providers in the order requests try them.
pub async fn list(pool: &PgPool, vault: &Vault, owner: &User) -> Result<Vec<Provider>> {
    let rows = sqlx::query!(
        r#"select id, provider_type, name, base_url, model, enabled, priority, health_status, health_detail,
                  api_key, last_health_check_at as "last_health_check_at: DateTime<Utc>"
           from llm_providers where user_id = $1 order by priority, inserted_at"#,
        owner.id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let key_hint = row.api_key.map(|sealed| {
                let sealed_for = Owner::provider_key(owner.id, row.id);
                match vault.open(&sealed, sealed_for) {
                    Ok(key) => vault::masked(&key),
                    Err(err) => {
                        tracing::warn!(error = %err, provider = %row.id, "a provider's key does not open");
                        "unreadable: enter the key again".to_owned()
                    }
                }
            });
            Ok(Provider {
                id: row.id,
                kind: Kind::parse(&row.provider_type)?,
                name: row.name,
                base_url: row.base_url,
                model: row.model,
                enabled: row.enabled,
                priority: row.priority,
                health_status: row.health_status,
                health_detail: row.health_detail,
                last_health_check_at: row.last_health_check_at,
                key_hint,
            })
        })
        .collect()
}

/// Adds a provider after the owner's others; returns its id.
pub async fn add(pool: &PgPool, vault: &Vault, owner: &User, entry: Entry) -> Result<Uuid> {
    let entry = entry.checked(true)?;
    let id = Uuid::new_v4();
    let sealed = entry.sealed_key(vault, owner, id);
    sqlx::query!(
        "insert into llm_providers (id, user_id, provider_type, name, api_key, base_url, model, enabled, priority)
         values ($1, $2, $3, $4, $5, $6, $7, $8,
                 (select coalesce(max(priority) + 1, 0) from llm_providers where user_id = $2))",
        id,
        owner.id,
        entry.kind.as_str(),
        entry.name,
        sealed,
        entry.base_url,
        entry.model,
        entry.enabled
    )
    .execute(pool)
    .await?;
    Ok(id)
}

/// Changes the owner's provider; without a new key the stored one stays. A changed key, address or model
/// makes the provider's health unknown again until its next check.
pub async fn update(pool: &PgPool, vault: &Vault, owner: &User, id: Uuid, entry: Entry) -> Result<()> {
    let entry = entry.checked(false)?;
    let sealed = entry.sealed_key(vault, owner, id);
    let mut tx = pool.begin().await?;
    let has_key = sqlx::query_scalar!(
        r#"update llm_providers p set provider_type = $3, name = $4,
               api_key = case when $3 = 'ollama' then null else coalesce($5, p.api_key) end,
               base_url = $6, model = $7, enabled = $8,
               health_status = case when was.moved then 'unknown' else p.health_status end,
               health_detail = case when was.moved then null else p.health_detail end
           from (
               select id, $5::bytea is not null or base_url is distinct from $6 or model is distinct from $7
                          or provider_type <> $3 as moved
               from llm_providers where id = $1
           ) was
           where p.id = $1 and p.user_id = $2 and was.id = p.id
           returning p.api_key is not null as "has_key!""#,
        id,
        owner.id,
        entry.kind.as_str(),
        entry.name,
        sealed,
        entry.base_url,
        entry.model,
        entry.enabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    if entry.kind.needs_key() && !has_key {
        return Err(Error::Invalid("This provider needs its API key.".into()));
    }
    tx.commit().await?;
    Ok(())
}

/// What a request to the owner's provider needs, its key opened; a key that no longer opens is the user's
/// to enter again.
pub(crate) async fn target(pool: &PgPool, vault: &Vault, owner: Uuid, id: Uuid) -> Result<Target> {
    let row = sqlx::query!(
        "select provider_type, base_url, model, api_key from llm_providers where id = $1 and user_id = $2",
        id,
        owner
    )
    .fetch_optional(pool)
    .await?
    .ok_or(Error::NotFound)?;
    let key = row
        .api_key
        .map(|sealed| vault.open(&sealed, Owner::provider_key(owner, id)))
        .transpose()
        .map_err(|err| {
            tracing::warn!(error = %err, provider = %id, "a provider's key does not open");
            Error::Invalid("This provider's key cannot be read any more: enter it again.".into())
        })?;
    Ok(Target {
        kind: Kind::parse(&row.provider_type)?,
        base_url: row.base_url,
        model: row.model,
        key,
    })
}

pub async fn delete(pool: &PgPool, owner: &User, id: Uuid) -> Result<()> {
    let deleted = sqlx::query!(
        "delete from llm_providers where id = $1 and user_id = $2",
        id,
        owner.id
    )
    .execute(pool)
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Moves the owner's provider one place earlier (`up`) or later in the order requests try them. At either
/// end it stays where it is.
pub async fn reorder(pool: &PgPool, owner: &User, id: Uuid, up: bool) -> Result<()> {
    let mut tx = pool.begin().await?;
    let order: Vec<Uuid> = sqlx::query_scalar!(
        "select id from llm_providers where user_id = $1 order by priority, inserted_at for update",
        owner.id
    )
    .fetch_all(&mut *tx)
    .await?;
    let at = order.iter().position(|each| *each == id).ok_or(Error::NotFound)?;
    let mut order = order;
    match (up, at) {
        (true, 0) => {}
        (true, at) => order.swap(at, at - 1),
        (false, at) if at + 1 < order.len() => order.swap(at, at + 1),
        (false, _) => {}
    }
    // Renumbered from 0, so ties left by older rows cannot hide a move.
    sqlx::query!(
        "update llm_providers set priority = ordered.position - 1
         from unnest($1::uuid[]) with ordinality as ordered(id, position)
         where llm_providers.id = ordered.id",
        &order
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Seals every stored key again under the current master key, in the caller's transaction; those already
/// under it stay. Returns how many were sealed again. A key that opens under no configured master key is an
/// error naming its row, raised before this writes anything.
pub async fn rotate_keys(tx: &mut sqlx::PgConnection, vault: &Vault) -> Result<usize> {
    let rows = sqlx::query!(
        r#"select id, user_id, api_key as "api_key!" from llm_providers where api_key is not null for update"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut resealed = Vec::new();
    for row in rows {
        if let Some(sealed) = vault.resealed(&row.api_key, Owner::provider_key(row.user_id, row.id))? {
            resealed.push((row.id, sealed));
        }
    }
    for (id, sealed) in &resealed {
        sqlx::query!("update llm_providers set api_key = $2 where id = $1", id, sealed)
            .execute(&mut *tx)
            .await?;
    }
    Ok(resealed.len())
}
