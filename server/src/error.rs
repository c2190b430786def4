use std::{path::PathBuf, time::Duration};

/// Everything that can stop the server from starting or a request from completing.
///
/// The `Display` texts are for operators' logs. Users see [`Error::public_message`]: the words of the
/// variants that are about their input, and nothing but "something went wrong" for the rest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job queue: {0}")]
    Queue(#[from] underway::job::Error),
    #[error("job queue: {0}")]
    TaskQueue(#[from] underway::queue::Error),
    #[error("audio: {0}")]
    Audio(#[from] sfa_audio::Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("serving on {addr}: {source}")]
    Serve {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid storage key {0:?}")]
    StorageKey(String),
    #[error("sessions: {0}")]
    Session(String),
    #[error("password hashing: {0}")]
    PasswordHash(String),
    #[error("sending mail: {0}")]
    Mail(String),
    #[error("internal: {0}")]
    Internal(String),

    /// The user's input is not acceptable; the text says why, for the user.
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("an account with that email exists")]
    EmailTaken,
    #[error("wrong email or password")]
    WrongCredentials,
    /// The right password for an account an administrator switched off.
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("invalid or expired token")]
    TokenInvalid,
    #[error("rate limited for {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("not signed in")]
    Unauthenticated,
    /// Absent, or someone else's: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// A user cancelled the job, or deleted its track, while it ran.
    #[error("cancelled")]
    Cancelled,
    /// A service we fetch from (a link's server, Spotify) failed in a way that may pass; the text says
    /// what happened, for the user. Retried before it is final.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A job's work reported no progress for this long, and was stopped.
    #[error("no progress for {0:?}")]
    Stalled(Duration),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// What the user may read about this error.
    pub fn public_message(&self) -> String {
        match self {
            Self::Invalid(why) | Self::Unavailable(why) => why.clone(),
            Self::EmailTaken => {
                "An account with this email already exists. Log in, or reset its password.".into()
            }
            Self::WrongCredentials => "That email and password do not match an account.".into(),
            Self::WrongPassword => "The current password is not right.".into(),
            Self::AccountDisabled => {
                "This account is switched off. Ask the administrator of this server to switch it on.".into()
            }
            Self::TokenInvalid => "This link is invalid, used or expired. Ask for a new one.".into(),
            Self::RateLimited { retry_after } => {
                format!("Too many attempts. Try again in {}.", describe_wait(*retry_after))
            }
            Self::Unauthenticated => "Please log in first.".into(),
            Self::NotFound => "Not found.".into(),
            Self::Cancelled => "Cancelled.".into(),
            Self::Stalled(wait) => format!(
                "The job stopped making progress for {} and was stopped. Retry it; if it stalls again, the \
                 server may be overloaded.",
                describe_wait(*wait)
            ),
            Self::Audio(sfa_audio::Error::Model(_)) => {
                "Stem separation is not available: the separation model is missing or damaged. An administrator \
                 can install it with the set-up command; then retry."
                    .into()
            }
            Self::Audio(err) if audio_is_users(err) => capitalised(&err.to_string()),
            _ => "Something went wrong on our side. Try again in a moment.".into(),
        }
    }

    /// True for errors about the request rather than the server: they are not logged as failures.
    pub fn is_users(&self) -> bool {
        matches!(
            self,
            Self::Invalid(_)
                | Self::EmailTaken
                | Self::WrongCredentials
                | Self::WrongPassword
                | Self::AccountDisabled
                | Self::TokenInvalid
                | Self::RateLimited { .. }
                | Self::Unauthenticated
                | Self::NotFound
                | Self::Cancelled
                | Self::Stalled(_)
                | Self::Audio(sfa_audio::Error::Model(_))
        ) || matches!(self, Self::Audio(err) if audio_is_users(err))
    }
}

/// The audio engine's errors about the file itself, which its owner can act on; the rest (writing stems,
/// resampling) are ours.
fn audio_is_users(err: &sfa_audio::Error) -> bool {
    use sfa_audio::Error as Audio;
    matches!(
        err,
        Audio::NoChannels
            | Audio::ZeroSampleRate
            | Audio::PartialFrame { .. }
            | Audio::Empty
            | Audio::UnknownFormat { .. }
            | Audio::NoAudioTrack
            | Audio::UnsupportedCodec { .. }
            | Audio::Truncated
            | Audio::Corrupt(_)
            | Audio::TooLong { .. }
            | Audio::TooLarge { .. }
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect::<String>() + ".")
        .unwrap_or_default()
}

fn describe_wait(wait: Duration) -> String {
    let seconds = wait.as_secs().max(1);
    match seconds {
        1 => "a second".into(),
        2..60 => format!("{seconds} seconds"),
        60..120 => "a minute".into(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_in_the_log() {
        let err = Error::Config("DATABASE_URL=postgres://u:hunter2@db".into());
        assert!(!err.public_message().contains("hunter2"));
        assert!(!err.is_users());
    }

    #[test]
    fn waits_read_naturally() {
        let wait = |secs| {
            Error::RateLimited {
                retry_after: Duration::from_secs(secs),
            }
            .public_message()
        };
        assert_eq!(wait(0), "Too many attempts. Try again in a second.");
        assert_eq!(wait(42), "Too many attempts. Try again in 42 seconds.");
        assert_eq!(wait(61), "Too many attempts. Try again in a minute.");
        assert_eq!(wait(899), "Too many attempts. Try again in 15 minutes.");
    }
}
