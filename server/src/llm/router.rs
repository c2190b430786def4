//! Which provider answers: the owner's enabled providers in their order, those known healthy or not yet
//! checked first and those found unreachable last, each tried until one starts answering. A provider that
//! fails is marked unreachable with the reason, so the next request starts with the next one.

use reqwest::Client;
use sqlx::PgPool;

use super::{
    chat::{self, Answer, Prompt},
    health::{self, Health},
    providers,
};
use crate::{Error, Result, auth::User, vault::Vault};

/// An answer on its way, and who gives it.
pub struct Routed {
    pub provider: String,
    pub answer: Answer,
}

pub async fn ask(
    pool: &PgPool,
    vault: &Vault,
    client: &Client,
    owner: &User,
    prompt: &Prompt,
) -> Result<Routed> {
    let mut candidates: Vec<_> = providers::list(pool, vault, owner)
        .await?
        .into_iter()
        .filter(|provider| provider.enabled)
        .collect();
    if candidates.is_empty() {
        return Err(Error::Invalid(
            "Add an LLM provider (or turn one on) in Settings to ask about your tracks.".into(),
        ));
    }
    // A stable sort keeps the owner's order within each group.
    candidates.sort_by_key(|provider| provider.health_status == "unreachable");
    let mut failures = Vec::new();
    for provider in candidates {
        let outcome = match providers::target(pool, vault, owner.id, provider.id).await {
            Ok(target) => chat::ask(client, &target, prompt).await,
            Err(Error::Invalid(why)) => Err(Health::Unreachable(why)),
            Err(err) => return Err(err),
        };
        match outcome {
            Ok(answer) => {
                return Ok(Routed {
                    provider: provider.name,
                    answer,
                });
            }
            Err(health) => {
                health::record(pool, owner.id, provider.id, &health).await?;
                failures.push(format!(
                    "{}: {}",
                    provider.name,
                    health.detail().unwrap_or("failed")
                ));
            }
        }
    }
    Err(Error::Unavailable(format!(
        "No provider answered. {}.",
        failures.join("; ")
    )))
}
