//! `/health`, `/ready` and `/metrics`.

use crate::QueryState;
use atlantic_platform::http::readiness::{prometheus, readiness};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<QueryState> {
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
pub async fn ready(State(state): State<QueryState>) -> impl IntoResponse {
    let postgres = sqlx::query("SELECT 1").execute(&state.pool).await.is_ok();
    let redis = state.sessions.ping().await;
    let clickhouse = state.analytics.ping().await.is_ok();
    let search = state.search.reachable().await.is_ok();
    readiness(&[
        ("postgres", postgres),
        ("redis", redis),
        ("clickhouse", clickhouse),
        ("search", search),
    ])
}

/// Counters and gauges in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text")))]
pub async fn metrics(State(state): State<QueryState>) -> impl IntoResponse {
    prometheus(state.metrics.render())
}
