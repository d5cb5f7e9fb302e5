//! The command API's server: bound to its port, answering until shutdown.

use crate::http::{self, AppState};
use anyhow::Context;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The command API, bound and ready to answer.
pub struct CommandApi {
    state: AppState,
    listener: TcpListener,
}

impl CommandApi {
    /// Binds `addr` (port 0 picks a free one; see [`CommandApi::address`]).
    pub async fn bind(addr: SocketAddr, state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Ok(CommandApi { state, listener })
    }

    /// Where it listens.
    pub fn address(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Answers until `shutdown`, then finishes the requests in flight and
    /// returns; expired idempotency keys are purged meanwhile.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let purge = tokio::spawn(purge_idempotency_keys(
            self.state.shop.pool.clone(),
            shutdown.clone(),
        ));
        let app = http::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let stop = shutdown.clone();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .context("the command API failed")?;
        purge
            .await
            .context("the purge of idempotency keys panicked")?;
        Ok(())
    }
}

/// Purges expired idempotency keys now and every
/// [`PURGE_INTERVAL`](http::idempotency::PURGE_INTERVAL), until `shutdown`.
async fn purge_idempotency_keys(pool: sqlx::PgPool, shutdown: CancellationToken) {
    loop {
        match http::idempotency::purge_expired(&pool).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
            Err(error) => tracing::warn!(error = %error, "cannot purge expired idempotency keys"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(http::idempotency::PURGE_INTERVAL) => {}
        }
    }
}
