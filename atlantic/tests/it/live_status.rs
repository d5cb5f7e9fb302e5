//! Live order status: `GET /orders/{id}/events` streams an order's events as
//! they happen, resumes after `Last-Event-ID`, ends after the final event, and
//! shows no one else's order.

use crate::support;

use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::scenario::{address, Api, Shopper};
use support::TestEnv;
use uuid::Uuid;

/// One server-sent event: its id, name and data.
#[derive(Debug)]
struct Sent {
    id: i64,
    name: String,
    data: Value,
}

/// Opens the event stream of `order` for `shopper`, resuming after `last`.
async fn open(query: &Api, shopper: &Shopper, order: &str, last: Option<i64>) -> reqwest::Response {
    let mut request = query
        .http
        .get(query.url(&format!("/orders/{order}/events")))
        .bearer_auth(&shopper.token);
    if let Some(last) = last {
        request = request.header("Last-Event-ID", last.to_string());
    }
    request.send().await.expect("the query API answers")
}

/// Reads events from `stream` until `count` have come or it ends; heartbeats
/// (comments) are skipped.
async fn read(stream: &mut reqwest::Response, count: usize) -> (Vec<Sent>, bool) {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(60), stream.chunk())
            .await
            .expect("an event within a minute")
            .expect("the stream reads");
        let Some(chunk) = chunk else {
            return (events, true);
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(|v| v.trim_start().to_string())
            };
            if let (Some(id), Some(name), Some(data)) =
                (field("id:"), field("event:"), field("data:"))
            {
                events.push(Sent {
                    id: id.parse().expect("a numeric id"),
                    name,
                    data: serde_json::from_str(&data).expect("JSON data"),
                });
            }
        }
    }
    (events, false)
}

#[tokio::test]
async fn an_order_is_watched_live_resumed_after_its_last_event_and_private() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().expect("the query API");
    let seller = app.seller().await;
    let customer = app.customer().await;
    let admin = app.admin().await;
    let product = app.product(&seller, 12.5, 10).await;
    // The gateway answers `tok_slow` after seconds: the stream is open before payment.
    let placed = app
        .post(
            "/orders",
            Some(&customer.token),
            json!({"items": [{"productId": product, "quantity": 1}],
                   "shippingAddress": address(), "payment": {"token": "tok_slow"}}),
        )
        .await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order = support::scenario::id_of(placed).await.to_string();

    let mut watching = open(&query, &customer, &order, None).await;
    assert_eq!(watching.status(), StatusCode::OK);
    assert_eq!(watching.headers()["content-type"], "text/event-stream");
    let (events, ended) = read(&mut watching, 5).await;
    assert!(!ended);
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "OrderCreated",
            "OrderValidated",
            "PaymentProcessed",
            "InventoryReserved",
            "OrderShipped"
        ]
    );
    assert_eq!(
        events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    for event in &events {
        assert_eq!(event.data["event"], event.name.as_str());
        assert_eq!(event.data["orderId"], order.as_str());
    }
    assert_eq!(events[2].data["paymentStatus"], "SUCCESS");
    assert!(events[4].data["trackingNumber"].is_string());
    drop(watching);

    // Back after event 2: events 3 on, then the delivery as it happens, then the end.
    let mut resumed = open(&query, &customer, &order, Some(2)).await;
    let (again, _) = read(&mut resumed, 3).await;
    assert_eq!(again.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4, 5]);
    let delivered = app
        .post(
            &format!("/orders/{order}/delivery"),
            Some(&admin.token),
            json!({"deliveryStatus": "DELIVERED"}),
        )
        .await;
    assert_eq!(delivered.status(), StatusCode::ACCEPTED);
    let (last, ended) = read(&mut resumed, 2).await;
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!((last[0].id, last[0].name.as_str()), (6, "OrderDelivered"));
    assert!(ended, "the stream ends after the final event");
    // Coming back after the final event: nothing more, and the stream ends.
    let mut after_the_end = open(&query, &customer, &order, Some(6)).await;
    assert_eq!(after_the_end.status(), StatusCode::OK);
    let (more, ended) = read(&mut after_the_end, 1).await;
    assert!(more.is_empty(), "{more:?}");
    assert!(ended, "an ended order's stream closes after its last event");

    // Nobody else's; no made-up order; a bounded number of streams per user.
    let stranger = app.customer().await;
    assert_eq!(
        open(&query, &stranger, &order, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let nowhere = Uuid::now_v7().to_string();
    assert_eq!(
        open(&query, &customer, &nowhere, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let mut held = Vec::new();
    for _ in 0..atlantic_query_api::live::MAX_STREAMS_PER_USER {
        let placed = app
            .post(
                "/orders",
                Some(&stranger.token),
                json!({"items": [{"productId": product, "quantity": 1}],
                       "shippingAddress": address(), "payment": {"token": "tok_timeout"}}),
            )
            .await;
        let own = support::scenario::id_of(placed).await.to_string();
        let stream = open(&query, &stranger, &own, None).await;
        assert_eq!(stream.status(), StatusCode::OK);
        held.push((own, stream));
    }
    let (own, _) = &held[0];
    assert_eq!(
        open(&query, &stranger, own, None).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    drop(held);
    app.stop().await;
}
