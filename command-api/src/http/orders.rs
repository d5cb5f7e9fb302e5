//! `POST /orders`, `POST /orders/{id}/cancel`, `/delivery`, `/return`.

use super::extract::{AuthUser, Body, IdPath};
use super::idempotency::IdempotentId;
use super::{accepted, caller, AppState};
use atlantic_application::orders::{self, NewOrder, WantedLine};
use atlantic_application::Accepted;
use atlantic_domain::user::Address;
use atlantic_domain::Text;
use atlantic_platform::http::error::ApiError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(place))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/delivery", post(deliver))
        .route("/orders/{id}/return", post(send_back))
}

/// A line as the customer sends it: no price, the catalogue sets it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrderLine {
    /// The product.
    pub product_id: Uuid,
    /// Units, 1 to 1,000.
    #[serde(deserialize_with = "atlantic_domain::bounds::quantity")]
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: u32,
}

/// The payment method.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Payment {
    /// The gateway token (`tok_decline` and `tok_timeout` in the sandbox).
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub token: Text<200>,
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"items": [{"productId": "0190b5a3-7c4e-7d2a-9f1e-2b3c4d5e6f70", "quantity": 2}], "shippingAddress": {"line1": "12 Harbour Street", "city": "Lisbon", "region": "Lisboa", "country": "PT", "postalCode": "1100-001"}, "payment": {"token": "tok_visa"}}))]
pub struct PlaceOrder {
    /// What to order: 1 to 100 lines, each product on one line only.
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<PlaceOrderLine>,
    /// Where it goes.
    #[schema(value_type = super::PostalAddress)]
    pub shipping_address: Address,
    /// How it is paid.
    pub payment: Payment,
}

/// A reason (cancel, return).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"reason": "ordered the wrong size"}))]
pub struct Reason {
    /// Why.
    #[schema(value_type = String, min_length = 1, max_length = 500, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub reason: Text<500>,
}

/// The carrier's delivery callback.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"deliveryStatus": "DELIVERED"}))]
pub struct Delivery {
    /// The carrier's word, e.g. `DELIVERED`.
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub delivery_status: Text<100>,
}

/// The use case's lines of an order's body.
pub(super) fn wanted(items: Vec<PlaceOrderLine>) -> Vec<WantedLine> {
    items
        .into_iter()
        .map(|item| WantedLine {
            product_id: item.product_id,
            quantity: item.quantity,
        })
        .collect()
}

/// Place an order (any signed-in shopper).
#[utoipa::path(post, path = "/orders", tag = "orders", request_body = PlaceOrder, security(("bearer" = [])),
    responses((status = 201, body = Accepted), (status = 401, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn place(
    State(state): State<AppState>,
    user: AuthUser,
    key: Option<Extension<IdempotentId>>,
    Body(body): Body<PlaceOrder>,
) -> Result<impl IntoResponse, ApiError> {
    let order = NewOrder {
        order_id: key.map(|Extension(IdempotentId(id))| id),
        lines: wanted(body.items),
        shipping_address: body.shipping_address,
        payment_token: body.payment.token,
    };
    let placed = orders::place_order(&state.shop, &caller(&user), order).await?;
    Ok(created(placed))
}

/// 201 with the placed order's place.
pub(super) fn created(accepted: Accepted) -> impl IntoResponse {
    let location = format!("/orders/{}", accepted.id);
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(accepted),
    )
}

/// Cancel an order before it ships (its customer or an admin).
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", request_body = Reason,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<Reason>,
) -> Result<impl IntoResponse, ApiError> {
    let cancelled = orders::cancel_order(&state.shop, &caller(&user), id, body.reason).await?;
    Ok(accepted(cancelled))
}

/// Record delivery (the carrier's callback; admins).
#[utoipa::path(post, path = "/orders/{id}/delivery", tag = "orders", request_body = Delivery,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn deliver(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<Delivery>,
) -> Result<impl IntoResponse, ApiError> {
    let delivered =
        orders::record_delivery(&state.shop, &caller(&user), id, body.delivery_status).await?;
    Ok(accepted(delivered))
}

/// Return a delivered order (its customer).
#[utoipa::path(post, path = "/orders/{id}/return", tag = "orders", request_body = Reason,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 404, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn send_back(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<Reason>,
) -> Result<impl IntoResponse, ApiError> {
    let returned = orders::return_order(&state.shop, &caller(&user), id, body.reason).await?;
    Ok(accepted(returned))
}
