//! Atlantic's command API: HTTP requests to commands on the event store, the
//! application that runs it (with the relay, `atlantic_relay`, when asked),
//! and the catalogue seeder.

pub mod app;
pub mod http;
pub mod purchases;
pub mod seed;
