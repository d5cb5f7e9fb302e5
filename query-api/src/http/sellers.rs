//! `GET /sellers/{id}`.

use crate::QueryState;
use atlantic_platform::http::extract::IdPath;
use atlantic_platform::http::ApiError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::Row;
use uuid::Uuid;

pub fn router() -> Router<QueryState> {
    Router::new().route("/sellers/{id}", get(seller))
}

/// A seller with the number of products it lists.
#[utoipa::path(get, path = "/sellers/{id}", tag = "sellers", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the seller with its product count"), (status = 404, body = atlantic_platform::http::Problem)))]
pub async fn seller(
    State(state): State<QueryState>,
    IdPath(id): IdPath<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let row = sqlx::query(
        "SELECT name, contact_email, created_at, \
                (SELECT count(*) FROM search_products WHERE seller_id = $1) AS product_count \
         FROM seller_views WHERE seller_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no seller {id}")))?;
    Ok(Json(json!({
        "id": id,
        "name": row.get::<String, _>("name"),
        "contactEmail": row.get::<String, _>("contact_email"),
        "createdAt": row.get::<DateTime<Utc>, _>("created_at"),
        "productCount": row.get::<i64, _>("product_count"),
    })))
}
