//! The HTTP kit both APIs use: problem+json errors, the extractors (bodies
//! refused with the field at fault, the signed-in user, the request id), the
//! answers of `/ready` and `/metrics`, and the OpenAPI security scheme.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod readiness;
pub mod request_id;
pub mod storable;

pub use error::{ApiError, Problem};
