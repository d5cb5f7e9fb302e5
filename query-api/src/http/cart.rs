//! `GET /cart`: the signed-in user's cart with current prices.

use crate::QueryState;
use atlantic_platform::carts::CartStore;
use atlantic_platform::http::extract::AuthUser;
use atlantic_platform::http::ApiError;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<QueryState> {
    Router::new().route("/cart", get(cart))
}

/// The cart: each line with the product's name, current price, stock and line
/// total; `total` sums the lines of products still listed.
#[utoipa::path(get, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, description = "the cart"), (status = 401, body = atlantic_platform::http::Problem)))]
pub async fn cart(
    State(state): State<QueryState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let carts = CartStore::new(
        state.sessions.connection(),
        state.sessions.prefix().to_string(),
    );
    let items = carts.items(user.session.user_id).await?;
    let ids: Vec<Uuid> = items.keys().copied().collect();
    let rows: Vec<(Uuid, String, i64, i64)> = sqlx::query_as(
        "SELECT product_id, name, (price * 100)::bigint, inventory FROM search_products \
         WHERE product_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&state.pool)
    .await?;
    let listed: HashMap<Uuid, (String, i64, i64)> = rows
        .into_iter()
        .map(|(id, name, cents, inventory)| (id, (name, cents, inventory)))
        .collect();
    let mut total_cents = 0;
    let lines: Vec<Value> = items
        .into_iter()
        .map(|(product_id, quantity)| match listed.get(&product_id) {
            Some((name, cents, inventory)) => {
                let line_cents = cents * i64::from(quantity);
                total_cents += line_cents;
                json!({
                    "productId": product_id, "name": name, "quantity": quantity,
                    "price": *cents as f64 / 100.0, "lineTotal": line_cents as f64 / 100.0,
                    "inStock": *inventory >= i64::from(quantity), "available": true,
                })
            }
            None => json!({"productId": product_id, "quantity": quantity, "available": false}),
        })
        .collect();
    Ok(Json(
        json!({"items": lines, "total": total_cents as f64 / 100.0}),
    ))
}
