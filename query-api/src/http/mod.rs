//! The query API's HTTP layer: one router per resource, merged here.

mod analytics;
mod cart;
pub mod consistency;
mod health;
mod me;
mod openapi;
mod order_events;
mod orders;
mod products;
mod reviews;
mod sellers;

use crate::QueryState;
use atlantic_platform::http::request_id::request_id_and_metrics;
use atlantic_platform::http::storable;
use atlantic_projections as projections;
use atlantic_projections::cache;
use axum::extract::State;
use axum::middleware;
use axum::Router;
use consistency::reading;

/// The largest page a list answers.
pub const MAX_PER_PAGE: u32 = 100;
/// How deep a list may page (page × perPage); deeper costs more than it serves.
pub const MAX_DEPTH: u32 = 10_000;

/// The whole query API.
pub fn router(state: QueryState) -> Router {
    let search = state.search.projection();
    let order_views = projections::order_views::NAME;
    let reviews_read = projections::reviews::NAME;
    let products_read = vec![search, projections::search::NAME, cache::NAME, reviews_read];
    Router::new()
        .merge(reading(products::router(), &state, products_read))
        .merge(reading(orders::router(), &state, vec![order_views]))
        .merge(order_events::router())
        .merge(reading(me::router(), &state, vec![order_views]))
        .merge(reading(
            sellers::router(),
            &state,
            vec![order_views, projections::search::NAME],
        ))
        .merge(reading(
            cart::router(),
            &state,
            vec![projections::search::NAME],
        ))
        .merge(reading(reviews::router(), &state, vec![reviews_read]))
        .merge(reading(
            analytics::router(),
            &state,
            vec![projections::analytics::NAME],
        ))
        .merge(health::router())
        .merge(openapi::router())
        .layer(middleware::from_fn(storable::refuse_nul_in_query))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            |State(state): State<QueryState>, request, next| {
                request_id_and_metrics(state.metrics, "query", request, next)
            },
        ))
        .with_state(state)
}

/// Checks `page` and `perPage` (defaults 1 and 20).
pub fn paging(
    page: Option<u32>,
    per_page: Option<u32>,
) -> Result<(u32, u32), atlantic_platform::http::ApiError> {
    use atlantic_platform::http::ApiError;
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(20);
    if page == 0 {
        return Err(ApiError::invalid_field("page", "pages start at 1"));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::invalid_field(
            "perPage",
            format!("must be 1 to {MAX_PER_PAGE}"),
        ));
    }
    if page.saturating_mul(per_page) > MAX_DEPTH {
        return Err(ApiError::invalid_field(
            "page",
            format!("pages end at {MAX_DEPTH} results; narrow the query"),
        ));
    }
    Ok((page, per_page))
}
