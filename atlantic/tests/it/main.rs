//! Atlantic's black-box tests, one binary with a module per area: each test
//! runs the real system (in this process, or `atlantic` as a child process)
//! against its own Postgres database, NATS server, Redis key prefix,
//! ClickHouse database and, for search, Meilisearch.

mod support;

mod analytics;
mod cart;
mod consistency;
mod hostile_input;
mod live_status;
mod notifications;
mod openapi_conformance;
mod product_batches;
mod projector_runtime;
mod query_plans;
mod read_side;
mod relay;
mod replay;
mod reviews;
mod saga;
mod saga_crash;
mod search_contract;
mod supervision;
mod versioning;
mod write_side;
