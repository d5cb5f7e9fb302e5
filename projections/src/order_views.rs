//! Order views in Postgres: an order's status and timeline, a user's orders,
//! the user's profile, and sellers.

use crate::replay::PostgresReadModel;
use crate::{Envelope, Projection};
use atlantic_domain::order::PaymentStatus;
use atlantic_domain::published::PublishedEvent;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// The projection's name.
pub const NAME: &str = "order-views";

/// Moves each order's view to its last status of a batch, unless the view
/// is already there (`$1` the orders, `$2` their statuses, `$3` when, `$4`
/// the versions). `v.order_id = ANY($1)` reads the views by the primary key
/// whatever the statistics say: without it, a plan made on a young store
/// scanned the whole table for every batch.
pub const LAST_STATUSES: &str =
    "UPDATE order_views v SET status = u.status, updated_at = u.at, version = u.version \
     FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[]) AS u(order_id, status, at, version) \
     WHERE v.order_id = ANY($1) AND v.order_id = u.order_id AND v.version < u.version";

/// Orders (`order_views`, `order_timeline`), users (`user_views`) and sellers
/// (`seller_views`).
pub struct OrderViews {
    pool: PgPool,
}

impl OrderViews {
    /// The projection over the read-model tables in `pool`.
    pub fn new(pool: PgPool) -> Self {
        OrderViews { pool }
    }
}

/// The status an order event leaves the order in.
pub(crate) fn status_after(event: &PublishedEvent) -> Option<&'static str> {
    Some(match event {
        PublishedEvent::OrderCreated { .. } => "Created",
        PublishedEvent::OrderValidated { .. } => "Validated",
        PublishedEvent::PaymentProcessed {
            payment_status: PaymentStatus::Success,
            ..
        } => "PaymentProcessed",
        PublishedEvent::PaymentProcessed { .. } => "PaymentDeclined",
        PublishedEvent::InventoryReserved { .. } => "InventoryReserved",
        PublishedEvent::OrderShipped { .. } => "Shipped",
        PublishedEvent::OrderDelivered { .. } => "Delivered",
        PublishedEvent::OrderCancelled { .. } => "Cancelled",
        PublishedEvent::OrderReturned { .. } => "Returned",
        _ => return None,
    })
}

/// An order event's row of `order_timeline`.
struct TimelineRow {
    order_id: Uuid,
    sequence: i64,
    event: &'static str,
    occurred_at: DateTime<Utc>,
    body: serde_json::Value,
}

/// A new order's row of `order_views`.
struct NewOrder {
    order_id: Uuid,
    customer_id: Uuid,
    status: &'static str,
    items: serde_json::Value,
    total_price: String,
    created_at: DateTime<Utc>,
    version: i64,
}

/// An order's last status in a batch.
struct LastStatus {
    version: i64,
    status: &'static str,
    at: DateTime<Utc>,
}

/// One column of `rows`, to bind as an array.
fn column<'a, R, T>(rows: &'a [R], field: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}

/// The order events of a batch with one statement per table: every
/// timeline row in one insert, every new order in one insert, then each
/// order's last status of the batch in one update. A status is the order's
/// latest event, so the batch's last one per order is what applying its
/// events one by one would leave (and the version check still keeps a newer
/// one in place).
async fn apply_orders(
    tx: &mut Transaction<'_, Postgres>,
    events: &[Envelope],
) -> anyhow::Result<()> {
    let mut timeline = Vec::new();
    let mut created = Vec::new();
    let mut latest: HashMap<Uuid, LastStatus> = HashMap::new();
    for event in events {
        let Some(status) = status_after(event.event()) else {
            continue;
        };
        let order_id = Uuid::parse_str(&event.aggregate_id)?;
        let at = event.timestamp();
        timeline.push(TimelineRow {
            order_id,
            sequence: event.sequence,
            event: event.event().name(),
            occurred_at: at,
            body: serde_json::to_value(&event.published)?,
        });
        if let PublishedEvent::OrderCreated {
            customer_id,
            items,
            total_price,
            ..
        } = event.event()
        {
            created.push(NewOrder {
                order_id,
                customer_id: *customer_id,
                status,
                items: serde_json::to_value(items)?,
                total_price: total_price.to_string(),
                created_at: at,
                version: event.sequence,
            });
        } else if latest
            .get(&order_id)
            .is_none_or(|last| last.version < event.sequence)
        {
            let last = LastStatus {
                version: event.sequence,
                status,
                at,
            };
            latest.insert(order_id, last);
        }
    }
    if timeline.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO order_timeline (order_id, sequence, event, occurred_at, body) \
         SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[], $5::jsonb[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(column(&timeline, |row| row.order_id))
    .bind(column(&timeline, |row| row.sequence))
    .bind(column(&timeline, |row| row.event))
    .bind(column(&timeline, |row| row.occurred_at))
    .bind(column(&timeline, |row| &row.body))
    .execute(&mut **tx)
    .await?;
    if !created.is_empty() {
        sqlx::query(
            "INSERT INTO order_views (order_id, customer_id, status, items, total_price, created_at, updated_at, version) \
             SELECT o, c, s, i, t::numeric, a, a, v \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::bigint[]) \
                 AS x(o, c, s, i, t, a, v) \
             ON CONFLICT DO NOTHING",
        )
        .bind(column(&created, |row| row.order_id))
        .bind(column(&created, |row| row.customer_id))
        .bind(column(&created, |row| row.status))
        .bind(column(&created, |row| &row.items))
        .bind(column(&created, |row| row.total_price.as_str()))
        .bind(column(&created, |row| row.created_at))
        .bind(column(&created, |row| row.version))
        .execute(&mut **tx)
        .await?;
    }
    if !latest.is_empty() {
        let (ids, last): (Vec<Uuid>, Vec<LastStatus>) = latest.into_iter().unzip();
        sqlx::query(LAST_STATUSES)
            .bind(ids)
            .bind(column(&last, |row| row.status))
            .bind(column(&last, |row| row.at))
            .bind(column(&last, |row| row.version))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn apply_user(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    match event.event() {
        PublishedEvent::UserCreated {
            user_id,
            email,
            name,
            role,
        } => {
            sqlx::query(
                "INSERT INTO user_views (user_id, email, name, role, version) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(email)
            .bind(name)
            .bind(role)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        PublishedEvent::UserUpdated {
            user_id,
            name,
            address,
            role,
            seller_id,
        } => {
            sqlx::query(
                "UPDATE user_views SET name = coalesce($2, name), address = coalesce($3, address), \
                        role = coalesce($4, role), seller_id = coalesce($5, seller_id), version = $6 \
                 WHERE user_id = $1 AND version < $6",
            )
            .bind(user_id)
            .bind(name)
            .bind(address.as_ref().map(serde_json::to_value).transpose()?)
            .bind(role)
            .bind(seller_id)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

async fn apply_seller(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    match event.event() {
        PublishedEvent::SellerCreated {
            seller_id,
            user_id,
            name,
            contact_email,
        } => {
            sqlx::query(
                "INSERT INTO seller_views (seller_id, user_id, name, contact_email, created_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(seller_id)
            .bind(user_id)
            .bind(name)
            .bind(contact_email)
            .bind(event.timestamp())
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        PublishedEvent::SellerUpdated {
            seller_id,
            name,
            contact_email,
        } => {
            sqlx::query(
                "UPDATE seller_views SET name = coalesce($2, name), \
                        contact_email = coalesce($3, contact_email), version = $4 \
                 WHERE seller_id = $1 AND version < $4",
            )
            .bind(seller_id)
            .bind(name)
            .bind(contact_email)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

#[async_trait::async_trait]
impl Projection for OrderViews {
    fn name(&self) -> &'static str {
        NAME
    }

    fn subjects(&self) -> Vec<String> {
        vec![
            "events.order.>".into(),
            "events.user.>".into(),
            "events.seller.>".into(),
        ]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        crate::runtime::postgres_reachable(&self.pool).await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut tx = crate::postgres_batch::begin_batch(&self.pool, self.name()).await?;
        apply_orders(&mut tx, events).await?;
        for event in events {
            apply_user(&mut tx, event).await?;
            apply_seller(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What a replay rebuilds of this read model (see [`crate::replay`]).
pub const REPLAY: PostgresReadModel = PostgresReadModel {
    name: NAME,
    generations: &[NAME],
    tables: &[
        "order_views",
        "order_timeline",
        "user_views",
        "seller_views",
    ],
    aggregate_types: &["Order", "User", "Seller"],
    make: |pool| Arc::new(OrderViews::new(pool)),
};
