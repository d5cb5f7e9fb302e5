//! The OpenAPI 3.1 document at `/openapi.json`.

use super::{analytics, cart, health, me, order_events, orders, products, reviews, sellers};
use crate::QueryState;
use atlantic_platform::http::openapi::{BearerAuth, Link, Links, OperationIds, ProblemResponses};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Atlantic query API", description = "Reads of the shop's read models. Errors are RFC 9457 problem+json."),
    paths(products::search, products::detail, reviews::comments, orders::order, order_events::events, me::me, me::my_orders, sellers::seller, cart::cart, analytics::top_products, analytics::sales, analytics::by_area, analytics::by_category, analytics::by_brand, analytics::inventory, health::health, health::ready, health::metrics),
    modifiers(&BearerAuth, &OperationIds, &ProblemResponses, &LINKED)
)]
struct QueryApiDoc;

/// From a search to its first hit, from a product to its seller and
/// comments, from a page of orders to the first one and its events.
const LINKED: Links = Links(&[
    Link::new(
        "products_search",
        "200",
        "products_detail",
        "$response.body#/hits/0/id",
    ),
    Link::new(
        "products_search",
        "200",
        "reviews_comments",
        "$response.body#/hits/0/id",
    ),
    Link::new(
        "products_detail",
        "200",
        "sellers_seller",
        "$response.body#/sellerId",
    ),
    Link::new(
        "products_detail",
        "200",
        "reviews_comments",
        "$request.path.id",
    ),
    Link::new(
        "me_my_orders",
        "200",
        "orders_order",
        "$response.body#/items/0/id",
    ),
    Link::new(
        "me_my_orders",
        "200",
        "orders_events",
        "$response.body#/items/0/id",
    ),
    Link::new("orders_order", "200", "orders_events", "$request.path.id"),
]);

pub fn router() -> Router<QueryState> {
    Router::new().route(
        "/openapi.json",
        get(|| async { Json(QueryApiDoc::openapi()) }),
    )
}
