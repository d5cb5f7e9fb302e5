use crate::{DomainError, ErrorKind};

/// Why a seller command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SellerError {
    /// Create on an id that exists.
    #[error("the seller already exists")]
    AlreadyExists,
    /// Update on an id with no seller.
    #[error("no such seller")]
    NotFound,
    /// Someone else's seller.
    #[error("only the seller's owner or an admin may change it")]
    Forbidden,
    /// An update that changes nothing.
    #[error("nothing to update")]
    NothingToUpdate,
}

impl DomainError for SellerError {
    fn kind(&self) -> ErrorKind {
        match self {
            SellerError::AlreadyExists => ErrorKind::Conflict,
            SellerError::NotFound => ErrorKind::NotFound,
            SellerError::Forbidden => ErrorKind::Forbidden,
            SellerError::NothingToUpdate => ErrorKind::Invalid,
        }
    }
}
