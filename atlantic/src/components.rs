//! Runs any set of Atlantic's components in this process, on shared
//! connections, until SIGINT or SIGTERM.

use anyhow::Context;
use atlantic_command_api::app::{Application, Settings};
use atlantic_platform::db;
use atlantic_platform::supervisor::Supervisor;
use atlantic_projections::analytics::Analytics;
use atlantic_projections::cache::ProductCache;
use atlantic_projections::read_models::{MeiliIndex, ReadModel, Stores};
use atlantic_projections::ProjectorRunner;
use atlantic_query_api::search::{MeiliSearch, PostgresSearch};
use atlantic_query_api::{QueryApi, QueryState};
use atlantic_relay::Relay;
use atlantic_sagas::carrier::SandboxCarrier;
use atlantic_sagas::payment_gateway::SandboxPaymentGateway;
use atlantic_sagas::{OrderSaga, SagaSettings};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A read model by its name, or all of them (`atlantic project <name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionName {
    /// One read model.
    One(ReadModel),
    /// Every read model.
    All,
}

/// Every name the command line takes.
const PROJECTION_NAMES: [ProjectionName; 7] = [
    ProjectionName::One(ReadModel::ALL[0]),
    ProjectionName::One(ReadModel::ALL[1]),
    ProjectionName::One(ReadModel::ALL[2]),
    ProjectionName::One(ReadModel::ALL[3]),
    ProjectionName::One(ReadModel::ALL[4]),
    ProjectionName::One(ReadModel::ALL[5]),
    ProjectionName::All,
];

impl clap::ValueEnum for ProjectionName {
    fn value_variants<'a>() -> &'a [Self] {
        &PROJECTION_NAMES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            ProjectionName::One(model) => {
                clap::builder::PossibleValue::new(model.name()).help(model.about())
            }
            ProjectionName::All => {
                clap::builder::PossibleValue::new("all").help("Every read model")
            }
        })
    }
}

impl ProjectionName {
    /// The read models this name stands for.
    pub fn read_models(self) -> Vec<ReadModel> {
        match self {
            ProjectionName::One(model) => vec![model],
            ProjectionName::All => ReadModel::ALL.to_vec(),
        }
    }
}

/// Where Meilisearch is, if anywhere.
#[derive(Debug, Clone)]
pub struct Meili {
    /// Its URL.
    pub url: String,
    /// Its API key.
    pub key: Option<String>,
    /// Prefix of its index names (`<prefix>products`).
    pub index_prefix: String,
}

impl Meili {
    /// The products index.
    pub fn index(&self) -> String {
        format!("{}products", self.index_prefix)
    }
}

/// Where ClickHouse is.
#[derive(Debug, Clone, clap::Args)]
pub struct ClickHouse {
    /// ClickHouse's HTTP interface (analytics).
    #[arg(
        id = "clickhouse_url",
        long = "clickhouse-url",
        env = "CLICKHOUSE_URL",
        default_value = "http://127.0.0.1:8123"
    )]
    pub url: String,
    /// The ClickHouse database (created when missing).
    #[arg(
        id = "clickhouse_database",
        long = "clickhouse-database",
        env = "CLICKHOUSE_DATABASE",
        default_value = "atlantic"
    )]
    pub database: String,
}

/// Which components to run.
#[derive(Debug, Clone)]
pub struct Components {
    /// The command API.
    pub command_api: bool,
    /// The query API.
    pub query_api: bool,
    /// The relay.
    pub relay: bool,
    /// The order saga.
    pub saga: bool,
    /// These read models' projectors.
    pub projections: Vec<ReadModel>,
}

impl Components {
    /// Nothing (to be filled in).
    pub const NONE: Components = Components {
        command_api: false,
        query_api: false,
        relay: false,
        saga: false,
        projections: Vec::new(),
    };
}

/// Builds what `components` needs and runs it until a signal.
pub async fn run(
    settings: Settings,
    saga: SagaSettings,
    query_api_addr: SocketAddr,
    clickhouse: &ClickHouse,
    meili: Option<&Meili>,
    components: Components,
) -> anyhow::Result<()> {
    db::migrate(&settings.database_url).await?;
    // The relay runs under the supervisor, not inside the command API's run,
    // so that a panic of it is seen and it is started again.
    let app = Application::build(Settings {
        run_relay: false,
        ..settings
    })
    .await?;
    if let Some(addr) = app.address() {
        tracing::info!(%addr, "command API listening");
    }
    let state = app.state().clone();
    let js = async_nats::jetstream::new(state.nats.clone());
    let cache = ProductCache::new(
        state.sessions.connection(),
        state.sessions.prefix().to_string(),
    );
    let shutdown = CancellationToken::new();
    let mut supervisor = Supervisor::new(shutdown.clone());
    let needs_analytics =
        components.query_api || components.projections.iter().any(|m| m.needs_analytics());
    let analytics = if needs_analytics {
        Some(Analytics::connect(&clickhouse.url, &clickhouse.database).await?)
    } else {
        None
    };

    if components.query_api {
        let query_state = QueryState {
            pool: state.pool.clone(),
            sessions: state.sessions.clone(),
            cache: cache.clone(),
            search: match meili {
                Some(meili) => {
                    let client =
                        meilisearch_sdk::client::Client::new(&meili.url, meili.key.as_deref())
                            .context("bad MEILI_URL")?;
                    Arc::new(MeiliSearch::new(&client, &meili.index()))
                }
                None => Arc::new(PostgresSearch::new(state.pool.clone())),
            },
            metrics: state.metrics.clone(),
            analytics: analytics.clone().context("analytics")?,
        };
        let api = QueryApi::bind(query_api_addr, query_state).await?;
        if let Some(addr) = api.address() {
            tracing::info!(%addr, "query API listening");
        }
        supervisor.once("query-api", api.run(shutdown.clone()));
    }
    if components.saga {
        let saga = OrderSaga::new(
            state.pool.clone(),
            js.clone(),
            Arc::new(SandboxPaymentGateway::new(state.pool.clone())),
            Arc::new(SandboxCarrier::new(state.pool.clone())),
            saga,
            state.metrics.clone(),
        );
        let saga = Arc::new(saga);
        supervisor.restarting("order-saga", move |stop| {
            let saga = saga.clone();
            async move {
                saga.run(stop).await;
                Ok(())
            }
        });
    }
    let stores = Stores {
        pool: state.pool.clone(),
        cache: cache.clone(),
        analytics: analytics.clone(),
        meili: meili.map(|meili| MeiliIndex {
            url: meili.url.clone(),
            key: meili.key.clone(),
            index: meili.index(),
        }),
    };
    for model in components.projections {
        for projection in model.projections(&stores)? {
            let runner = ProjectorRunner::new(
                js.clone(),
                state.pool.clone(),
                projection,
                state.metrics.clone(),
            );
            supervise_projector(&mut supervisor, runner);
        }
    }
    if components.relay {
        let relay = Arc::new(Relay::new(
            state.pool.clone(),
            state.nats.clone(),
            state.metrics.clone(),
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
        supervisor.once("command-api", app.run(shutdown.clone()));
    }
    tokio::spawn(stop_on_signal(shutdown.clone()));

    supervisor.join().await
}

/// Runs `runner` under `supervisor`, started again if it panics.
fn supervise_projector(supervisor: &mut Supervisor, runner: ProjectorRunner) {
    let name = runner.name();
    let runner = Arc::new(runner);
    supervisor.restarting(name, move |stop| {
        let runner = runner.clone();
        async move {
            runner.run(stop).await;
            Ok(())
        }
    });
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
        _ = shutdown.cancelled() => return,
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}
