//! The answers of `/ready` and `/metrics` both APIs give.

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

/// The answer of `/ready` for `checks` (dependency, up): 200 when every one
/// is up, 503 otherwise, with each dependency's state.
pub fn readiness(checks: &[(&str, bool)]) -> impl IntoResponse {
    let word = |up: bool| if up { "up" } else { "down" };
    let ready = checks.iter().all(|(_, up)| *up);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let states: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(name, up)| (name.to_string(), json!(word(*up))))
        .collect();
    (
        status,
        Json(json!({"status": word(ready), "checks": states})),
    )
}

/// The answer of `/metrics`: `text` in the Prometheus text format.
pub fn prometheus(text: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
