//! A customer's comment on a product: posted, edited or deleted by its author
//! (or an admin).

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::Comment;
pub use commands::{CommentCommand, CommentText};
pub use errors::CommentError;
pub use events::CommentEvent;
