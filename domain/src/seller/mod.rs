//! A seller: the business behind a set of products, run by one user.

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::Seller;
pub use commands::SellerCommand;
pub use errors::SellerError;
pub use events::SellerEvent;
