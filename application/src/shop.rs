//! The buses and stores the use cases act on.

use crate::{Accepted, Caller, Outcome};
use atlantic_domain::DomainError;
use atlantic_platform::bus::CommandBus;
use atlantic_platform::buses::Buses;
use atlantic_platform::carts::CartStore;
use atlantic_platform::sessions::SessionStore;
use sqlx::PgPool;
use uuid::Uuid;

/// The write side: the process's command buses over the event store, and
/// the Redis stores of sessions and carts.
#[derive(Clone)]
pub struct Shop {
    /// The Postgres pool (event store, idempotency keys).
    pub pool: PgPool,
    /// A command bus per aggregate type, shared with the process's saga and
    /// notifier.
    pub buses: Buses,
    /// Sessions and rate limits.
    pub sessions: SessionStore,
    /// Shopping carts.
    pub carts: CartStore,
}

impl Shop {
    /// The process's `buses` over `pool`, with `sessions` (carts share its
    /// connection and prefix).
    pub fn new(pool: PgPool, buses: Buses, sessions: SessionStore) -> Self {
        Shop {
            pool,
            buses,
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
