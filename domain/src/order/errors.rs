use super::OrderStatus;
use crate::{DomainError, ErrorKind};

/// Why an order command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// Place on an id that exists.
    #[error("the order already exists")]
    AlreadyExists,
    /// No such order, or not the actor's to see.
    #[error("no such order")]
    NotFound,
    /// An order with no lines, too many, a zero quantity or a product twice.
    #[error("invalid order lines: {0}")]
    InvalidLines(String),
    /// The command does not fit the order's state.
    #[error("cannot {action} an order that is {status}")]
    IllegalTransition {
        /// What was asked.
        action: &'static str,
        /// The state it is in.
        status: OrderStatus,
    },
    /// A payment whose amount is not the order's total.
    #[error("payment amount does not match the order total")]
    AmountMismatch,
}

impl DomainError for OrderError {
    fn kind(&self) -> ErrorKind {
        match self {
            OrderError::AlreadyExists | OrderError::IllegalTransition { .. } => ErrorKind::Conflict,
            OrderError::NotFound => ErrorKind::NotFound,
            OrderError::InvalidLines(_) | OrderError::AmountMismatch => ErrorKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            OrderError::InvalidLines(_) => Some("items"),
            _ => None,
        }
    }
}
