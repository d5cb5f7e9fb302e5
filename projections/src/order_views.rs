//! Order views in Postgres: an order's status and timeline, a user's orders,
//! the user's profile, and sellers.

use crate::{Envelope, Projection};
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

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
pub(crate) fn status_after(event: &str, body: &Value) -> Option<&'static str> {
    Some(match event {
        "OrderCreated" => "Created",
        "OrderValidated" => "Validated",
        "PaymentProcessed" if body["paymentStatus"] == "SUCCESS" => "PaymentProcessed",
        "PaymentProcessed" => "PaymentDeclined",
        "InventoryReserved" => "InventoryReserved",
        "OrderShipped" => "Shipped",
        "OrderDelivered" => "Delivered",
        "OrderCancelled" => "Cancelled",
        "OrderReturned" => "Returned",
        _ => return None,
    })
}

async fn apply_order(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let order_id = Uuid::parse_str(&event.aggregate_id)?;
    let Some(status) = status_after(event.name(), &event.body) else {
        return Ok(());
    };
    let at = event.timestamp();
    sqlx::query(
        "INSERT INTO order_timeline (order_id, sequence, event, occurred_at, body) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(order_id)
    .bind(event.sequence)
    .bind(event.name())
    .bind(at)
    .bind(&event.body)
    .execute(&mut **tx)
    .await?;
    if event.name() == "OrderCreated" {
        let customer = Uuid::parse_str(event.body["customerId"].as_str().unwrap_or_default())?;
        sqlx::query(
            "INSERT INTO order_views (order_id, customer_id, status, items, total_price, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, ($5::text)::numeric, $6, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(order_id)
        .bind(customer)
        .bind(status)
        .bind(&event.body["items"])
        .bind(event.body["totalPrice"].to_string())
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
    let user_id = Uuid::parse_str(&event.aggregate_id)?;
    let body = &event.body;
    match event.name() {
        "created" => {
            sqlx::query(
                "INSERT INTO user_views (user_id, email, name, role, version) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(body["email"].as_str().unwrap_or_default())
            .bind(body["name"].as_str().unwrap_or_default())
            .bind(body["role"].as_str().unwrap_or("customer"))
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        "updated" => {
            let seller: Option<Uuid> = body["sellerId"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok());
            sqlx::query(
                "UPDATE user_views SET name = coalesce($2, name), address = coalesce($3, address), \
                        role = coalesce($4, role), seller_id = coalesce($5, seller_id), version = $6 \
                 WHERE user_id = $1 AND version < $6",
            )
            .bind(user_id)
            .bind(body["name"].as_str())
            .bind(body.get("address").filter(|a| a.is_object()))
            .bind(body["role"].as_str())
            .bind(seller)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

async fn apply_seller(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let seller_id = Uuid::parse_str(&event.aggregate_id)?;
    let body = &event.body;
    match event.name() {
        "created" => {
            let user = Uuid::parse_str(body["userId"].as_str().unwrap_or_default())?;
            sqlx::query(
                "INSERT INTO seller_views (seller_id, user_id, name, contact_email, created_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(seller_id)
            .bind(user)
            .bind(body["name"].as_str().unwrap_or_default())
            .bind(body["contactEmail"].as_str().unwrap_or_default())
            .bind(event.timestamp())
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        "updated" => {
            sqlx::query(
                "UPDATE seller_views SET name = coalesce($2, name), \
                        contact_email = coalesce($3, contact_email), version = $4 \
                 WHERE seller_id = $1 AND version < $4",
            )
            .bind(seller_id)
            .bind(body["name"].as_str())
            .bind(body["contactEmail"].as_str())
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
        "order-views"
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
            match event.aggregate_type.as_str() {
                "Order" => apply_order(&mut tx, event).await?,
                "User" => apply_user(&mut tx, event).await?,
                "Seller" => apply_seller(&mut tx, event).await?,
                _ => {}
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
