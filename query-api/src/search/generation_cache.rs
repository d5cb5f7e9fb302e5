//! Answers kept for as long as the read model they were computed from has
//! not changed: the answers of recent searches, and the vocabulary's
//! corrections of recent words.
//!
//! Each answer is filed under the generation read *before* it was computed
//! (`read_model_generations`, raised in the transaction of every batch that
//! changes what it counts, and of a replay's swap), so it reflects that
//! generation or a later one: while the generation stays the same, the read
//! model is what the answer was computed from, and any later change raises
//! the generation and empties the cache. Each process keeps its own; the
//! generation lives in Postgres, so every process sees every change, whoever
//! made it. A query that waits to read its own write waits until the batch
//! that applied the write has committed, and with it the generation that
//! supersedes older answers.

use lru::LruCache;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// The answers of one generation of a read model, at most a capacity of
/// them, the least recently used leaving first.
pub struct GenerationCache<K: Hash + Eq, V> {
    state: Mutex<State<K, V>>,
}

struct State<K: Hash + Eq, V> {
    generation: i64,
    answers: LruCache<K, V>,
}

impl<K: Hash + Eq + Clone, V: Clone> GenerationCache<K, V> {
    /// An empty cache of at most `capacity` answers.
    pub fn new(capacity: NonZeroUsize) -> Self {
        GenerationCache {
            state: Mutex::new(State {
                generation: i64::MIN,
                answers: LruCache::new(capacity),
            }),
        }
    }

    /// The answer to `question` computed at `generation`, if kept.
    pub fn get(&self, generation: i64, question: &K) -> Option<V> {
        let mut state = self.lock();
        if state.generation != generation {
            return None;
        }
        state.answers.get(question).cloned()
    }

    /// Keeps `answer` to `question`, computed after `generation` was read. A
    /// newer generation drops every older answer; an answer of an older
    /// generation than the cache's is not kept.
    pub fn put(&self, generation: i64, question: &K, answer: &V) {
        let mut state = self.lock();
        if generation < state.generation {
            return;
        }
        if generation > state.generation {
            state.generation = generation;
            state.answers.clear();
        }
        state.answers.put(question.clone(), answer.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
