//! One command bus per aggregate type, shared by every component of a
//! process: the command API, the order saga and the notifier then find in
//! one cache the aggregates any of them touched (an order the API created is
//! validated, paid and reserved by the saga without loading it again), and
//! commands to one aggregate from any of them queue in one place.

use crate::bus::CommandBus;
use crate::metrics::Metrics;
use atlantic_domain::comment::Comment;
use atlantic_domain::order::Order;
use atlantic_domain::payment::Payment;
use atlantic_domain::product::Product;
use atlantic_domain::rating::Rating;
use atlantic_domain::seller::Seller;
use atlantic_domain::user::User;
use sqlx::PgPool;
use std::sync::Arc;

/// Events between two snapshots of a product (inventory has long histories).
pub const PRODUCT_SNAPSHOT_EVERY: usize = 100;

/// The process's command buses, one per aggregate type.
#[derive(Clone)]
pub struct Buses {
    /// Users.
    pub users: Arc<CommandBus<User>>,
    /// Sellers.
    pub sellers: Arc<CommandBus<Seller>>,
    /// Products (snapshotted every [`PRODUCT_SNAPSHOT_EVERY`] events).
    pub products: Arc<CommandBus<Product>>,
    /// Orders.
    pub orders: Arc<CommandBus<Order>>,
    /// Ratings.
    pub ratings: Arc<CommandBus<Rating>>,
    /// Comments.
    pub comments: Arc<CommandBus<Comment>>,
    /// Payments.
    pub payments: Arc<CommandBus<Payment>>,
}

impl Buses {
    /// Buses over the event store in `pool`, each with an empty cache,
    /// counting their loads from the store in `metrics`.
    pub fn new(pool: &PgPool, metrics: &Metrics) -> Self {
        Buses {
            users: bus(pool, metrics, None),
            sellers: bus(pool, metrics, None),
            products: bus(pool, metrics, Some(PRODUCT_SNAPSHOT_EVERY)),
            orders: bus(pool, metrics, None),
            ratings: bus(pool, metrics, None),
            comments: bus(pool, metrics, None),
            payments: bus(pool, metrics, None),
        }
    }
}

/// One bus of [`Buses`].
fn bus<A>(pool: &PgPool, metrics: &Metrics, snapshot_every: Option<usize>) -> Arc<CommandBus<A>>
where
    A: cqrs_es::Aggregate<Services = ()> + Clone,
    A::Command: Clone,
    A::Error: atlantic_domain::DomainError,
{
    Arc::new(CommandBus::new(pool.clone(), snapshot_every).with_metrics(metrics.clone()))
}
