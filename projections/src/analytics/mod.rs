//! Analytics in ClickHouse: clicks, units sold and revenue, inventory levels,
//! by product, category, brand and area. Rows are keyed so a redelivered event
//! replaces its own row (ReplacingMergeTree, read with FINAL).

mod projection;
mod rows;

pub use projection::{AnalyticsProjection, ClicksProjection};
pub use rows::{ClickRow, CustomerRow, InventoryRow, OrderLineRow, OrderStatusRow, ProductRow};

use anyhow::Context;

/// The DDL in `migrations/clickhouse`, in order.
const MIGRATIONS: [&str; 1] = [include_str!(
    "../../../migrations/clickhouse/0001_analytics.sql"
)];

/// Statuses in which an order's lines count as sold.
pub const SOLD: &str = "('Shipped', 'Delivered')";

/// A ClickHouse client on Atlantic's analytics database.
#[derive(Clone)]
pub struct Analytics {
    client: clickhouse::Client,
}

impl Analytics {
    /// Connects to `url`, creates `database` and its tables if missing.
    /// Validation is off: ClickHouse 18.16 rejects the setting it sends; the
    /// row structs are checked against `DESCRIBE TABLE` in the tests instead.
    pub async fn connect(url: &str, database: &str) -> anyhow::Result<Self> {
        let server = clickhouse::Client::default()
            .with_url(url)
            .with_validation(false);
        server
            .query(&format!(
                "CREATE DATABASE IF NOT EXISTS `{}`",
                database.replace('`', "")
            ))
            .execute()
            .await
            .context("cannot create the ClickHouse database (CLICKHOUSE_URL)")?;
        let client = server.with_database(database);
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
        Ok(Analytics { client })
    }

    /// The client, for queries.
    pub fn client(&self) -> &clickhouse::Client {
        &self.client
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
