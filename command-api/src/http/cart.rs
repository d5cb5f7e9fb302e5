//! `PUT /cart/items/{productId}`, `DELETE /cart/items/{productId}`,
//! `POST /cart/checkout`.

use super::extract::{AuthUser, Body, IdPath};
use super::idempotency::IdempotentId;
use super::orders::{created, Payment};
use super::{caller, AppState};
use atlantic_application::cart;
use atlantic_application::orders::WantedLine;
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
#[schema(example = json!({"quantity": 2}))]
pub struct CartQuantity {
    /// Units, 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: u32,
}

/// What checkout needs besides the cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"shippingAddress": {"line1": "12 Harbour Street", "city": "Lisbon", "region": "Lisboa", "country": "PT", "postalCode": "1100-001"}, "payment": {"token": "tok_visa"}}))]
pub struct Checkout {
    /// Where it goes.
    #[schema(value_type = super::PostalAddress)]
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

/// The cart's body.
fn lines(items: Vec<WantedLine>) -> Json<CartLines> {
    Json(CartLines {
        items: items
            .into_iter()
            .map(|line| CartLine {
                product_id: line.product_id,
                quantity: line.quantity,
            })
            .collect(),
    })
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
    let line = WantedLine {
        product_id,
        quantity: body.quantity,
    };
    Ok(lines(
        cart::put_in_cart(&state.shop, &caller(&user), line).await?,
    ))
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
    Ok(lines(
        cart::remove_from_cart(&state.shop, &caller(&user), product_id).await?,
    ))
}

/// Order what is in the cart, at the catalogue's prices now. The cart is
/// emptied as its lines are taken; an order that cannot be placed puts them back.
#[utoipa::path(post, path = "/cart/checkout", tag = "cart", request_body = Checkout, security(("bearer" = [])),
    responses((status = 201, body = super::Accepted), (status = 401, body = super::Problem), (status = 409, description = "the cart is empty", body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    key: Option<Extension<IdempotentId>>,
    Body(body): Body<Checkout>,
) -> Result<impl IntoResponse, ApiError> {
    let checkout = cart::Checkout {
        order_id: key.map(|Extension(IdempotentId(id))| id),
        shipping_address: body.shipping_address,
        payment_token: body.payment.token,
    };
    let placed = cart::check_out(&state.shop, &caller(&user), checkout).await?;
    Ok(created(placed))
}
