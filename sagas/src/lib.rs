//! Atlantic's process managers. The order saga consumes order events from
//! JetStream and drives each order through validation, payment, inventory
//! reservation and shipping, compensating when a step fails.

pub mod carrier;
pub mod order_saga;
pub mod payment_gateway;
pub mod payments_audit;

pub use order_saga::{OrderSaga, SagaSettings};
