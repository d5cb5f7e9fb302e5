//! The OpenAPI 3.1 document at `/openapi.json`.

use super::{cart, clicks, health, orders, products, reviews, sellers, sessions, users, AppState};
use atlantic_platform::http::openapi::{BearerAuth, Link, Links, OperationIds, ProblemResponses};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Atlantic command API", description = "Commands that change the shop. Errors are RFC 9457 problem+json."),
    paths(
        users::register, users::update_profile,
        sessions::sign_in, sessions::sign_out,
        sellers::create, sellers::update,
        products::create, products::update, products::inventory, products::remove,
        orders::place, orders::cancel, orders::deliver, orders::send_back,
        cart::put_item, cart::remove_item, cart::checkout,
        reviews::rate, reviews::withdraw, reviews::comment, reviews::edit, reviews::remove,
        clicks::track,
        health::health, health::ready, health::metrics,
    ),
    modifiers(&BearerAuth, &OperationIds, &ProblemResponses, &OneStockChange, &LINKED)
)]
struct CommandApiDoc;

/// The id an answer returns (`Accepted`'s `id`).
const ANSWERED: &str = "$response.body#/id";
/// The id the request named in its path.
const REQUESTED: &str = "$request.path.id";

/// What each created thing leads to: a product to its update, stock, delist,
/// reviews and cart line; an order to its cancel, delivery and return.
const LINKED: Links = Links(&[
    Link::new("users_register", "201", "users_update_profile", ANSWERED),
    Link::new("sellers_create", "201", "sellers_update", ANSWERED),
    Link::new("products_create", "201", "products_update", ANSWERED),
    Link::new("products_create", "201", "products_inventory", ANSWERED),
    Link::new("products_create", "201", "products_remove", ANSWERED),
    Link::new("products_create", "201", "reviews_comment", ANSWERED),
    Link::new("products_create", "201", "reviews_rate", ANSWERED),
    Link::new("products_create", "201", "cart_put_item", ANSWERED),
    Link::new("cart_put_item", "200", "cart_remove_item", REQUESTED),
    Link::new("reviews_comment", "201", "reviews_edit", ANSWERED),
    Link::new("reviews_comment", "201", "reviews_remove", ANSWERED),
    Link::new("reviews_rate", "202", "reviews_withdraw", REQUESTED),
    Link::new("orders_place", "201", "orders_cancel", ANSWERED),
    Link::new("orders_place", "201", "orders_deliver", ANSWERED),
    Link::new("orders_place", "201", "orders_send_back", ANSWERED),
    Link::new("cart_checkout", "201", "orders_cancel", ANSWERED),
    Link::new("cart_checkout", "201", "orders_deliver", ANSWERED),
    Link::new("cart_checkout", "201", "orders_send_back", ANSWERED),
]);

/// Says in the document that a stock change is exactly one of `adjust` and
/// `set` (the body type keeps both optional, so that a bad value is named).
struct OneStockChange;

impl Modify for OneStockChange {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(body))) = components.schemas.get("ChangeInventory") else {
            return;
        };
        let only = |field: &str| {
            let mut one = body.clone();
            one.properties.retain(|name, _| name == field);
            one.required = vec![field.to_string()];
            Schema::Object(one)
        };
        let either = OneOfBuilder::new()
            .item(only("adjust"))
            .item(only("set"))
            .description(Some("Exactly one of `adjust` and `set`."))
            .build();
        components
            .schemas
            .insert("ChangeInventory".into(), RefOr::T(Schema::OneOf(either)));
    }
}

/// The document, for tests and tools.
pub fn document() -> utoipa::openapi::OpenApi {
    CommandApiDoc::openapi()
}

/// `GET /openapi.json`.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}
