//! Executes commands against aggregates in the Postgres event store.
//!
//! cqrs-es's `CqrsFramework` answers `()`; the API must answer the aggregate's
//! new version, and must retry optimistic-concurrency conflicts a bounded number
//! of times. So the bus drives the same steps itself (load, handle, commit)
//! through cqrs-es's `EventStore`. Commands to one aggregate are also queued
//! in-process, so a hot product does not make concurrent requests fight over
//! the same sequence number; the retry covers other processes.
//!
//! The bus keeps the aggregates it last saw (`aggregate_cache`): a command on
//! a cached aggregate is one statement, its commit. The commit's sequence
//! check makes that safe with other processes writing the same aggregates.

use crate::aggregate_cache::AggregateCache;
use crate::event_store::EventRepository;
use atlantic_domain::DomainError;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{
    EventStoreAggregateContext, EventUpcaster, PersistedEventRepository, PersistedEventStore,
    SerializedEvent,
};
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use sqlx::PgPool;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;
use tokio::sync::Mutex;

use crate::metadata::CommandMetadata;
use crate::metrics::Metrics;

/// The counter of aggregates loaded whole from the store (each a miss of the
/// bus's cache), labelled by aggregate type.
pub const LOADS_METRIC: &str = "atlantic_aggregate_loads_total";

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
    /// The same tables, for the events after a cached state.
    events: EventRepository,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    cache: AggregateCache<A>,
    snapshot_every: Option<usize>,
    stripes: Vec<Mutex<()>>,
    metrics: Metrics,
    /// `aggregate="<type>"`, the label of this bus's counters.
    label: String,
}

impl<A> CommandBus<A>
where
    A: Aggregate<Services = ()> + Clone,
    A::Command: Clone,
    A::Error: DomainError,
{
    /// A bus over the event store in `pool`. With `snapshot_every`, a snapshot is
    /// written every that many events (for aggregates with long histories).
    pub fn new(pool: PgPool, snapshot_every: Option<usize>) -> Self {
        let repo = EventRepository::new(pool.clone(), snapshot_every);
        let store = match snapshot_every {
            Some(size) => PersistedEventStore::new_snapshot_store(repo, size),
            None => PersistedEventStore::new_event_store(repo),
        }
        .with_upcasters(atlantic_domain::versioning::upcasters());
        CommandBus {
            store,
            events: EventRepository::new(pool, snapshot_every),
            upcasters: atlantic_domain::versioning::upcasters(),
            cache: AggregateCache::new(),
            snapshot_every,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            metrics: Metrics::default(),
            label: format!("aggregate=\"{}\"", A::TYPE),
        }
    }

    /// The bus, counting its loads from the store in `metrics`
    /// ([`LOADS_METRIC`]).
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        CommandBus { metrics, ..self }
    }

    /// The aggregate's current state (the default state when it has no events):
    /// the cached state caught up with the events after it (one query), or
    /// the state loaded from the store.
    pub async fn load(&self, aggregate_id: &str) -> Result<A, CommandError<A::Error>> {
        let Some(context) = self.cache.get(aggregate_id) else {
            return Ok(self.load_from_store(aggregate_id).await?.aggregate);
        };
        let newer = self
            .events
            .get_last_events::<A>(aggregate_id, context.current_sequence)
            .await
            .map_err(|e| CommandError::Store(e.to_string()))?;
        self.caught_up(context, newer)
    }

    /// The current states of `aggregate_ids`, in their order: the cached ones
    /// caught up with the events after them in one query for all, the others
    /// (and an id given twice) loaded one after another.
    pub async fn load_many(
        &self,
        aggregate_ids: &[String],
    ) -> Result<Vec<A>, CommandError<A::Error>> {
        let mut cached: HashMap<&str, EventStoreAggregateContext<A>> = aggregate_ids
            .iter()
            .filter_map(|id| Some((id.as_str(), self.cache.get(id)?)))
            .collect();
        let after: Vec<(&str, usize)> = cached
            .iter()
            .map(|(id, context)| (*id, context.current_sequence))
            .collect();
        let mut newer: HashMap<String, Vec<SerializedEvent>> = HashMap::new();
        if !after.is_empty() {
            for event in self
                .events
                .events_after_each::<A>(&after)
                .await
                .map_err(|e| CommandError::Store(e.to_string()))?
            {
                newer
                    .entry(event.aggregate_id.clone())
                    .or_default()
                    .push(event);
            }
        }
        let mut states = Vec::with_capacity(aggregate_ids.len());
        for id in aggregate_ids {
            let state = match cached.remove(id.as_str()) {
                Some(context) => self.caught_up(context, newer.remove(id).unwrap_or_default())?,
                None => self.load(id).await?,
            };
            states.push(state);
        }
        Ok(states)
    }

    /// The state of `context` after `newer`, its aggregate's events after it
    /// in sequence order (remembered when there were any).
    fn caught_up(
        &self,
        mut context: EventStoreAggregateContext<A>,
        newer: Vec<SerializedEvent>,
    ) -> Result<A, CommandError<A::Error>> {
        if newer.is_empty() {
            return Ok(context.aggregate);
        }
        for event in newer {
            let envelope = EventEnvelope::<A>::try_from(upcast(event, &self.upcasters))
                .map_err(|e| CommandError::Store(e.to_string()))?;
            context.current_sequence = envelope.sequence;
            context.aggregate.apply(envelope.payload);
        }
        let aggregate = context.aggregate.clone();
        self.cache.put(context);
        Ok(aggregate)
    }

    /// Runs `command` on aggregate `aggregate_id` and commits its events with
    /// `metadata`, retrying concurrency conflicts a bounded number of times.
    ///
    /// The first attempt runs on the cached state when there is one, and on
    /// the state of an aggregate without events when there is none (a
    /// command that creates its aggregate then needs no load). Its commit
    /// succeeds only if no one wrote after that state (the event store's
    /// primary key holds each sequence once), so a success is as good as one
    /// on a freshly loaded state; anything else — a conflict, a refusal, no
    /// change — is tried again on the state in the store, and only an answer
    /// given on that state is final.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<Committed, CommandError<A::Error>> {
        let _queue = self.stripe(aggregate_id).lock().await;
        let mut cached = Some(
            self.cache
                .get(aggregate_id)
                .unwrap_or_else(|| without_events(aggregate_id)),
        );
        let mut attempt = 0;
        loop {
            let from_store = cached.is_none();
            let mut context = match cached.take() {
                Some(context) => context,
                None => {
                    attempt += 1;
                    self.load_from_store(aggregate_id).await?
                }
            };
            let version = context.current_sequence;
            // cqrs-es's sink applies each event to the aggregate as the
            // command writes it; the commit, which may fold the events into
            // a snapshot, needs the state they apply to.
            let before = context.aggregate.clone();
            let sink = EventSink::default();
            let handled = context.aggregate.handle(command.clone(), &(), &sink).await;
            let events = sink.collect().await;
            if handled.is_err() || events.is_empty() {
                if !from_store {
                    continue;
                }
                handled.map_err(CommandError::Rejected)?;
                return Ok(Committed { version, events: 0 });
            }
            let count = events.len();
            let after = EventStoreAggregateContext {
                aggregate_id: aggregate_id.to_string(),
                aggregate: context.aggregate,
                current_sequence: version + count,
                current_snapshot: context.current_snapshot,
            };
            let committing = EventStoreAggregateContext {
                aggregate: before,
                ..context
            };
            match self
                .store
                .commit(events, committing, metadata.to_map())
                .await
            {
                Ok(_) => {
                    if self.takes_snapshot(version, count) {
                        self.cache.forget(aggregate_id);
                    } else {
                        self.cache.put(after);
                    }
                    return Ok(Committed {
                        version: version + count,
                        events: count,
                    });
                }
                Err(AggregateError::AggregateConflict) if !from_store => {
                    self.cache.forget(aggregate_id);
                }
                // Either another writer took the sequence, or a uniqueness rule
                // refused the event: then the aggregate has not moved, and
                // trying again cannot help.
                Err(AggregateError::AggregateConflict) => {
                    self.cache.forget(aggregate_id);
                    if self.load_from_store(aggregate_id).await?.current_sequence == version {
                        return Err(CommandError::Duplicate);
                    }
                    if attempt >= MAX_ATTEMPTS {
                        return Err(CommandError::Conflict);
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(other) => {
                    self.cache.forget(aggregate_id);
                    return Err(store_error(other));
                }
            }
        }
    }

    /// The aggregate as the store has it (snapshot and the events after it),
    /// remembered in the cache.
    async fn load_from_store(
        &self,
        aggregate_id: &str,
    ) -> Result<EventStoreAggregateContext<A>, CommandError<A::Error>> {
        let context = self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(store_error)?;
        self.metrics.add(LOADS_METRIC, &self.label, 1);
        self.cache.put(EventStoreAggregateContext {
            aggregate_id: context.aggregate_id.clone(),
            aggregate: context.aggregate.clone(),
            ..context
        });
        Ok(context)
    }

    /// Whether committing `count` events after `version` writes a snapshot
    /// (cqrs-es writes one each time the sequence passes a multiple of the
    /// snapshot size). The cache then forgets the aggregate, whose snapshot
    /// number only the store knows.
    fn takes_snapshot(&self, version: usize, count: usize) -> bool {
        self.snapshot_every
            .is_some_and(|size| version / size != (version + count) / size)
    }

    fn stripe(&self, aggregate_id: &str) -> &Mutex<()> {
        let mut hasher = DefaultHasher::new();
        aggregate_id.hash(&mut hasher);
        &self.stripes[(hasher.finish() as usize) % STRIPES]
    }
}

/// The state of aggregate `aggregate_id` before its first event.
fn without_events<A: Aggregate>(aggregate_id: &str) -> EventStoreAggregateContext<A> {
    EventStoreAggregateContext {
        aggregate_id: aggregate_id.to_string(),
        aggregate: A::default(),
        current_sequence: 0,
        current_snapshot: None,
    }
}

/// `event` as its newest version, through the upcasters that apply to it.
fn upcast(event: SerializedEvent, upcasters: &[Box<dyn EventUpcaster>]) -> SerializedEvent {
    upcasters.iter().fold(event, |event, upcaster| {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            upcaster.upcast(event)
        } else {
            event
        }
    })
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
