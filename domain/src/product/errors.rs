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
    /// A quantity out of its bounds.
    #[error("quantity must be 1 to {}", crate::bounds::MAX_LINE_QUANTITY)]
    InvalidQuantity,
    /// A value out of its bounds.
    #[error("{field}: {message}")]
    Invalid {
        /// The command's field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// More units asked for than there are.
    #[error("not enough stock: {available} available, {requested} requested")]
    InsufficientInventory {
        /// Units in stock.
        available: i64,
        /// Units the command needed.
        requested: i64,
    },
    /// Stock for sale and held for open orders would pass
    /// [`crate::bounds::MAX_INVENTORY`]: a conflict with what is held now,
    /// since the same change is accepted once orders ship or release.
    #[error(
        "stock for sale and held for orders ({held} held) must stay at most {}",
        crate::bounds::MAX_INVENTORY
    )]
    StockLimit {
        /// Units held for open orders.
        held: i64,
    },
}

impl ProductError {
    /// A value of `field` out of its bounds.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ProductError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl DomainError for ProductError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProductError::AlreadyExists
            | ProductError::InsufficientInventory { .. }
            | ProductError::StockLimit { .. } => ErrorKind::Conflict,
            ProductError::NotFound => ErrorKind::NotFound,
            ProductError::Forbidden => ErrorKind::Forbidden,
            ProductError::NothingToUpdate
            | ProductError::InvalidQuantity
            | ProductError::Invalid { .. } => ErrorKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ProductError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
