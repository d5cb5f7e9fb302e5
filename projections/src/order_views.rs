//! Order views in Postgres: an order's status and timeline, a user's orders,
//! the user's profile, and sellers.

use crate::replay::PostgresReadModel;
use crate::{Envelope, Projection};
use atlantic_domain::order::PaymentStatus;
use atlantic_domain::published::PublishedEvent;
use sqlx::{PgPool, Postgres, Transaction};
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

async fn apply_order(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let Some(status) = status_after(event.event()) else {
        return Ok(());
    };
    let order_id = Uuid::parse_str(&event.aggregate_id)?;
    let at = event.timestamp();
    sqlx::query(
        "INSERT INTO order_timeline (order_id, sequence, event, occurred_at, body) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(order_id)
    .bind(event.sequence)
    .bind(event.event().name())
    .bind(at)
    .bind(serde_json::to_value(&event.published)?)
    .execute(&mut **tx)
    .await?;
    if let PublishedEvent::OrderCreated {
        customer_id,
        items,
        total_price,
        ..
    } = event.event()
    {
        sqlx::query(
            "INSERT INTO order_views (order_id, customer_id, status, items, total_price, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, ($5::text)::numeric, $6, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(order_id)
        .bind(customer_id)
        .bind(status)
        .bind(serde_json::to_value(items)?)
        .bind(total_price.to_string())
        .bind(at)
        .bind(event.sequence)
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "UPDATE order_views SET status = $2, updated_at = $3, version = $4 WHERE order_id = $1 AND version < $4",
        )
        .bind(order_id)
        .bind(status)
        .bind(at)
        .bind(event.sequence)
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
        for event in events {
            apply_order(&mut tx, event).await?;
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
