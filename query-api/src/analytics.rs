//! The analytics queries over ClickHouse (with FINAL, so each event counts once).

use atlantic_projections::analytics::{Analytics, SOLD};
use clickhouse::Row;
use serde::Deserialize;
use std::collections::HashMap;

/// A figure per key (product or area).
#[derive(Debug, Clone, Row, Deserialize)]
pub struct Figure {
    /// Product id or area.
    pub key: String,
    /// The figure.
    pub value: i64,
}

/// One point of the sales series.
#[derive(Debug, Clone, Row, Deserialize)]
pub struct SalesPoint {
    /// Start of the interval, seconds since the epoch.
    pub t: u32,
    /// Orders.
    pub orders: i64,
    /// Units sold.
    pub units: i64,
    /// Revenue in cents.
    pub revenue_cents: i64,
}

/// A product's name, category and stock.
#[derive(Debug, Clone, Row, Deserialize)]
pub struct Stock {
    /// The product.
    pub product_id: String,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Units in stock.
    pub inventory: i64,
}

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Clicks of any kind.
    Clicks,
    /// Units in shipped or delivered orders.
    UnitsSold,
    /// Revenue of shipped or delivered orders, in cents.
    Revenue,
    /// Customers' average stars, times 100 (per product only).
    Rating,
}

/// A product field that figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// The product's category (its type).
    Category,
    /// The product's brand.
    Brand,
}

impl Dimension {
    /// Its column in `products`.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Category => "category",
            Dimension::Brand => "brand",
        }
    }
}

/// A time window in seconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// From (inclusive).
    pub from: u32,
    /// To (exclusive).
    pub to: u32,
}

fn sold_lines(window: Window) -> String {
    format!(
        "SELECT order_id, product_id, customer_id, units, revenue_cents, at FROM order_lines FINAL \
         WHERE order_id IN (SELECT order_id FROM order_status FINAL WHERE status IN {SOLD}) \
           AND at >= toDateTime({}) AND at < toDateTime({})",
        window.from, window.to
    )
}

/// Products ranked by `metric` in `window`.
pub async fn top_products(
    analytics: &Analytics,
    metric: Metric,
    window: Window,
    limit: u32,
) -> anyhow::Result<Vec<Figure>> {
    let sql = match metric {
        Metric::Clicks => format!(
            "SELECT product_id AS key, toInt64(count()) AS value FROM clicks FINAL \
             WHERE at >= toDateTime({}) AND at < toDateTime({}) GROUP BY key ORDER BY value DESC, key LIMIT {limit}",
            window.from, window.to
        ),
        Metric::UnitsSold => format!(
            "SELECT product_id AS key, sum(units) AS value FROM ({}) GROUP BY key ORDER BY value DESC, key LIMIT {limit}",
            sold_lines(window)
        ),
        Metric::Revenue => format!(
            "SELECT product_id AS key, sum(revenue_cents) AS value FROM ({}) GROUP BY key ORDER BY value DESC, key LIMIT {limit}",
            sold_lines(window)
        ),
        Metric::Rating => format!(
            "SELECT product_id AS key, toInt64(round(avg(stars) * 100)) AS value FROM ratings FINAL \
             WHERE stars > 0 AND at >= toDateTime({}) AND at < toDateTime({}) \
             GROUP BY key ORDER BY value DESC, key LIMIT {limit}",
            window.from, window.to
        ),
    };
    Ok(analytics.client().query(&sql).fetch_all::<Figure>().await?)
}

/// `metric` per area (the customer's region; the click's area).
pub async fn by_area(
    analytics: &Analytics,
    metric: Metric,
    window: Window,
) -> anyhow::Result<Vec<Figure>> {
    let sql = match metric {
        Metric::Clicks => format!(
            "SELECT area AS key, toInt64(count()) AS value FROM clicks FINAL \
             WHERE at >= toDateTime({}) AND at < toDateTime({}) GROUP BY key ORDER BY value DESC, key",
            window.from, window.to
        ),
        Metric::Rating => anyhow::bail!("ratings are ranked per product only"),
        Metric::UnitsSold | Metric::Revenue => {
            let column = if metric == Metric::UnitsSold { "units" } else { "revenue_cents" };
            format!(
                "SELECT if(area = '', 'unknown', area) AS key, sum({column}) AS value \
                 FROM (SELECT customer_id, {column} FROM ({})) \
                 ANY LEFT JOIN (SELECT customer_id, area FROM customers FINAL) USING customer_id \
                 GROUP BY key ORDER BY value DESC, key",
                sold_lines(window)
            )
        }
    };
    Ok(analytics.client().query(&sql).fetch_all::<Figure>().await?)
}

/// `metric` (or, with none, units in stock now) per category or brand.
pub async fn by_dimension(
    analytics: &Analytics,
    metric: Option<Metric>,
    window: Window,
    dimension: Dimension,
) -> anyhow::Result<Vec<Figure>> {
    let per_product = match metric {
        Some(Metric::Clicks) => format!(
            "SELECT product_id, toInt64(count()) AS v FROM clicks FINAL \
             WHERE at >= toDateTime({}) AND at < toDateTime({}) GROUP BY product_id",
            window.from, window.to
        ),
        Some(Metric::UnitsSold) => format!(
            "SELECT product_id, sum(units) AS v FROM ({}) GROUP BY product_id",
            sold_lines(window)
        ),
        Some(Metric::Revenue) => format!(
            "SELECT product_id, sum(revenue_cents) AS v FROM ({}) GROUP BY product_id",
            sold_lines(window)
        ),
        Some(Metric::Rating) => anyhow::bail!("ratings are ranked per product only"),
        None => "SELECT product_id, inventory AS v FROM inventory FINAL".to_string(),
    };
    let column = dimension.column();
    let sql = format!(
        "SELECT if({column} = '', 'unknown', {column}) AS key, toInt64(sum(v)) AS value \
         FROM ({per_product}) \
         ANY LEFT JOIN (SELECT product_id, {column} FROM products FINAL) USING product_id \
         GROUP BY key ORDER BY value DESC, key"
    );
    Ok(analytics.client().query(&sql).fetch_all::<Figure>().await?)
}

/// Orders, units and revenue per hour or day, optionally of one category.
pub async fn sales(
    analytics: &Analytics,
    daily: bool,
    window: Window,
    category: Option<&str>,
) -> anyhow::Result<Vec<SalesPoint>> {
    let bucket = if daily {
        "toStartOfDay(at)"
    } else {
        "toStartOfHour(at)"
    };
    let filter = if category.is_some() {
        " WHERE product_id IN (SELECT product_id FROM products FINAL WHERE category = ?)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT toUInt32({bucket}) AS t, toInt64(uniqExact(order_id)) AS orders, sum(units) AS units, \
                sum(revenue_cents) AS revenue_cents \
         FROM ({}){filter} GROUP BY t ORDER BY t",
        sold_lines(window)
    );
    let mut query = analytics.client().query(&sql);
    if let Some(category) = category {
        query = query.bind(category);
    }
    Ok(query.fetch_all::<SalesPoint>().await?)
}

/// Products whose stock is below `below`, lowest first.
pub async fn low_stock(
    analytics: &Analytics,
    below: i64,
    limit: u32,
) -> anyhow::Result<Vec<Stock>> {
    let sql = format!(
        "SELECT product_id, name, category, inventory \
         FROM (SELECT product_id, inventory FROM inventory FINAL WHERE inventory < ?) \
         ANY LEFT JOIN (SELECT product_id, name, category FROM products FINAL) USING product_id \
         ORDER BY inventory, product_id LIMIT {limit}"
    );
    Ok(analytics
        .client()
        .query(&sql)
        .bind(below)
        .fetch_all::<Stock>()
        .await?)
}

/// Names of `products`, by id.
pub async fn names(
    analytics: &Analytics,
    products: &[String],
) -> anyhow::Result<HashMap<String, String>> {
    #[derive(Row, Deserialize)]
    struct Name {
        product_id: String,
        name: String,
    }
    // ClickHouse types an empty array literal as Array(Nothing), which `has` refuses.
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = analytics
        .client()
        .query("SELECT product_id, name FROM products FINAL WHERE has(?, product_id)")
        .bind(products)
        .fetch_all::<Name>()
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.product_id, row.name))
        .collect())
}
