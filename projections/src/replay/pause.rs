//! Pausing a live projector while a replay applies its tail and swaps.

use crate::{Envelope, Projection};
use sqlx::{Connection, PgPool};
use std::future::Future;
use std::sync::Arc;

/// A live projection whose target is not Postgres, made pausable by a replay:
/// each batch holds the Postgres advisory lock `key` shared while it applies;
/// a replay takes it exclusively while it applies the tail and swaps the
/// rebuilt model in.
pub struct Pausable {
    inner: Arc<dyn Projection>,
    pool: PgPool,
    key: String,
}

impl Pausable {
    /// `inner`, pausable through the lock `key` (see [`pause_key`]) in `pool`.
    pub fn new(inner: Arc<dyn Projection>, pool: PgPool, key: String) -> Self {
        Pausable { inner, pool, key }
    }
}

#[async_trait::async_trait]
impl Projection for Pausable {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stream(&self) -> &'static str {
        self.inner.stream()
    }

    fn subjects(&self) -> Vec<String> {
        self.inner.subjects()
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        crate::runtime::postgres_reachable(&self.pool).await?;
        self.inner.reachable().await
    }

    async fn prepare(&self) -> anyhow::Result<()> {
        self.inner.prepare().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut gate = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext($1))")
            .bind(&self.key)
            .execute(&mut *gate)
            .await?;
        self.inner.apply(events).await?;
        gate.commit().await?;
        Ok(())
    }
}

/// The lock that pauses projection `name` writing to `target` (a ClickHouse
/// database, a Meilisearch index).
pub fn pause_key(name: &str, target: &str) -> String {
    format!("{name}@{target}")
}

/// Runs `work` holding the advisory lock `key` exclusively: a live projector
/// holds it for each batch, so it waits until `work` is done.
pub(crate) async fn paused<T>(
    pool: &PgPool,
    key: &str,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    // A connection of its own: closing it (or losing it) releases the lock,
    // whatever happens to `work`.
    let mut lock = pool.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(key)
        .execute(&mut lock)
        .await?;
    let outcome = work.await;
    lock.close().await?;
    outcome
}
