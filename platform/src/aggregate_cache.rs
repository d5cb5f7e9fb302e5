//! The aggregates a command bus last saw, kept in memory so that a command
//! need not load its aggregate from the event store.
//!
//! An entry is only a guess at the aggregate's state, which stays correct
//! with any number of processes writing the same store (see `bus`): a
//! command run on a cached state commits only if the sequence after it is
//! still free, which proves nobody wrote in between; a conflict, a refusal
//! or a command that changes nothing is decided again on the state loaded
//! from the store; a read catches its entry up with the events written
//! after it.

use cqrs_es::persist::EventStoreAggregateContext;
use cqrs_es::Aggregate;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Aggregates each bus keeps, the least recently used leaving first.
const CAPACITY: NonZeroUsize = match NonZeroUsize::new(10_000) {
    Some(capacity) => capacity,
    None => panic!("the capacity is not zero"),
};

/// One aggregate as it was after its last known event.
#[derive(Clone)]
struct Entry<A> {
    aggregate: A,
    version: usize,
    snapshot: Option<usize>,
}

/// A bounded, least-recently-used map of aggregate id to state.
pub struct AggregateCache<A> {
    entries: Mutex<LruCache<String, Entry<A>>>,
}

impl<A: Aggregate + Clone> AggregateCache<A> {
    /// An empty cache.
    pub fn new() -> Self {
        AggregateCache {
            entries: Mutex::new(LruCache::new(CAPACITY)),
        }
    }

    /// The cached state of `aggregate_id`, as a store context to run a command on.
    pub fn get(&self, aggregate_id: &str) -> Option<EventStoreAggregateContext<A>> {
        let entry = self.lock().get(aggregate_id).cloned()?;
        Some(EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate: entry.aggregate,
            current_sequence: entry.version,
            current_snapshot: entry.snapshot,
        })
    }

    /// Remembers `context` as the state of its aggregate.
    pub fn put(&self, context: EventStoreAggregateContext<A>) {
        let entry = Entry {
            aggregate: context.aggregate,
            version: context.current_sequence,
            snapshot: context.current_snapshot,
        };
        self.lock().put(context.aggregate_id, entry);
    }

    /// Forgets `aggregate_id`.
    pub fn forget(&self, aggregate_id: &str) {
        self.lock().pop(aggregate_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Entry<A>>> {
        // A panic while holding the lock leaves at worst a stale guess,
        // which the commit's sequence check catches.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<A: Aggregate + Clone> Default for AggregateCache<A> {
    fn default() -> Self {
        Self::new()
    }
}
