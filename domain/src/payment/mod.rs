//! A payment for one order: captured through the payment gateway, declined, or
//! refunded. The aggregate makes capture and refund happen at most once.

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::{Payment, PaymentState};
pub use commands::PaymentCommand;
pub use errors::PaymentError;
pub use events::PaymentEvent;
