//! The projector runtime: per projection, one running instance (a Postgres
//! advisory lock) reads its stream in order from a checkpoint kept in
//! Postgres, in batches, with retries, dead letters (the shared mechanism in
//! `atlantic_platform::dead_letters`, driven again on a long backoff), and
//! lag in `/metrics`.
//! A restart reads again from the checkpoint; projections are idempotent by
//! the version each row or document keeps, so what is read twice changes
//! nothing, and nothing is ever applied out of order.

use crate::Envelope;
use anyhow::Context;
use async_nats::jetstream;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use atlantic_platform::dead_letters::{DeadLetters, NewLetter, REDRIVE_INTERVAL};
use atlantic_platform::lease::Lease;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::streams::EVENTS_STREAM;
use atlantic_platform::supervisor::until_shutdown;
use futures::StreamExt;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Events in one batch at most.
const BATCH: usize = 500;

/// The longest one application of events may take before it counts as failed.
const APPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// An application of events that did not finish in time: the store is slow or
/// blocked, not the event at fault.
#[derive(Debug, thiserror::Error)]
#[error("applying took longer than {APPLY_TIMEOUT:?}")]
struct TimedOut;

/// How often, at most, a busy projector makes sure it still holds its lease.
const LEASE_INTERVAL: Duration = Duration::from_millis(100);

/// How often a busy projector reads its lag (and so finds that the server
/// dropped its consumer).
const LAG_INTERVAL: Duration = Duration::from_secs(1);

/// How long a busy projector goes at most without saving its checkpoint
/// while its batches hold none of its events (a restart reads those again
/// and finds nothing to apply); it saves at once when a fetch comes back
/// empty.
const FOREIGN_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// How long the server keeps a consumer nobody fetches from.
const INACTIVE_THRESHOLD: Duration = Duration::from_secs(300);

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

    /// Whether the read model's store answers: an event that fails while it
    /// does not is not parked but tried again from the checkpoint.
    async fn reachable(&self) -> anyhow::Result<()>;

    /// Makes the read model's store ready (indexes, settings) before the
    /// first batch; called each time an instance starts consuming.
    async fn prepare(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Whether the Postgres behind `pool` answers.
pub async fn postgres_reachable(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Runs one projection until shutdown: one instance at a time (a Postgres
/// advisory lock), in stream order, from its checkpoint.
pub struct ProjectorRunner {
    js: jetstream::Context,
    pool: PgPool,
    projection: Arc<dyn Projection>,
    metrics: Metrics,
    dead_letters: DeadLetters,
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
            dead_letters: DeadLetters::new(pool.clone(), metrics.clone()),
            pool,
            projection,
            metrics,
            max_attempts: 5,
        }
    }

    /// The projection's name.
    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    /// Consumes until `shutdown`, finishing the batch in hand; starts again
    /// from the checkpoint after a failure.
    pub async fn run(&self, shutdown: CancellationToken) {
        let what = format!("projector {}", self.projection.name());
        until_shutdown(&what, Duration::from_secs(1), &shutdown, || {
            self.lead(&shutdown)
        })
        .await;
    }

    /// Waits to be the one instance running this projection, then consumes.
    async fn lead(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let key = format!("projector:{}", self.projection.name());
        let Some(mut lease) =
            Lease::acquire(&self.pool, &key, Duration::from_secs(1), shutdown).await?
        else {
            return Ok(());
        };
        let outcome = match self.projection.prepare().await {
            Ok(()) => self.consume(&mut lease, shutdown).await,
            Err(error) => Err(error.context("cannot prepare the read model")),
        };
        lease.release().await;
        outcome
    }

    async fn consume(&self, lease: &mut Lease, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let name = self.projection.name();
        let subjects = self.projection.subjects();
        let mut stream = self
            .js
            .get_stream(self.projection.stream())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open stream: {e}"))?;
        let info = stream
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the stream's state: {e}"))?;
        let (last, first) = (info.state.last_sequence, info.state.first_sequence);
        let incarnation = info.created.to_string();
        let done = match checkpoint::load(&self.pool, name).await? {
            Some((done, created)) if created == incarnation && done <= last => done,
            Some((done, _)) => {
                // The stream was lost and is being filled again from the store.
                warn!(
                    projection = name,
                    checkpoint = done,
                    "the stream is not the one of the checkpoint; reading it from the start"
                );
                0
            }
            None => 0,
        };
        if first > done + 1 {
            warn!(
                projection = name,
                checkpoint = done,
                first,
                "events before the stream's first were never read here; replay this read model"
            );
        }
        // NATS before 2.10 ignores `filter_subjects`; one subject goes in the
        // filter every version knows, several are filtered here.
        let filter_subject = match subjects.as_slice() {
            [one] => one.clone(),
            _ => String::new(),
        };
        // An ephemeral consumer without acks: order and progress are the
        // checkpoint's, so a restart reads again from there.
        let mut consumer: jetstream::consumer::PullConsumer = stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: done + 1,
                },
                ack_policy: AckPolicy::None,
                filter_subject,
                inactive_threshold: INACTIVE_THRESHOLD,
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the consumer of {name}: {e}"))?;
        let outcome = self
            .read(&mut consumer, lease, done, &incarnation, shutdown)
            .await;
        // Best effort: the server would drop it after INACTIVE_THRESHOLD anyway.
        let consumer_name = consumer.cached_info().name.clone();
        if let Err(error) = stream.delete_consumer(&consumer_name).await {
            warn!(projection = name, error = %error, "cannot delete the consumer");
        }
        outcome
    }

    /// Reads and applies until `shutdown`, saving the checkpoint after each
    /// batch that held any of the projection's events, and after the others
    /// once a second or when the stream goes quiet.
    async fn read(
        &self,
        consumer: &mut jetstream::consumer::PullConsumer,
        lease: &mut Lease,
        mut done: u64,
        incarnation: &str,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let name = self.projection.name();
        let subjects = self.projection.subjects();
        let label = format!("projection=\"{name}\"");
        let mut next_delivery = 1;
        let mut redriven = tokio::time::Instant::now() - REDRIVE_INTERVAL;
        let mut lease_checked = tokio::time::Instant::now() - LEASE_INTERVAL;
        let mut looked_at_lag = tokio::time::Instant::now() - LAG_INTERVAL;
        let (mut saved, mut saved_at) = (done, tokio::time::Instant::now());
        self.dead_letters.count(&self.consumer()).await?;
        while !shutdown.is_cancelled() {
            if redriven.elapsed() >= REDRIVE_INTERVAL {
                self.redrive(&label).await?;
                redriven = tokio::time::Instant::now();
            }
            // Still the one instance: checked before a batch once
            // LEASE_INTERVAL has passed since the last check.
            if lease_checked.elapsed() >= LEASE_INTERVAL {
                lease.check().await?;
                lease_checked = tokio::time::Instant::now();
            }
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
            let applied = match mine.is_empty() {
                true => Vec::new(),
                false => self.settle(&mine, &label, shutdown).await?,
            };
            let due = messages.is_empty() || saved_at.elapsed() >= FOREIGN_CHECKPOINT_INTERVAL;
            if !mine.is_empty() || (done > saved && due) {
                let (ids, versions) = self.versions_applied(&applied);
                checkpoint::save(&self.pool, name, (done, incarnation), &ids, &versions)
                    .await
                    .context("cannot save the checkpoint and the versions applied")?;
                (saved, saved_at) = (done, tokio::time::Instant::now());
            }
            // Also how a consumer the server dropped is noticed.
            if looked_at_lag.elapsed() >= LAG_INTERVAL {
                let pending = consumer
                    .info()
                    .await
                    .map_err(|e| anyhow::anyhow!("the consumer is gone: {e}"))?
                    .num_pending;
                self.metrics
                    .set("atlantic_projection_lag_events", &label, pending as i64);
                looked_at_lag = tokio::time::Instant::now();
            }
        }
        Ok(())
    }

    /// The projection's name among the consumers that park dead letters.
    fn consumer(&self) -> String {
        format!("projection-{}", self.projection.name())
    }

    /// Applies the parked events that are due again, one by one; one that
    /// fails again waits longer. Stops the run when the read model's store
    /// does not answer.
    async fn redrive(&self, label: &str) -> anyhow::Result<()> {
        for letter in self.dead_letters.due(&self.consumer(), 100).await? {
            let applied =
                match Envelope::from_parts(&letter.subject, &letter.headers, &letter.payload) {
                    Ok(envelope) => self.attempt(std::slice::from_ref(&envelope)).await,
                    Err(error) => Err(error),
                };
            match applied {
                Ok(()) => {
                    self.dead_letters.resolved(&letter).await?;
                    self.metrics
                        .add("atlantic_projection_events_total", label, 1);
                }
                Err(error) => {
                    self.projection.reachable().await?;
                    self.dead_letters.failed_again(&letter, &error).await?;
                }
            }
        }
        Ok(())
    }

    /// Applies `events` once, within [`APPLY_TIMEOUT`].
    async fn attempt(&self, events: &[Envelope]) -> anyhow::Result<()> {
        match tokio::time::timeout(APPLY_TIMEOUT, self.projection.apply(events)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(TimedOut.into()),
        }
    }

    /// Applies `events`, trying again with backoff; the last error.
    async fn apply(
        &self,
        events: &[Envelope],
        label: &str,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let mut attempt = 0;
        loop {
            match self.attempt(events).await {
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
                    tokio::select! {
                        _ = shutdown.cancelled() => anyhow::bail!("shutting down"),
                        _ = tokio::time::sleep(Duration::from_millis(100 * 4u64.pow(attempt))) => {}
                    }
                    attempt += 1;
                }
            }
        }
    }

    /// Applies a batch in order; when it fails, applies its events one by
    /// one, in order, each with retries. One that still fails is parked when
    /// the read model's store answers (the event is at fault); otherwise the
    /// error stops the run, which starts again from the checkpoint. Answers
    /// the events applied.
    async fn settle(
        &self,
        messages: &[&jetstream::Message],
        label: &str,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Vec<Envelope>> {
        let envelopes: Vec<anyhow::Result<Envelope>> =
            messages.iter().map(|m| Envelope::from_message(m)).collect();
        if envelopes.iter().all(Result::is_ok) {
            let all: Vec<Envelope> = envelopes.iter().flatten().cloned().collect();
            if self.attempt(&all).await.is_ok() {
                self.metrics.add(
                    "atlantic_projection_events_total",
                    label,
                    messages.len() as i64,
                );
                return Ok(all);
            }
        }
        let mut applied = Vec::new();
        for (message, envelope) in messages.iter().zip(envelopes) {
            let error = match envelope {
                Ok(envelope) => {
                    match self
                        .apply(std::slice::from_ref(&envelope), label, shutdown)
                        .await
                    {
                        Ok(()) => {
                            applied.push(envelope);
                            self.metrics
                                .add("atlantic_projection_events_total", label, 1);
                            continue;
                        }
                        Err(error) => self.blame_the_event(error, shutdown).await?,
                    }
                }
                Err(error) => error.context("the message is not a published event"),
            };
            self.park(message, error, label).await?;
        }
        Ok(applied)
    }

    /// The versions a query that waits to read its own write looks for: the
    /// version of each aggregate `applied` leaves this read model at (domain
    /// events only: clicks are no one's write to wait for).
    fn versions_applied<'e>(&self, applied: &'e [Envelope]) -> (Vec<&'e str>, Vec<i64>) {
        if self.projection.stream() != EVENTS_STREAM {
            return (Vec::new(), Vec::new());
        }
        applied
            .iter()
            .map(|e| (e.aggregate_id.as_str(), e.sequence))
            .unzip()
    }

    /// `error` back when the event is at fault (it may be parked); an error
    /// that stops the run when it is not: shutting down, or a read model whose
    /// store does not answer. An event that timed out every time while the
    /// store answers is at fault too, or it would be tried for ever.
    async fn blame_the_event(
        &self,
        error: anyhow::Error,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<anyhow::Error> {
        if shutdown.is_cancelled() {
            return Err(error.context("shutting down"));
        }
        if let Err(down) = self.projection.reachable().await {
            return Err(error.context(format!("the read model does not answer ({down:#})")));
        }
        Ok(error)
    }

    /// Parks a message the projection cannot apply.
    async fn park(
        &self,
        message: &jetstream::Message,
        error: anyhow::Error,
        label: &str,
    ) -> anyhow::Result<()> {
        let attempts = i64::from(self.max_attempts);
        let letter = NewLetter::of_message(self.consumer(), message, &error, attempts);
        self.dead_letters.park(letter).await?;
        self.metrics
            .add("atlantic_projection_dead_letters_total", label, 1);
        Ok(())
    }
}

/// Where each projection got to in its stream, in Postgres.
mod checkpoint {
    use sqlx::PgPool;

    /// The stream sequence of the last message `projection` dealt with, and
    /// the creation time of the stream it counts in.
    pub async fn load(pool: &PgPool, projection: &str) -> anyhow::Result<Option<(u64, String)>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT stream_sequence, stream_created FROM projection_checkpoints WHERE projection = $1",
        )
        .bind(projection)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(|(done, created)| (done.max(0) as u64, created)))
    }

    /// Records that `projection` dealt with every message up to `done` of the
    /// stream created at `created`, and the versions `ids` are at after
    /// them (the latest of each), in one statement.
    pub async fn save(
        pool: &PgPool,
        projection: &str,
        (done, created): (u64, &str),
        ids: &[&str],
        versions: &[i64],
    ) -> anyhow::Result<()> {
        sqlx::query(
            "WITH versions AS (\
                 INSERT INTO projection_versions (projection, aggregate_id, version) \
                 SELECT $1, id, max(version) FROM unnest($4::text[], $5::bigint[]) AS t(id, version) GROUP BY id \
                 ON CONFLICT (projection, aggregate_id) \
                 DO UPDATE SET version = greatest(projection_versions.version, excluded.version)) \
             INSERT INTO projection_checkpoints (projection, stream_sequence, stream_created) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (projection) DO UPDATE \
             SET stream_sequence = excluded.stream_sequence, stream_created = excluded.stream_created",
        )
        .bind(projection)
        .bind(i64::try_from(done)?)
        .bind(created)
        .bind(ids)
        .bind(versions)
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
