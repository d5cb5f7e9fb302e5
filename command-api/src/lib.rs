//! Atlantic's write side: the HTTP command API, the event store on Postgres
//! (postgres-es), and the relay that publishes committed events to NATS
//! JetStream exactly once and in order.

pub mod app;
pub mod http;
pub mod purchases;
pub mod relay;
pub mod seed;
