//! Request ids: every request gets one (the client's `X-Request-Id` when it
//! is a UUID), echoed in the answer, and every answer is counted by status.

use super::extract::RequestId;
use crate::metrics::Metrics;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

/// The header of a request's id.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request an id (the client's `X-Request-Id` when it is a UUID),
/// echoes it, and counts answers by status under `api`.
pub async fn request_id_and_metrics(
    metrics: Metrics,
    api: &'static str,
    mut request: Request,
    next: Next,
) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::now_v7);
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    metrics.add(
        "atlantic_http_responses_total",
        &format!("api=\"{api}\",status=\"{}\"", response.status().as_u16()),
        1,
    );
    response
}
