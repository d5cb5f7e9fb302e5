//! `atlantic payments audit`: the orders whose money and state disagree, the
//! gateway's ledger held against the event store.

use crate::payment_gateway::PaymentGateway;
use sqlx::PgPool;
use uuid::Uuid;

/// An order whose money and state disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The order.
    pub order_id: Uuid,
    /// Its last event.
    pub last_event: String,
    /// What is wrong.
    pub problem: &'static str,
}

/// Every order whose money at `gateway` does not match its state: kept for
/// an order cancelled or returned, not kept for one that shipped or was
/// delivered, or kept for one still waiting for its payment with no payment
/// in flight any more (its intent gone, the charge never recorded).
pub async fn audit(
    pool: &PgPool,
    gateway: &dyn PaymentGateway,
) -> anyhow::Result<Vec<Disagreement>> {
    let ended: Vec<(String, String)> = sqlx::query_as(
        "SELECT aggregate_id, event_type FROM ( \
             SELECT DISTINCT ON (aggregate_id) aggregate_id, event_type FROM events \
             WHERE aggregate_type = 'Order' ORDER BY aggregate_id, sequence DESC) last \
         WHERE event_type IN ('OrderCancelled', 'OrderShipped', 'OrderDelivered', 'OrderReturned') \
            OR (event_type = 'OrderValidated' AND NOT EXISTS ( \
                    SELECT 1 FROM saga_deadlines d WHERE d.order_id::text = last.aggregate_id))",
    )
    .fetch_all(pool)
    .await?;
    let mut disagreements = Vec::new();
    for (order_id, last_event) in ended {
        let order_id = Uuid::parse_str(&order_id)?;
        let kept = gateway
            .charge_of(order_id)
            .await?
            .is_some_and(|record| record.keeps_money());
        let must_keep = matches!(last_event.as_str(), "OrderShipped" | "OrderDelivered");
        let problem = match (must_keep, kept) {
            (true, false) => "shipped, but the gateway keeps no money for it",
            (false, true) if last_event == "OrderValidated" => {
                "the gateway keeps its money, but the order never recorded the payment"
            }
            (false, true) => "ended without shipping, but the gateway keeps its money",
            _ => continue,
        };
        disagreements.push(Disagreement {
            order_id,
            last_event,
            problem,
        });
    }
    Ok(disagreements)
}
