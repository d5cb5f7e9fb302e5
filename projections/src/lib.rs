//! Atlantic's read models. Each projection is a durable JetStream pull
//! consumer with explicit ack (`runtime.rs`), idempotent by the version of the
//! aggregate it last applied to each row or document.

pub mod analytics;
pub mod cache;
pub mod coalesce;
pub mod envelope;
pub mod order_views;
pub mod postgres_batch;
pub mod product_fields;
pub mod read_models;
pub mod replay;
pub mod reviews;
pub mod runtime;
pub mod search;
pub mod search_meili;

pub use envelope::Envelope;
pub use runtime::{Projection, ProjectorRunner};
pub use search_meili::MeiliProjection;
