//! Event versioning in use: an order written by an earlier release, with
//! money stored as decimals (version 1), loads, takes commands and is
//! published with the brief's JSON unchanged.

use crate::support;

use atlantic_domain::order::OrderStatus;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::nats::all_messages;
use support::scenario::address;
use support::{eventually, TestEnv};
use uuid::Uuid;

#[tokio::test]
async fn an_order_stored_in_the_old_shape_loads_takes_commands_and_publishes_the_brief() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(true).await;
    let customer = app.customer().await;
    let order = Uuid::now_v7();
    // As the release before money carried its currency wrote it.
    let created = json!({"OrderCreated": {
        "orderId": order, "customerId": customer.id,
        "items": [{"productId": Uuid::now_v7(), "quantity": 2, "price": 19.99}],
        "totalPrice": 39.98,
        "shippingAddress": address(),
        "paymentToken": "tok_visa"}});
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('Order', $1, 1, 'OrderCreated', '1', $2, '{}')",
    )
    .bind(order.to_string())
    .bind(&created)
    .execute(&env.pool)
    .await
    .unwrap();

    let loaded = app
        .shop
        .buses
        .orders
        .load(&order.to_string())
        .await
        .unwrap();
    assert_eq!(loaded.status(), OrderStatus::Created);
    assert_eq!(loaded.customer_id(), Some(customer.id));
    let cancelled = app
        .post(
            &format!("/orders/{order}/cancel"),
            Some(&customer.token),
            json!({"reason": "changed my mind"}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::ACCEPTED);
    let version: String = sqlx::query_scalar(
        "SELECT event_version FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(order.to_string())
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(version, "1", "a stored event is never rewritten");

    let js = env.nats.jetstream().await;
    let published: Value = eventually(Duration::from_secs(30), "the old row published", || {
        let js = js.clone();
        async move {
            all_messages(&js, "ATLANTIC_EVENTS")
                .await
                .iter()
                .filter(|m| m.subject.as_str() == "events.order.OrderCreated")
                .filter_map(|m| serde_json::from_slice::<Value>(&m.payload).ok())
                .find(|body| body["orderId"] == order.to_string())
        }
    })
    .await;
    assert_eq!(published["totalPrice"].to_string(), "39.98");
    assert_eq!(published["items"][0]["price"].to_string(), "19.99");
    assert_eq!(published["items"][0]["quantity"], 2);
    assert_eq!(published["customerId"], customer.id.to_string());
    app.stop().await;
}
