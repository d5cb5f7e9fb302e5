//! The event store's repository: postgres-es's, except for commits. A
//! command's events when no snapshot is due (nearly every command) are one
//! statement instead of three round trips; with a snapshot, the events and
//! the snapshot are one transaction that commits both or neither.
//!
//! postgres-es appends events as `BEGIN`, one `INSERT` per event and `COMMIT`.
//! Here they go in as one `INSERT … SELECT FROM UNNEST(…)`: a single
//! statement is atomic on its own, so the events of a command still commit
//! all or none; the primary key (aggregate, sequence) still refuses a
//! concurrent writer's sequence and the unique indexes a duplicate, both as
//! an optimistic-lock error, as postgres-es reports them; and the rows take
//! their global positions in sequence order (`ORDER BY`), as the relay needs.
//!
//! postgres-es writes a snapshot by its number (`UPDATE … WHERE
//! current_snapshot = <the one loaded>`) and reports a mismatch only after
//! committing the events: a bus whose cached number was behind (another
//! writer took the snapshot meanwhile) saw a conflict for events that were
//! in the store, and ran the command again. Here the snapshot replaces the
//! aggregate's older ones in the events' transaction: the events' primary
//! key already proves the writer holds the sequence, so no number is
//! compared. The snapshot is taken at the last multiple of the snapshot size
//! the events reach (where cqrs-es computed its state), not at their last
//! event. Loads and streams are postgres-es's own.
//!
//! Every commit also tells this process's relay, if it runs one, that there
//! is something to publish ([`committed`]); a relay in another process finds
//! it by polling. (A `NOTIFY` from the events table did this before: at
//! commit PostgreSQL makes every notifying transaction wait for one lock, held
//! through the commit's WAL flush, so commits went one flush at a time.)

use crate::value_lists::{padded_len, values};
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::Notify;

/// Appends a command's events in one statement.
const APPEND: &str = "INSERT INTO events \
     (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
     SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload, e.metadata \
     FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[]) \
         AS e(sequence, event_type, event_version, payload, metadata) \
     ORDER BY e.sequence";

/// Replaces an aggregate's snapshots with the one at `$3` (`$1` the type,
/// `$2` the id, `$4` its number, `$5` the state).
const REPLACE_SNAPSHOT: &str = "WITH older AS (\
         DELETE FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2) \
     INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload) \
     VALUES ($1, $2, $3, $4, $5)";

/// Commits made by this process since its relay last looked.
static COMMITTED: Notify = Notify::const_new();

/// Waits until this process commits events (at once if it committed since
/// the last wait ended): the relay's wake-up.
pub async fn committed() {
    COMMITTED.notified().await;
}

/// The SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

/// The repository the command buses use (see the module's documentation).
pub struct EventRepository {
    pool: PgPool,
    postgres_es: PostgresEventRepository,
    snapshot_every: Option<usize>,
}

impl EventRepository {
    /// The repository over the `events` and `snapshots` tables in `pool`,
    /// of aggregates snapshotted every `snapshot_every` events (if at all).
    pub fn new(pool: PgPool, snapshot_every: Option<usize>) -> Self {
        EventRepository {
            postgres_es: PostgresEventRepository::new(pool.clone()),
            pool,
            snapshot_every,
        }
    }

    /// The events, and the aggregate's state after the last multiple of the
    /// snapshot size they reach as its only snapshot, in one transaction.
    async fn append_with_snapshot<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        aggregate_id: &str,
        state: &Value,
    ) -> Result<(), PersistenceError> {
        let size = self
            .snapshot_every
            .filter(|size| *size > 0)
            .ok_or_else(|| {
                PersistenceError::UnknownError(
                    "a snapshot of an aggregate without a snapshot size".into(),
                )
            })?;
        let last = events.last().map_or(0, |event| event.sequence);
        let at = last / size * size;
        let mut transaction = self.pool.begin().await.map_err(persistence_error)?;
        append::<A>(&mut *transaction, events).await?;
        sqlx::query(REPLACE_SNAPSHOT)
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(i64::try_from(at).unwrap_or(i64::MAX))
            .bind(i64::try_from(at / size).unwrap_or(i64::MAX))
            .bind(state)
            .execute(&mut *transaction)
            .await
            .map_err(persistence_error)?;
        transaction.commit().await.map_err(persistence_error)
    }
}

/// Appends `events` of one aggregate of type `A` in one statement.
async fn append<'e, A: Aggregate>(
    executor: impl sqlx::PgExecutor<'e>,
    events: &[SerializedEvent],
) -> Result<(), PersistenceError> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence as i64).collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let versions: Vec<&str> = events.iter().map(|e| e.event_version.as_str()).collect();
    let payloads: Vec<&Value> = events.iter().map(|e| &e.payload).collect();
    let metadata: Vec<&Value> = events.iter().map(|e| &e.metadata).collect();
    sqlx::query(APPEND)
        .bind(A::TYPE)
        .bind(first.aggregate_id.as_str())
        .bind(sequences)
        .bind(types)
        .bind(versions)
        .bind(payloads)
        .bind(metadata)
        .execute(executor)
        .await
        .map_err(persistence_error)?;
    Ok(())
}

/// The events of several aggregates of one type after a sequence of each
/// (`$1` the type, then each aggregate's id and the sequence after which it
/// is read, `rows` of them: see [`crate::value_lists`]).
///
/// Each aggregate is read on its own (`LATERAL`; its `ORDER BY` keeps the
/// planner from folding it into a join) by the primary key, whatever the
/// statistics say: as a join, a plan made while the store was young (no
/// statistics) read every event of the type by hash, and a prepared
/// statement kept that plan as the store grew.
pub fn events_after_each(rows: usize) -> String {
    format!(
        "SELECT e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload, e.metadata \
         FROM {} AS c(id, after) \
         CROSS JOIN LATERAL ( \
             SELECT aggregate_id, sequence, event_type, event_version, payload, metadata FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = c.id AND sequence > c.after \
             ORDER BY sequence) e \
         ORDER BY e.aggregate_id, e.sequence",
        values(2, rows, &["text", "bigint"])
    )
}

/// One row of [`events_after_each`].
#[derive(sqlx::FromRow)]
struct EventRow {
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: Value,
    metadata: Value,
}

impl EventRepository {
    /// The events of each aggregate `(id, after)` of `after`, in one query:
    /// each aggregate's in sequence order.
    pub async fn events_after_each<A: Aggregate>(
        &self,
        aggregates: &[(&str, usize)],
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let statement = events_after_each(padded_len(aggregates.len()));
        let mut query = sqlx::query_as(&statement).bind(A::TYPE);
        for (id, after) in aggregates {
            query = query
                .bind(*id)
                .bind(i64::try_from(*after).unwrap_or(i64::MAX));
        }
        // Padding: no aggregate has an empty id.
        for _ in aggregates.len()..padded_len(aggregates.len()) {
            query = query.bind("").bind(i64::MAX);
        }
        let rows: Vec<EventRow> = query
            .fetch_all(&self.pool)
            .await
            .map_err(persistence_error)?;
        Ok(rows
            .into_iter()
            .map(|row| SerializedEvent {
                aggregate_id: row.aggregate_id,
                sequence: usize::try_from(row.sequence).unwrap_or_default(),
                aggregate_type: A::TYPE.to_string(),
                event_type: row.event_type,
                event_version: row.event_version,
                payload: row.payload,
                metadata: row.metadata,
            })
            .collect())
    }
}

fn persistence_error(error: sqlx::Error) -> PersistenceError {
    match &error {
        sqlx::Error::Database(database) if database.code().as_deref() == Some(UNIQUE_VIOLATION) => {
            PersistenceError::OptimisticLockError
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            PersistenceError::ConnectionError(Box::new(error))
        }
        _ => PersistenceError::UnknownError(Box::new(error)),
    }
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.postgres_es.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.postgres_es
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.postgres_es.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        match snapshot_update {
            None => append::<A>(&self.pool, events).await?,
            Some((aggregate_id, state, _)) => {
                self.append_with_snapshot::<A>(events, &aggregate_id, &state)
                    .await?
            }
        }
        COMMITTED.notify_one();
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.postgres_es.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.postgres_es.stream_all_events::<A>().await
    }
}
