//! The command API's one error type, rendered as RFC 9457 problem+json.

use axum::extract::rejection::PathRejection;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Everything a handler can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request (400).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed but invalid values (422), with field → message.
    #[error("{detail}")]
    Invalid {
        /// What is wrong, in a sentence.
        detail: String,
        /// Field → message.
        errors: BTreeMap<String, String>,
    },
    /// No valid session (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Wrong role or owner (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there, or not the caller's to see (404).
    #[error("{0}")]
    NotFound(String),
    /// The state does not allow it (409).
    #[error("{0}")]
    Conflict(String),
    /// Body over the limit (413).
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// Not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Rate limited (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// A store the answer needs does not answer (503); try again later.
    #[error("{0}")]
    Unavailable(String),
    /// Anything the client did not cause (500); the cause is logged, not shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The problem+json body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Field → message, for invalid values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
}

impl ApiError {
    /// A 422 about one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Invalid {
            detail: format!("{field}: {message}"),
            errors: BTreeMap::from([(field.to_string(), message)]),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug) = self.parts();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "something went wrong on our side".to_string()
            }
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Invalid { errors, .. } => errors,
            _ => BTreeMap::new(),
        };
        let problem = Problem {
            kind: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors,
        };
        problem_response(status, &problem)
    }
}

/// A problem+json response.
pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body,
    )
        .into_response()
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound("no such resource".into())
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(error: redis::RedisError) -> Self {
        ApiError::Internal(anyhow::Error::new(error).context("session store"))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Internal(anyhow::Error::new(error).context("database"))
    }
}
