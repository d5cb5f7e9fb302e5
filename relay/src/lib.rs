//! The relay: events table ➜ NATS JetStream, exactly once and in order.
//!
//! The events table is the outbox. One relay at a time is active (a Postgres
//! advisory lock; others stand by). It reads rows in (transaction id, global
//! position) order, taking only rows whose transaction is older than every
//! transaction still running: those can no longer be joined by a row that
//! commits late under a lower position, so nothing is ever skipped. Each row is
//! published with `Nats-Msg-Id = {aggregate_type}:{aggregate_id}:{sequence}`;
//! after the acks the checkpoint moves. A crash republishes from the checkpoint
//! and JetStream's duplicate window drops what it already stored.
//!
//! JetStream can lose acknowledged writes on a crash, so on every start the
//! relay reads the stream's last message and rewinds the checkpoint to it if
//! the stream is behind.
//!
//! A row the relay cannot convert or publish because of itself (a payload that
//! does not parse, a body over the server's payload limit) never stops it: the
//! row is parked as a dead letter with its error, every later row of the
//! *same aggregate* is parked behind it (so per-aggregate order holds), and
//! every other aggregate flows on. Parked rows are read again from the events
//! table when due (so a repaired row is published as it is now) and, once the
//! first goes out, the ones held behind it follow in order. An outage of
//! Postgres or NATS parks nothing: the relay starts again from its checkpoint.

use anyhow::Context;
use async_nats::jetstream::{self, context::Publish};
use async_nats::HeaderMap;
use atlantic_domain::integration::{event_id, message_id, to_integration_event};
use atlantic_platform::dead_letters::{
    header_map, DeadLetters, Letter, NewLetter, REDRIVE_INTERVAL,
};
use atlantic_platform::event_store;
use atlantic_platform::headers;
use atlantic_platform::lease::Lease;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::streams::{self, EVENTS_STREAM};
use atlantic_platform::supervisor::until_shutdown;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// The advisory lock that elects the active relay.
const LEADER_LOCK: &str = "relay";
/// How often the relay measures its lag behind the newest event.
const LAG_INTERVAL: Duration = Duration::from_secs(1);
/// How long the relay lets commits gather after a wake-up before it reads:
/// under load one batch then carries many commits (one read, one checkpoint
/// write, acknowledgements awaited together) instead of one each; at rest it
/// adds this much to the time from commit to publication.
const GATHER: Duration = Duration::from_millis(2);
/// How often the relay looks for events committed by other processes (this
/// process's commits wake it at once, see [`event_store::committed`]).
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How often an idle relay makes sure it still holds the leader's lock.
const LEASE_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// The relay's name among the consumers that park dead letters.
pub const CONSUMER: &str = "relay";

/// Publishes committed events to JetStream.
pub struct Relay {
    pool: PgPool,
    js: jetstream::Context,
    metrics: Metrics,
    dead_letters: DeadLetters,
    max_payload: usize,
    batch_size: i64,
}

/// NATS did not take a re-driven event: an outage, not the event's fault.
#[derive(Debug, thiserror::Error)]
#[error("NATS did not take the event: {0}")]
struct Unpublished(String);

/// A row in the form it is published in.
struct Outgoing {
    subject: String,
    body: Vec<u8>,
}

/// A published row's place in the relay's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Checkpoint {
    transaction_id: i64,
    global_position: i64,
}

/// The columns an [`EventRow`] is read from, as a literal (for `concat!`).
macro_rules! row_columns {
    () => {
        "global_position, transaction_id::text::bigint AS transaction_id, \
         aggregate_type, aggregate_id, sequence, event_version, payload, metadata, recorded_at"
    };
}
/// The columns an [`EventRow`] is read from.
const ROW_COLUMNS: &str = row_columns!();

/// The next rows safe to publish after a checkpoint (`$1` its transaction
/// id, `$2` its global position), at most `$3`, in publication order.
///
/// The `ORDER BY` names the table's columns: unqualified, `transaction_id`
/// would be the output's bigint cast of it, which no index holds, and every
/// read would sort the whole backlog (1.5 s a batch behind a million events,
/// against 1 ms by the index).
pub const NEXT_BATCH: &str = concat!(
    "SELECT ",
    row_columns!(),
    " FROM events \
     WHERE (transaction_id, global_position) > ($1::text::xid8, $2) \
       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
     ORDER BY events.transaction_id, events.global_position \
     LIMIT $3"
);

#[derive(sqlx::FromRow)]
struct EventRow {
    global_position: i64,
    transaction_id: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_version: String,
    payload: Value,
    metadata: Value,
    recorded_at: DateTime<Utc>,
}

impl Relay {
    /// A relay from the events table in `pool` to the JetStream of `nats`.
    pub fn new(pool: PgPool, nats: async_nats::Client, metrics: Metrics) -> Self {
        Relay {
            dead_letters: DeadLetters::new(pool.clone(), metrics.clone()),
            max_payload: nats.server_info().max_payload,
            js: jetstream::new(nats),
            pool,
            metrics,
            batch_size: 500,
        }
    }

    /// Runs until `shutdown`: waits to become the leader, then publishes. Any
    /// failure (Postgres, NATS) restarts the cycle after a pause, from the
    /// checkpoint.
    pub async fn run(&self, shutdown: CancellationToken) {
        until_shutdown("relay", Duration::from_secs(1), &shutdown, || {
            self.lead(&shutdown)
        })
        .await;
    }

    async fn lead(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let Some(mut lease) = Lease::acquire(
            &self.pool,
            LEADER_LOCK,
            Duration::from_millis(500),
            shutdown,
        )
        .await?
        else {
            return Ok(());
        };
        info!("relay is the active relay");
        streams::ensure(&self.js).await?;
        self.reconcile_with_stream().await?;
        // The leader is the only writer of the checkpoint, so it keeps it in
        // memory from here on and only writes it.
        let mut checkpoint = self.checkpoint().await?;
        let mut lag_measured = tokio::time::Instant::now() - LAG_INTERVAL;
        let mut redriven = tokio::time::Instant::now() - REDRIVE_INTERVAL;
        // Whether any row is parked: only then do batches look for held
        // aggregates and rounds for letters to drive again.
        let mut parked = self.dead_letters.count(CONSUMER).await? > 0;
        let mut lease_checked = tokio::time::Instant::now();
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            if parked && redriven.elapsed() >= REDRIVE_INTERVAL {
                parked = self.redrive().await?;
                redriven = tokio::time::Instant::now();
            }
            let published = self.publish_batch(&mut checkpoint, &mut parked).await?;
            if lag_measured.elapsed() >= LAG_INTERVAL {
                self.record_lag(checkpoint).await?;
                lag_measured = tokio::time::Instant::now();
            }
            if published as i64 == self.batch_size {
                continue;
            }
            if lease_checked.elapsed() >= LEASE_CHECK_INTERVAL {
                lease.check().await?;
                lease_checked = tokio::time::Instant::now();
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = event_store::committed() => tokio::time::sleep(GATHER).await,
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    async fn checkpoint(&self) -> anyhow::Result<Checkpoint> {
        let (transaction_id, global_position): (i64, i64) =
            sqlx::query_as("SELECT transaction_id, global_position FROM relay_checkpoint")
                .fetch_one(&self.pool)
                .await?;
        Ok(Checkpoint {
            transaction_id,
            global_position,
        })
    }

    async fn save(&self, checkpoint: Checkpoint) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE relay_checkpoint SET transaction_id = $1, global_position = $2, updated_at = now()",
        )
        .bind(checkpoint.transaction_id)
        .bind(checkpoint.global_position)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Rewinds the checkpoint to the stream's last message when the stream lost
    /// messages the relay had seen acknowledged.
    async fn reconcile_with_stream(&self) -> anyhow::Result<()> {
        let mut stream = self
            .js
            .get_stream(EVENTS_STREAM)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open stream: {e}"))?;
        let state = stream
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("cannot read stream info: {e}"))?
            .state
            .clone();
        let checkpoint = self.checkpoint().await?;
        let stream_end = if state.messages == 0 {
            Checkpoint {
                transaction_id: 0,
                global_position: 0,
            }
        } else {
            let last = stream
                .get_raw_message(state.last_sequence)
                .await
                .map_err(|e| anyhow::anyhow!("cannot read the stream's last message: {e}"))?;
            let position: i64 = last
                .headers
                .get(headers::POSITION)
                .and_then(|v| v.as_str().parse().ok())
                .context("the stream's last message has no Atlantic-Position")?;
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT transaction_id::text::bigint FROM events WHERE global_position = $1",
            )
            .bind(position)
            .fetch_optional(&self.pool)
            .await?;
            let Some((transaction_id,)) = row else {
                warn!(
                    position,
                    "the stream's last event is not in this event store"
                );
                return Ok(());
            };
            Checkpoint {
                transaction_id,
                global_position: position,
            }
        };
        if stream_end < checkpoint {
            warn!(
                from = checkpoint.global_position,
                to = stream_end.global_position,
                "the stream is behind the checkpoint; republishing"
            );
            self.save(stream_end).await?;
        }
        Ok(())
    }

    /// Publishes the next batch of safe rows after `checkpoint` and moves it;
    /// returns how many.
    async fn publish_batch(
        &self,
        checkpoint: &mut Checkpoint,
        parked: &mut bool,
    ) -> anyhow::Result<usize> {
        let from = *checkpoint;
        let rows: Vec<EventRow> = sqlx::query_as(NEXT_BATCH)
            .bind(from.transaction_id.to_string())
            .bind(from.global_position)
            .bind(self.batch_size)
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut held = if *parked {
            let aggregates: Vec<String> = rows.iter().map(EventRow::aggregate).collect();
            self.dead_letters.held_among(CONSUMER, &aggregates).await?
        } else {
            HashSet::new()
        };
        let mut acks = Vec::with_capacity(rows.len());
        for row in &rows {
            let aggregate = row.aggregate();
            if held.contains(&aggregate) {
                let error = "held behind an earlier parked event of its aggregate";
                self.park(row, error.to_string(), 0).await?;
                continue;
            }
            let outgoing = match self.outgoing(row) {
                Ok(outgoing) => outgoing,
                Err(error) => {
                    self.park(row, format!("{error:#}"), 1).await?;
                    held.insert(aggregate);
                    *parked = true;
                    continue;
                }
            };
            let publish = Publish::build()
                .payload(outgoing.body.into())
                .headers(headers(row));
            let ack = self
                .js
                .send_publish(outgoing.subject, publish)
                .await
                .map_err(|e| anyhow::anyhow!("publish failed: {e}"))?;
            acks.push((row, ack));
        }
        let mut done = from;
        for (row, ack) in acks {
            if let Err(error) = ack.await {
                self.save(done).await?;
                *checkpoint = done;
                anyhow::bail!(
                    "JetStream did not acknowledge position {}: {error}",
                    row.global_position
                );
            }
            done = row.checkpoint();
        }
        // Parked rows are behind the checkpoint too: their letters hold them.
        done = done.max(rows.last().map(EventRow::checkpoint).unwrap_or(done));
        self.save(done).await?;
        *checkpoint = done;
        self.metrics
            .add("atlantic_relay_published_total", "", rows.len() as i64);
        Ok(rows.len())
    }

    /// The subject and body `row` is published with; an error when the row
    /// itself cannot be (it does not convert, or is over the payload limit).
    fn outgoing(&self, row: &EventRow) -> anyhow::Result<Outgoing> {
        let event = to_integration_event(
            &row.aggregate_type,
            &row.aggregate_id,
            &row.event_version,
            row.payload.clone(),
            row.recorded_at,
        )
        .with_context(|| format!("event at position {}", row.global_position))?;
        let body = serde_json::to_vec(&event)?;
        if body.len() > self.max_payload {
            anyhow::bail!(
                "the event is {} bytes, over the server's limit of {}",
                body.len(),
                self.max_payload
            );
        }
        Ok(Outgoing {
            subject: event.subject(),
            body,
        })
    }

    /// Parks `row` (the raw row, with `error`) as a dead letter.
    async fn park(&self, row: &EventRow, error: String, attempts: i32) -> anyhow::Result<()> {
        let raw = json!({
            "globalPosition": row.global_position,
            "aggregateType": row.aggregate_type,
            "aggregateId": row.aggregate_id,
            "sequence": row.sequence,
            "payload": row.payload,
            "metadata": row.metadata,
            "recordedAt": row.recorded_at,
        });
        let headers = header_map(Some(&headers(row)));
        self.dead_letters
            .park(NewLetter {
                consumer: CONSUMER.to_string(),
                message_key: message_id(&row.aggregate_type, &row.aggregate_id, row.sequence),
                subject: format!("events.{}", row.aggregate_type.to_lowercase()),
                aggregate: Some(row.aggregate()),
                sequence: Some(row.sequence),
                headers,
                payload: serde_json::to_vec(&raw)?,
                error,
                attempts,
            })
            .await
    }

    /// Drives the due dead letters again: each first letter of an aggregate
    /// and, once it is out, the letters held behind it, in order; the first
    /// that fails again stays first. Answers whether any letter is left.
    async fn redrive(&self) -> anyhow::Result<bool> {
        for head in self.dead_letters.due(CONSUMER, 100).await? {
            let Some(aggregate) = head.aggregate.as_deref() else {
                continue;
            };
            for letter in self.dead_letters.of_aggregate(CONSUMER, aggregate).await? {
                match self.republish(&letter).await {
                    Ok(()) => self.dead_letters.resolved(&letter).await?,
                    // The letter is not at fault: start again from the
                    // checkpoint, its attempts and wait unchanged.
                    Err(error) if error.is::<Unpublished>() => return Err(error),
                    Err(error) => {
                        self.dead_letters.failed_again(&letter, &error).await?;
                        break;
                    }
                }
            }
        }
        Ok(self.dead_letters.count(CONSUMER).await? > 0)
    }

    /// Publishes the parked event's row as it is in the events table now.
    async fn republish(&self, letter: &Letter) -> anyhow::Result<()> {
        let (aggregate_type, aggregate_id) = letter
            .aggregate
            .as_deref()
            .and_then(|aggregate| aggregate.split_once(':'))
            .context("a relay letter without its aggregate")?;
        let row: EventRow = sqlx::query_as(&format!(
            "SELECT {ROW_COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3"
        ))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(letter.sequence)
        .fetch_optional(&self.pool)
        .await?
        .context("the event is no longer in the events table; drop the letter")?;
        let outgoing = self.outgoing(&row)?;
        let publish = Publish::build()
            .payload(outgoing.body.into())
            .headers(headers(&row));
        self.js
            .send_publish(outgoing.subject, publish)
            .await
            .map_err(|e| Unpublished(e.to_string()))?
            .await
            .map_err(|e| Unpublished(e.to_string()))?;
        self.metrics.add("atlantic_relay_published_total", "", 1);
        Ok(())
    }

    async fn record_lag(&self, at: Checkpoint) -> anyhow::Result<()> {
        let newest: Option<i64> = sqlx::query_scalar("SELECT max(global_position) FROM events")
            .fetch_one(&self.pool)
            .await?;
        let lag = newest
            .unwrap_or(0)
            .saturating_sub(at.global_position)
            .max(0);
        self.metrics.set("atlantic_relay_lag_events", "", lag);
        self.metrics
            .set("atlantic_relay_checkpoint_position", "", at.global_position);
        Ok(())
    }
}

impl EventRow {
    fn aggregate(&self) -> String {
        format!("{}:{}", self.aggregate_type, self.aggregate_id)
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            transaction_id: self.transaction_id,
            global_position: self.global_position,
        }
    }
}

fn headers(row: &EventRow) -> HeaderMap {
    let meta = |key: &str| {
        row.metadata
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "Nats-Msg-Id",
        message_id(&row.aggregate_type, &row.aggregate_id, row.sequence).as_str(),
    );
    headers.insert(
        headers::EVENT_ID,
        event_id(&row.aggregate_type, &row.aggregate_id, row.sequence)
            .to_string()
            .as_str(),
    );
    headers.insert(headers::POSITION, row.global_position.to_string().as_str());
    headers.insert(headers::AGGREGATE_TYPE, row.aggregate_type.as_str());
    headers.insert(headers::AGGREGATE_ID, row.aggregate_id.as_str());
    headers.insert(headers::SEQUENCE, row.sequence.to_string().as_str());
    headers.insert(headers::CORRELATION_ID, meta("correlationId").as_str());
    headers.insert(headers::CAUSATION_ID, meta("causationId").as_str());
    headers
}
