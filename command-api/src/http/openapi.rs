//! The OpenAPI 3.1 document at `/openapi.json`.

use super::{cart, clicks, health, orders, products, reviews, sellers, sessions, users, AppState};
use atlantic_platform::http::openapi::{BearerAuth, ProblemResponses};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

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
    modifiers(&BearerAuth, &ProblemResponses)
)]
struct CommandApiDoc;

/// The document, for tests and tools.
pub fn document() -> utoipa::openapi::OpenApi {
    CommandApiDoc::openapi()
}

/// `GET /openapi.json`.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}
