//! The command line's argument types: one struct per subcommand, flags
//! with environment fallbacks and loopback defaults.

use atlantic::system::{self, ClickHouse, Components, Config, Meili, ProjectionName};
use atlantic_platform::dead_letters::{DeadLetters, Selection};
use atlantic_platform::sessions::RateLimits;

use atlantic_domain::Role;
use atlantic_notifier::MailSettings;
use atlantic_sagas::SagaSettings;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Atlantic, an event-sourced e-commerce backend.
#[derive(Parser)]
#[command(name = "atlantic", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Subcommands,
}

#[derive(Subcommand)]
pub(super) enum Subcommands {
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
    /// Run the notifier alone: mail to customers (one leads, others stand by).
    Notify(Run),
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
pub(super) enum PaymentsCommand {
    /// List the orders whose money and state disagree (money kept for an
    /// order that did not ship, none for one that did); exits 1 if any.
    Audit(Connections),
}

#[derive(Subcommand)]
pub(super) enum DeadLetterCommand {
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
pub(super) struct LetterSelection {
    #[command(flatten)]
    pub(super) connections: Connections,
    /// One letter, by id.
    #[arg(conflicts_with_all = ["consumer", "all"])]
    pub(super) id: Option<i64>,
    /// Every letter of one consumer (`relay`, `order-saga`, `projection-search`, …).
    #[arg(long, conflicts_with = "all")]
    pub(super) consumer: Option<String>,
    /// Every letter.
    #[arg(long)]
    pub(super) all: bool,
}

impl LetterSelection {
    /// The selection; with nothing named, every letter when `all_by_default`.
    pub(super) fn selection(&self, all_by_default: bool) -> anyhow::Result<Selection<'_>> {
        match (self.id, self.consumer.as_deref(), self.all) {
            (Some(id), _, _) => Ok(Selection::Id(id)),
            (None, Some(consumer), _) => Ok(Selection::Consumer(consumer)),
            (None, None, true) => Ok(Selection::All),
            (None, None, false) if all_by_default => Ok(Selection::All),
            (None, None, false) => anyhow::bail!("name a letter's id, --consumer or --all"),
        }
    }

    pub(super) async fn store(&self) -> anyhow::Result<DeadLetters> {
        let connections = system::Connections::open(&self.connections.config()).await?;
        Ok(DeadLetters::new(connections.pool, connections.metrics))
    }
}

#[derive(Args)]
pub(super) struct Replay {
    #[command(flatten)]
    pub(super) connections: Connections,
    #[command(flatten)]
    pub(super) clickhouse: ClickHouse,
    #[command(flatten)]
    pub(super) meili: MeiliOptions,
    /// Which read model (clicks never reach the events table: nothing to replay).
    #[arg(value_enum)]
    pub(super) projection: ProjectionName,
    /// Count what would be replayed; change nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
}

#[derive(Args)]
pub(super) struct Seed {
    #[command(flatten)]
    pub(super) connections: Connections,
    /// The folder of `*.json` listings.
    #[arg(long)]
    pub(super) catalog: PathBuf,
    /// Units in stock for each product.
    #[arg(long, default_value_t = 100)]
    pub(super) inventory: u32,
}

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// Create a user with any role (the only way to make the first admin).
    Create(CreateUser),
}

/// Where Meilisearch is, if anywhere.
#[derive(Args, Clone)]
pub(super) struct MeiliOptions {
    /// Meilisearch; without it, search runs on the Postgres adapter.
    #[arg(id = "meili_url", long = "meili-url", env = "MEILI_URL")]
    pub(super) url: Option<String>,
    /// Meilisearch's API key.
    #[arg(
        id = "meili_master_key",
        long = "meili-master-key",
        env = "MEILI_MASTER_KEY",
        hide_env_values = true
    )]
    pub(super) master_key: Option<String>,
    /// Prefix of Meilisearch index names.
    #[arg(
        id = "meili_index_prefix",
        long = "meili-index-prefix",
        env = "MEILI_INDEX_PREFIX",
        default_value = ""
    )]
    pub(super) index_prefix: String,
}

impl MeiliOptions {
    /// Meilisearch's settings when it is configured.
    pub(super) fn target(&self) -> Option<Meili> {
        self.url.as_ref().map(|url| Meili {
            url: url.clone(),
            key: self.master_key.clone(),
            index_prefix: self.index_prefix.clone(),
        })
    }
}

/// Where the services are.
#[derive(Args, Clone)]
pub(super) struct Connections {
    /// PostgreSQL, the event store.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/atlantic",
        hide_env_values = true
    )]
    pub(super) database_url: String,
    /// NATS with JetStream.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub(super) nats_url: String,
    /// Redis or DragonFly.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    pub(super) redis_url: String,
    /// Prefix of every Redis key.
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "atlantic:")]
    pub(super) redis_prefix: String,
    /// Postgres connections per process.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub(super) max_connections: u32,
}

#[derive(Args)]
pub(super) struct Run {
    #[command(flatten)]
    pub(super) connections: Connections,
    /// Where the command API listens.
    #[arg(long, env = "COMMAND_API_ADDR", default_value = "127.0.0.1:8080")]
    pub(super) command_api_addr: SocketAddr,
    #[command(flatten)]
    pub(super) meili: MeiliOptions,
    #[command(flatten)]
    pub(super) clickhouse: ClickHouse,
    /// Where the query API listens.
    #[arg(long, env = "QUERY_API_ADDR", default_value = "127.0.0.1:8081")]
    pub(super) query_api_addr: SocketAddr,
    /// Session lifetime in seconds.
    #[arg(long, env = "SESSION_TTL_SECS", default_value_t = 86_400)]
    pub(super) session_ttl_secs: u64,
    /// Failed sign-ins per account from one address per five minutes.
    #[arg(long, env = "LOGIN_LIMIT_PER_ACCOUNT", default_value_t = 10)]
    pub(super) login_limit_per_account: u32,
    /// Failed sign-ins per client address per five minutes.
    #[arg(long, env = "LOGIN_LIMIT_PER_ADDRESS", default_value_t = 100)]
    pub(super) login_limit_per_address: u32,
    /// Registrations per client address per five minutes.
    #[arg(long, env = "REGISTER_LIMIT_PER_ADDRESS", default_value_t = 20)]
    pub(super) register_limit_per_address: u32,
    /// Clicks tracked per client address per minute.
    #[arg(long, env = "CLICK_LIMIT_PER_ADDRESS", default_value_t = 600)]
    pub(super) click_limit_per_address: u32,
    /// Seconds an order waits for the payment gateway before it is cancelled.
    #[arg(long, env = "PAYMENT_TIMEOUT_SECS", default_value_t = 30)]
    pub(super) payment_timeout_secs: u64,
    /// Deliveries of a saga message before it is parked as a dead letter.
    #[arg(long, env = "SAGA_MAX_DELIVERIES", default_value_t = 5)]
    pub(super) saga_max_deliveries: i64,
    /// Seconds before a saga message whose handler died is delivered again.
    #[arg(long, env = "SAGA_ACK_WAIT_SECS", default_value_t = 30)]
    pub(super) saga_ack_wait_secs: u64,
    /// Seconds before a parked saga step is first tried again (doubling to an hour).
    #[arg(long, env = "SAGA_REDRIVE_WAIT_SECS", default_value_t = 60)]
    pub(super) saga_redrive_wait_secs: u64,
    /// Orders the saga handles at once (one order's events stay in order).
    #[arg(long, env = "SAGA_WORKERS", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(super) saga_workers: u16,
    #[command(flatten)]
    pub(super) mail: MailOptions,
}

/// Where the notifier's mail goes.
#[derive(Args, Clone)]
pub(super) struct MailOptions {
    /// The SMTP server: `smtp://host:port`, `smtps://user:password@host`, or
    /// `smtp://user:password@host?tls=required` (STARTTLS); without it, mail is
    /// written as `.eml` files into `--mail-dir`.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub(super) smtp_url: Option<String>,
    /// The folder of `.eml` files without an SMTP server.
    #[arg(long, env = "MAIL_DIR", default_value = "mail-outbox")]
    pub(super) mail_dir: PathBuf,
    /// The sender of every mail.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Atlantic <orders@atlantic.example>"
    )]
    pub(super) mail_from: String,
    /// The shop's name in every mail.
    #[arg(long, env = "SHOP_NAME", default_value = "Atlantic")]
    pub(super) shop_name: String,
}

impl MailOptions {
    /// The notifier's settings.
    pub(super) fn settings(&self) -> MailSettings {
        MailSettings {
            smtp_url: self.smtp_url.clone(),
            mail_dir: self.mail_dir.clone(),
            from: self.mail_from.clone(),
            shop: self.shop_name.clone(),
        }
    }
}

#[derive(Args)]
pub(super) struct CreateUser {
    #[command(flatten)]
    pub(super) connections: Connections,
    /// Login address.
    #[arg(long)]
    pub(super) email: String,
    /// Password (at least 10 characters).
    #[arg(long, env = "ATLANTIC_USER_PASSWORD", hide_env_values = true)]
    pub(super) password: String,
    /// Display name.
    #[arg(long)]
    pub(super) name: String,
    /// Role: admin, seller or customer.
    #[arg(long, default_value = "customer")]
    pub(super) role: Role,
}

impl Run {
    /// The system's configuration from these flags.
    pub(super) fn config(&self) -> Config {
        Config {
            command_api_addr: self.command_api_addr,
            query_api_addr: self.query_api_addr,
            clickhouse: self.clickhouse.clone(),
            meili: self.meili.target(),
            session_ttl: Duration::from_secs(self.session_ttl_secs),
            rate_limits: RateLimits {
                per_account: self.login_limit_per_account,
                per_address: self.login_limit_per_address,
                registrations_per_address: self.register_limit_per_address,
                clicks_per_address: self.click_limit_per_address,
                ..RateLimits::default()
            },
            saga: SagaSettings {
                payment_timeout: Duration::from_secs(self.payment_timeout_secs),
                max_deliveries: self.saga_max_deliveries,
                ack_wait: Duration::from_secs(self.saga_ack_wait_secs),
                redrive_wait: Duration::from_secs(self.saga_redrive_wait_secs),
                workers: usize::from(self.saga_workers),
                ..SagaSettings::default()
            },
            mail: self.mail.settings(),
            ..self.connections.config()
        }
    }

    /// Starts `components` and runs them until a signal.
    pub(super) async fn launch(&self, components: Components) -> anyhow::Result<()> {
        system::start(&self.config(), &components)
            .await?
            .until_signal()
            .await
    }
}

impl Replay {
    /// The system's configuration for a replay: these connections, ClickHouse
    /// and Meilisearch.
    pub(super) fn config(&self) -> Config {
        Config {
            clickhouse: self.clickhouse.clone(),
            meili: self.meili.target(),
            ..self.connections.config()
        }
    }
}

impl Connections {
    /// The system's configuration for an administrative command: these
    /// connections, the defaults for the rest.
    pub(super) fn config(&self) -> Config {
        Config {
            database_url: self.database_url.clone(),
            max_connections: self.max_connections,
            nats_url: self.nats_url.clone(),
            redis_url: self.redis_url.clone(),
            redis_prefix: self.redis_prefix.clone(),
            clickhouse: ClickHouse {
                url: "http://127.0.0.1:8123".into(),
                database: "atlantic".into(),
            },
            meili: None,
            command_api_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            query_api_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            session_ttl: Duration::from_secs(60),
            rate_limits: RateLimits::default(),
            saga: SagaSettings::default(),
            mail: MailSettings {
                smtp_url: None,
                mail_dir: PathBuf::from("mail-outbox"),
                from: "Atlantic <orders@atlantic.example>".into(),
                shop: "Atlantic".into(),
            },
        }
    }
}
