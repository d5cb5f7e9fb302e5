//! The command line: one struct per subcommand, flags with environment fallbacks
//! and loopback defaults.

use crate::components::{self, ClickHouse, Components, Meili, ProjectionName};
use anyhow::Context;
use atlantic_command_api::app::{Application, Settings};
use atlantic_command_api::seed::{self, SeedProgress};
use atlantic_platform::db;
use atlantic_platform::dead_letters::{DeadLetters, Selection};
use atlantic_platform::metadata::CommandMetadata;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::RateLimits;

use atlantic_domain::{Email, Role, Text};
use atlantic_projections::analytics::Analytics;
use atlantic_projections::cache::{CacheProjection, ProductCache};
use atlantic_projections::replay;
use atlantic_projections::reviews;
use atlantic_sagas::payment_gateway::SandboxPaymentGateway;
use atlantic_sagas::payments_audit;
use atlantic_sagas::SagaSettings;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Atlantic, an event-sourced e-commerce backend.
#[derive(Parser)]
#[command(name = "atlantic", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Subcommands,
}

#[derive(Subcommand)]
enum Subcommands {
    /// Run every component in one process (both APIs, relay, saga, projectors).
    Serve(Run),
    /// Run the command API alone.
    CommandApi(Run),
    /// Run the query API alone.
    QueryApi(Run),
    /// Run the relay alone (events table ➜ NATS); one leads, others stand by.
    Relay(Run),
    /// Run the order saga alone; several share its durable consumer.
    Saga(Run),
    /// Run one projector (or all); several share each durable consumer.
    Project {
        /// Which read model.
        #[arg(value_enum)]
        projection: ProjectionName,
        #[command(flatten)]
        run: Run,
    },
    /// Create the database if missing and apply the migrations.
    Migrate(Connections),
    /// Rebuild a read model from the events table beside the live one, then swap it in.
    Replay(Replay),
    /// Load product listings (JSON arrays, one file per category) through the command path.
    Seed(Seed),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Show and resolve messages the relay, the saga or a projector parked.
    DeadLetters {
        #[command(subcommand)]
        command: DeadLetterCommand,
    },
    /// Check the money at the payment gateway against the orders.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// List the orders whose money and state disagree (money kept for an
    /// order that did not ship, none for one that did); exits 1 if any.
    Audit(Connections),
}

#[derive(Subcommand)]
enum DeadLetterCommand {
    /// List the parked messages (all, one consumer's, or one).
    List {
        #[command(flatten)]
        selection: LetterSelection,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make the selection due now: the consumer that parked it drives it again
    /// within a second (the relay publishes a parked event as the events
    /// table holds it now, then the ones held behind it, in order).
    Retry(LetterSelection),
    /// Give up on the selection (a letter held behind a dropped one is next).
    Drop(LetterSelection),
}

/// Which dead letters.
#[derive(Args)]
struct LetterSelection {
    #[command(flatten)]
    connections: Connections,
    /// One letter, by id.
    #[arg(conflicts_with_all = ["consumer", "all"])]
    id: Option<i64>,
    /// Every letter of one consumer (`relay`, `order-saga`, `projection-search`, …).
    #[arg(long, conflicts_with = "all")]
    consumer: Option<String>,
    /// Every letter.
    #[arg(long)]
    all: bool,
}

impl LetterSelection {
    /// The selection; with nothing named, every letter when `all_by_default`.
    fn selection(&self, all_by_default: bool) -> anyhow::Result<Selection<'_>> {
        match (self.id, self.consumer.as_deref(), self.all) {
            (Some(id), _, _) => Ok(Selection::Id(id)),
            (None, Some(consumer), _) => Ok(Selection::Consumer(consumer)),
            (None, None, true) => Ok(Selection::All),
            (None, None, false) if all_by_default => Ok(Selection::All),
            (None, None, false) => anyhow::bail!("name a letter's id, --consumer or --all"),
        }
    }

    async fn store(&self) -> anyhow::Result<DeadLetters> {
        let pool = db::connect(&self.connections.database_url, 2).await?;
        Ok(DeadLetters::new(pool, Metrics::default()))
    }
}

#[derive(Args)]
struct Replay {
    #[command(flatten)]
    connections: Connections,
    #[command(flatten)]
    clickhouse: ClickHouse,
    #[command(flatten)]
    meili: MeiliOptions,
    /// Which read model.
    #[arg(value_enum)]
    projection: ReplayName,
    /// Count what would be replayed; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Read models that can be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReplayName {
    /// Product search (and the Meilisearch index, when MEILI_URL is set).
    Search,
    /// The product cache.
    Cache,
    /// Orders, user profiles and sellers.
    OrderViews,
    /// Ratings and comments.
    Reviews,
    /// Sales, stock and customers' areas in ClickHouse (clicks stay).
    Analytics,
    /// All of them.
    All,
}

#[derive(Args)]
struct Seed {
    #[command(flatten)]
    connections: Connections,
    /// The folder of `*.json` listings.
    #[arg(long)]
    catalog: PathBuf,
    /// Units in stock for each product.
    #[arg(long, default_value_t = 100)]
    inventory: u32,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user with any role (the only way to make the first admin).
    Create(CreateUser),
}

/// Where Meilisearch is, if anywhere.
#[derive(Args, Clone)]
struct MeiliOptions {
    /// Meilisearch; without it, search runs on the Postgres adapter.
    #[arg(id = "meili_url", long = "meili-url", env = "MEILI_URL")]
    url: Option<String>,
    /// Meilisearch's API key.
    #[arg(
        id = "meili_master_key",
        long = "meili-master-key",
        env = "MEILI_MASTER_KEY",
        hide_env_values = true
    )]
    master_key: Option<String>,
    /// Prefix of Meilisearch index names.
    #[arg(
        id = "meili_index_prefix",
        long = "meili-index-prefix",
        env = "MEILI_INDEX_PREFIX",
        default_value = ""
    )]
    index_prefix: String,
}

impl MeiliOptions {
    /// Meilisearch's settings when it is configured.
    fn target(&self) -> Option<Meili> {
        self.url.as_ref().map(|url| Meili {
            url: url.clone(),
            key: self.master_key.clone(),
            index_prefix: self.index_prefix.clone(),
        })
    }
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
    #[command(flatten)]
    meili: MeiliOptions,
    #[command(flatten)]
    clickhouse: ClickHouse,
    /// Where the query API listens.
    #[arg(long, env = "QUERY_API_ADDR", default_value = "127.0.0.1:8081")]
    query_api_addr: SocketAddr,
    /// Session lifetime in seconds.
    #[arg(long, env = "SESSION_TTL_SECS", default_value_t = 86_400)]
    session_ttl_secs: u64,
    /// Failed sign-ins per account from one address per five minutes.
    #[arg(long, env = "LOGIN_LIMIT_PER_ACCOUNT", default_value_t = 10)]
    login_limit_per_account: u32,
    /// Failed sign-ins per client address per five minutes.
    #[arg(long, env = "LOGIN_LIMIT_PER_ADDRESS", default_value_t = 100)]
    login_limit_per_address: u32,
    /// Registrations per client address per five minutes.
    #[arg(long, env = "REGISTER_LIMIT_PER_ADDRESS", default_value_t = 20)]
    register_limit_per_address: u32,
    /// Clicks tracked per client address per minute.
    #[arg(long, env = "CLICK_LIMIT_PER_ADDRESS", default_value_t = 600)]
    click_limit_per_address: u32,
    /// Seconds an order waits for the payment gateway before it is cancelled.
    #[arg(long, env = "PAYMENT_TIMEOUT_SECS", default_value_t = 30)]
    payment_timeout_secs: u64,
    /// Deliveries of a saga message before it is parked as a dead letter.
    #[arg(long, env = "SAGA_MAX_DELIVERIES", default_value_t = 5)]
    saga_max_deliveries: i64,
    /// Seconds before a saga message whose handler died is delivered again.
    #[arg(long, env = "SAGA_ACK_WAIT_SECS", default_value_t = 30)]
    saga_ack_wait_secs: u64,
    /// Seconds before a parked saga step is first tried again (doubling to an hour).
    #[arg(long, env = "SAGA_REDRIVE_WAIT_SECS", default_value_t = 60)]
    saga_redrive_wait_secs: u64,
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
            rate_limits: RateLimits {
                per_account: self.login_limit_per_account,
                per_address: self.login_limit_per_address,
                registrations_per_address: self.register_limit_per_address,
                clicks_per_address: self.click_limit_per_address,
                ..RateLimits::default()
            },
            max_connections: c.max_connections,
        }
    }
}

impl Run {
    /// Runs `components` until SIGINT or SIGTERM.
    async fn launch(&self, components: Components) -> anyhow::Result<()> {
        let settings = self.settings(components.command_api, components.relay);
        let meili = self.meili.target();
        components::run(
            settings,
            self.saga_settings(),
            self.query_api_addr,
            &self.clickhouse,
            meili.as_ref(),
            components,
        )
        .await
    }

    fn saga_settings(&self) -> SagaSettings {
        SagaSettings {
            payment_timeout: Duration::from_secs(self.payment_timeout_secs),
            max_deliveries: self.saga_max_deliveries,
            ack_wait: Duration::from_secs(self.saga_ack_wait_secs),
            redrive_wait: Duration::from_secs(self.saga_redrive_wait_secs),
            ..SagaSettings::default()
        }
    }
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Subcommands::Serve(run) => {
                let all = Components {
                    command_api: true,
                    query_api: true,
                    relay: true,
                    saga: true,
                    projections: ProjectionName::All.expand(),
                };
                run.launch(all).await
            }
            Subcommands::CommandApi(run) => {
                run.launch(Components {
                    command_api: true,
                    ..Components::NONE
                })
                .await
            }
            Subcommands::QueryApi(run) => {
                run.launch(Components {
                    query_api: true,
                    ..Components::NONE
                })
                .await
            }
            Subcommands::Relay(run) => {
                run.launch(Components {
                    relay: true,
                    ..Components::NONE
                })
                .await
            }
            Subcommands::Saga(run) => {
                run.launch(Components {
                    saga: true,
                    ..Components::NONE
                })
                .await
            }
            Subcommands::Project { projection, run } => {
                run.launch(Components {
                    projections: projection.expand(),
                    ..Components::NONE
                })
                .await
            }
            Subcommands::Migrate(connections) => {
                db::migrate(&connections.database_url).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Subcommands::Seed(seed) => seed_catalog(seed).await,
            Subcommands::Replay(replay) => replay_read_models(replay).await,
            Subcommands::User {
                command: UserCommand::Create(args),
            } => create_user(args).await,
            Subcommands::DeadLetters { command } => dead_letters(command).await,
            Subcommands::Payments {
                command: PaymentsCommand::Audit(connections),
            } => audit_payments(connections).await,
        }
    }
}

impl Connections {
    /// Settings for a process that runs no component, only commands.
    fn commands_only(&self) -> Settings {
        let c = self;
        Settings {
            database_url: c.database_url.clone(),
            nats_url: c.nats_url.clone(),
            redis_url: c.redis_url.clone(),
            redis_prefix: c.redis_prefix.clone(),
            command_api_addr: None,
            run_relay: false,
            session_ttl: Duration::from_secs(60),
            rate_limits: RateLimits::default(),
            max_connections: 4,
        }
    }
}

async fn create_user(args: CreateUser) -> anyhow::Result<()> {
    db::migrate(&args.connections.database_url).await?;
    let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("email {e}"))?;
    let name = Text::parse(&args.name).map_err(|e| anyhow::anyhow!("name {e}"))?;
    let app = Application::build(args.connections.commands_only()).await?;
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

async fn dead_letters(command: DeadLetterCommand) -> anyhow::Result<()> {
    match command {
        DeadLetterCommand::List { selection, json } => {
            let letters = selection
                .store()
                .await?
                .list(selection.selection(true)?)
                .await?;
            for letter in letters {
                if json {
                    println!("{}", serde_json::to_string(&letter)?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\tattempts {}\t{}\tnext {}\t{}",
                        letter.id,
                        letter.consumer,
                        letter.message_key,
                        letter.subject,
                        letter.attempts,
                        if letter.held { "held" } else { "first" },
                        letter.next_attempt_at.to_rfc3339(),
                        letter.error
                    );
                }
            }
        }
        DeadLetterCommand::Retry(selection) => {
            let due = selection
                .store()
                .await?
                .retry(selection.selection(false)?)
                .await?;
            println!("{due} due now");
        }
        DeadLetterCommand::Drop(selection) => {
            let dropped = selection
                .store()
                .await?
                .drop(selection.selection(false)?)
                .await?;
            println!("{dropped} dropped");
        }
    }
    Ok(())
}

async fn audit_payments(connections: Connections) -> anyhow::Result<()> {
    let pool = db::connect(&connections.database_url, 2).await?;
    let gateway = SandboxPaymentGateway::new(pool.clone());
    let disagreements = payments_audit::audit(&pool, &gateway).await?;
    for d in &disagreements {
        println!("{}\t{}\t{}", d.order_id, d.last_event, d.problem);
    }
    if disagreements.is_empty() {
        println!("every order's money agrees with its state");
        Ok(())
    } else {
        eprintln!("{} orders disagree with their money", disagreements.len());
        std::process::exit(1)
    }
}

async fn seed_catalog(args: Seed) -> anyhow::Result<()> {
    db::migrate(&args.connections.database_url).await?;
    let app = Application::build(args.connections.commands_only()).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} listings, {per_sec}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary =
        seed::seed_catalog(
            app.state(),
            &args.catalog,
            args.inventory,
            |progress| match progress {
                SeedProgress::Total(total) => bar.set_length(total as u64),
                SeedProgress::Done => bar.inc(1),
            },
        )
        .await?;
    bar.finish();
    println!(
        "created {}, already present {}, skipped without a price {}, rejected {}",
        summary.created, summary.already_present, summary.skipped_without_price, summary.rejected
    );
    Ok(())
}

async fn replay_read_models(args: Replay) -> anyhow::Result<()> {
    db::migrate(&args.connections.database_url).await?;
    let app = Application::build(args.connections.commands_only()).await?;
    let state = app.state();
    let names = match args.projection {
        ReplayName::All => vec![
            ReplayName::Search,
            ReplayName::Cache,
            ReplayName::OrderViews,
            ReplayName::Reviews,
            ReplayName::Analytics,
        ],
        one => vec![one],
    };
    for name in names {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} {bar:40} {pos}/{len} events, {msg}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!("{name:?}"));
        let progress = |p: replay::Progress| {
            bar.set_length(p.total.max(p.applied));
            bar.set_position(p.applied);
            bar.set_message(format!("{:.0} events/s", p.per_second));
        };
        let url = &args.connections.database_url;
        let summary = match name {
            ReplayName::Search => {
                // The Postgres tables stay the product read model beside Meilisearch.
                let summary = replay::replay_postgres(
                    &state.pool,
                    url,
                    &replay::SEARCH,
                    args.dry_run,
                    &progress,
                )
                .await?;
                match args.meili.target() {
                    Some(meili) => {
                        report("Search (Postgres tables)", args.dry_run, summary);
                        bar.reset();
                        bar.set_prefix("Meilisearch");
                        let summary = replay::replay_meili(
                            &state.pool,
                            &meili.url,
                            meili.key.as_deref(),
                            &meili.index(),
                            args.dry_run,
                            &progress,
                        )
                        .await?;
                        bar.finish();
                        report("Search (Meilisearch)", args.dry_run, summary);
                        continue;
                    }
                    None => summary,
                }
            }
            ReplayName::OrderViews => {
                replay::replay_postgres(
                    &state.pool,
                    url,
                    &replay::ORDER_VIEWS,
                    args.dry_run,
                    &progress,
                )
                .await?
            }
            ReplayName::Reviews => {
                let summary = replay::replay_postgres(
                    &state.pool,
                    url,
                    &replay::REVIEWS,
                    args.dry_run,
                    &progress,
                )
                .await?;
                if !args.dry_run {
                    let cache = ProductCache::new(
                        state.sessions.connection(),
                        state.sessions.prefix().to_string(),
                    );
                    reviews::refresh_summaries(&state.pool, &cache).await?;
                }
                summary
            }
            ReplayName::Cache => {
                let cache = ProductCache::new(
                    state.sessions.connection(),
                    state.sessions.prefix().to_string(),
                );
                let projection = CacheProjection::new(cache);
                replay::replay_in_place(
                    &state.pool,
                    &projection,
                    &["Product"],
                    args.dry_run,
                    &progress,
                )
                .await?
            }
            ReplayName::Analytics => {
                let live =
                    Analytics::connect(&args.clickhouse.url, &args.clickhouse.database).await?;
                replay::replay_analytics(&state.pool, &live, args.dry_run, &progress).await?
            }
            ReplayName::All => continue,
        };
        bar.finish();
        report(&format!("{name:?}"), args.dry_run, summary);
    }
    Ok(())
}

/// Prints what the replay of `what` did.
fn report(what: &str, dry_run: bool, summary: replay::ReplaySummary) {
    let verb = if dry_run { "would replay" } else { "replayed" };
    println!(
        "{what}: {verb} {} events in {:.1} s ({:.0} events/s)",
        summary.events,
        summary.seconds,
        summary.events as f64 / summary.seconds.max(1e-3)
    );
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
