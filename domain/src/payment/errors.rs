use crate::{DomainError, ErrorKind};

/// Why a payment command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// Capture after a decline, or decline after a capture.
    #[error("the payment was already settled the other way")]
    AlreadySettled,
}

impl DomainError for PaymentError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Conflict
    }
}
