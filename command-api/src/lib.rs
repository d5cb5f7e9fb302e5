//! Atlantic's write side: the HTTP command API, the event store on Postgres
//! (postgres-es), and the relay that publishes committed events to NATS
//! JetStream exactly once and in order.

pub mod app;
pub mod bus;
pub mod carts;
pub mod db;
pub mod dead_letters;
pub mod http;
pub mod metadata;
pub mod metrics;
pub mod passwords;
pub mod purchases;
pub mod relay;
pub mod seed;
pub mod sessions;
pub mod streams;
