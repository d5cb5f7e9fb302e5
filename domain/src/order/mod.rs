//! An order and its state machine: Created → Validated → PaymentProcessed →
//! InventoryReserved → Shipped → Delivered, with Cancelled and Returned.

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::{Order, OrderStatus};
pub use commands::OrderCommand;
pub use errors::OrderError;
pub use events::{OrderEvent, OrderLine, PaymentStatus, ReservedLine};
