//! The command API's HTTP layer: one router per resource, merged here.

mod cart;
mod clicks;
pub mod health;
pub mod idempotency;
pub mod openapi;
mod orders;
mod products;
mod reviews;
mod sellers;
mod sessions;
mod users;

pub use atlantic_platform::http::{ApiError, Problem};

pub use atlantic_application::Accepted;
use atlantic_application::{Caller, Shop};
use atlantic_platform::http::extract::{self, AuthUser};
use atlantic_platform::http::request_id::request_id_and_metrics;
use atlantic_platform::http::storable;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::SessionStore;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::{Json, Router};
use utoipa::ToSchema;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The buses and stores the use cases act on.
    pub shop: Shop,
    /// NATS, for readiness.
    pub nats: async_nats::Client,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
}

impl AppState {
    /// The state over `shop`, with the NATS client and metrics.
    pub fn new(shop: Shop, nats: async_nats::Client, metrics: Metrics) -> Self {
        AppState {
            shop,
            nats,
            metrics,
        }
    }
}

impl axum::extract::FromRef<AppState> for SessionStore {
    fn from_ref(state: &AppState) -> SessionStore {
        state.shop.sessions.clone()
    }
}

/// A postal address as the API takes it (the domain's `Address`, for the
/// OpenAPI document).
#[derive(serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostalAddress {
    /// Street and number.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub line1: String,
    /// City.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub city: String,
    /// Region, state or province.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub region: String,
    /// Country (ISO 3166 code or name).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub country: String,
    /// Postal code.
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub postal_code: String,
}

/// The use cases' caller for a signed-in user.
fn caller(user: &AuthUser) -> Caller {
    Caller::signed_in(&user.session, user.token.clone(), user.request_id)
}

/// 202 with the aggregate's new version.
fn accepted(accepted: Accepted) -> (StatusCode, Json<Accepted>) {
    (StatusCode::ACCEPTED, Json(accepted))
}

/// The whole command API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(users::router())
        .merge(sessions::router())
        .merge(sellers::router())
        .merge(products::router())
        .merge(orders::router())
        .merge(cart::router())
        .merge(reviews::router())
        .merge(clicks::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::replay_or_record,
        ))
        .merge(health::router())
        .merge(openapi::router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(storable::refuse_nul_in_query))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            |State(state): State<AppState>, request, next| {
                request_id_and_metrics(state.metrics, "command", request, next)
            },
        ))
        .with_state(state)
}
