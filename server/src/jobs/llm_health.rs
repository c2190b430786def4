//! Every quarter of an hour, on its own queue: a health check of every enabled LLM provider of every user,
//! so the router knows which to try before anyone asks (see `llm::health`).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use underway::{Job, To, ZonedSchedule};

use crate::{Result, llm::health, vault::Vault};

pub const QUEUE: &str = "llm-health";
/// Seconds, minutes, hours, days, months, weekdays.
const SCHEDULE: &str = "0 */15 * * * *";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Round;

#[derive(Clone)]
pub struct Checker {
    pool: PgPool,
    vault: Vault,
    client: reqwest::Client,
}

pub type HealthJob = Job<Round, Checker>;

pub async fn build(pool: &PgPool, vault: &Vault, client: &reqwest::Client) -> Result<HealthJob> {
    let state = Checker {
        pool: pool.clone(),
        vault: vault.clone(),
        client: client.clone(),
    };
    Ok(Job::builder()
        .state(state)
        .step(|cx, Round| async move {
            let Checker { pool, vault, client } = &cx.state;
            let checked = health::check_all(pool, vault, client)
                .await
                .map_err(|err| underway::task::Error::Retryable(format!("provider health: {err}")))?;
            tracing::info!(checked, "provider health checked");
            To::done()
        })
        .name(QUEUE)
        .pool(pool.clone())
        .build()
        .await?)
}

pub async fn schedule(job: &HealthJob) -> Result<()> {
    job.schedule(&every_quarter_hour()?, &Round).await?;
    Ok(())
}

fn every_quarter_hour() -> Result<ZonedSchedule> {
    ZonedSchedule::new(SCHEDULE, "UTC")
        .map_err(|err| crate::Error::Config(format!("provider health schedule {SCHEDULE:?}: {err}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_schedule_parses() {
        assert!(super::every_quarter_hour().is_ok());
    }
}
