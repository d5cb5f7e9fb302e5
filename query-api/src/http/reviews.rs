//! `GET /products/{id}/comments`.

use super::me::Paging;
use super::paging;
use crate::QueryState;
use atlantic_platform::http::extract::IdPath;
use atlantic_platform::http::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// A comment as it is listed.
#[derive(sqlx::FromRow)]
struct Listed {
    comment_id: Uuid,
    author_id: Uuid,
    text: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub fn router() -> Router<QueryState> {
    Router::new().route("/products/{id}/comments", get(comments))
}

/// A product's comments, newest first; 404 for a product not listed (and
/// without comments).
#[utoipa::path(get, path = "/products/{id}/comments", tag = "reviews", params(("id" = Uuid, Path), Paging),
    responses((status = 200, description = "a page of comments"), (status = 404, body = atlantic_platform::http::Problem), (status = 422, body = atlantic_platform::http::Problem)))]
pub async fn comments(
    State(state): State<QueryState>,
    IdPath(product_id): IdPath<Uuid>,
    params: Result<Query<Paging>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let (page, per_page) = paging(params.page, params.per_page)?;
    let rows: Vec<Listed> = sqlx::query_as(
        "SELECT comment_id, author_id, text, created_at, updated_at FROM product_comments \
         WHERE product_id = $1 AND NOT deleted \
         ORDER BY created_at DESC, comment_id DESC LIMIT $2 OFFSET $3",
    )
    .bind(product_id)
    .bind(i64::from(per_page))
    .bind(i64::from(page - 1) * i64::from(per_page))
    .fetch_all(&state.pool)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM product_comments WHERE product_id = $1 AND NOT deleted",
    )
    .bind(product_id)
    .fetch_one(&state.pool)
    .await?;
    if total == 0 {
        let listed: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM search_products WHERE product_id = $1)",
        )
        .bind(product_id)
        .fetch_one(&state.pool)
        .await?;
        if !listed {
            return Err(ApiError::NotFound(format!("no product {product_id}")));
        }
    }
    let items: Vec<Value> = rows
        .into_iter()
        .map(|c| {
            json!({"id": c.comment_id, "authorId": c.author_id, "text": c.text,
                   "createdAt": c.created_at, "updatedAt": c.updated_at})
        })
        .collect();
    Ok(Json(
        json!({"items": items, "total": total, "page": page, "perPage": per_page}),
    ))
}
