use crate::{DomainError, ErrorKind};

/// Why a product command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// Create on an id that exists.
    #[error("the product already exists")]
    AlreadyExists,
    /// No such product, or it was deleted.
    #[error("no such product")]
    NotFound,
    /// Someone else's product.
    #[error("only the product's seller or an admin may do this")]
    Forbidden,
    /// An update that changes nothing.
    #[error("nothing to update")]
    NothingToUpdate,
    /// A quantity of zero.
    #[error("quantity must be positive")]
    InvalidQuantity,
    /// More units asked for than there are.
    #[error("not enough stock: {available} available, {requested} requested")]
    InsufficientInventory {
        /// Units in stock.
        available: i64,
        /// Units the command needed.
        requested: i64,
    },
}

impl DomainError for ProductError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProductError::AlreadyExists | ProductError::InsufficientInventory { .. } => {
                ErrorKind::Conflict
            }
            ProductError::NotFound => ErrorKind::NotFound,
            ProductError::Forbidden => ErrorKind::Forbidden,
            ProductError::NothingToUpdate | ProductError::InvalidQuantity => ErrorKind::Invalid,
        }
    }
}
