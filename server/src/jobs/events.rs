//! Live job updates: every change to a job row is announced by PostgreSQL (`sfa_job_changes`, see the
//! migration's trigger), so a web server hears about work that any worker process does. One listener per
//! web server fans the changes out to its open event streams.

use std::time::Duration;

use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const CHANNEL: &str = "sfa_job_changes";
/// Changes buffered per slow subscriber before it is told to reload everything instead.
const BUFFER: usize = 256;
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A job on this user's track changed.
    Track { user_id: Uuid, track_id: Uuid },
    /// Changes may have been missed (the listener reconnected): look at everything again.
    Resync,
}

#[derive(Clone)]
pub struct JobEvents {
    sender: broadcast::Sender<Change>,
}

impl JobEvents {
    /// Starts listening until `shutdown`, reconnecting whenever the connection drops.
    pub fn start(pool: &PgPool, shutdown: CancellationToken) -> Self {
        let (sender, _) = broadcast::channel(BUFFER);
        let events = Self { sender };
        let pool = pool.clone();
        let sender = events.sender.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = listen(&pool, &sender) => {},
                () = shutdown.cancelled() => {},
            }
        });
        events
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

async fn listen(pool: &PgPool, sender: &broadcast::Sender<Change>) {
    let mut reconnected = false;
    loop {
        let Err(failure) = relay(pool, sender, reconnected).await;
        tracing::warn!(error = %failure, "job change listener lost its connection; reconnecting");
        tokio::time::sleep(RECONNECT_AFTER).await;
        reconnected = true;
    }
}

/// Passes notifications on until the connection fails. After a reconnect, subscribers are told to look
/// again at everything, since changes in between were not heard.
async fn relay(
    pool: &PgPool,
    sender: &broadcast::Sender<Change>,
    reconnected: bool,
) -> Result<std::convert::Infallible, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    if reconnected {
        let _ = sender.send(Change::Resync);
    }
    loop {
        let notification = listener.recv().await?;
        if let Some(change) = parse(notification.payload()) {
            // No subscribers is not an error: nobody has a page open.
            let _ = sender.send(change);
        }
    }
}

/// `<user id> <track id>`, as the trigger writes it.
fn parse(payload: &str) -> Option<Change> {
    let (user, track) = payload.split_once(' ')?;
    Some(Change::Track {
        user_id: user.parse().ok()?,
        track_id: track.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_or_are_ignored() {
        let (user, track) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            parse(&format!("{user} {track}")),
            Some(Change::Track {
                user_id: user,
                track_id: track
            })
        );
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse(&format!("{user} x")), None);
    }
}
