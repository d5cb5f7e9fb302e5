//! The answers of recent searches, kept for as long as the read model they
//! were computed from has not changed.
//!
//! Each answer is filed under the read model's generation read *before* the
//! search ran (`read_model_generations`, raised in the transaction of every
//! batch and of a replay's swap), so it reflects that generation or a later
//! one: while the generation stays the same, the read model is what the
//! answer was computed from, and any later change raises the generation and
//! empties the cache. Each process keeps its own; the generation lives in
//! Postgres, so every process sees every change, whoever made it. A query
//! that waits to read its own write waits until the batch that applied the
//! write has committed, and with it the generation that supersedes older
//! answers.

use super::{SearchQuery, SearchResults};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// Answers kept at most, the least recently used leaving first (a page holds
/// at most 100 hits, so the cache holds at most 25,600).
const CAPACITY: NonZeroUsize = match NonZeroUsize::new(256) {
    Some(capacity) => capacity,
    None => panic!("the capacity is not zero"),
};

/// The answers of one generation of the read model.
pub struct AnswerCache {
    state: Mutex<State>,
}

struct State {
    generation: i64,
    answers: LruCache<SearchQuery, SearchResults>,
}

impl AnswerCache {
    /// An empty cache.
    pub fn new() -> Self {
        AnswerCache {
            state: Mutex::new(State {
                generation: i64::MIN,
                answers: LruCache::new(CAPACITY),
            }),
        }
    }

    /// The answer to `query` computed at `generation`, if kept.
    pub fn get(&self, generation: i64, query: &SearchQuery) -> Option<SearchResults> {
        let mut state = self.lock();
        if state.generation != generation {
            return None;
        }
        state.answers.get(query).cloned()
    }

    /// Keeps `answer` to `query`, computed after `generation` was read. A
    /// newer generation drops every older answer; an answer of an older
    /// generation than the cache's is not kept.
    pub fn put(&self, generation: i64, query: &SearchQuery, answer: &SearchResults) {
        let mut state = self.lock();
        if generation < state.generation {
            return;
        }
        if generation > state.generation {
            state.generation = generation;
            state.answers.clear();
        }
        state.answers.put(query.clone(), answer.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache::new()
    }
}
