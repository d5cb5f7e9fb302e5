//! Password hashing with argon2id, off the async threads, a bounded number at
//! a time: each takes about 19 MiB and a core for a moment, so a flood of
//! sign-ups or sign-ins waits in line instead of exhausting memory.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use std::sync::LazyLock;
use tokio::sync::{OnceCell, Semaphore};

/// Hashings and verifications running at once: two per core.
static WORK: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores * 2)
});

/// A hash of a random password, verified against when there is no account,
/// so that costs as much as a real verification.
static DECOY: OnceCell<String> = OnceCell::const_new();

async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = WORK.acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// Hashes `password` with argon2id and a random salt; returns the PHC string.
pub async fn hash(password: String) -> anyhow::Result<String> {
    bounded(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
    })
    .await?
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub async fn verify(password: String, hash: String) -> anyhow::Result<bool> {
    bounded(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// Whether `password` matches `hash`; without a hash, the same work against
/// a decoy, and false.
pub async fn verify_or_spend(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    match hash {
        Some(hash) => verify(password, hash).await,
        None => {
            let decoy = DECOY.get_or_try_init(hash_random).await?.clone();
            verify(password, decoy).await?;
            Ok(false)
        }
    }
}

async fn hash_random() -> anyhow::Result<String> {
    hash(uuid::Uuid::new_v4().to_string()).await
}
