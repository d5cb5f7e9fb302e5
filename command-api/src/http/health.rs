//! `/health`, `/ready` and `/metrics`.

use super::AppState;
use atlantic_platform::http::readiness::{prometheus, readiness};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// `GET /health`, `/ready` and `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "up")))]
pub async fn health() -> impl IntoResponse {
    Json(json!({"status": "up"}))
}

/// Every dependency answers.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let postgres = sqlx::query("SELECT 1")
        .execute(&state.shop.pool)
        .await
        .is_ok();
    let redis = state.shop.sessions.ping().await;
    let nats = state.nats.connection_state() == async_nats::connection::State::Connected;
    readiness(&[("postgres", postgres), ("redis", redis), ("nats", nats)])
}

/// Counters and gauges in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    prometheus(state.metrics.render())
}
