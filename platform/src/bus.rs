//! Executes commands against aggregates in the Postgres event store.
//!
//! cqrs-es's `CqrsFramework` answers `()`; the API must answer the aggregate's
//! new version, and must retry optimistic-concurrency conflicts a bounded number
//! of times. So the bus drives the same steps itself (load, handle, commit)
//! through cqrs-es's `EventStore`. Commands to one aggregate are also queued
//! in-process, so a hot product does not make concurrent requests fight over
//! the same sequence number; the retry covers other processes.

use crate::event_store::EventRepository;
use atlantic_domain::DomainError;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, EventStore};
use sqlx::PgPool;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;
use tokio::sync::Mutex;

use crate::metadata::CommandMetadata;

/// How many times a conflicting command is tried before answering 409.
const MAX_ATTEMPTS: u32 = 20;
/// Stripes of the in-process per-aggregate queue.
const STRIPES: usize = 1024;

/// The outcome of a committed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The aggregate's version (its last event's sequence) after the command.
    pub version: usize,
    /// How many events the command wrote (0 when it changed nothing).
    pub events: usize,
}

/// Why a command did not commit.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: DomainError> {
    /// The aggregate refused it.
    #[error(transparent)]
    Rejected(E),
    /// It kept conflicting with concurrent writers.
    #[error("the aggregate kept changing; try again")]
    Conflict,
    /// A uniqueness rule of the events table refused its event (one account
    /// per e-mail, one restock per order and product): it was done before.
    #[error("this was already done")]
    Duplicate,
    /// The store failed.
    #[error("event store error: {0}")]
    Store(String),
}

/// Loads aggregates of type `A`, runs commands and commits their events.
pub struct CommandBus<A: Aggregate> {
    store: PersistedEventStore<EventRepository, A>,
    stripes: Vec<Mutex<()>>,
}

impl<A> CommandBus<A>
where
    A: Aggregate<Services = ()>,
    A::Command: Clone,
    A::Error: DomainError,
{
    /// A bus over the event store in `pool`. With `snapshot_every`, a snapshot is
    /// written every that many events (for aggregates with long histories).
    pub fn new(pool: PgPool, snapshot_every: Option<usize>) -> Self {
        let repo = EventRepository::new(pool);
        let store = match snapshot_every {
            Some(size) => PersistedEventStore::new_snapshot_store(repo, size),
            None => PersistedEventStore::new_event_store(repo),
        }
        .with_upcasters(atlantic_domain::versioning::upcasters());
        CommandBus {
            store,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// The aggregate's current state (the default state when it has no events).
    pub async fn load(&self, aggregate_id: &str) -> Result<A, CommandError<A::Error>> {
        let context = self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(store_error)?;
        Ok(context.aggregate)
    }

    /// Runs `command` on aggregate `aggregate_id` and commits its events with
    /// `metadata`, retrying concurrency conflicts a bounded number of times.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Committed, CommandError<A::Error>> {
        let _queue = self.stripe(aggregate_id).lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut context = self
                .store
                .load_aggregate(aggregate_id)
                .await
                .map_err(store_error)?;
            let version = context.current_sequence;
            let sink = EventSink::default();
            context
                .aggregate
                .handle(command.clone(), &(), &sink)
                .await
                .map_err(CommandError::Rejected)?;
            let events = sink.collect().await;
            if events.is_empty() {
                return Ok(Committed { version, events: 0 });
            }
            let count = events.len();
            match self.store.commit(events, context, metadata.to_map()).await {
                Ok(_) => {
                    return Ok(Committed {
                        version: version + count,
                        events: count,
                    })
                }
                // Either another writer took the sequence, or a uniqueness rule
                // refused the event: then the aggregate has not moved, and
                // trying again cannot help.
                Err(AggregateError::AggregateConflict) => {
                    if self.version_of(aggregate_id).await? == version {
                        return Err(CommandError::Duplicate);
                    }
                    if attempt >= MAX_ATTEMPTS {
                        return Err(CommandError::Conflict);
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(other) => return Err(store_error(other)),
            }
        }
    }

    async fn version_of(&self, aggregate_id: &str) -> Result<usize, CommandError<A::Error>> {
        Ok(self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(store_error)?
            .current_sequence)
    }

    fn stripe(&self, aggregate_id: &str) -> &Mutex<()> {
        let mut hasher = DefaultHasher::new();
        aggregate_id.hash(&mut hasher);
        &self.stripes[(hasher.finish() as usize) % STRIPES]
    }
}

/// Exponential backoff with jitter: 2, 4 … 64 ms, times a random factor.
fn backoff(attempt: u32) -> Duration {
    let base = 1u64 << attempt.min(6);
    Duration::from_micros(base * 1000 * (50 + rand::random::<u64>() % 100) / 100)
}

fn store_error<E: DomainError>(error: AggregateError<E>) -> CommandError<E> {
    match error {
        AggregateError::UserError(e) => CommandError::Rejected(e),
        AggregateError::AggregateConflict => CommandError::Conflict,
        other => CommandError::Store(other.to_string()),
    }
}
