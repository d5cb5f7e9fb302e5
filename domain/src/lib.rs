//! Atlantic's domain: the aggregates (`User`, `Seller`, `Product`, `Order`,
//! `Payment`, `Rating`, `Comment`), their
//! commands, events and errors, the values that carry rules (`Email`, `Money`,
//! and the `bounds` of every number a client sends), and the integration-event contract published on NATS.
//!
//! Pure: no I/O and no runtime. What an aggregate needs from the outside world
//! (a clock, a catalogue price, a password hash) arrives inside its commands.

pub mod actor;
pub mod bounds;
pub mod comment;
pub mod error_kind;
pub mod integration;
pub mod money;
pub mod order;
pub mod payment;
pub mod product;
pub mod published;
pub mod rating;
pub mod seller;
pub mod specifications;
pub mod stored_money;
pub mod text;
pub mod user;
pub mod versioning;

pub use actor::{Actor, Role};
pub use error_kind::{DomainError, ErrorKind};
pub use money::Money;
pub use text::{Email, Text};
