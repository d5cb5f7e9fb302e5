//! Start-up: connect to the services, bind the API, and run the API and the
//! relay until shutdown.

use crate::http::{self, AppState};
use anyhow::Context;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::{RateLimits, SessionStore};
use atlantic_platform::{db, redis_connection, streams};
use atlantic_relay::Relay;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where the write side's services are and what to run.
#[derive(Clone)]
pub struct Settings {
    /// Postgres (the event store).
    pub database_url: String,
    /// NATS with JetStream.
    pub nats_url: String,
    /// Redis or DragonFly (sessions, rate limits).
    pub redis_url: String,
    /// Prefix of every Redis key this process writes.
    pub redis_prefix: String,
    /// Where the command API listens; `None` runs no API.
    pub command_api_addr: Option<SocketAddr>,
    /// Whether this process runs the relay (it stands by while another leads).
    pub run_relay: bool,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// Login rate limits.
    pub rate_limits: RateLimits,
    /// Postgres connections in the pool.
    pub max_connections: u32,
}

/// The write side, connected and bound, ready to run.
pub struct Application {
    state: AppState,
    listener: Option<TcpListener>,
    run_relay: bool,
}

/// Connects to NATS.
pub async fn connect_nats(url: &str) -> anyhow::Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))
}

impl Application {
    /// Connects to Postgres, NATS and Redis, creates the streams and binds the
    /// API's port (port 0 picks a free one; see [`Application::address`]).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = db::connect(&settings.database_url, settings.max_connections).await?;
        let nats = connect_nats(&settings.nats_url).await?;
        streams::ensure(&async_nats::jetstream::new(nats.clone())).await?;
        let redis = redis_connection::connect(&settings.redis_url).await?;
        let sessions = SessionStore::new(
            redis,
            settings.redis_prefix.clone(),
            settings.session_ttl,
            settings.rate_limits,
        );
        let state = AppState::new(pool, sessions, nats, Metrics::default());
        let listener = match settings.command_api_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))?,
            ),
            None => None,
        };
        Ok(Application {
            state,
            listener,
            run_relay: settings.run_relay,
        })
    }

    /// Where the command API listens, if it runs.
    pub fn address(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The shared state (buses, sessions), for the CLI and tests.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Runs until `shutdown`, then stops taking requests, finishes the ones in
    /// flight and the relay's batch, and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let relay = self.run_relay.then(|| {
            let relay = Relay::new(
                self.state.pool.clone(),
                self.state.nats.clone(),
                self.state.metrics.clone(),
            );
            let stop = shutdown.clone();
            tokio::spawn(async move { relay.run(stop).await })
        });
        let purge = self.listener.is_some().then(|| {
            tokio::spawn(purge_idempotency_keys(
                self.state.pool.clone(),
                shutdown.clone(),
            ))
        });
        if let Some(listener) = self.listener {
            let app = http::router(self.state.clone())
                .into_make_service_with_connect_info::<SocketAddr>();
            let stop = shutdown.clone();
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .context("the command API failed")?;
        }
        if let Some(relay) = relay {
            relay.await.context("the relay panicked")?;
        }
        if let Some(purge) = purge {
            purge
                .await
                .context("the purge of idempotency keys panicked")?;
        }
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
