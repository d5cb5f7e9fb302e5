//! The connections to the services, each opened the first time a component
//! asks for it: a process opens only what its components use.

use super::config::Config;
use anyhow::Context;
use atlantic_application::Shop;
use atlantic_platform::buses::Buses;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::SessionStore;
use atlantic_platform::{db, redis_connection, streams};
use atlantic_projections::analytics::Analytics;
use atlantic_projections::cache::ProductCache;
use atlantic_projections::read_models::{MeiliIndex, Stores};
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tokio::sync::OnceCell;

/// Postgres (always: every component reads or writes the event store) and,
/// when asked for, NATS, Redis and ClickHouse.
pub struct Connections {
    config: Config,
    /// The Postgres pool (migrated).
    pub pool: PgPool,
    /// The counters every component adds to, served on `/metrics`.
    pub metrics: Metrics,
    /// The command buses every component of the process shares.
    pub buses: Buses,
    nats: OnceCell<async_nats::Client>,
    redis: OnceCell<ConnectionManager>,
    analytics: OnceCell<Analytics>,
}

impl Connections {
    /// Migrates the database and opens the Postgres pool.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        db::migrate(&config.database_url).await?;
        let pool = db::connect(&config.database_url, config.max_connections).await?;
        let metrics = Metrics::default();
        Ok(Connections {
            config: config.clone(),
            buses: Buses::new(&pool, &metrics),
            pool,
            metrics,
            nats: OnceCell::new(),
            redis: OnceCell::new(),
            analytics: OnceCell::new(),
        })
    }

    /// The configuration they were opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// NATS, with the streams created.
    pub async fn nats(&self) -> anyhow::Result<async_nats::Client> {
        self.nats
            .get_or_try_init(|| streams::connect(&self.config.nats_url))
            .await
            .cloned()
    }

    /// Redis.
    pub async fn redis(&self) -> anyhow::Result<ConnectionManager> {
        self.redis
            .get_or_try_init(|| redis_connection::connect(&self.config.redis_url))
            .await
            .cloned()
    }

    /// ClickHouse.
    pub async fn analytics(&self) -> anyhow::Result<Analytics> {
        let clickhouse = &self.config.clickhouse;
        self.analytics
            .get_or_try_init(|| Analytics::connect(&clickhouse.url, &clickhouse.database))
            .await
            .cloned()
    }

    /// Sessions and rate limits in Redis.
    pub async fn sessions(&self) -> anyhow::Result<SessionStore> {
        Ok(SessionStore::new(
            self.redis().await?,
            self.config.redis_prefix.clone(),
            self.config.session_ttl,
            self.config.rate_limits,
        ))
    }

    /// The product documents in Redis.
    pub async fn cache(&self) -> anyhow::Result<ProductCache> {
        Ok(ProductCache::new(
            self.redis().await?,
            self.config.redis_prefix.clone(),
        ))
    }

    /// The write side the use cases act on (Postgres and Redis).
    pub async fn shop(&self) -> anyhow::Result<Shop> {
        Ok(Shop::new(
            self.pool.clone(),
            self.buses.clone(),
            self.sessions().await?,
        ))
    }

    /// The stores the read models write to; ClickHouse only when `analytics`.
    pub async fn stores(&self, analytics: bool) -> anyhow::Result<Stores> {
        Ok(Stores {
            pool: self.pool.clone(),
            cache: self.cache().await?,
            analytics: if analytics {
                Some(self.analytics().await?)
            } else {
                None
            },
            meili: self.config.meili.as_ref().map(|meili| MeiliIndex {
                url: meili.url.clone(),
                key: meili.key.clone(),
                index: meili.index(),
            }),
        })
    }

    /// A Meilisearch client, when search runs on it.
    pub fn meili_client(&self) -> anyhow::Result<Option<meilisearch_sdk::client::Client>> {
        self.config
            .meili
            .as_ref()
            .map(|meili| {
                meilisearch_sdk::client::Client::new(&meili.url, meili.key.as_deref())
                    .context("bad MEILI_URL")
            })
            .transpose()
    }
}
