//! `POST /orders`, `POST /orders/{id}/cancel`, `/delivery`, `/return`.

use super::extract::{AuthUser, Body, IdPath};
use super::idempotency::IdempotentId;
use super::{accept, Accepted, AppState};
use atlantic_domain::bounds::MAX_ORDER_LINES;
use atlantic_domain::order::{OrderCommand, OrderLine};
use atlantic_domain::user::Address;
use atlantic_domain::{Money, Role, Text};
use atlantic_platform::http::error::ApiError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Extension, Json, Router};
use futures::{stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// Products of one order looked up at once.
const LOOKUPS_AT_ONCE: usize = 8;

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
    #[schema(value_type = String)]
    pub token: Text<200>,
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrder {
    /// What to order: 1 to 100 lines, each product on one line only.
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<PlaceOrderLine>,
    /// Where it goes.
    #[schema(value_type = Object)]
    pub shipping_address: Address,
    /// How it is paid.
    pub payment: Payment,
}

/// A reason (cancel, return).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reason {
    /// Why.
    #[schema(value_type = String)]
    pub reason: Text<500>,
}

/// The carrier's delivery callback.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Delivery {
    /// The carrier's word, e.g. `DELIVERED`.
    #[schema(value_type = String)]
    pub delivery_status: Text<100>,
}

/// The order `user` already placed under `order_id` (an id derived from an
/// `Idempotency-Key`), as its placing answered.
pub async fn already_placed(
    state: &AppState,
    user: &AuthUser,
    order_id: Uuid,
) -> Result<Option<Accepted>, ApiError> {
    let order = state.orders.load(&order_id.to_string()).await?;
    match order.customer_id() {
        None => Ok(None),
        Some(customer) if customer == user.session.user_id => Ok(Some(Accepted {
            id: order_id,
            version: 1,
        })),
        Some(_) => Err(ApiError::Conflict(
            "this Idempotency-Key belongs to another order".into(),
        )),
    }
}

/// Place an order. Each line's price is the catalogue's at this moment; a
/// product that does not exist is priced 0 and the order saga refuses it.
/// With `key`, the order's id is the key's and an order already placed under
/// it is answered again instead of placing a second.
pub async fn place_order(
    state: &AppState,
    user: &AuthUser,
    key: Option<IdempotentId>,
    items: Vec<PlaceOrderLine>,
    shipping_address: Address,
    payment_token: Text<200>,
) -> Result<Accepted, ApiError> {
    if let Some(IdempotentId(order_id)) = key {
        if let Some(accepted) = already_placed(state, user, order_id).await? {
            return Ok(accepted);
        }
    }
    if items.is_empty() || items.len() > MAX_ORDER_LINES {
        return Err(ApiError::invalid_field(
            "items",
            format!("an order has 1 to {MAX_ORDER_LINES} lines"),
        ));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = items.iter().position(|item| !seen.insert(item.product_id)) {
        return Err(ApiError::invalid_field(
            &format!("items[{twice}].productId"),
            "each product may appear on one line only",
        ));
    }
    // A bounded number of look-ups at once, so one large order cannot take
    // every connection of the pool from other requests.
    let lines: Vec<OrderLine> = stream::iter(items)
        .map(|item| async move {
            let product = state.products.load(&item.product_id.to_string()).await?;
            Ok::<_, ApiError>(OrderLine {
                product_id: item.product_id,
                quantity: item.quantity,
                price: product.price().unwrap_or(Money::ZERO),
            })
        })
        .buffered(LOOKUPS_AT_ONCE)
        .try_collect()
        .await?;
    let order_id = key.map_or_else(Uuid::now_v7, |IdempotentId(id)| id);
    let command = OrderCommand::Place {
        order_id,
        customer_id: user.session.user_id,
        lines,
        shipping_address,
        payment_token,
    };
    let committed = state
        .orders
        .execute(&order_id.to_string(), command, &user.metadata())
        .await?;
    Ok(Accepted {
        id: order_id,
        version: committed.version,
    })
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
    let accepted = place_order(
        &state,
        &user,
        key.map(|Extension(key)| key),
        body.items,
        body.shipping_address,
        body.payment.token,
    )
    .await?;
    Ok(created(accepted))
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
    let command = OrderCommand::Cancel {
        actor: user.actor(),
        reason: body.reason,
    };
    accept(&state.orders, id, command, &user).await
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
    user.require(&[Role::Admin])?;
    let command = OrderCommand::Deliver {
        delivery_status: body.delivery_status.as_str().to_string(),
    };
    accept(&state.orders, id, command, &user).await
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
    let command = OrderCommand::Return {
        actor: user.actor(),
        reason: body.reason,
    };
    accept(&state.orders, id, command, &user).await
}
