//! Leadership: the one running instance of a component (relay, projector)
//! holds a Postgres advisory lock on a connection of its own, so the lock
//! goes when the process or the connection does.

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// An advisory lock this process holds.
pub struct Lease {
    key: String,
    connection: PgConnection,
}

impl Lease {
    /// Waits until this process holds the lock `key`, trying every `retry`;
    /// `None` on shutdown.
    pub async fn acquire(
        pool: &PgPool,
        key: &str,
        retry: Duration,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Option<Lease>> {
        let mut connection = pool.acquire().await?.detach();
        loop {
            let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                .bind(key)
                .fetch_one(&mut connection)
                .await?;
            if held {
                return Ok(Some(Lease {
                    key: key.to_string(),
                    connection,
                }));
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(None),
                _ = tokio::time::sleep(retry) => {}
            }
        }
    }

    /// Fails when the connection that holds the lock is gone (and with it
    /// the lock).
    pub async fn check(&mut self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1")
            .execute(&mut self.connection)
            .await
            .with_context(|| format!("lost the connection that holds the lock {}", self.key))?;
        Ok(())
    }

    /// Gives the lock up.
    pub async fn release(self) {
        if let Err(error) = self.connection.close().await {
            tracing::warn!(key = %self.key, error = %error, "cannot close the lock's connection");
        }
    }
}
