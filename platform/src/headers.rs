//! The `Atlantic-*` headers: those every published message carries, written
//! by the relay (and by `POST /clicks`) and read by every consumer; and the
//! consistency token a read sends back to see its own write.

/// The event's id (UUID v5 of its row).
pub const EVENT_ID: &str = "Atlantic-Event-Id";
/// The aggregate's type (`Order`, `Product`, …).
pub const AGGREGATE_TYPE: &str = "Atlantic-Aggregate-Type";
/// The aggregate's id.
pub const AGGREGATE_ID: &str = "Atlantic-Aggregate-Id";
/// The event's sequence within its aggregate.
pub const SEQUENCE: &str = "Atlantic-Sequence";
/// The event's global position in the event store.
pub const POSITION: &str = "Atlantic-Position";
/// The id that ties together everything one request caused.
pub const CORRELATION_ID: &str = "Atlantic-Correlation-Id";
/// The id of the event or request that caused this one.
pub const CAUSATION_ID: &str = "Atlantic-Causation-Id";
/// A command answer's consistency token, sent back on a read that must see
/// that write (`<aggregate type>:<id>:<version>`).
pub const CONSISTENCY: &str = "Atlantic-Consistency";
