//! Atlantic's query API: search, product detail (from the cache), orders and
//! the signed-in user's profile and orders. It reads the read models only.

pub mod analytics;
pub mod http;
pub mod live;
pub mod search;

use anyhow::Context;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::SessionStore;
use atlantic_projections::cache::ProductCache;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What every query handler can reach.
#[derive(Clone)]
pub struct QueryState {
    /// The read models in Postgres.
    pub pool: PgPool,
    /// Sessions (shared with the command API).
    pub sessions: SessionStore,
    /// The product detail cache.
    pub cache: ProductCache,
    /// The search adapter.
    pub search: Arc<dyn search::SearchIndex>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// ClickHouse.
    pub analytics: atlantic_projections::analytics::Analytics,
    /// The order events of this process's NATS subscription.
    pub live: live::LiveOrders,
}

impl axum::extract::FromRef<QueryState> for SessionStore {
    fn from_ref(state: &QueryState) -> SessionStore {
        state.sessions.clone()
    }
}

/// The query API, bound and ready to run.
pub struct QueryApi {
    listener: TcpListener,
    state: QueryState,
}

impl QueryApi {
    /// Binds `addr` (port 0 picks a free one).
    pub async fn bind(addr: SocketAddr, state: QueryState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Ok(QueryApi { listener, state })
    }

    /// Where it listens.
    pub fn address(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown`, finishing requests in flight.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let app = http::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .context("the query API failed")
    }
}
