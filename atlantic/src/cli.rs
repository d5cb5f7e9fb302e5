//! The command line: one struct per subcommand, flags with environment fallbacks
//! and loopback defaults.

use anyhow::Context;
use atlantic_command_api::app::{Application, Settings};
use atlantic_command_api::db;
use atlantic_command_api::metadata::CommandMetadata;
use atlantic_command_api::sessions::LoginLimits;
use atlantic_domain::{Email, Role, Text};
use atlantic_sagas::carrier::SandboxCarrier;
use atlantic_sagas::payment_gateway::SandboxPaymentGateway;
use atlantic_sagas::{OrderSaga, SagaSettings};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Atlantic, an event-sourced e-commerce backend.
#[derive(Parser)]
#[command(name = "atlantic", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Subcommands,
}

#[derive(Subcommand)]
enum Subcommands {
    /// Run every component in one process (command API, relay, order saga).
    Serve(Run),
    /// Run the command API alone.
    CommandApi(Run),
    /// Run the relay alone (events table ➜ NATS); one leads, others stand by.
    Relay(Run),
    /// Run the order saga alone; several share its durable consumer.
    Saga(Run),
    /// Create the database if missing and apply the migrations.
    Migrate(Connections),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user with any role (the only way to make the first admin).
    Create(CreateUser),
}

/// Where the services are.
#[derive(Args, Clone)]
struct Connections {
    /// PostgreSQL, the event store.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/atlantic",
        hide_env_values = true
    )]
    database_url: String,
    /// NATS with JetStream.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Redis or DragonFly.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    redis_url: String,
    /// Prefix of every Redis key.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "atlantic:")]
    redis_prefix: String,
    /// Postgres connections per process.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    max_connections: u32,
}

#[derive(Args)]
struct Run {
    #[command(flatten)]
    connections: Connections,
    /// Where the command API listens.
    #[arg(long, env = "COMMAND_API_ADDR", default_value = "127.0.0.1:8080")]
    command_api_addr: SocketAddr,
    /// Session lifetime in seconds.
    #[arg(long, env = "SESSION_TTL_SECS", default_value_t = 86_400)]
    session_ttl_secs: u64,
    /// Sign-in attempts per account per five minutes.
    #[arg(long, env = "LOGIN_LIMIT_PER_ACCOUNT", default_value_t = 10)]
    login_limit_per_account: u32,
    /// Sign-in attempts per client address per five minutes.
    #[arg(long, env = "LOGIN_LIMIT_PER_ADDRESS", default_value_t = 100)]
    login_limit_per_address: u32,
    /// Seconds an order waits for the payment gateway before it is cancelled.
    #[arg(long, env = "PAYMENT_TIMEOUT_SECS", default_value_t = 30)]
    payment_timeout_secs: u64,
    /// Deliveries of a saga message before it is parked on the dead-letter subject.
    #[arg(long, env = "SAGA_MAX_DELIVERIES", default_value_t = 5)]
    saga_max_deliveries: i64,
    /// Seconds before a saga message whose handler died is delivered again.
    #[arg(long, env = "SAGA_ACK_WAIT_SECS", default_value_t = 30)]
    saga_ack_wait_secs: u64,
}

#[derive(Args)]
struct CreateUser {
    #[command(flatten)]
    connections: Connections,
    /// Login address.
    #[arg(long)]
    email: String,
    /// Password (at least 10 characters).
    #[arg(long, env = "ATLANTIC_USER_PASSWORD", hide_env_values = true)]
    password: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Role: admin, seller or customer.
    #[arg(long, default_value = "customer")]
    role: Role,
}

impl Run {
    fn settings(&self, api: bool, relay: bool) -> Settings {
        let c = &self.connections;
        Settings {
            database_url: c.database_url.clone(),
            nats_url: c.nats_url.clone(),
            redis_url: c.redis_url.clone(),
            redis_prefix: c.redis_prefix.clone(),
            command_api_addr: api.then_some(self.command_api_addr),
            run_relay: relay,
            session_ttl: Duration::from_secs(self.session_ttl_secs),
            login_limits: LoginLimits {
                per_account: self.login_limit_per_account,
                per_address: self.login_limit_per_address,
                ..LoginLimits::default()
            },
            max_connections: c.max_connections,
        }
    }
}

impl Run {
    fn saga_settings(&self) -> SagaSettings {
        SagaSettings {
            payment_timeout: Duration::from_secs(self.payment_timeout_secs),
            max_deliveries: self.saga_max_deliveries,
            ack_wait: Duration::from_secs(self.saga_ack_wait_secs),
            ..SagaSettings::default()
        }
    }
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Subcommands::Serve(run) => {
                let saga = Some(run.saga_settings());
                serve(run.settings(true, true), saga, &run.connections).await
            }
            Subcommands::CommandApi(run) => {
                serve(run.settings(true, false), None, &run.connections).await
            }
            Subcommands::Relay(run) => {
                serve(run.settings(false, true), None, &run.connections).await
            }
            Subcommands::Saga(run) => {
                let saga = Some(run.saga_settings());
                serve(run.settings(false, false), saga, &run.connections).await
            }
            Subcommands::Migrate(connections) => {
                db::migrate(&connections.database_url).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Subcommands::User {
                command: UserCommand::Create(args),
            } => create_user(args).await,
        }
    }
}

/// Runs the write side as `settings` says and, with `saga`, the order saga.
async fn serve(
    settings: Settings,
    saga: Option<SagaSettings>,
    connections: &Connections,
) -> anyhow::Result<()> {
    db::migrate(&connections.database_url).await?;
    let app = Application::build(settings).await?;
    if let Some(addr) = app.address() {
        tracing::info!(%addr, "command API listening");
    }
    let saga = saga.map(|settings| order_saga(&app, settings));
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let saga = saga.map(|saga| tokio::spawn(saga.run(shutdown.clone())));
    let outcome = app.run(shutdown.clone()).await;
    shutdown.cancel();
    if let Some(saga) = saga {
        saga.await?;
    }
    outcome
}

/// The order saga on the application's connections, with the sandbox gateway
/// and carrier.
fn order_saga(app: &Application, settings: SagaSettings) -> OrderSaga {
    let state = app.state();
    OrderSaga::new(
        state.pool.clone(),
        async_nats::jetstream::new(state.nats.clone()),
        Arc::new(SandboxPaymentGateway),
        Arc::new(SandboxCarrier),
        settings,
        state.metrics.clone(),
    )
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
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}

async fn create_user(args: CreateUser) -> anyhow::Result<()> {
    let c = &args.connections;
    db::migrate(&c.database_url).await?;
    let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("email {e}"))?;
    let name = Text::parse(&args.name).map_err(|e| anyhow::anyhow!("name {e}"))?;
    let settings = Settings {
        database_url: c.database_url.clone(),
        nats_url: c.nats_url.clone(),
        redis_url: c.redis_url.clone(),
        redis_prefix: c.redis_prefix.clone(),
        command_api_addr: None,
        run_relay: false,
        session_ttl: Duration::from_secs(60),
        login_limits: LoginLimits::default(),
        max_connections: 2,
    };
    let app = Application::build(settings).await?;
    let created = atlantic_command_api::http::register_user(
        app.state(),
        email,
        args.password,
        name,
        args.role,
        &CommandMetadata::system(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("cannot create the user")?;
    println!("{}", created.id);
    Ok(())
}
