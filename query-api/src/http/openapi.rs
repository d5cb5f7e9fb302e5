//! The OpenAPI 3.1 document at `/openapi.json`.

use super::{analytics, cart, health, me, orders, products, reviews, sellers};
use crate::QueryState;
use atlantic_platform::http::openapi::{BearerAuth, ProblemResponses};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Atlantic query API", description = "Reads of the shop's read models. Errors are RFC 9457 problem+json."),
    paths(products::search, products::detail, reviews::comments, orders::order, me::me, me::my_orders, sellers::seller, cart::cart, analytics::top_products, analytics::sales, analytics::by_area, analytics::by_category, analytics::by_brand, analytics::inventory, health::health, health::ready, health::metrics),
    modifiers(&BearerAuth, &ProblemResponses)
)]
struct QueryApiDoc;

pub fn router() -> Router<QueryState> {
    Router::new().route(
        "/openapi.json",
        get(|| async { Json(QueryApiDoc::openapi()) }),
    )
}
