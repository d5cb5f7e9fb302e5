//! The one dead-letter mechanism of the relay, the order saga and the
//! projectors: a message that fails *because of itself* is parked in Postgres
//! (`dead_letters`) with its error, attempt count, original subject, headers
//! and payload, and driven again on a long backoff by the consumer that
//! parked it. An outage of a dependency is never a reason to park: each
//! consumer waits it out and tries again.
//!
//! Letters that carry an aggregate are held behind any earlier letter (lower
//! sequence) of the same consumer and aggregate: only the first is due, so
//! driving them again keeps per-aggregate order. `atlantic dead-letters
//! list|retry|drop` shows and resolves them; `/metrics` counts them per
//! consumer (`atlantic_dead_letters{consumer=…}` parked now,
//! `atlantic_dead_letters_parked_total` ever parked).

use crate::metrics::Metrics;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tracing::error;

/// The first wait before a parked letter is tried again, unless a consumer
/// sets its own; it doubles with each attempt up to [`LONGEST_WAIT`].
pub const FIRST_WAIT: Duration = Duration::from_secs(60);
/// The longest wait between two attempts.
pub const LONGEST_WAIT: Duration = Duration::from_secs(3600);
/// How often a consumer looks for letters that are due.
pub const REDRIVE_INTERVAL: Duration = Duration::from_secs(1);

/// A message to park.
#[derive(Debug, Clone)]
pub struct NewLetter {
    /// The consumer that could not handle it (`relay`, `order-saga`,
    /// `projection-search`).
    pub consumer: String,
    /// The message's id, unique per consumer.
    pub message_key: String,
    /// The subject it was (or would be) published on.
    pub subject: String,
    /// `{aggregate_type}:{aggregate_id}` when later letters of the same
    /// aggregate must wait behind this one.
    pub aggregate: Option<String>,
    /// The event's sequence in its aggregate, with `aggregate`.
    pub sequence: Option<i64>,
    /// The message's headers.
    pub headers: BTreeMap<String, String>,
    /// The message's body (for the relay: the raw row).
    pub payload: Vec<u8>,
    /// Why it failed.
    pub error: String,
    /// How many times it was tried before it was parked.
    pub attempts: i32,
}

impl NewLetter {
    /// A JetStream message `consumer` failed `attempts` times with `error`,
    /// not held behind any other (its consumer keeps no order across
    /// messages). Its key is its `Nats-Msg-Id`, else its place in its stream.
    pub fn of_message(
        consumer: String,
        message: &async_nats::jetstream::Message,
        error: &anyhow::Error,
        attempts: i64,
    ) -> Self {
        let headers = header_map(message.headers.as_ref());
        let message_key = headers.get("Nats-Msg-Id").cloned().unwrap_or_else(|| {
            message.info().map_or_else(
                |_| format!("{}#unplaced", message.subject),
                |info| format!("{}#{}", info.stream, info.stream_sequence),
            )
        });
        NewLetter {
            consumer,
            message_key,
            subject: message.subject.to_string(),
            aggregate: None,
            sequence: None,
            headers,
            payload: message.payload.to_vec(),
            error: format!("{error:#}"),
            attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
        }
    }
}

/// A parked message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Letter {
    /// The letter's id.
    pub id: i64,
    /// The consumer that parked it.
    pub consumer: String,
    /// The message's id.
    pub message_key: String,
    /// The original subject.
    pub subject: String,
    /// The aggregate it is ordered within, if any.
    pub aggregate: Option<String>,
    /// The event's sequence in that aggregate.
    pub sequence: Option<i64>,
    /// The message's headers.
    #[sqlx(json)]
    pub headers: BTreeMap<String, String>,
    /// The message's body.
    #[serde(skip)]
    pub payload: Vec<u8>,
    /// The last error.
    pub error: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
    /// When it is tried again (a held letter: after the one ahead of it).
    pub next_attempt_at: DateTime<Utc>,
    /// Whether it waits behind an earlier letter of its aggregate.
    pub held: bool,
}

/// Which letters a command of `atlantic dead-letters` acts on.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// One letter.
    Id(i64),
    /// Every letter of one consumer.
    Consumer(&'a str),
    /// Every letter.
    All,
}

const COLUMNS: &str = "id, consumer, message_key, subject, aggregate, sequence, headers, payload, \
     error, attempts, parked_at, next_attempt_at, \
     EXISTS (SELECT 1 FROM dead_letters e WHERE e.consumer = d.consumer \
             AND e.aggregate = d.aggregate AND e.sequence < d.sequence) AS held";

/// The parked letters in Postgres.
#[derive(Clone)]
pub struct DeadLetters {
    pool: PgPool,
    metrics: Metrics,
    first_wait: Duration,
}

impl DeadLetters {
    /// The letters in `pool`, counted in `metrics`.
    pub fn new(pool: PgPool, metrics: Metrics) -> Self {
        DeadLetters {
            pool,
            metrics,
            first_wait: FIRST_WAIT,
        }
    }

    /// The same letters, first tried again after `first_wait`.
    pub fn with_first_wait(self, first_wait: Duration) -> Self {
        DeadLetters { first_wait, ..self }
    }

    /// Parks `letter` (once: the same message parked again is kept as it is),
    /// with an error log and a metric.
    pub async fn park(&self, letter: NewLetter) -> anyhow::Result<()> {
        error!(
            consumer = letter.consumer,
            message = letter.message_key,
            subject = letter.subject,
            error = letter.error,
            "parking a message as a dead letter"
        );
        let parked = sqlx::query(
            "INSERT INTO dead_letters (consumer, message_key, subject, aggregate, sequence, headers, \
                                       payload, error, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + $10 * interval '1 second') \
             ON CONFLICT (consumer, message_key) DO NOTHING",
        )
        .bind(&letter.consumer)
        .bind(&letter.message_key)
        .bind(&letter.subject)
        .bind(&letter.aggregate)
        .bind(letter.sequence)
        .bind(sqlx::types::Json(&letter.headers))
        .bind(&letter.payload)
        .bind(storable(&letter.error))
        .bind(letter.attempts)
        .bind(wait_after(self.first_wait, 1).as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if parked > 0 {
            self.metrics.add(
                "atlantic_dead_letters_parked_total",
                &label(&letter.consumer),
                1,
            );
        }
        self.count(&letter.consumer).await?;
        Ok(())
    }

    /// Those of `aggregates` that `consumer` has letters of, which later
    /// events of theirs must wait behind.
    pub async fn held_among(
        &self,
        consumer: &str,
        aggregates: &[String],
    ) -> anyhow::Result<HashSet<String>> {
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT aggregate FROM dead_letters WHERE consumer = $1 AND aggregate = ANY($2)",
        )
        .bind(consumer)
        .bind(aggregates)
        .fetch_all(&self.pool)
        .await?;
        Ok(held.into_iter().collect())
    }

    /// The letters of `consumer` that are due and not held, oldest first;
    /// also brings its gauge up to date (letters dropped or retried from the
    /// command line are counted within a round).
    pub async fn due(&self, consumer: &str, limit: i64) -> anyhow::Result<Vec<Letter>> {
        self.count(consumer).await?;
        let letters = sqlx::query_as::<_, Letter>(&format!(
            "SELECT * FROM (SELECT {COLUMNS} FROM dead_letters d WHERE consumer = $1) letters \
             WHERE next_attempt_at <= now() AND NOT held ORDER BY id LIMIT $2"
        ))
        .bind(consumer)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(letters)
    }

    /// Every letter of `consumer` in `aggregate`, in sequence order.
    pub async fn of_aggregate(
        &self,
        consumer: &str,
        aggregate: &str,
    ) -> anyhow::Result<Vec<Letter>> {
        Ok(sqlx::query_as::<_, Letter>(&format!(
            "SELECT {COLUMNS} FROM dead_letters d WHERE consumer = $1 AND aggregate = $2 \
             ORDER BY sequence"
        ))
        .bind(consumer)
        .bind(aggregate)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The letter was handled: it goes.
    pub async fn resolved(&self, letter: &Letter) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM dead_letters WHERE id = $1")
            .bind(letter.id)
            .execute(&self.pool)
            .await?;
        self.count(&letter.consumer).await?;
        Ok(())
    }

    /// The letter failed again with `error`: one attempt more, and a longer
    /// wait before the next.
    pub async fn failed_again(&self, letter: &Letter, error: &anyhow::Error) -> anyhow::Result<()> {
        let attempts = letter.attempts.saturating_add(1);
        sqlx::query(
            "UPDATE dead_letters SET attempts = $2, error = $3, \
                    next_attempt_at = now() + $4 * interval '1 second' WHERE id = $1",
        )
        .bind(letter.id)
        .bind(attempts)
        .bind(storable(&format!("{error:#}")))
        .bind(wait_after(self.first_wait, attempts).as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every letter of the selection, oldest first.
    pub async fn list(&self, selection: Selection<'_>) -> anyhow::Result<Vec<Letter>> {
        let (filter, consumer, id) = where_clause(selection);
        Ok(sqlx::query_as::<_, Letter>(&format!(
            "SELECT {COLUMNS} FROM dead_letters d WHERE {filter} ORDER BY id"
        ))
        .bind(consumer)
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Makes the selection due now (the consumer that parked it drives it
    /// again within [`REDRIVE_INTERVAL`]); returns how many.
    pub async fn retry(&self, selection: Selection<'_>) -> anyhow::Result<u64> {
        let (filter, consumer, id) = where_clause(selection);
        Ok(sqlx::query(&format!(
            "UPDATE dead_letters d SET next_attempt_at = now() WHERE {filter}"
        ))
        .bind(consumer)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Gives up on the selection; returns how many. A letter held behind a
    /// dropped one is due next.
    pub async fn drop(&self, selection: Selection<'_>) -> anyhow::Result<u64> {
        let (filter, consumer, id) = where_clause(selection);
        Ok(
            sqlx::query(&format!("DELETE FROM dead_letters d WHERE {filter}"))
                .bind(consumer)
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Sets `atlantic_dead_letters{consumer}` to the letters parked now, and
    /// answers how many.
    pub async fn count(&self, consumer: &str) -> anyhow::Result<i64> {
        let parked: i64 =
            sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE consumer = $1")
                .bind(consumer)
                .fetch_one(&self.pool)
                .await?;
        self.metrics
            .set("atlantic_dead_letters", &label(consumer), parked);
        Ok(parked)
    }
}

/// A NATS message's headers (the first value of each) as a letter keeps them.
pub fn header_map(headers: Option<&async_nats::HeaderMap>) -> BTreeMap<String, String> {
    headers
        .into_iter()
        .flat_map(|headers| headers.iter())
        .filter_map(|(name, values)| {
            values
                .first()
                .map(|value| (name.to_string(), value.as_str().to_string()))
        })
        .collect()
}

/// The wait after `attempts` attempts: `first` doubled per attempt, at most
/// [`LONGEST_WAIT`].
pub fn wait_after(first: Duration, attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 16) as u32;
    first.saturating_mul(1 << doublings).min(LONGEST_WAIT)
}

fn label(consumer: &str) -> String {
    format!("consumer=\"{consumer}\"")
}

/// An error's text as Postgres can store it.
fn storable(error: &str) -> String {
    error.replace('\0', "\u{fffd}")
}

fn where_clause(selection: Selection<'_>) -> (&'static str, Option<String>, Option<i64>) {
    match selection {
        Selection::Id(id) => ("d.id = $2 AND $1::text IS NULL", None, Some(id)),
        Selection::Consumer(consumer) => (
            "d.consumer = $1 AND $2::bigint IS NULL",
            Some(consumer.to_string()),
            None,
        ),
        Selection::All => ("$1::text IS NULL AND $2::bigint IS NULL", None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_a_minute_to_an_hour() {
        assert_eq!(wait_after(FIRST_WAIT, 0), FIRST_WAIT);
        assert_eq!(wait_after(FIRST_WAIT, 1), FIRST_WAIT);
        assert_eq!(wait_after(FIRST_WAIT, 2), FIRST_WAIT * 2);
        assert_eq!(wait_after(FIRST_WAIT, 4), FIRST_WAIT * 8);
        assert_eq!(wait_after(FIRST_WAIT, i32::MAX), LONGEST_WAIT);
    }
}
