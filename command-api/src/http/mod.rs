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
pub use users::register_user;

use atlantic_domain::comment::Comment;
use atlantic_domain::order::Order;
use atlantic_domain::product::Product;
use atlantic_domain::rating::Rating;
use atlantic_domain::seller::Seller;
use atlantic_domain::user::User;
use atlantic_platform::bus::CommandBus;
use atlantic_platform::carts::CartStore;
use atlantic_platform::http::extract;
use atlantic_platform::http::request_id::request_id_and_metrics;
use atlantic_platform::http::storable;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::SessionStore;
use axum::extract::{DefaultBodyLimit, State};
use axum::middleware;
use axum::Router;
use serde::Serialize;
use sqlx::PgPool;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The Postgres pool (event store, idempotency keys).
    pub pool: PgPool,
    /// Users.
    pub users: Arc<CommandBus<User>>,
    /// Sellers.
    pub sellers: Arc<CommandBus<Seller>>,
    /// Products (snapshotted: inventory has long histories).
    pub products: Arc<CommandBus<Product>>,
    /// Orders.
    pub orders: Arc<CommandBus<Order>>,
    /// Ratings.
    pub ratings: Arc<CommandBus<Rating>>,
    /// Comments.
    pub comments: Arc<CommandBus<Comment>>,
    /// Sessions and rate limits.
    pub sessions: SessionStore,
    /// Shopping carts.
    pub carts: CartStore,
    /// NATS, for readiness.
    pub nats: async_nats::Client,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
}

impl AppState {
    /// The buses over `pool`, with the given session store, NATS client and metrics.
    pub fn new(
        pool: PgPool,
        sessions: SessionStore,
        nats: async_nats::Client,
        metrics: Metrics,
    ) -> Self {
        AppState {
            users: Arc::new(CommandBus::new(pool.clone(), None)),
            sellers: Arc::new(CommandBus::new(pool.clone(), None)),
            products: Arc::new(CommandBus::new(pool.clone(), Some(100))),
            orders: Arc::new(CommandBus::new(pool.clone(), None)),
            ratings: Arc::new(CommandBus::new(pool.clone(), None)),
            comments: Arc::new(CommandBus::new(pool.clone(), None)),
            pool,
            carts: CartStore::new(sessions.connection(), sessions.prefix().to_string()),
            sessions,
            nats,
            metrics,
        }
    }
}

impl axum::extract::FromRef<AppState> for SessionStore {
    fn from_ref(state: &AppState) -> SessionStore {
        state.sessions.clone()
    }
}

/// The answer to a command: the aggregate's id and version after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The aggregate's id.
    pub id: Uuid,
    /// Its version (last event's sequence) after the command.
    pub version: usize,
}

/// Runs `command` on aggregate `id` for `user` and answers 202 with its new version.
pub(crate) async fn accept<A>(
    bus: &CommandBus<A>,
    id: Uuid,
    command: A::Command,
    user: &extract::AuthUser,
) -> Result<(axum::http::StatusCode, axum::Json<Accepted>), ApiError>
where
    A: cqrs_es::Aggregate<Services = ()>,
    A::Command: Clone,
    A::Error: atlantic_domain::DomainError,
{
    let committed = bus
        .execute(&id.to_string(), command, &user.metadata())
        .await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(Accepted {
            id,
            version: committed.version,
        }),
    ))
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
