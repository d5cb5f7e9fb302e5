//! The analytics projectors: domain events and clicks into ClickHouse, in
//! batches of one INSERT per table.

use super::rows::{
    ClickRow, CustomerRow, InventoryRow, OrderLineRow, OrderStatusRow, ProductRow, RatingRow,
};
use super::Analytics;
use crate::order_views::status_after;
use crate::{Envelope, Projection};
use atlantic_domain::published::PublishedEvent;
use atlantic_platform::streams::CLICKS_STREAM;
use clickhouse::Row;
use serde::Serialize;
use std::collections::HashMap;

/// Products looked up per query: 1,000 quoted ids are about 40 KB of query.
const LOOKUP_CHUNK: usize = 1_000;

/// The name of the projection of domain events.
pub const NAME: &str = "analytics";

/// Orders, products, customers and ratings into ClickHouse.
pub struct AnalyticsProjection {
    analytics: Analytics,
}

/// Clicks (stream `ATLANTIC_CLICKS`) into ClickHouse.
pub struct ClicksProjection {
    analytics: Analytics,
}

impl AnalyticsProjection {
    /// The projection writing through `analytics`.
    pub fn new(analytics: Analytics) -> Self {
        AnalyticsProjection { analytics }
    }
}

impl ClicksProjection {
    /// The projection writing through `analytics`.
    pub fn new(analytics: Analytics) -> Self {
        ClicksProjection { analytics }
    }
}

fn seconds(event: &Envelope) -> u32 {
    event.timestamp().timestamp().clamp(0, i64::from(u32::MAX)) as u32
}

async fn insert<T: Row + Serialize + for<'a> Row<Value<'a> = T>>(
    analytics: &Analytics,
    table: &str,
    rows: &[T],
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = analytics.client().insert::<T>(table).await?;
    for row in rows {
        insert.write(row).await?;
    }
    insert.end().await?;
    Ok(())
}

#[derive(Default)]
struct Batch {
    lines: Vec<OrderLineRow>,
    statuses: Vec<OrderStatusRow>,
    products: HashMap<String, ProductRow>,
    /// What the table held, before the batch, of the products it renames.
    stored: HashMap<String, ProductRow>,
    inventory: Vec<InventoryRow>,
    customers: Vec<CustomerRow>,
    ratings: Vec<RatingRow>,
}

impl AnalyticsProjection {
    /// What the table holds of `product_ids`, in one query per
    /// [`LOOKUP_CHUNK`] of them (ClickHouse refuses a query text over
    /// `max_query_size`, 256 KiB by default).
    async fn products(&self, product_ids: &[&str]) -> anyhow::Result<HashMap<String, ProductRow>> {
        let mut found = HashMap::new();
        for chunk in product_ids.chunks(LOOKUP_CHUNK) {
            let rows = self
                .analytics
                .client()
                .query("SELECT product_id, name, category, brand, version FROM products FINAL WHERE has(?, product_id)")
                .bind(chunk)
                .fetch_all::<ProductRow>()
                .await?;
            found.extend(rows.into_iter().map(|row| (row.product_id.clone(), row)));
        }
        Ok(found)
    }

    /// A product's name, category or brand: a new product needs no look-up; a
    /// change merges into what is there (read for the whole batch before),
    /// unless that already holds it.
    fn collect_product(batch: &mut Batch, event: &Envelope) {
        let (created, name, category, brand) = match event.event() {
            PublishedEvent::ProductCreated {
                name,
                category,
                brand,
                ..
            } => (true, Some(name), Some(category), Some(brand)),
            PublishedEvent::ProductUpdated {
                name,
                category,
                brand,
                ..
            } => (false, name.as_ref(), category.as_ref(), brand.as_ref()),
            _ => return,
        };
        if !created && name.is_none() && category.is_none() && brand.is_none() {
            return;
        }
        let current = match batch.products.get(&event.aggregate_id) {
            Some(row) => Some(row.clone()),
            None if created => None,
            None => batch.stored.get(&event.aggregate_id).cloned(),
        };
        if current
            .as_ref()
            .is_some_and(|c| c.version >= event.sequence)
        {
            return;
        }
        let text =
            |new: Option<&String>, old: Option<&String>| new.or(old).cloned().unwrap_or_default();
        let merged = ProductRow {
            product_id: event.aggregate_id.clone(),
            name: text(name, current.as_ref().map(|c| &c.name)),
            category: text(category, current.as_ref().map(|c| &c.category)),
            brand: text(brand, current.as_ref().map(|c| &c.brand)),
            version: event.sequence,
        };
        batch.products.insert(event.aggregate_id.clone(), merged);
    }

    fn collect(batch: &mut Batch, event: &Envelope) {
        let at = seconds(event);
        let id = event.aggregate_id.clone();
        if let PublishedEvent::OrderCreated {
            customer_id, items, ..
        } = event.event()
        {
            for line in items {
                let units = i64::from(line.quantity);
                batch.lines.push(OrderLineRow {
                    order_id: id.clone(),
                    product_id: line.product_id.to_string(),
                    customer_id: customer_id.to_string(),
                    units,
                    revenue_cents: units * line.price.cents(),
                    at,
                });
            }
        }
        if let Some(status) = status_after(event.event()) {
            batch.statuses.push(OrderStatusRow {
                order_id: id,
                status: status.into(),
                version: event.sequence,
                at,
            });
            return;
        }
        Self::collect_product(batch, event);
        match *event.event() {
            PublishedEvent::ProductCreated { inventory, .. }
            | PublishedEvent::ProductUpdated {
                inventory: Some(inventory),
                ..
            } => batch.inventory.push(InventoryRow {
                product_id: id,
                inventory,
                version: event.sequence,
                at,
            }),
            PublishedEvent::RatingAdded {
                product_id, stars, ..
            }
            | PublishedEvent::RatingUpdated {
                product_id, stars, ..
            } => batch.ratings.push(RatingRow {
                rating_id: id,
                product_id: product_id.to_string(),
                stars: i64::from(stars),
                version: event.sequence,
                at,
            }),
            PublishedEvent::RatingDeleted { product_id, .. } => batch.ratings.push(RatingRow {
                rating_id: id,
                product_id: product_id.to_string(),
                stars: 0,
                version: event.sequence,
                at,
            }),
            PublishedEvent::UserUpdated {
                address: Some(ref address),
                ..
            } => batch.customers.push(CustomerRow {
                customer_id: id,
                area: address.region.as_str().to_string(),
                version: event.sequence,
            }),
            _ => {}
        }
    }
}

/// The products whose name, category or brand `events` change.
fn renamed(events: &[Envelope]) -> Vec<&str> {
    let mut ids: Vec<&str> = events
        .iter()
        .filter(|event| {
            matches!(event.event(), PublishedEvent::ProductUpdated { name, category, brand, .. }
                if name.is_some() || category.is_some() || brand.is_some())
        })
        .map(|event| event.aggregate_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[async_trait::async_trait]
impl Projection for AnalyticsProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn subjects(&self) -> Vec<String> {
        vec![
            "events.order.>".into(),
            "events.product.>".into(),
            "events.user.>".into(),
            "events.rating.>".into(),
        ]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.analytics.ping().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut batch = Batch {
            stored: self.products(&renamed(events)).await?,
            ..Batch::default()
        };
        for event in events {
            Self::collect(&mut batch, event);
        }
        let products: Vec<ProductRow> = batch.products.into_values().collect();
        // The tables are independent (no view reads one into another), so
        // their inserts go at once: a batch takes its slowest insert's time,
        // not the sum. A batch that fails in part is applied again whole,
        // which every table's version makes harmless.
        tokio::try_join!(
            insert(&self.analytics, "order_lines", &batch.lines),
            insert(&self.analytics, "order_status", &batch.statuses),
            insert(&self.analytics, "products", &products),
            insert(&self.analytics, "inventory", &batch.inventory),
            insert(&self.analytics, "customers", &batch.customers),
            insert(&self.analytics, "ratings", &batch.ratings),
        )?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Projection for ClicksProjection {
    fn name(&self) -> &'static str {
        "clicks"
    }

    fn stream(&self) -> &'static str {
        CLICKS_STREAM
    }

    fn subjects(&self) -> Vec<String> {
        vec!["clicks.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.analytics.ping().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let rows: Vec<ClickRow> = events
            .iter()
            .filter_map(|event| match event.event() {
                PublishedEvent::ClickTracked {
                    click_id,
                    product_id,
                    kind,
                    area,
                    ..
                } => Some(ClickRow {
                    click_id: click_id.to_string(),
                    product_id: product_id.to_string(),
                    kind: kind.clone(),
                    area: area.clone(),
                    at: seconds(event),
                }),
                _ => None,
            })
            .collect();
        insert(&self.analytics, "clicks", &rows).await
    }
}
