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

/// What a use case that ran a command answers: the aggregate's id, its
/// version after the command, and the token that lets a read wait for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// The aggregate's id.
    pub id: Uuid,
    /// Its version (last event's sequence) after the command.
    pub version: usize,
    /// `<aggregate type>:<id>:<version>`: sent back to the query API in the
    /// `Atlantic-Consistency` header, a read waits until its read model holds
    /// this write.
    #[schema(example = "Order:0190b5a3-7c4e-7d2a-9f1e-2b3c4d5e6f70:1")]
    pub consistency_token: String,
}

impl Accepted {
    /// The answer for version `version` of aggregate `id` of type `aggregate_type`.
    pub fn new(aggregate_type: &str, id: Uuid, version: usize) -> Self {
        Accepted {
            id,
            version,
            consistency_token: format!("{aggregate_type}:{id}:{version}"),
        }
    }
}

/// A use case's answer.
pub type Outcome<T = Accepted> = Result<T, UseCaseError>;
