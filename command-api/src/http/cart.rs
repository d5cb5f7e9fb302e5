//! `PUT /cart/items/{productId}`, `DELETE /cart/items/{productId}`,
//! `POST /cart/checkout`.

use super::extract::{AuthUser, Body, IdPath};
use super::idempotency::IdempotentId;
use super::orders::{already_placed, created, place_order, Payment, PlaceOrderLine};
use super::AppState;
use atlantic_domain::bounds::{check_quantity, MAX_ORDER_LINES};
use atlantic_domain::user::Address;
use atlantic_platform::http::error::ApiError;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cart/items/{id}", put(put_item).delete(remove_item))
        .route("/cart/checkout", post(checkout))
}

/// How many units of a product the cart holds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CartQuantity {
    /// Units, 1 to 1000.
    pub quantity: u32,
}

/// What checkout needs besides the cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Checkout {
    /// Where it goes.
    #[schema(value_type = Object)]
    pub shipping_address: Address,
    /// How it is paid.
    pub payment: Payment,
}

/// A line of the cart.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    /// The product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: u32,
}

/// The cart's lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartLines {
    /// By product id.
    pub items: Vec<CartLine>,
}

async fn lines(state: &AppState, user: &AuthUser) -> Result<Json<CartLines>, ApiError> {
    let items = state.carts.items(user.session.user_id).await?;
    Ok(Json(CartLines {
        items: items
            .into_iter()
            .map(|(product_id, quantity)| CartLine {
                product_id,
                quantity,
            })
            .collect(),
    }))
}

/// Put a product in the cart, or change its quantity (signed in).
#[utoipa::path(put, path = "/cart/items/{id}", tag = "cart", request_body = CartQuantity,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = CartLines), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn put_item(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(product_id): IdPath<Uuid>,
    Body(body): Body<CartQuantity>,
) -> Result<Json<CartLines>, ApiError> {
    check_quantity(body.quantity)
        .map_err(|message| ApiError::invalid_field("quantity", message))?;
    let product = state.products.load(&product_id.to_string()).await?;
    if !product.is_listed() {
        return Err(ApiError::NotFound(format!("no product {product_id}")));
    }
    let set = state
        .carts
        .set(
            user.session.user_id,
            product_id,
            body.quantity,
            MAX_ORDER_LINES,
        )
        .await?;
    if !set {
        return Err(ApiError::invalid_field(
            "items",
            format!("a cart holds at most {MAX_ORDER_LINES} products"),
        ));
    }
    lines(&state, &user).await
}

/// Take a product out of the cart (signed in).
#[utoipa::path(delete, path = "/cart/items/{id}", tag = "cart",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = CartLines), (status = 401, body = super::Problem)))]
pub async fn remove_item(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(product_id): IdPath<Uuid>,
) -> Result<Json<CartLines>, ApiError> {
    state.carts.remove(user.session.user_id, product_id).await?;
    lines(&state, &user).await
}

/// Order what is in the cart, at the catalogue's prices now. The cart is
/// emptied as its lines are taken; an order that cannot be placed puts them back.
#[utoipa::path(post, path = "/cart/checkout", tag = "cart", request_body = Checkout, security(("bearer" = [])),
    responses((status = 201, body = super::Accepted), (status = 401, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    key: Option<Extension<IdempotentId>>,
    Body(body): Body<Checkout>,
) -> Result<impl IntoResponse, ApiError> {
    let key = key.map(|Extension(key)| key);
    if let Some(IdempotentId(order_id)) = key {
        // Run again after its answer was lost: the cart is long taken.
        if let Some(accepted) = already_placed(&state, &user, order_id).await? {
            return Ok(created(accepted));
        }
    }
    let taken = state.carts.take(user.session.user_id).await?;
    if taken.is_empty() {
        return Err(ApiError::invalid_field("items", "the cart is empty"));
    }
    let items: Vec<PlaceOrderLine> = taken
        .iter()
        .map(|(product_id, quantity)| PlaceOrderLine {
            product_id: *product_id,
            quantity: *quantity,
        })
        .collect();
    // A task of its own: a client that goes away cannot stop it between
    // taking the cart and placing the order (or putting the cart back).
    let user_id = user.session.user_id;
    let accepted = tokio::spawn(async move {
        let placed = place_order(
            &state,
            &user,
            key,
            items,
            body.shipping_address,
            body.payment.token,
        )
        .await;
        if placed.is_err() {
            if let Err(error) = state.carts.restore(user_id, &taken).await {
                tracing::error!(%user_id, error = %error, "cannot put a cart back after a failed checkout");
            }
        }
        placed
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("checkout")))??;
    Ok(created(accepted))
}
