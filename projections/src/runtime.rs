//! The projector runtime: per projection, one running instance (a Postgres
//! advisory lock) reads its stream in order from a checkpoint kept in
//! Postgres, in batches, with retries, dead letters, and lag in `/metrics`.
//! A restart reads again from the checkpoint; projections are idempotent by
//! the version each row or document keeps, so what is read twice changes
//! nothing, and nothing is ever applied out of order.

use crate::Envelope;
use async_nats::jetstream;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use atlantic_command_api::metrics::Metrics;
use atlantic_command_api::streams::EVENTS_STREAM;
use futures::StreamExt;
use sqlx::{Connection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

/// Events in one batch at most.
const BATCH: usize = 500;

/// A read model fed by events.
#[async_trait::async_trait]
pub trait Projection: Send + Sync + 'static {
    /// The name (durable consumer `projection-<name>`, metrics label).
    fn name(&self) -> &'static str;

    /// The stream it consumes.
    fn stream(&self) -> &'static str {
        EVENTS_STREAM
    }

    /// The subjects it consumes.
    fn subjects(&self) -> Vec<String>;

    /// Applies a batch in stream order. Must be idempotent: a batch may be
    /// delivered again after a crash.
    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()>;
}

/// Runs one projection until shutdown: one instance at a time (a Postgres
/// advisory lock), in stream order, from its checkpoint.
pub struct ProjectorRunner {
    js: jetstream::Context,
    pool: PgPool,
    projection: Arc<dyn Projection>,
    metrics: Metrics,
    max_attempts: u32,
}

impl ProjectorRunner {
    /// A runner of `projection` on its stream in `js`, with its checkpoint
    /// and lock in `pool`.
    pub fn new(
        js: jetstream::Context,
        pool: PgPool,
        projection: Arc<dyn Projection>,
        metrics: Metrics,
    ) -> Self {
        ProjectorRunner {
            js,
            pool,
            projection,
            metrics,
            max_attempts: 5,
        }
    }

    /// Consumes until `shutdown`, finishing the batch in hand; starts again
    /// from the checkpoint after a failure.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(error) = self.lead(&shutdown).await {
                warn!(
                    projection = self.projection.name(),
                    error = format!("{error:#}"),
                    "projector failed; restarting from its checkpoint"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    /// Waits to be the one instance running this projection, then consumes.
    /// The lock lives on a connection of its own: it goes when the process does.
    async fn lead(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut leader = self.pool.acquire().await?.detach();
        let key = format!("projector:{}", self.projection.name());
        loop {
            let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
                .bind(&key)
                .fetch_one(&mut leader)
                .await?;
            if mine {
                break;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        let outcome = self.consume(shutdown).await;
        if let Err(error) = leader.close().await {
            warn!(error = %error, "cannot close the projector's lock connection");
        }
        outcome
    }

    async fn consume(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let name = self.projection.name();
        let subjects = self.projection.subjects();
        let mut stream = self
            .js
            .get_stream(self.projection.stream())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open stream: {e}"))?;
        let last = stream
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the stream's state: {e}"))?
            .state
            .last_sequence;
        let mut done = checkpoint::load(&self.pool, name).await?;
        if done > last {
            // The stream was lost and is being filled again from the store.
            warn!(
                projection = name,
                checkpoint = done,
                last,
                "the checkpoint is past the stream's end; starting from the beginning"
            );
            done = 0;
            checkpoint::save(&self.pool, name, done).await?;
        }
        // NATS before 2.10 ignores `filter_subjects`; one subject goes in the
        // filter every version knows, several are filtered here.
        let filter_subject = match subjects.as_slice() {
            [one] => one.clone(),
            _ => String::new(),
        };
        // An ephemeral consumer without acks: order and progress are the
        // checkpoint's, so a restart reads again from there.
        let consumer: jetstream::consumer::PullConsumer = stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: done + 1,
                },
                ack_policy: AckPolicy::None,
                filter_subject,
                inactive_threshold: Duration::from_secs(60),
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the consumer of {name}: {e}"))?;
        let label = format!("projection=\"{name}\"");
        let mut next_delivery = 1;
        while !shutdown.is_cancelled() {
            let mut batch = consumer
                .fetch()
                .max_messages(BATCH)
                .expires(Duration::from_millis(500))
                .messages()
                .await
                .map_err(|e| anyhow::anyhow!("fetch failed: {e}"))?;
            let mut messages = Vec::new();
            while let Some(message) = batch.next().await {
                let message = message.map_err(|e| anyhow::anyhow!("fetch failed: {e}"))?;
                let info = message
                    .info()
                    .map_err(|e| anyhow::anyhow!("a message without its place: {e}"))?;
                if info.consumer_sequence != next_delivery {
                    anyhow::bail!("a delivery went missing");
                }
                next_delivery += 1;
                done = info.stream_sequence;
                messages.push(message);
            }
            let mine: Vec<&jetstream::Message> = messages
                .iter()
                .filter(|m| {
                    subjects
                        .iter()
                        .any(|s| subject_matches(s, m.subject.as_str()))
                })
                .collect();
            if !mine.is_empty() {
                self.settle(&mine, &label).await?;
            }
            if !messages.is_empty() {
                checkpoint::save(&self.pool, name, done).await?;
            }
            let mut info = consumer.clone();
            if let Ok(info) = info.info().await {
                self.metrics.set(
                    "atlantic_projection_lag_events",
                    &label,
                    info.num_pending as i64,
                );
            }
        }
        Ok(())
    }

    /// Applies `events`, trying again with backoff; the last error.
    async fn apply(&self, events: &[Envelope], label: &str) -> anyhow::Result<()> {
        let mut attempt = 0;
        loop {
            match self.projection.apply(events).await {
                Ok(()) => return Ok(()),
                Err(error) if attempt + 1 >= self.max_attempts => return Err(error),
                Err(error) => {
                    warn!(
                        projection = self.projection.name(),
                        error = format!("{error:#}"),
                        "projection failed; trying again"
                    );
                    self.metrics
                        .add("atlantic_projection_retries_total", label, 1);
                    tokio::time::sleep(Duration::from_millis(100 * 4u64.pow(attempt))).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Applies a batch in order; when it fails, applies its events one by
    /// one, in order, each with retries, and parks those that still fail.
    async fn settle(&self, messages: &[&jetstream::Message], label: &str) -> anyhow::Result<()> {
        let envelopes: Vec<anyhow::Result<Envelope>> =
            messages.iter().map(|m| Envelope::from_message(m)).collect();
        if envelopes.iter().all(Result::is_ok) {
            let all: Vec<Envelope> = envelopes.iter().flatten().cloned().collect();
            if self.projection.apply(&all).await.is_ok() {
                self.metrics.add(
                    "atlantic_projection_events_total",
                    label,
                    messages.len() as i64,
                );
                return Ok(());
            }
        }
        for (message, envelope) in messages.iter().zip(envelopes) {
            let outcome = match envelope {
                Ok(envelope) => self.apply(std::slice::from_ref(&envelope), label).await,
                Err(error) => Err(error.context("the message is not a published event")),
            };
            match outcome {
                Ok(()) => self
                    .metrics
                    .add("atlantic_projection_events_total", label, 1),
                Err(error) => self.park(message, error, label).await?,
            }
        }
        Ok(())
    }

    /// Puts a message the projection cannot apply on the dead-letter stream.
    async fn park(
        &self,
        message: &jetstream::Message,
        error: anyhow::Error,
        label: &str,
    ) -> anyhow::Result<()> {
        error!(
            projection = self.projection.name(),
            error = format!("{error:#}"),
            "parking an event"
        );
        let subject = format!("deadletter.projection-{}", self.projection.name());
        let mut headers = message.headers.clone().unwrap_or_default();
        headers.insert(
            "Atlantic-Error",
            format!("{error:#}").replace(['\r', '\n'], " ").as_str(),
        );
        self.js
            .publish_with_headers(subject, headers, message.payload.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot park an event: {e}"))?
            .await
            .map_err(|e| anyhow::anyhow!("cannot park an event: {e}"))?;
        self.metrics
            .add("atlantic_projection_dead_letters_total", label, 1);
        Ok(())
    }
}

/// Where each projection got to in its stream, in Postgres.
mod checkpoint {
    use sqlx::PgPool;

    /// The stream sequence of the last message `projection` dealt with.
    pub async fn load(pool: &PgPool, projection: &str) -> anyhow::Result<u64> {
        let done: Option<i64> = sqlx::query_scalar(
            "SELECT stream_sequence FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(projection)
        .fetch_optional(pool)
        .await?;
        Ok(done.unwrap_or(0).max(0) as u64)
    }

    /// Records that `projection` dealt with every message up to `done`.
    pub async fn save(pool: &PgPool, projection: &str, done: u64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO projection_checkpoints (projection, stream_sequence) VALUES ($1, $2) \
             ON CONFLICT (projection) DO UPDATE SET stream_sequence = excluded.stream_sequence",
        )
        .bind(projection)
        .bind(i64::try_from(done)?)
        .execute(pool)
        .await?;
        Ok(())
    }
}

/// Whether `subject` matches the NATS subject `pattern` (`*` one token, `>` the rest).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut tokens = subject.split('.');
    for part in pattern.split('.') {
        match (part, tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (expected, Some(token)) if expected == token => {}
            _ => return false,
        }
    }
    tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn subjects_match_like_nats() {
        assert!(subject_matches(
            "events.product.>",
            "events.product.created"
        ));
        assert!(!subject_matches(
            "events.product.>",
            "events.seller.created"
        ));
        assert!(!subject_matches("events.product.>", "events.product"));
        assert!(subject_matches("events.*.created", "events.user.created"));
        assert!(subject_matches("clicks.>", "clicks.tracked"));
        assert!(!subject_matches(
            "events.order.OrderCreated",
            "events.order.OrderCreated.x"
        ));
    }
}
