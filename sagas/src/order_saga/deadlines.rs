//! Persisted deadlines, the intent of a payment: one that is not answered in
//! time is reconciled with the gateway (what it did for the order decides),
//! and cancels the order only if the gateway took nothing, even across
//! restarts.

use super::Saga;
use atlantic_platform::metadata::CommandMetadata;
use chrono::Utc;
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::warn;
use uuid::Uuid;

/// The step that waits for the payment gateway.
pub(super) const PAYMENT_STEP: &str = "payment";

impl Saga {
    /// Records that the payment of `order_id` must be answered by now +
    /// timeout; a redelivery keeps the first deadline.
    pub(super) async fn start_payment_deadline(
        &self,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> anyhow::Result<()> {
        let timeout = chrono::Duration::from_std(self.settings.payment_timeout)?;
        sqlx::query(
            "INSERT INTO saga_deadlines (order_id, step, due_at, metadata) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(order_id)
        .bind(PAYMENT_STEP)
        .bind(Utc::now() + timeout)
        .bind(json!({
            "correlationId": metadata.correlation_id,
            "causationId": metadata.causation_id,
        }))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The payment was answered (or the order ended): the deadline is moot.
    pub(super) async fn clear_deadlines(&self, order_id: Uuid) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM saga_deadlines WHERE order_id = $1")
            .bind(order_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Payments that were waiting when the process stopped are asked again
    /// (the gateway is idempotent per order).
    pub(super) async fn resume_pending_payments(self: &Arc<Self>) {
        let rows = sqlx::query(
            "SELECT order_id, metadata FROM saga_deadlines WHERE step = $1 AND due_at > now()",
        )
        .bind(PAYMENT_STEP)
        .fetch_all(&self.pool)
        .await;
        match rows {
            Ok(rows) => {
                for row in rows {
                    let order_id: Uuid = row.get("order_id");
                    let metadata = metadata_of(order_id, &row.get::<Value, _>("metadata"));
                    self.clone().spawn_payment(order_id, metadata);
                }
            }
            Err(error) => warn!(error = %error, "cannot read pending payments"),
        }
    }

    /// Cancels orders whose payment deadline passed, until `shutdown`.
    pub(super) async fn watch_deadlines(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            if let Err(error) = self.expire_due().await {
                warn!(error = format!("{error:#}"), "deadline check failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.settings.deadline_poll) => {}
            }
        }
    }

    /// Reconciles each payment whose deadline passed: what the gateway did
    /// for the order decides, not the clock alone.
    async fn expire_due(&self) -> anyhow::Result<()> {
        let due = sqlx::query(
            "SELECT order_id, metadata FROM saga_deadlines WHERE step = $1 AND due_at <= now() ORDER BY due_at LIMIT 100",
        )
        .bind(PAYMENT_STEP)
        .fetch_all(&self.pool)
        .await?;
        for row in due {
            let order_id: Uuid = row.get("order_id");
            let metadata = metadata_of(order_id, &row.get::<Value, _>("metadata"));
            if let Err(error) = self.reconcile_payment(order_id, &metadata).await {
                warn!(%order_id, error = format!("{error:#}"), "cannot reconcile a payment; trying again");
            }
        }
        Ok(())
    }
}

fn metadata_of(order_id: Uuid, stored: &Value) -> CommandMetadata {
    let id = |key: &str| {
        stored[key]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or(order_id)
    };
    CommandMetadata {
        correlation_id: id("correlationId"),
        causation_id: id("causationId"),
        user_id: None,
        request_id: None,
    }
}
