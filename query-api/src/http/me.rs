//! `GET /me`, `GET /me/orders`.

use super::orders::order_json;
use super::paging;
use crate::QueryState;
use atlantic_platform::http::extract::AuthUser;
use atlantic_platform::http::ApiError;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::Row;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/me", get(me))
        .route("/me/orders", get(my_orders))
}

/// The signed-in user's profile.
#[utoipa::path(get, path = "/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "the profile"), (status = 401, body = atlantic_platform::http::Problem)))]
pub async fn me(State(state): State<QueryState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    let row = sqlx::query(
        "SELECT email, name, role, address, seller_id FROM user_views WHERE user_id = $1",
    )
    .bind(user.session.user_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound("the profile is not ready yet".into()))?;
    Ok(Json(json!({
        "id": user.session.user_id,
        "email": row.get::<String, _>("email"),
        "name": row.get::<String, _>("name"),
        "role": row.get::<String, _>("role"),
        "address": row.get::<Option<Value>, _>("address"),
        "sellerId": row.get::<Option<Uuid>, _>("seller_id"),
    })))
}

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Paging {
    /// 1-based page (page × perPage at most 10,000).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// Items per page (at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// The signed-in user's orders, newest first.
#[utoipa::path(get, path = "/me/orders", tag = "me", params(Paging), security(("bearer" = [])),
    responses((status = 200, description = "a page of orders"), (status = 401, body = atlantic_platform::http::Problem)))]
pub async fn my_orders(
    State(state): State<QueryState>,
    user: AuthUser,
    params: Result<Query<Paging>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let (page, per_page) = paging(params.page, params.per_page)?;
    let rows = sqlx::query(
        "SELECT order_id, customer_id, status, items, total_price::float8 AS total_price, created_at, \
                count(*) OVER () AS total \
         FROM order_views WHERE customer_id = $1 ORDER BY created_at DESC, order_id DESC LIMIT $2 OFFSET $3",
    )
    .bind(user.session.user_id)
    .bind(i64::from(per_page))
    .bind(i64::from(page - 1) * i64::from(per_page))
    .fetch_all(&state.pool)
    .await?;
    let total: i64 = match rows.first() {
        Some(row) => row.get("total"),
        None => {
            sqlx::query_scalar("SELECT count(*) FROM order_views WHERE customer_id = $1")
                .bind(user.session.user_id)
                .fetch_one(&state.pool)
                .await?
        }
    };
    let items: Vec<Value> = rows.iter().map(|row| order_json(row, Vec::new())).collect();
    Ok(Json(
        json!({"items": items, "page": page, "perPage": per_page, "total": total}),
    ))
}
