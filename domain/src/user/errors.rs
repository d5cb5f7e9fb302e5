use crate::{DomainError, ErrorKind};

/// Why a user command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// Register on an id that already has an account.
    #[error("the user already exists")]
    AlreadyRegistered,
    /// Any command but Register on an id with no account.
    #[error("no such user")]
    NotFound,
    /// Someone else's profile.
    #[error("only the user or an admin may change this profile")]
    Forbidden,
    /// An update that changes nothing.
    #[error("nothing to update")]
    NothingToUpdate,
    /// The user already runs another seller.
    #[error("the user already runs a seller")]
    AlreadySeller,
}

impl DomainError for UserError {
    fn kind(&self) -> ErrorKind {
        match self {
            UserError::AlreadyRegistered | UserError::AlreadySeller => ErrorKind::Conflict,
            UserError::NotFound => ErrorKind::NotFound,
            UserError::Forbidden => ErrorKind::Forbidden,
            UserError::NothingToUpdate => ErrorKind::Invalid,
        }
    }
}
