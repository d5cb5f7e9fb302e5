//! `GET /orders/{id}`: status and timeline, for its customer or an admin.

use crate::QueryState;
use atlantic_platform::http::extract::{AuthUser, IdPath};
use atlantic_platform::http::ApiError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::Row;
use uuid::Uuid;

pub fn router() -> Router<QueryState> {
    Router::new().route("/orders/{id}", get(order))
}

/// An order's view as JSON: id, status, customer, items, total, timeline.
pub fn order_json(row: &sqlx::postgres::PgRow, timeline: Vec<Value>) -> Value {
    json!({
        "id": row.get::<Uuid, _>("order_id"),
        "status": row.get::<String, _>("status"),
        "customerId": row.get::<Uuid, _>("customer_id"),
        "items": row.get::<Value, _>("items"),
        "totalPrice": row.get::<f64, _>("total_price"),
        "createdAt": row.get::<chrono::DateTime<chrono::Utc>, _>("created_at"),
        "timeline": timeline,
    })
}

/// An order with its timeline (a customer sees only their own: others are 404).
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the order"), (status = 404, body = atlantic_platform::http::Problem)))]
pub async fn order(
    State(state): State<QueryState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let row = sqlx::query(
        "SELECT order_id, customer_id, status, items, total_price::float8 AS total_price, created_at \
         FROM order_views WHERE order_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let row = row
        .filter(|row| user.actor().is_user_or_admin(row.get("customer_id")))
        .ok_or_else(|| ApiError::NotFound("no such order".into()))?;
    let timeline: Vec<Value> =
        sqlx::query_scalar("SELECT body FROM order_timeline WHERE order_id = $1 ORDER BY sequence")
            .bind(id)
            .fetch_all(&state.pool)
            .await?;
    Ok(Json(order_json(&row, timeline)))
}
