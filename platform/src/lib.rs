//! What every Atlantic component shares: the event store's command buses and
//! their cache of aggregates, the Postgres pool and migrations, NATS streams,
//! metrics, command metadata, the dead-letter mechanism, the Redis stores
//! (sessions, carts), password hashing, and the HTTP kit.

pub mod aggregate_cache;
pub mod bus;
pub mod buses;
pub mod carts;
pub mod db;
pub mod dead_letters;
pub mod event_store;
pub mod headers;
pub mod http;
pub mod lease;
pub mod metadata;
pub mod metrics;
pub mod passwords;
pub mod redis_connection;
pub mod sessions;
pub mod streams;
pub mod supervisor;
pub mod value_lists;
