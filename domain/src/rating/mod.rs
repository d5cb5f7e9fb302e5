//! A customer's rating of a product: one per customer and product (its id is
//! derived from both), 1 to 5 stars, changed or withdrawn at will.

mod aggregate;
mod commands;
mod errors;
mod events;
mod stars;

pub use aggregate::{rating_id, Rating};
pub use commands::RatingCommand;
pub use errors::RatingError;
pub use events::RatingEvent;
pub use stars::Stars;
