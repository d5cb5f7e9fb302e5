//! A shop user: registration, profile and role.

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::User;
pub use commands::UserCommand;
pub use errors::UserError;
pub use events::{Address, UserEvent};
