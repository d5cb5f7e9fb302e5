//! A product listing with its stock: catalogue details, inventory adjustments and
//! per-order reservations that can never take the stock below zero.

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::Product;
pub use commands::{ProductChanges, ProductCommand, ProductDetails};
pub use errors::ProductError;
pub use events::ProductEvent;
