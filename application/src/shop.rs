//! The buses and stores the use cases act on.

use crate::{Accepted, Caller, Outcome};
use atlantic_domain::comment::Comment;
use atlantic_domain::order::Order;
use atlantic_domain::product::Product;
use atlantic_domain::rating::Rating;
use atlantic_domain::seller::Seller;
use atlantic_domain::user::User;
use atlantic_domain::DomainError;
use atlantic_platform::bus::CommandBus;
use atlantic_platform::buses::Buses;
use atlantic_platform::carts::CartStore;
use atlantic_platform::sessions::SessionStore;
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// The write side: a command bus per aggregate over the event store, and the
/// Redis stores of sessions and carts.
#[derive(Clone)]
pub struct Shop {
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
}

impl Shop {
    /// The process's `buses` over `pool`, with `sessions` (carts share its
    /// connection and prefix).
    pub fn new(pool: PgPool, buses: &Buses, sessions: SessionStore) -> Self {
        Shop {
            users: buses.users.clone(),
            sellers: buses.sellers.clone(),
            products: buses.products.clone(),
            orders: buses.orders.clone(),
            ratings: buses.ratings.clone(),
            comments: buses.comments.clone(),
            pool,
            carts: CartStore::new(sessions.connection(), sessions.prefix().to_string()),
            sessions,
        }
    }
}

/// Runs `command` on aggregate `id` of `bus` for `caller`; answers the new version.
pub(crate) async fn run<A>(
    bus: &CommandBus<A>,
    id: Uuid,
    command: A::Command,
    caller: &Caller,
) -> Outcome
where
    A: cqrs_es::Aggregate<Services = ()> + Clone,
    A::Command: Clone,
    A::Error: DomainError,
{
    let committed = bus
        .execute(&id.to_string(), command, &caller.metadata)
        .await?;
    Ok(Accepted::new(A::TYPE, id, committed.version))
}
