//! The order saga end to end: HTTP ➜ event store ➜ relay ➜ NATS ➜ saga ➜ back.

use crate::support;

use async_nats::jetstream::message::StreamMessage;
use atlantic_domain::order::OrderStatus;
use atlantic_domain::payment::PaymentState;
use atlantic_platform::bus::LOADS_METRIC;
use atlantic_sagas::SagaSettings;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use support::nats::all_messages;
use support::scenario::{address, id_of, Shopper};
use support::{eventually, TestApp, TestEnv};
use uuid::Uuid;

fn settings() -> SagaSettings {
    SagaSettings {
        payment_timeout: Duration::from_secs(2),
        max_deliveries: 3,
        deadline_poll: Duration::from_millis(50),
        ..SagaSettings::default()
    }
}

async fn order(
    app: &TestApp,
    customer: &Shopper,
    items: &[(Uuid, u32)],
    token: &str,
    postal_code: &str,
) -> Uuid {
    let mut shipping = address();
    shipping["postalCode"] = json!(postal_code);
    let items: Vec<Value> = items
        .iter()
        .map(|(p, q)| json!({"productId": p, "quantity": q}))
        .collect();
    let response = app
        .post(
            "/orders",
            Some(&customer.token),
            json!({"items": items, "shippingAddress": shipping, "payment": {"token": token}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    id_of(response).await
}

async fn reaches(app: &TestApp, order: Uuid, status: OrderStatus) {
    eventually(
        Duration::from_secs(30),
        &format!("order {order} to be {status}"),
        || async {
            let current = app
                .shop
                .buses
                .orders
                .load(&order.to_string())
                .await
                .ok()?
                .status();
            (current == status).then_some(())
        },
    )
    .await;
}

async fn inventory(app: &TestApp, product: Uuid) -> i64 {
    app.shop
        .buses
        .products
        .load(&product.to_string())
        .await
        .unwrap()
        .inventory()
}

/// The order's events on NATS, once `count` of them are there.
async fn published(env: &TestEnv, order: Uuid, count: usize) -> Vec<StreamMessage> {
    let js = env.nats.jetstream().await;
    eventually(
        Duration::from_secs(30),
        "the order's events on NATS",
        || async {
            let mine: Vec<StreamMessage> = all_messages(&js, "ATLANTIC_EVENTS")
                .await
                .into_iter()
                .filter(|m| m.subject.starts_with("events.order."))
                .filter(|m| {
                    m.headers.get("Atlantic-Aggregate-Id").map(|v| v.as_str())
                        == Some(&order.to_string())
                })
                .collect();
            (mine.len() >= count).then_some(mine)
        },
    )
    .await
}

fn body(message: &StreamMessage) -> Value {
    serde_json::from_slice(&message.payload).unwrap()
}

fn header(message: &StreamMessage, name: &str) -> String {
    message
        .headers
        .get(name)
        .map(|v| v.as_str().to_string())
        .unwrap_or_default()
}

async fn payment_state(app: &TestApp, order: Uuid) -> PaymentState {
    let bus = atlantic_platform::bus::CommandBus::<atlantic_domain::payment::Payment>::new(
        app.shop.pool.clone(),
        None,
    );
    bus.load(&order.to_string()).await.unwrap().state()
}

/// How many `aggregate`s the process of `app` loaded whole from the store.
async fn loads_from_store(app: &TestApp, aggregate: &str) -> i64 {
    let metrics = app.metrics().await;
    let counter = format!("{LOADS_METRIC}{{aggregate=\"{aggregate}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&counter))
        .map_or(0, |n| n.parse().unwrap())
}

/// The API and the saga of one process share their command buses: the saga
/// validates, pays for, reserves and ships an order the API created, on
/// products the API listed, without loading either from the store. Another
/// process, which never saw the order, has to.
#[tokio::test]
async fn the_saga_works_on_the_orders_and_products_its_process_already_holds() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let laptop = app.product(&seller, 19.99, 10).await;
    let customer = app.customer().await;
    let order_id = order(&app, &customer, &[(laptop, 2)], "tok_visa", "1000-001").await;
    reaches(&app, order_id, OrderStatus::Shipped).await;
    assert_eq!(inventory(&app, laptop).await, 8);
    assert_eq!(loads_from_store(&app, "Order").await, 0);
    assert_eq!(loads_from_store(&app, "Product").await, 0);

    let other = env.spawn_app(false).await;
    reaches(&other, order_id, OrderStatus::Shipped).await;
    assert_eq!(inventory(&other, laptop).await, 8);
    assert_eq!(loads_from_store(&other, "Order").await, 1);
    assert_eq!(loads_from_store(&other, "Product").await, 1);
}

#[tokio::test]
async fn an_order_is_validated_paid_reserved_shipped_and_delivered() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let laptop = app.product(&seller, 19.99, 10).await;
    let bag = app.product(&seller, 39.99, 5).await;
    let customer = app.customer().await;
    let admin = app.admin().await;

    let order_id = order(
        &app,
        &customer,
        &[(laptop, 2), (bag, 1)],
        "tok_visa",
        "1000-001",
    )
    .await;
    reaches(&app, order_id, OrderStatus::Shipped).await;
    let response = app
        .post(
            &format!("/orders/{order_id}/delivery"),
            Some(&admin.token),
            json!({"deliveryStatus": "DELIVERED"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    reaches(&app, order_id, OrderStatus::Delivered).await;

    let messages = published(&env, order_id, 6).await;
    let names: Vec<String> = messages
        .iter()
        .map(|m| body(m)["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "OrderCreated",
            "OrderValidated",
            "PaymentProcessed",
            "InventoryReserved",
            "OrderShipped",
            "OrderDelivered"
        ]
    );
    let expected_fields: [&[&str]; 6] = [
        &["customerId", "items", "totalPrice"],
        &["isValid", "validationErrors"],
        &["paymentId", "paymentStatus", "amount"],
        &["items"],
        &["shipmentId", "carrier", "trackingNumber"],
        &["deliveryStatus"],
    ];
    for (message, fields) in messages.iter().zip(expected_fields) {
        let body = body(message);
        let mut expected: BTreeSet<&str> = fields.iter().copied().collect();
        expected.extend(["event", "timestamp", "orderId"]);
        let actual: BTreeSet<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(actual, expected, "{}", body["event"]);
        assert_eq!(body["orderId"], order_id.to_string());
        assert_eq!(
            message.subject.as_str(),
            format!("events.order.{}", body["event"].as_str().unwrap())
        );
    }
    assert_eq!(body(&messages[1])["isValid"], true);
    assert_eq!(body(&messages[2])["paymentStatus"], "SUCCESS");
    assert_eq!(body(&messages[2])["amount"].to_string(), "79.97");
    assert_eq!(
        body(&messages[3])["items"],
        json!([
            {"productId": laptop.to_string(), "quantity": 2},
            {"productId": bag.to_string(), "quantity": 1},
        ])
    );
    assert!(body(&messages[4])["trackingNumber"].as_str().unwrap().len() > 8);
    for pair in messages[..5].windows(2) {
        assert_eq!(
            header(&pair[1], "Atlantic-Causation-Id"),
            header(&pair[0], "Atlantic-Event-Id")
        );
        assert_eq!(
            header(&pair[1], "Atlantic-Correlation-Id"),
            header(&pair[0], "Atlantic-Correlation-Id")
        );
    }
    assert_eq!(inventory(&app, laptop).await, 8);
    assert_eq!(inventory(&app, bag).await, 4);
    assert_eq!(payment_state(&app, order_id).await, PaymentState::Captured);

    let cancel = app
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&customer.token),
            json!({"reason": "late"}),
        )
        .await;
    assert_eq!(
        cancel.status(),
        StatusCode::CONFLICT,
        "no cancelling after shipping"
    );
    let returned = app
        .post(
            &format!("/orders/{order_id}/return"),
            Some(&customer.token),
            json!({"reason": "Damaged item"}),
        )
        .await;
    assert_eq!(returned.status(), StatusCode::ACCEPTED);
    reaches(&app, order_id, OrderStatus::Returned).await;
    let messages = published(&env, order_id, 7).await;
    let returned = body(&messages[6]);
    assert_eq!(returned["event"], "OrderReturned");
    assert_eq!(returned["refundAmount"].to_string(), "79.97");
    assert_eq!(returned["returnReason"], "Damaged item");
    eventually(
        Duration::from_secs(30),
        "the return to be restocked and refunded",
        || async {
            let restocked = inventory(&app, laptop).await == 10 && inventory(&app, bag).await == 5;
            let refunded = payment_state(&app, order_id).await == PaymentState::Refunded;
            (restocked && refunded).then_some(())
        },
    )
    .await;
}

async fn cancellation_reason(env: &TestEnv, order: Uuid, events: usize) -> String {
    let messages = published(env, order, events).await;
    let last = body(messages.last().unwrap());
    assert_eq!(last["event"], "OrderCancelled");
    last["cancellationReason"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn declined_and_unanswered_payments_cancel_the_order_and_keep_the_stock() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 10.0, 3).await;
    let customer = app.customer().await;

    let declined = order(&app, &customer, &[(product, 1)], "tok_decline", "1000").await;
    let unanswered = order(&app, &customer, &[(product, 1)], "tok_timeout", "1000").await;
    reaches(&app, declined, OrderStatus::Cancelled).await;
    reaches(&app, unanswered, OrderStatus::Cancelled).await;

    assert_eq!(
        cancellation_reason(&env, declined, 4).await,
        "payment declined"
    );
    let messages = published(&env, declined, 4).await;
    assert_eq!(body(&messages[2])["paymentStatus"], "DECLINED");
    assert_eq!(payment_state(&app, declined).await, PaymentState::Declined);

    let reason = cancellation_reason(&env, unanswered, 3).await;
    assert!(
        reason.starts_with("payment not answered within 2"),
        "{reason}"
    );
    assert_eq!(payment_state(&app, unanswered).await, PaymentState::Pending);
    assert_eq!(inventory(&app, product).await, 3);
}

#[tokio::test]
async fn an_unknown_product_fails_validation() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let customer = app.customer().await;
    let ghost = Uuid::now_v7();
    let order_id = order(&app, &customer, &[(ghost, 1)], "tok_visa", "1000").await;
    reaches(&app, order_id, OrderStatus::Cancelled).await;
    let messages = published(&env, order_id, 3).await;
    let validated = body(&messages[1]);
    assert_eq!(validated["isValid"], false);
    assert!(validated["validationErrors"][0]
        .as_str()
        .unwrap()
        .contains(&ghost.to_string()));
    assert!(cancellation_reason(&env, order_id, 3)
        .await
        .starts_with("validation failed"));
    assert_eq!(payment_state(&app, order_id).await, PaymentState::Pending);
}

#[tokio::test]
async fn a_short_product_releases_what_was_held_and_refunds() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let plenty = app.product(&seller, 10.0, 10).await;
    let scarce = app.product(&seller, 5.0, 2).await;
    let customer = app.customer().await;
    let order_id = order(
        &app,
        &customer,
        &[(plenty, 3), (scarce, 3)],
        "tok_visa",
        "1000",
    )
    .await;
    reaches(&app, order_id, OrderStatus::Cancelled).await;
    let reason = cancellation_reason(&env, order_id, 4).await;
    assert!(reason.contains(&scarce.to_string()), "{reason}");
    eventually(
        Duration::from_secs(30),
        "the release and the refund",
        || async {
            let released = inventory(&app, plenty).await == 10;
            let refunded = payment_state(&app, order_id).await == PaymentState::Refunded;
            (released && refunded).then_some(())
        },
    )
    .await;
    assert_eq!(inventory(&app, scarce).await, 2);
}

#[tokio::test]
async fn a_failing_step_is_dead_lettered_and_a_customer_cancel_releases_and_refunds() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 10.0, 5).await;
    let customer = app.customer().await;
    let order_id = order(&app, &customer, &[(product, 2)], "tok_visa", "00000").await;
    reaches(&app, order_id, OrderStatus::InventoryReserved).await;

    let parked = eventually(Duration::from_secs(30), "the dead letter", || async {
        env.dead_letters().await.into_iter().next()
    })
    .await;
    assert_eq!(parked.consumer, "order-saga");
    assert_eq!(parked.subject, "events.order.InventoryReserved");
    assert!(parked.error.contains("00000"), "{}", parked.error);
    assert_eq!(i64::from(parked.attempts), settings().max_deliveries);
    assert_eq!(inventory(&app, product).await, 3);

    let stranger = app.customer().await;
    let response = app
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&stranger.token),
            json!({"reason": "mine now"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&customer.token),
            json!({"reason": "Customer request"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        cancellation_reason(&env, order_id, 5).await,
        "Customer request"
    );
    eventually(
        Duration::from_secs(30),
        "the release and the refund",
        || async {
            let released = inventory(&app, product).await == 5;
            let refunded = payment_state(&app, order_id).await == PaymentState::Refunded;
            (released && refunded).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn two_hundred_orders_for_fifty_units_never_oversell() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 3.0, 50).await;
    let mut customers = Vec::new();
    for _ in 0..10 {
        customers.push(app.customer().await);
    }
    let orders = join_all((0..200).map(|i| {
        let customer = &customers[i % customers.len()];
        let app = &app;
        async move { order(app, customer, &[(product, 1)], "tok_visa", "1000").await }
    }))
    .await;

    let finals = eventually(
        Duration::from_secs(120),
        "every order to finish",
        || async {
            let mut finals = Vec::new();
            for id in &orders {
                let status = app
                    .shop
                    .buses
                    .orders
                    .load(&id.to_string())
                    .await
                    .ok()?
                    .status();
                if !matches!(status, OrderStatus::Shipped | OrderStatus::Cancelled) {
                    return None;
                }
                finals.push((*id, status));
            }
            Some(finals)
        },
    )
    .await;
    let shipped = finals
        .iter()
        .filter(|(_, s)| *s == OrderStatus::Shipped)
        .count();
    assert_eq!(shipped, 50);
    assert_eq!(finals.len() - shipped, 150);
    assert_eq!(inventory(&app, product).await, 0);
    let lowest: Option<i64> = sqlx::query_scalar(
        "SELECT min((payload -> event_type ->> 'inventory')::bigint) FROM events WHERE aggregate_type = 'Product'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(lowest, Some(0), "stock never went below zero");
    eventually(
        Duration::from_secs(60),
        "every cancelled order refunded",
        || async {
            for (id, status) in &finals {
                let expected = if *status == OrderStatus::Shipped {
                    PaymentState::Captured
                } else {
                    PaymentState::Refunded
                };
                if payment_state(&app, *id).await != expected {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;
}

/// `times` inventory adjustments of one unit, one after another.
async fn restock_one_by_one(app: &TestApp, seller: &Shopper, product: Uuid, times: usize) {
    for _ in 0..times {
        let adjusted = app
            .post(
                &format!("/products/{product}/inventory"),
                Some(&seller.token),
                json!({"adjust": 1}),
            )
            .await;
        assert_eq!(adjusted.status(), StatusCode::ACCEPTED);
    }
}

/// The newest snapshot of a product, in bytes of JSON.
async fn snapshot_size(env: &TestEnv, product: Uuid) -> i32 {
    sqlx::query_scalar(
        "SELECT length(payload::text) FROM snapshots WHERE aggregate_type = 'Product' \
         AND aggregate_id = $1 ORDER BY last_sequence DESC LIMIT 1",
    )
    .bind(product.to_string())
    .fetch_one(&env.pool)
    .await
    .expect("a snapshot")
}

#[tokio::test]
async fn a_product_with_a_thousand_finished_orders_has_a_snapshot_no_larger_than_one_with_none() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let admin = app.admin().await;
    let seller = app.seller().await;
    let busy = app.product(&seller, 3.0, 100_000).await;
    let quiet = app.product(&seller, 3.0, 100_000).await;
    restock_one_by_one(&app, &seller, quiet, 1_100).await;
    let customers = join_all((0..8).map(|_| app.customer())).await;
    let mut orders = Vec::new();
    for chunk in 0..10 {
        orders.extend(
            join_all((0..100).map(|i| {
                let customer = &customers[(chunk * 100 + i) % customers.len()];
                let app = &app;
                async move { order(app, customer, &[(busy, 1)], "tok_visa", "1000").await }
            }))
            .await,
        );
    }
    for order_id in &orders {
        reaches(&app, *order_id, OrderStatus::Shipped).await;
    }
    // Some are delivered and sent back, some cancelled before they ship.
    for order_id in &orders[..5] {
        let delivered = app
            .post(
                &format!("/orders/{order_id}/delivery"),
                Some(&admin.token),
                json!({"deliveryStatus": "DELIVERED"}),
            )
            .await;
        assert_eq!(delivered.status(), StatusCode::ACCEPTED);
    }
    let owner = |order_id: &Uuid| {
        let index = orders.iter().position(|o| o == order_id).unwrap();
        &customers[index % customers.len()]
    };
    for order_id in &orders[..5] {
        let returned = app
            .post(
                &format!("/orders/{order_id}/return"),
                Some(&owner(order_id).token),
                json!({"reason": "too small"}),
            )
            .await;
        assert_eq!(returned.status(), StatusCode::ACCEPTED);
    }
    let declined = order(&app, &customers[0], &[(busy, 1)], "tok_decline", "1000").await;
    reaches(&app, declined, OrderStatus::Cancelled).await;
    eventually(
        Duration::from_secs(60),
        "every reservation ended",
        || async {
            let product = app.shop.buses.products.load(&busy.to_string()).await.ok()?;
            let restocked = product.inventory() == 100_000 - 1_000 + 5;
            (product.open_reservations() == 0 && restocked).then_some(())
        },
    )
    .await;
    let restocks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'StockRestocked'",
    )
    .bind(busy.to_string())
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(restocks, 5, "each return restocked once");
    // Snapshots are written every 100 events: a hundred more make sure the
    // newest one was taken after the last order ended.
    restock_one_by_one(&app, &seller, busy, 100).await;
    let (busy_size, quiet_size) = (
        snapshot_size(&env, busy).await,
        snapshot_size(&env, quiet).await,
    );
    assert!(
        busy_size <= quiet_size,
        "a busy product's snapshot is {busy_size} bytes, a quiet one's {quiet_size}"
    );
}

#[tokio::test]
async fn a_cancel_racing_the_carrier_never_ends_both_shipped_and_refunded() {
    let env = TestEnv::new().await;
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 7.0, 1_000).await;
    let customers = join_all((0..4).map(|_| app.customer())).await;
    // The sandbox confirms a booking to this postal code only after a while:
    // a cancel sent once the parcel is booked lands before the confirmation.
    let slow = atlantic_sagas::carrier::SLOW_POSTAL_CODE;
    let outcomes = join_all((0..40).map(|i| {
        let app = &app;
        let customer = &customers[i % customers.len()];
        async move {
            let order_id = order(app, customer, &[(product, 1)], "tok_visa", slow).await;
            if i % 2 == 0 {
                eventually(Duration::from_secs(30), "the parcel booked", || async {
                    let booked: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM sandbox_shipments WHERE order_id = $1)",
                    )
                    .bind(order_id)
                    .fetch_one(&app.shop.pool)
                    .await
                    .ok()?;
                    booked.then_some(())
                })
                .await;
            }
            let cancel = app
                .post(
                    &format!("/orders/{order_id}/cancel"),
                    Some(&customer.token),
                    json!({"reason": "changed my mind"}),
                )
                .await;
            assert!(
                [StatusCode::ACCEPTED, StatusCode::CONFLICT].contains(&cancel.status()),
                "{}",
                cancel.status()
            );
            order_id
        }
    }))
    .await;
    let mut booked_then_cancelled = 0;
    for order_id in outcomes {
        let status = eventually(Duration::from_secs(60), "the order to end", || async {
            let status = app
                .shop
                .buses
                .orders
                .load(&order_id.to_string())
                .await
                .ok()?
                .status();
            matches!(status, OrderStatus::Shipped | OrderStatus::Cancelled).then_some(status)
        })
        .await;
        // Shipped: the money is kept; cancelled: none is kept (never taken,
        // or given back).
        eventually(Duration::from_secs(60), "the payment to settle", || async {
            let captured = payment_state(&app, order_id).await == PaymentState::Captured;
            (captured == (status == OrderStatus::Shipped)).then_some(())
        })
        .await;
        let booking: Option<bool> = sqlx::query_scalar(
            "SELECT cancelled_at IS NULL FROM sandbox_shipments WHERE order_id = $1",
        )
        .bind(order_id)
        .fetch_optional(&env.pool)
        .await
        .unwrap();
        if status == OrderStatus::Shipped {
            assert_eq!(booking, Some(true), "a shipped order has its parcel booked");
        } else {
            assert_ne!(
                booking,
                Some(true),
                "a cancelled order has no parcel on its way"
            );
            booked_then_cancelled += usize::from(booking.is_some());
        }
    }
    assert!(booked_then_cancelled > 0, "some cancels raced a booking");
}

#[tokio::test]
async fn a_payment_answered_after_its_deadline_is_reconciled_not_lost() {
    let env = TestEnv::new().await;
    // The deadline is 2 s; `tok_slow` takes the money at once and answers after 4 s.
    let app = env.spawn_shop(settings()).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 9.0, 100).await;
    let customer = app.customer().await;
    let mut kept = Vec::new();
    let mut cancelled = Vec::new();
    for i in 0..10 {
        let order_id = order(&app, &customer, &[(product, 1)], "tok_slow", "1000").await;
        if i % 2 == 0 {
            // Cancelled once the gateway took the money, before it answers.
            eventually(Duration::from_secs(10), "the charge taken", || async {
                let taken: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM sandbox_charges WHERE order_id = $1)",
                )
                .bind(order_id)
                .fetch_one(&env.pool)
                .await
                .ok()?;
                taken.then_some(())
            })
            .await;
            let cancel = app
                .post(
                    &format!("/orders/{order_id}/cancel"),
                    Some(&customer.token),
                    json!({"reason": "too slow"}),
                )
                .await;
            assert_eq!(cancel.status(), StatusCode::ACCEPTED);
            cancelled.push(order_id);
        } else {
            kept.push(order_id);
        }
    }
    for order_id in &kept {
        reaches(&app, *order_id, OrderStatus::Shipped).await;
    }
    for order_id in &cancelled {
        reaches(&app, *order_id, OrderStatus::Cancelled).await;
    }
    // The cancelled ones' money, taken while they waited, comes back.
    eventually(
        Duration::from_secs(30),
        "the money of cancelled orders back",
        || async {
            let refunded: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sandbox_charges WHERE order_id = ANY($1) AND refund_id IS NOT NULL",
        )
        .bind(&cancelled)
        .fetch_one(&env.pool)
        .await
        .ok()?;
            (refunded as usize == cancelled.len()).then_some(())
        },
    )
    .await;
    let (agrees, printed) = env.payments_audit().await;
    assert!(agrees, "{printed}");

    // Money kept for a cancelled order is what the audit is for.
    sqlx::query(
        "INSERT INTO sandbox_charges (order_id, payment_id, amount_cents, approved) \
         VALUES ($1, 'pay_kept', 900, true) ON CONFLICT (order_id) DO UPDATE SET refund_id = NULL",
    )
    .bind(cancelled[0])
    .execute(&env.pool)
    .await
    .unwrap();
    let (agrees, printed) = env.payments_audit().await;
    assert!(!agrees, "{printed}");
    assert!(printed.contains(&cancelled[0].to_string()), "{printed}");
    assert_eq!(printed.matches("OrderCancelled").count(), 1, "{printed}");
}

#[tokio::test]
async fn a_refund_whose_gateway_is_down_for_ten_seconds_is_made_once_it_can_be() {
    let env = TestEnv::new().await;
    let app = env
        .spawn_shop(SagaSettings {
            redrive_wait: Duration::from_secs(2),
            ..settings()
        })
        .await;
    let seller = app.seller().await;
    let product = app.product(&seller, 12.0, 5).await;
    let customer = app.customer().await;
    // The carrier never serves 00000, so the order waits with its stock held;
    // the gateway refuses this charge's refund for its first 10 s.
    let order_id = order(
        &app,
        &customer,
        &[(product, 2)],
        "tok_refund_later",
        "00000",
    )
    .await;
    reaches(&app, order_id, OrderStatus::InventoryReserved).await;
    let cancel = app
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&customer.token),
            json!({"reason": "no delivery here"}),
        )
        .await;
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    eventually(Duration::from_secs(10), "the stock released", || async {
        (inventory(&app, product).await == 5).then_some(())
    })
    .await;
    let refunds = || async {
        let ledger: Option<String> =
            sqlx::query_scalar("SELECT refund_id FROM sandbox_charges WHERE order_id = $1")
                .bind(order_id)
                .fetch_one(&env.pool)
                .await
                .unwrap();
        let events: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'PaymentRefunded'",
        )
        .bind(order_id.to_string())
        .fetch_one(&env.pool)
        .await
        .unwrap();
        (ledger, events)
    };
    assert_eq!(refunds().await, (None, 0), "the gateway is still refusing");
    eventually(Duration::from_secs(60), "the refund made", || async {
        (payment_state(&app, order_id).await == PaymentState::Refunded).then_some(())
    })
    .await;
    let (ledger, events) = refunds().await;
    assert!(ledger.is_some());
    assert_eq!(events, 1, "refunded exactly once");
    eventually(Duration::from_secs(30), "no step left parked", || async {
        env.dead_letters().await.is_empty().then_some(())
    })
    .await;
    let (agrees, printed) = env.payments_audit().await;
    assert!(agrees, "{printed}");
}
