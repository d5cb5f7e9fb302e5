//! Analytics in ClickHouse: clicks, units sold and revenue, inventory levels
//! and customers' ratings, by product, category, brand and area. Rows are keyed so a redelivered event
//! replaces its own row (ReplacingMergeTree, read with FINAL).

mod projection;
pub mod replay;
mod rows;

pub use projection::{AnalyticsProjection, ClicksProjection, NAME};
pub use rows::{
    ClickRow, CustomerRow, InventoryRow, OrderLineRow, OrderStatusRow, ProductRow, RatingRow,
};

use anyhow::Context;

/// The DDL in `migrations/clickhouse`, in order.
const MIGRATIONS: [&str; 2] = [
    include_str!("../../../migrations/clickhouse/0001_analytics.sql"),
    include_str!("../../../migrations/clickhouse/0002_ratings.sql"),
];

/// Statuses in which an order's lines count as sold.
pub const SOLD: &str = "('Shipped', 'Delivered')";

/// The tables built from the events table, which a replay rebuilds. Clicks
/// are not in the events table: their table stays as it is.
pub const EVENT_TABLES: [&str; 6] = [
    "order_lines",
    "order_status",
    "products",
    "inventory",
    "customers",
    "ratings",
];

/// A ClickHouse client on Atlantic's analytics database.
#[derive(Clone)]
pub struct Analytics {
    server: clickhouse::Client,
    client: clickhouse::Client,
    database: String,
}

impl Analytics {
    /// Connects to `url`, creates `database` and its tables if missing.
    /// Validation is off: ClickHouse 18.16 rejects the setting it sends; the
    /// row structs are checked against `DESCRIBE TABLE` in the tests instead.
    pub async fn connect(url: &str, database: &str) -> anyhow::Result<Self> {
        let server = clickhouse::Client::default()
            .with_url(url)
            .with_validation(false);
        Self::open(server, database).await
    }

    /// Another database on the same server, created with its tables if missing.
    pub async fn beside(&self, database: &str) -> anyhow::Result<Self> {
        Self::open(self.server.clone(), database).await
    }

    async fn open(server: clickhouse::Client, database: &str) -> anyhow::Result<Self> {
        let database = database.replace('`', "");
        server
            .query(&format!("CREATE DATABASE IF NOT EXISTS `{database}`"))
            .execute()
            .await
            .context("cannot create the ClickHouse database (CLICKHOUSE_URL)")?;
        let client = server.clone().with_database(&database);
        for migration in MIGRATIONS {
            for statement in migration
                .split(';')
                .map(strip_comments)
                .filter(|s| !s.is_empty())
            {
                client
                    .query(&statement)
                    .execute()
                    .await
                    .with_context(|| format!("cannot apply: {statement}"))?;
            }
        }
        Ok(Analytics {
            server,
            client,
            database,
        })
    }

    /// The client, for queries.
    pub fn client(&self) -> &clickhouse::Client {
        &self.client
    }

    /// Whether the server answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.server.query("SELECT 1").execute().await?;
        Ok(())
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Moves the event tables of `rebuilt` (another database on the same
    /// server) in place of these, in one `RENAME TABLE` statement; the
    /// replaced tables go to `rebuilt`'s database as `<table>_replaced`.
    /// ClickHouse renames the pairs one after the other, so a reader may for
    /// an instant miss a table and get an error.
    pub async fn replace_event_tables(&self, rebuilt: &Analytics) -> anyhow::Result<()> {
        let (live, new) = (&self.database, &rebuilt.database);
        let renames: Vec<String> = EVENT_TABLES
            .iter()
            .map(|t| format!("`{live}`.{t} TO `{new}`.{t}_replaced, `{new}`.{t} TO `{live}`.{t}"))
            .collect();
        self.server
            .query(&format!("RENAME TABLE {}", renames.join(", ")))
            .execute()
            .await
            .context("cannot swap the rebuilt analytics tables in")?;
        Ok(())
    }

    /// Drops this database and its tables.
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        self.drop_beside(&self.database).await
    }

    /// Drops `database`, another database on the same server, if it exists.
    pub async fn drop_beside(&self, database: &str) -> anyhow::Result<()> {
        self.server
            .query(&format!(
                "DROP DATABASE IF EXISTS `{}`",
                database.replace('`', "")
            ))
            .execute()
            .await
            .context("cannot drop the ClickHouse database")?;
        Ok(())
    }
}

fn strip_comments(statement: &str) -> String {
    statement
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
