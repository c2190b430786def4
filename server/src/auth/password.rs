//! Password rules and hashing: argon2id with OWASP's recommended parameters, run off the async runtime
//! because one hash takes tens of milliseconds of CPU on purpose.

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

use crate::{Error, Result};

pub const MIN_CHARS: usize = 12;
/// Long enough for any passphrase or manager-made password, short enough that hashing stays cheap.
pub const MAX_CHARS: usize = 256;

/// OWASP's Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Passwords that attackers try first; anything here is refused whatever its length. Compared in lower
/// case after removing spaces.
const COMMON: &str = include_str!("common_passwords.txt");

/// Why `password` is not acceptable for the account `email`, if it is not.
pub fn check_policy(password: &str, email: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(Error::Invalid(format!(
            "Use at least {MIN_CHARS} characters for your password."
        )));
    }
    if chars > MAX_CHARS {
        return Err(Error::Invalid(format!(
            "Use at most {MAX_CHARS} characters for your password."
        )));
    }
    let folded: String = password
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
    let one_repeated = folded.chars().all(|c| folded.starts_with(c));
    if one_repeated
        || folded == email.to_lowercase()
        || (local_part.len() >= 4 && folded == local_part)
        || COMMON.lines().any(|common| common.trim() == folded)
    {
        return Err(Error::Invalid(
            "That password is too easy to guess. Try a few unrelated words together.".into(),
        ));
    }
    Ok(())
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) to store.
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| Error::PasswordHash(err.to_string()))
    })
    .await
    .map_err(|err| Error::PasswordHash(err.to_string()))?
}

/// Whether `password` matches `stored`. Without a stored hash (no such account) a hash of the same cost
/// is still checked, so the answer takes as long either way and does not tell which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&stored).map_err(|err| Error::PasswordHash(err.to_string()))?;
        Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|err| Error::PasswordHash(err.to_string()))?
}

static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    hasher()
        .hash_password(b"a password nobody has, hashed once for timing")
        .map(|hash| hash.to_string())
        .expect("hashing a constant succeeds")
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_common_and_self_referential_passwords_are_refused() {
        let email = "dj.shadow@example.org";
        assert!(check_policy("eleven char", email).is_err());
        assert!(check_policy(&"x".repeat(MAX_CHARS + 1), email).is_err());
        assert!(
            check_policy("Password1234", email).is_err(),
            "common, whatever the case"
        );
        assert!(
            check_policy("qwerty 123456", email).is_err(),
            "common once spaces are gone"
        );
        assert!(check_policy("aaaaaaaaaaaaaaa", email).is_err());
        assert!(check_policy("DJ.Shadow@example.org", email).is_err());
        assert!(check_policy("correct horse battery", email).is_ok());
        assert!(
            check_policy("ünïcödé-pässwörd", email).is_ok(),
            "counted in characters, not bytes"
        );
    }

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let first = hash("correct horse battery".into()).await.expect("hashes");
        let second = hash("correct horse battery".into()).await.expect("hashes");
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(
            verify("correct horse battery".into(), Some(first.clone()))
                .await
                .expect("verifies")
        );
        assert!(
            !verify("correct horse batterY".into(), Some(first))
                .await
                .expect("verifies")
        );
        assert!(
            !verify("correct horse battery".into(), None)
                .await
                .expect("verifies")
        );
    }
}
