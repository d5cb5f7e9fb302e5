//! Where the services are and how the components behave: one value, built
//! from the command line (or by a test).

use atlantic_notifier::MailSettings;
use atlantic_platform::sessions::RateLimits;
use atlantic_sagas::SagaSettings;
use std::net::SocketAddr;
use std::time::Duration;

/// Everything a component may need to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Postgres (the event store and the Postgres read models).
    pub database_url: String,
    /// Postgres connections in the pool.
    pub max_connections: u32,
    /// NATS with JetStream.
    pub nats_url: String,
    /// Redis or DragonFly (sessions, carts, rate limits, the product cache).
    pub redis_url: String,
    /// Prefix of every Redis key written.
    pub redis_prefix: String,
    /// ClickHouse (analytics).
    pub clickhouse: ClickHouse,
    /// Meilisearch, when search runs on it.
    pub meili: Option<Meili>,
    /// Where the command API listens.
    pub command_api_addr: SocketAddr,
    /// Where the query API listens.
    pub query_api_addr: SocketAddr,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// Sign-in, registration and click limits.
    pub rate_limits: RateLimits,
    /// The order saga's timeouts and retries.
    pub saga: SagaSettings,
    /// Where the notifier's mail goes.
    pub mail: MailSettings,
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

/// Where Meilisearch is.
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
