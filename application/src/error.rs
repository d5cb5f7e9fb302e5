//! What a use case answers when it does not do what was asked.

use atlantic_domain::{DomainError, ErrorKind};
use atlantic_platform::bus::CommandError;
use atlantic_platform::http::error::ApiError;
use std::collections::BTreeMap;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// A value is out of bounds.
    #[error("{detail}")]
    Invalid {
        /// What is wrong, in a sentence.
        detail: String,
        /// Field (camelCase, as the API names it) → what is wrong with it.
        errors: BTreeMap<String, String>,
    },
    /// The caller is not who they say (wrong password, no session).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there, or not the caller's to see.
    #[error("{0}")]
    NotFound(String),
    /// The state does not allow it (already exists, already shipped).
    #[error("{0}")]
    Conflict(String),
    /// The caller tried too often; wait.
    #[error("{0}")]
    TooManyRequests(String),
    /// Anything the caller did not cause.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl UseCaseError {
    /// An invalid value of `field`.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        UseCaseError::Invalid {
            detail: format!("{field}: {message}"),
            errors: BTreeMap::from([(field.to_string(), message)]),
        }
    }
}

impl<E: DomainError> From<CommandError<E>> for UseCaseError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(refusal) => {
                let message = refusal.to_string();
                match refusal.kind() {
                    ErrorKind::Invalid => UseCaseError::Invalid {
                        errors: refusal
                            .field()
                            .map(|field| BTreeMap::from([(field.to_string(), message.clone())]))
                            .unwrap_or_default(),
                        detail: message,
                    },
                    ErrorKind::Forbidden => UseCaseError::Forbidden(message),
                    ErrorKind::NotFound => UseCaseError::NotFound(message),
                    ErrorKind::Conflict => UseCaseError::Conflict(message),
                }
            }
            CommandError::Conflict | CommandError::Duplicate => {
                UseCaseError::Conflict(error.to_string())
            }
            CommandError::Store(cause) => UseCaseError::Internal(anyhow::anyhow!(cause)),
        }
    }
}

impl From<redis::RedisError> for UseCaseError {
    fn from(error: redis::RedisError) -> Self {
        UseCaseError::Internal(anyhow::Error::new(error).context("session store"))
    }
}

impl From<sqlx::Error> for UseCaseError {
    fn from(error: sqlx::Error) -> Self {
        UseCaseError::Internal(anyhow::Error::new(error).context("database"))
    }
}

impl From<UseCaseError> for ApiError {
    fn from(error: UseCaseError) -> Self {
        match error {
            UseCaseError::Invalid { detail, errors } => ApiError::Invalid { detail, errors },
            UseCaseError::Unauthorized(message) => ApiError::Unauthorized(message),
            UseCaseError::Forbidden(message) => ApiError::Forbidden(message),
            UseCaseError::NotFound(message) => ApiError::NotFound(message),
            UseCaseError::Conflict(message) => ApiError::Conflict(message),
            UseCaseError::TooManyRequests(message) => ApiError::TooManyRequests(message),
            UseCaseError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}
