use crate::{DomainError, ErrorKind};

/// Why a rating command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    /// Withdraw with no rating standing.
    #[error("no rating to withdraw")]
    NotFound,
}

impl DomainError for RatingError {
    fn kind(&self) -> ErrorKind {
        match self {
            RatingError::NotFound => ErrorKind::NotFound,
        }
    }
}
