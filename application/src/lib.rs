//! Atlantic's use cases. Each is a function of the [`Shop`] (the buses and
//! stores it acts on), a [`Caller`], and an input of domain values; it answers
//! a typed [`UseCaseError`] when it does not do what was asked. The HTTP
//! handlers, the command line, the seeder and the tests call these; nothing
//! here knows HTTP.

pub mod accounts;
pub mod caller;
pub mod cart;
pub mod catalogue;
pub mod error;
pub mod orders;
pub mod reviews;
pub mod seed;
pub mod sellers;
mod shop;

pub use caller::Caller;
pub use error::UseCaseError;
pub use shop::Shop;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a use case that ran a command answers: the aggregate's id and its
/// version after the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Accepted {
    /// The aggregate's id.
    pub id: Uuid,
    /// Its version (last event's sequence) after the command.
    pub version: usize,
}

/// A use case's answer.
pub type Outcome<T = Accepted> = Result<T, UseCaseError>;
