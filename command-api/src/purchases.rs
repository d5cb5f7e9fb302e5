//! What customers bought, read from the event store.

use sqlx::PgPool;
use uuid::Uuid;

/// Whether `customer` received `product`: an order of theirs that holds it
/// was delivered (and maybe returned since). Only such a customer may rate it,
/// so no seller can rate their own listings up.
pub async fn received(pool: &PgPool, customer: Uuid, product: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS ( \
             SELECT 1 FROM events placed \
             JOIN events delivered ON delivered.aggregate_type = 'Order' \
                  AND delivered.aggregate_id = placed.aggregate_id \
                  AND delivered.event_type = 'OrderDelivered' \
             WHERE placed.aggregate_type = 'Order' AND placed.event_type = 'OrderCreated' \
               AND placed.payload -> 'OrderCreated' ->> 'customerId' = $1 \
               AND placed.payload -> 'OrderCreated' -> 'items' @> jsonb_build_array(jsonb_build_object('productId', $2::text)))",
    )
    .bind(customer.to_string())
    .bind(product.to_string())
    .fetch_one(pool)
    .await
}
