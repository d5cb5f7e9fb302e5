//! The composition root: one [`Config`], and [`start`], which opens what
//! the chosen [`Components`] need and runs them side by side under one
//! supervisor. `atlantic serve` and the one-component subcommands start the
//! system here, the administrative subcommands open [`Connections`] here, and
//! the tests do both the same way (on port 0).

mod components;
mod config;
mod connections;
mod signals;

pub use components::{Components, ProjectionName};
pub use config::{ClickHouse, Config, Meili};
pub use connections::Connections;

use atlantic_application::Shop;
use atlantic_command_api::app::CommandApi;
use atlantic_command_api::http::AppState;
use atlantic_notifier::Notifier;
use atlantic_platform::supervisor::Supervisor;
use atlantic_projections::ProjectorRunner;
use atlantic_query_api::live::LiveOrders;
use atlantic_query_api::search::{MeiliSearch, PostgresSearch, SearchIndex};
use atlantic_query_api::{QueryApi, QueryState};
use atlantic_relay::Relay;
use atlantic_sagas::carrier::SandboxCarrier;
use atlantic_sagas::payment_gateway::SandboxPaymentGateway;
use atlantic_sagas::OrderSaga;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The components, started and supervised.
pub struct Running {
    /// Where the command API listens, if it runs.
    pub command_api: Option<SocketAddr>,
    /// Where the query API listens, if it runs.
    pub query_api: Option<SocketAddr>,
    /// The write side, when the command API runs.
    pub shop: Option<Shop>,
    shutdown: CancellationToken,
    supervisor: Supervisor,
}

impl Running {
    /// Cancelled to stop every component.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs one more projector beside the others, supervised as every
    /// projector is: started again with a backoff when it panics.
    pub fn project(&mut self, runner: ProjectorRunner) {
        supervise_projector(&mut self.supervisor, runner);
    }

    /// Waits until every component has stopped (after shutdown), or fails
    /// with the first that failed (which stops the others).
    pub async fn join(self) -> anyhow::Result<()> {
        self.supervisor.join().await
    }

    /// [`Running::join`], shutting down on SIGINT or SIGTERM.
    pub async fn until_signal(self) -> anyhow::Result<()> {
        tokio::spawn(signals::stop_on_signal(self.shutdown.clone()));
        self.join().await
    }
}

/// Opens what `components` need and starts them: the servers bound (their
/// addresses in [`Running`]), the loops (relay, saga, projectors) started
/// again with a backoff when they panic.
pub async fn start(config: &Config, components: &Components) -> anyhow::Result<Running> {
    let connections = Connections::open(config).await?;
    let shutdown = CancellationToken::new();
    let mut supervisor = Supervisor::new(shutdown.clone(), connections.metrics.clone());
    let pool = &connections.pool;
    let metrics = &connections.metrics;
    let mut running_shop = None;
    let mut command_api = None;
    let mut query_api = None;

    if components.query_api {
        let search: Arc<dyn SearchIndex> = match (connections.meili_client()?, &config.meili) {
            (Some(client), Some(meili)) => Arc::new(MeiliSearch::new(&client, &meili.index())),
            _ => Arc::new(PostgresSearch::new(pool.clone())),
        };
        let live = LiveOrders::new(connections.nats().await?);
        let feed = live.clone();
        supervisor.restarting("live-orders", move |stop| {
            let feed = feed.clone();
            async move {
                feed.feed(stop).await;
                Ok(())
            }
        });
        let state = QueryState {
            live,
            pool: pool.clone(),
            sessions: connections.sessions().await?,
            cache: connections.cache().await?,
            search,
            metrics: metrics.clone(),
            analytics: connections.analytics().await?,
        };
        let api = QueryApi::bind(config.query_api_addr, state).await?;
        query_api = api.address();
        tracing::info!(addr = ?query_api, "query API listening");
        supervisor.once("query-api", api.run(shutdown.clone()));
    }
    if components.saga {
        let saga = Arc::new(OrderSaga::new(
            pool.clone(),
            &connections.buses,
            async_nats::jetstream::new(connections.nats().await?),
            Arc::new(SandboxPaymentGateway::new(pool.clone())),
            Arc::new(SandboxCarrier::new(pool.clone())),
            config.saga.clone(),
            metrics.clone(),
        ));
        supervisor.restarting("order-saga", move |stop| {
            let saga = saga.clone();
            async move {
                saga.run(stop).await;
                Ok(())
            }
        });
    }
    if !components.projections.is_empty() {
        let analytics = components
            .projections
            .iter()
            .any(|model| model.needs_analytics());
        let stores = connections.stores(analytics).await?;
        let js = async_nats::jetstream::new(connections.nats().await?);
        for model in &components.projections {
            for projection in model.projections(&stores)? {
                let runner =
                    ProjectorRunner::new(js.clone(), pool.clone(), projection, metrics.clone());
                supervise_projector(&mut supervisor, runner);
            }
        }
    }
    if components.notifier {
        let settings = &config.mail;
        match &settings.smtp_url {
            Some(_) => tracing::info!("the notifier sends mail over SMTP_URL"),
            None => tracing::info!(
                folder = %settings.mail_dir.display(),
                "no SMTP_URL: the notifier writes each mail as an .eml file into this folder"
            ),
        }
        let notifier = Notifier::new(pool.clone(), &connections.buses, settings.clone())?;
        let runner = ProjectorRunner::new(
            async_nats::jetstream::new(connections.nats().await?),
            pool.clone(),
            Arc::new(notifier),
            metrics.clone(),
        );
        supervise_projector(&mut supervisor, runner);
    }
    if components.relay {
        let relay = Arc::new(Relay::new(
            pool.clone(),
            connections.nats().await?,
            metrics.clone(),
        ));
        supervisor.restarting("relay", move |stop| {
            let relay = relay.clone();
            async move {
                relay.run(stop).await;
                Ok(())
            }
        });
    }
    if components.command_api {
        let shop = connections.shop().await?;
        let state = AppState::new(shop.clone(), connections.nats().await?, metrics.clone());
        let api = CommandApi::bind(config.command_api_addr, state).await?;
        command_api = api.address();
        tracing::info!(addr = ?command_api, "command API listening");
        supervisor.once("command-api", api.run(shutdown.clone()));
        running_shop = Some(shop);
    }
    Ok(Running {
        command_api,
        query_api,
        shop: running_shop,
        shutdown,
        supervisor,
    })
}

/// Runs `runner` under `supervisor`, started again when it panics.
fn supervise_projector(supervisor: &mut Supervisor, runner: ProjectorRunner) {
    let runner = Arc::new(runner);
    supervisor.restarting(runner.name(), move |stop| {
        let runner = runner.clone();
        async move {
            runner.run(stop).await;
            Ok(())
        }
    });
}
