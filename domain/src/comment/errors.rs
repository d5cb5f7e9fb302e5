use crate::{DomainError, ErrorKind};

/// Why a comment command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    /// Post on an id that exists.
    #[error("the comment already exists")]
    AlreadyExists,
    /// No comment, or a deleted one.
    #[error("no such comment")]
    NotFound,
    /// Someone else's comment.
    #[error("only its author or an admin may change a comment")]
    Forbidden,
}

impl DomainError for CommentError {
    fn kind(&self) -> ErrorKind {
        match self {
            CommentError::AlreadyExists => ErrorKind::Conflict,
            CommentError::NotFound => ErrorKind::NotFound,
            CommentError::Forbidden => ErrorKind::Forbidden,
        }
    }
}
