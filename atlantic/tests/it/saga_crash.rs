//! kill -9 of the whole process while 500 orders run through the saga.

use crate::support;

use atlantic_domain::order::{Order, OrderStatus};
use atlantic_platform::bus::CommandBus;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::nats::free_port;
use support::process::{wait_healthy, Server};
use support::scenario::{address, Api};
use support::{eventually, TestEnv};

const ORDERS: usize = 500;
const WORKERS: usize = 16;

async fn count(env: &TestEnv, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&env.pool).await.unwrap()
}

/// Orders with other than one PaymentProcessed.
async fn orders_not_paid_once(env: &TestEnv) -> i64 {
    count(
        env,
        "SELECT count(*) FROM (SELECT aggregate_id FROM events WHERE aggregate_type = 'Order' \
         GROUP BY aggregate_id HAVING count(*) FILTER (WHERE event_type = 'PaymentProcessed') <> 1) o",
    )
    .await
}

#[tokio::test]
async fn every_order_finishes_exactly_once_through_kill_9() {
    let env = TestEnv::new().await;
    let port = free_port();
    let api = Api::new(format!("http://127.0.0.1:{port}"));
    let saga = [("SAGA_ACK_WAIT_SECS", "2"), ("PAYMENT_TIMEOUT_SECS", "30")];
    let mut server = Server::start(&env, port, &saga);
    wait_healthy(&api).await;
    let seller = api.seller().await;
    let plenty = api.product(&seller, 4.0, 10_000).await;
    let scarce = api.product(&seller, 6.0, 60).await;
    let mut customers = Vec::new();
    for _ in 0..8 {
        customers.push(api.customer().await);
    }

    let placed = Arc::new(AtomicUsize::new(0));
    let workers = (0..WORKERS).map(|worker| {
        let api = api.clone();
        let customers = customers.clone();
        let placed = placed.clone();
        async move {
            for i in (worker..ORDERS).step_by(WORKERS) {
                let product = if i % 3 == 0 { scarce } else { plenty };
                let token = if i % 7 == 0 {
                    "tok_decline"
                } else {
                    "tok_visa"
                };
                let body = json!({
                    "items": [{"productId": product, "quantity": 1}],
                    "shippingAddress": address(),
                    "payment": {"token": token},
                });
                loop {
                    let sent = api
                        .http
                        .post(api.url("/orders"))
                        .bearer_auth(&customers[i % customers.len()].token)
                        .json(&body)
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == StatusCode::CREATED => break,
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
                placed.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let load = tokio::spawn(join_all(workers));
    for milestone in [100, 250, 400] {
        eventually(Duration::from_secs(120), "orders to be placed", || async {
            (placed.load(Ordering::SeqCst) >= milestone).then_some(())
        })
        .await;
        server.kill_9();
        server = Server::start(&env, port, &saga);
        wait_healthy(&api).await;
    }
    load.await.unwrap();

    // Orders whose answer was lost in a crash exist too: take every order stored.
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT aggregate_id FROM events WHERE event_type = 'OrderCreated'")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert!(ids.len() >= ORDERS);
    let orders = CommandBus::<Order>::new(env.pool.clone(), None);
    eventually(
        Duration::from_secs(180),
        "every order to finish",
        || async {
            for id in &ids {
                let status = orders.load(id).await.ok()?.status();
                if !matches!(status, OrderStatus::Shipped | OrderStatus::Cancelled) {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;

    assert_eq!(
        orders_not_paid_once(&env).await,
        0,
        "every order has exactly one PaymentProcessed"
    );
    let double_reservations = count(
        &env,
        "SELECT count(*) FROM (SELECT aggregate_id, payload -> 'StockReserved' ->> 'orderId' FROM events \
         WHERE event_type = 'StockReserved' GROUP BY 1, 2 HAVING count(*) > 1) r",
    )
    .await;
    assert_eq!(double_reservations, 0, "no order reserved a product twice");
    // A cancellation's refund follows its OrderCancelled: wait for every one
    // (one lost in a crash would never come), then count the refunds.
    let unrefunded_sql = "SELECT count(*) FROM events c WHERE c.event_type = 'OrderCancelled' \
           AND EXISTS (SELECT 1 FROM events p WHERE p.aggregate_type = 'Payment' AND p.aggregate_id = c.aggregate_id \
                       AND p.event_type = 'PaymentCaptured') \
           AND NOT EXISTS (SELECT 1 FROM events r WHERE r.aggregate_type = 'Payment' AND r.aggregate_id = c.aggregate_id \
                           AND r.event_type = 'PaymentRefunded')";
    eventually(
        Duration::from_secs(180),
        "every cancelled order that was paid to be refunded",
        || async { (count(&env, unrefunded_sql).await == 0).then_some(()) },
    )
    .await;
    let double_refunds = count(
        &env,
        "SELECT count(*) FROM (SELECT aggregate_id FROM events WHERE event_type = 'PaymentRefunded' \
         GROUP BY 1 HAVING count(*) > 1) r",
    )
    .await;
    assert_eq!(double_refunds, 0, "no payment refunded twice");

    let shipped_scarce = count(
        &env,
        &format!(
            "SELECT count(*) FROM events s WHERE s.event_type = 'OrderShipped' AND EXISTS \
             (SELECT 1 FROM events r WHERE r.aggregate_id = '{scarce}' AND r.event_type = 'StockReserved' \
              AND r.payload -> 'StockReserved' ->> 'orderId' = s.aggregate_id)"
        ),
    )
    .await;
    let products = CommandBus::<atlantic_domain::product::Product>::new(env.pool.clone(), None);
    let left = products
        .load(&scarce.to_string())
        .await
        .unwrap()
        .inventory();
    assert_eq!(
        left,
        60 - shipped_scarce,
        "stock left is exactly what shipped orders did not take"
    );
    assert!(left >= 0);
}

#[tokio::test]
async fn slow_payments_survive_kill_9_between_the_charge_and_its_capture() {
    let env = TestEnv::new().await;
    let port = free_port();
    let api = Api::new(format!("http://127.0.0.1:{port}"));
    // The gateway takes the money at once and answers after 4 s: past the
    // 2 s deadline, and a kill -9 lands before any answer is recorded.
    let saga = [("SAGA_ACK_WAIT_SECS", "2"), ("PAYMENT_TIMEOUT_SECS", "2")];
    let mut server = Server::start(&env, port, &saga);
    wait_healthy(&api).await;
    let seller = api.seller().await;
    let product = api.product(&seller, 5.0, 1_000).await;
    let customer = api.customer().await;
    let body = json!({
        "items": [{"productId": product, "quantity": 1}],
        "shippingAddress": address(),
        "payment": {"token": "tok_slow"},
    });
    for _ in 0..30 {
        let placed = api
            .http
            .post(api.url("/orders"))
            .bearer_auth(&customer.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(placed.status(), StatusCode::CREATED);
    }
    eventually(Duration::from_secs(30), "every charge taken", || async {
        (count(&env, "SELECT count(*) FROM sandbox_charges").await == 30).then_some(())
    })
    .await;
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM events WHERE event_type = 'PaymentCaptured'"
        )
        .await,
        0,
        "killed before any answer was recorded"
    );
    server.kill_9();
    server = Server::start(&env, port, &saga);
    wait_healthy(&api).await;

    let ids: Vec<String> =
        sqlx::query_scalar("SELECT aggregate_id FROM events WHERE event_type = 'OrderCreated'")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(ids.len(), 30);
    let orders = CommandBus::<Order>::new(env.pool.clone(), None);
    eventually(Duration::from_secs(60), "every order shipped", || async {
        for id in &ids {
            if orders.load(id).await.ok()?.status() != OrderStatus::Shipped {
                return None;
            }
        }
        Some(())
    })
    .await;
    assert_eq!(
        orders_not_paid_once(&env).await,
        0,
        "every order has exactly one PaymentProcessed"
    );
    let (agrees, printed) = env.payments_audit().await;
    assert!(agrees, "{printed}");
    drop(server);
}
