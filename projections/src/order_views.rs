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
    let mut timeline = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut created = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let mut latest: HashMap<Uuid, (i64, &'static str, DateTime<Utc>)> = HashMap::new();
    for event in events {
        let Some(status) = status_after(event.event()) else {
            continue;
        };
        let order_id = Uuid::parse_str(&event.aggregate_id)?;
        let at = event.timestamp();
        timeline.0.push(order_id);
        timeline.1.push(event.sequence);
        timeline.2.push(event.event().name());
        timeline.3.push(at);
        timeline.4.push(serde_json::to_value(&event.published)?);
        if let PublishedEvent::OrderCreated {
            customer_id,
            items,
            total_price,
            ..
        } = event.event()
        {
            created.0.push(order_id);
            created.1.push(*customer_id);
            created.2.push(status);
            created.3.push(serde_json::to_value(items)?);
            created.4.push(total_price.to_string());
            created.5.push(at);
            created.6.push(event.sequence);
        } else if latest
            .get(&order_id)
            .is_none_or(|(sequence, ..)| *sequence < event.sequence)
        {
            latest.insert(order_id, (event.sequence, status, at));
        }
    }
    if timeline.0.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO order_timeline (order_id, sequence, event, occurred_at, body) \
         SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[], $5::jsonb[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&timeline.0)
    .bind(&timeline.1)
    .bind(&timeline.2)
    .bind(&timeline.3)
    .bind(&timeline.4)
    .execute(&mut **tx)
    .await?;
    if !created.0.is_empty() {
        sqlx::query(
            "INSERT INTO order_views (order_id, customer_id, status, items, total_price, created_at, updated_at, version) \
             SELECT o, c, s, i, (t::text)::numeric, a, a, v \
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], $7::bigint[]) \
                 AS x(o, c, s, i, t, a, v) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&created.0)
        .bind(&created.1)
        .bind(&created.2)
        .bind(&created.3)
        .bind(&created.4)
        .bind(&created.5)
        .bind(&created.6)
        .execute(&mut **tx)
        .await?;
    }
    if !latest.is_empty() {
        let (mut ids, mut statuses, mut ats, mut versions) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (order_id, (version, status, at)) in latest {
            ids.push(order_id);
            statuses.push(status);
            ats.push(at);
            versions.push(version);
        }
        sqlx::query(
            "UPDATE order_views v SET status = u.status, updated_at = u.at, version = u.version \
             FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[]) AS u(order_id, status, at, version) \
             WHERE v.order_id = u.order_id AND v.version < u.version",
        )
        .bind(&ids)
        .bind(&statuses)
        .bind(&ats)
        .bind(&versions)
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
    tables: &[
        "order_views",
        "order_timeline",
        "user_views",
        "seller_views",
    ],
    aggregate_types: &["Order", "User", "Seller"],
    make: |pool| Arc::new(OrderViews::new(pool)),
};
