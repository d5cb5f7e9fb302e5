//! The write side over HTTP against real Postgres, NATS and Redis.

use crate::support;

use atlantic::system::Components;
use atlantic_application::catalogue::{change_stock, StockChange};
use atlantic_application::seed::seed_catalog;
use atlantic_application::Caller;
use atlantic_domain::product::Product;
use atlantic_platform::bus::CommandBus;
use atlantic_platform::event_store::EventRepository;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use support::nats::{all_messages, message_count};
use support::scenario::{address, id_of};
use support::{eventually, TestEnv};
use uuid::Uuid;

#[tokio::test]
async fn an_order_placed_over_http_is_stored_and_published_as_the_brief_says() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(true).await;
    let seller = app.seller().await;
    let laptop = app.product(&seller, 19.99, 10).await;
    let bag = app.product(&seller, 39.99, 10).await;
    let customer = app.customer().await;

    let response = app
        .post(
            "/orders",
            Some(&customer.token),
            json!({
                "items": [{"productId": laptop, "quantity": 2}, {"productId": bag, "quantity": 1}],
                "shippingAddress": address(),
                "payment": {"token": "tok_visa"},
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let order_id = id_of(response).await;
    assert_eq!(location, format!("/orders/{order_id}"));

    let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
        "SELECT global_position, aggregate_type, sequence, event_type FROM events ORDER BY global_position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let types: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(
        types,
        [
            "UserRegistered",
            "SellerCreated",
            "UserBecameSeller",
            "ProductCreated",
            "ProductCreated",
            "UserRegistered",
            "OrderCreated"
        ]
    );
    let positions: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions increase: {positions:?}"
    );
    let metadata: Value =
        sqlx::query_scalar("SELECT metadata FROM events WHERE event_type = 'OrderCreated'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(metadata["userId"], customer.id.to_string());
    for key in ["correlationId", "causationId", "requestId"] {
        assert!(metadata[key].as_str().is_some(), "metadata has {key}");
    }

    let js = env.nats.jetstream().await;
    let messages = eventually(Duration::from_secs(10), "7 events on NATS", || {
        let js = js.clone();
        async move {
            let messages = all_messages(&js, "ATLANTIC_EVENTS").await;
            (messages.len() == 7).then_some(messages)
        }
    })
    .await;
    let created = messages
        .iter()
        .find(|m| m.subject.as_str() == "events.order.OrderCreated")
        .expect("OrderCreated on events.order.OrderCreated");
    let body: Value = serde_json::from_slice(&created.payload).unwrap();
    let fields: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "event",
            "timestamp",
            "orderId",
            "customerId",
            "items",
            "totalPrice"
        ])
    );
    assert_eq!(body["event"], "OrderCreated");
    assert_eq!(body["orderId"], order_id.to_string());
    assert_eq!(body["customerId"], customer.id.to_string());
    assert_eq!(body["totalPrice"].to_string(), "79.97");
    assert_eq!(
        body["items"],
        json!([
            {"productId": laptop.to_string(), "quantity": 2, "price": 19.99},
            {"productId": bag.to_string(), "quantity": 1, "price": 39.99},
        ])
    );
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    assert_eq!(
        created
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .unwrap()
            .as_str(),
        format!("Order:{order_id}:1")
    );
    assert_eq!(
        created.headers.get("Atlantic-Position").unwrap().as_str(),
        positions[6].to_string()
    );
    let subjects: Vec<&str> = messages.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "events.user.created",
            "events.seller.created",
            "events.user.updated",
            "events.product.created",
            "events.product.created",
            "events.user.created",
            "events.order.OrderCreated"
        ]
    );
}

#[tokio::test]
async fn a_hundred_concurrent_inventory_adjustments_end_at_the_exact_sum() {
    let env = TestEnv::new().await;
    // Two processes' worth of write side on one event store: conflicts between
    // them go through optimistic concurrency and retries.
    let first = env.spawn_app(false).await;
    let second = env.spawn_app(false).await;
    let seller = first.seller().await;
    let product = first.product(&seller, 5.0, 1000).await;
    let deltas: Vec<i64> = (0..100).map(|i| if i % 3 == 0 { -7 } else { 11 }).collect();
    let answers = join_all(deltas.iter().enumerate().map(|(i, delta)| {
        let app = if i % 2 == 0 { &first } else { &second };
        let token = seller.token.clone();
        async move {
            app.post(
                &format!("/products/{product}/inventory"),
                Some(&token),
                json!({"adjust": delta}),
            )
            .await
            .status()
        }
    }))
    .await;
    assert!(
        answers.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{answers:?}"
    );
    let stored = first
        .shop
        .buses
        .products
        .load(&product.to_string())
        .await
        .unwrap();
    assert_eq!(stored.inventory(), 1000 + deltas.iter().sum::<i64>());
    let adjustments: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'InventoryAdjusted'",
    )
    .bind(product.to_string())
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(adjustments, 100);
}

#[tokio::test]
async fn inventory_never_goes_below_zero() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 5.0, 3).await;
    let path = format!("/products/{product}/inventory");
    let response = app
        .post(&path, Some(&seller.token), json!({"adjust": -4}))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .post(&path, Some(&seller.token), json!({"set": 0}))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let stored = app
        .shop
        .buses
        .products
        .load(&product.to_string())
        .await
        .unwrap();
    assert_eq!(stored.inventory(), 0);
}

/// Sends a raw body and checks the answer is a 4xx problem+json.
async fn assert_problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "problem has {key}: {body}");
    }
    body
}

#[tokio::test]
async fn bad_input_is_a_problem_and_writes_nothing() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 5.0, 3).await;
    let customer = app.customer().await;
    let before = env.event_count().await;
    let raw = |path: &str, body: &str, token: Option<&str>| {
        let mut request = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let malformed = raw("/users", "{\"email\": ", None).await.unwrap();
    assert_problem(malformed, StatusCode::BAD_REQUEST).await;
    let wrong_type = raw(
        "/users",
        r#"{"email": 5, "password": "long enough pw", "name": "A"}"#,
        None,
    )
    .await
    .unwrap();
    let body = assert_problem(wrong_type, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["email"].is_string(), "{body}");
    let missing = raw("/users", r#"{"email": "a@b.io"}"#, None).await.unwrap();
    assert_problem(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
    let unknown = raw(
        "/users",
        r#"{"email": "a@b.io", "password": "long enough pw", "name": "A", "role": "admin"}"#,
        None,
    )
    .await
    .unwrap();
    let body = assert_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["role"].is_string(), "{body}");
    let short = raw(
        "/users",
        r#"{"email": "a@b.io", "password": "short", "name": "A"}"#,
        None,
    )
    .await
    .unwrap();
    let body = assert_problem(short, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["errors"]["password"].is_string(), "{body}");
    let bad_email = raw(
        "/users",
        r#"{"email": "nope", "password": "long enough pw", "name": "A"}"#,
        None,
    )
    .await
    .unwrap();
    assert_problem(bad_email, StatusCode::UNPROCESSABLE_ENTITY).await;
    let huge = format!(
        r#"{{"email": "a@b.io", "password": "long enough pw", "name": "{}"}}"#,
        "x".repeat(2 << 20)
    );
    assert_problem(
        raw("/users", &huge, None).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let not_json = app
        .http
        .post(app.url("/users"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let order = |items: Value| {
        json!({"items": items, "shippingAddress": address(), "payment": {"token": "tok_visa"}})
            .to_string()
    };
    let priced = order(json!([{"productId": product, "quantity": 1, "price": 0.01}]));
    assert_problem(
        raw("/orders", &priced, Some(&customer.token))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let negative = order(json!([{"productId": product, "quantity": -1}]));
    assert_problem(
        raw("/orders", &negative, Some(&customer.token))
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let zero = order(json!([{"productId": product, "quantity": 0}]));
    assert_problem(
        raw("/orders", &zero, Some(&customer.token)).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let empty = order(json!([]));
    assert_problem(
        raw("/orders", &empty, Some(&customer.token)).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let no_token = order(json!([{"productId": product, "quantity": 1}]));
    assert_problem(
        raw("/orders", &no_token, None).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        raw("/orders", &no_token, Some("forged")).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let garbage = app
        .http
        .post(app.url("/orders"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(garbage, StatusCode::UNAUTHORIZED).await;

    let product_path = format!("/products/{product}");
    let cents = app
        .patch(&product_path, Some(&seller.token), json!({"price": 1.001}))
        .await;
    assert_problem(cents, StatusCode::UNPROCESSABLE_ENTITY).await;
    let inventory_field = app
        .patch(&product_path, Some(&seller.token), json!({"inventory": 9}))
        .await;
    assert_problem(inventory_field, StatusCode::UNPROCESSABLE_ENTITY).await;
    let by_customer = app
        .patch(
            &product_path,
            Some(&customer.token),
            json!({"name": "Mine"}),
        )
        .await;
    assert_problem(by_customer, StatusCode::FORBIDDEN).await;
    let spec_array = app
        .patch(
            &product_path,
            Some(&seller.token),
            json!({"specifications": [1]}),
        )
        .await;
    assert_problem(spec_array, StatusCode::UNPROCESSABLE_ENTITY).await;
    let both = app
        .post(
            &format!("{product_path}/inventory"),
            Some(&seller.token),
            json!({"adjust": 1, "set": 2}),
        )
        .await;
    assert_problem(both, StatusCode::UNPROCESSABLE_ENTITY).await;
    let not_a_uuid = app
        .patch(
            "/products/not-a-uuid",
            Some(&seller.token),
            json!({"name": "x"}),
        )
        .await;
    assert_problem(not_a_uuid, StatusCode::NOT_FOUND).await;
    let create_as_customer = app
        .post(
            "/products",
            Some(&customer.token),
            json!({"name": "n", "description": "d", "category": "c", "brand": "b", "price": 1.0, "inventory": 1}),
        )
        .await;
    assert_problem(create_as_customer, StatusCode::FORBIDDEN).await;
    let stranger_order = app
        .post(
            &format!("/orders/{product}/cancel"),
            Some(&customer.token),
            json!({"reason": "x"}),
        )
        .await;
    assert_problem(stranger_order, StatusCode::NOT_FOUND).await;
    let deliver_as_customer = app
        .post(
            &format!("/orders/{product}/delivery"),
            Some(&customer.token),
            json!({"deliveryStatus": "DELIVERED"}),
        )
        .await;
    assert_problem(deliver_as_customer, StatusCode::FORBIDDEN).await;

    assert_eq!(
        env.event_count().await,
        before,
        "no bad request wrote an event"
    );
}

#[tokio::test]
async fn sessions_are_revoked_at_once_and_sign_in_is_rate_limited() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let customer = app.customer().await;
    let profile = format!("/users/{}", customer.id);
    let response = app
        .patch(
            &profile,
            Some(&customer.token),
            json!({"name": "Ann B", "address": address()}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["version"], 2);

    let other = app.customer().await;
    let response = app
        .patch(&profile, Some(&other.token), json!({"name": "Mallory"}))
        .await;
    assert_problem(response, StatusCode::FORBIDDEN).await;

    let response = app
        .http
        .delete(app.url("/sessions/current"))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .patch(&profile, Some(&customer.token), json!({"name": "Ann C"}))
        .await;
    assert_problem(response, StatusCode::UNAUTHORIZED).await;

    let email = "limited@example.com";
    let registered = app
        .post(
            "/users",
            None,
            json!({"email": email, "password": "correct horse battery", "name": "L"}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    for _ in 0..10 {
        let wrong = app
            .post(
                "/sessions",
                None,
                json!({"email": email, "password": "wrong password"}),
            )
            .await;
        assert_problem(wrong, StatusCode::UNAUTHORIZED).await;
    }
    let limited = app
        .post(
            "/sessions",
            None,
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let send = |body: Value| {
        app.http
            .post(app.url("/products"))
            .bearer_auth(&seller.token)
            .header("idempotency-key", "key-1")
            .json(&body)
            .send()
    };
    let body = json!({"name": "n", "description": "d", "category": "c", "brand": "b", "price": 1.5, "inventory": 1});
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let before = env.event_count().await;
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(env.event_count().await, before);
    let other_body = send(json!({"name": "other", "description": "d", "category": "c", "brand": "b", "price": 1.5, "inventory": 1}))
        .await
        .unwrap();
    assert_problem(other_body, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(env.event_count().await, before);
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(true).await;
    let seller = app.seller().await;
    app.product(&seller, 1.0, 1).await;
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready: Value = app
        .http
        .get(app.url("/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["checks"],
        json!({"postgres": "up", "redis": "up", "nats": "up"})
    );
    let openapi: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/users",
        "/sessions",
        "/sellers",
        "/products",
        "/products/{id}/inventory",
        "/orders",
        "/orders/{id}/cancel",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "OpenAPI documents {path}"
        );
    }
    let metrics = eventually(
        Duration::from_secs(10),
        "the relay to publish 4 events",
        || async {
            let metrics = app
                .http
                .get(app.url("/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            metrics
                .contains("atlantic_relay_published_total 4")
                .then_some(metrics)
        },
    )
    .await;
    let js = env.nats.jetstream().await;
    assert_eq!(message_count(&js, "ATLANTIC_EVENTS").await, 4);
    assert!(
        metrics.contains("atlantic_http_responses_total{api=\"command\",status=\"201\"}"),
        "{metrics}"
    );
}

/// An HTTP client whose requests come from `address` (any 127.x.y.z reaches
/// the API on 127.0.0.1).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let email = format!("{}@example.com", Uuid::now_v7().simple());
    let registered = app
        .post(
            "/users",
            None,
            json!({"email": email, "password": "correct horse battery", "name": "Owner"}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let attacker = client_from("127.0.0.2");
    let sign_in = |client: &reqwest::Client, password: &str| {
        client
            .post(app.url("/sessions"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    let mut refused = Vec::new();
    for _ in 0..20 {
        refused.push(sign_in(&attacker, "wrong password").await.unwrap().status());
    }
    assert_eq!(refused[..10], [StatusCode::UNAUTHORIZED; 10]);
    assert_eq!(refused[10..], [StatusCode::TOO_MANY_REQUESTS; 10]);
    let attacker_right = sign_in(&attacker, "correct horse battery").await.unwrap();
    assert_eq!(attacker_right.status(), StatusCode::TOO_MANY_REQUESTS);

    let owner = sign_in(&app.http, "correct horse battery").await.unwrap();
    assert_eq!(owner.status(), StatusCode::CREATED);
    let unknown = app
        .post(
            "/sessions",
            None,
            json!({"email": "nobody@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_problem(unknown, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn registrations_and_clicks_are_limited_per_address() {
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.rate_limits.registrations_per_address = 3;
    config.rate_limits.clicks_per_address = 5;
    let components = Components {
        command_api: true,
        ..Components::default()
    };
    let app = env.spawn_with(config, components).await;
    let elsewhere = client_from("127.0.0.3");
    let register = |client: &reqwest::Client| {
        client
            .post(app.url("/users"))
            .json(&json!({
                "email": format!("{}@example.com", Uuid::now_v7().simple()),
                "password": "correct horse battery",
                "name": "Ann",
            }))
            .send()
    };
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(register(&elsewhere).await.unwrap().status());
    }
    assert_eq!(answers[..3], [StatusCode::CREATED; 3]);
    assert_problem(
        register(&elsewhere).await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(
        env.event_count().await,
        3,
        "a refused registration wrote nothing"
    );
    assert_eq!(
        register(&app.http).await.unwrap().status(),
        StatusCode::CREATED
    );

    let click = json!({"productId": Uuid::now_v7(), "kind": "view"});
    for _ in 0..5 {
        let tracked = app.post("/clicks", None, click.clone()).await;
        assert_eq!(tracked.status(), StatusCode::ACCEPTED);
    }
    assert_problem(
        app.post("/clicks", None, click).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

#[tokio::test]
async fn a_dropped_connection_and_a_late_retry_never_place_a_second_order() {
    use tokio::io::AsyncWriteExt;
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 5.0, 10).await;
    let customer = app.customer().await;
    let body = json!({"items": [{"productId": product, "quantity": 1}], "shippingAddress": address(), "payment": {"token": "tok_visa"}})
        .to_string();
    let placed = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT aggregate_id FROM events WHERE event_type = 'OrderCreated'",
        )
        .fetch_all(&env.pool)
        .await
        .unwrap()
    };

    // A client that sends the order and goes away at once.
    let mut client = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "POST /orders HTTP/1.1\r\nHost: atlantic\r\nAuthorization: Bearer {}\r\nIdempotency-Key: order-1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        customer.token,
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    drop(client);
    let first = eventually(Duration::from_secs(10), "the order placed", || async {
        placed().await.into_iter().next()
    })
    .await;
    eventually(Duration::from_secs(10), "its answer recorded", || async {
        let answered: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE key = 'order-1' AND status = 201)",
        )
        .fetch_one(&env.pool)
        .await
        .ok()?;
        answered.then_some(())
    })
    .await;

    // The worst case: the process died between the commit and the answer,
    // and the client comes back 31 seconds later.
    sqlx::query(
        "UPDATE idempotency_keys SET status = NULL, location = NULL, body = NULL, \
                created_at = now() - interval '31 seconds' WHERE key = 'order-1'",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let retried = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&customer.token)
        .header("idempotency-key", "order-1")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::CREATED);
    assert_eq!(id_of(retried).await.to_string(), first);
    assert_eq!(
        placed().await,
        std::slice::from_ref(&first),
        "one OrderCreated"
    );
    // Signed in again, the same customer's retry is still the same request.
    let (token, _) = app
        .shop
        .sessions
        .create(customer.id, atlantic_domain::Role::Customer, None)
        .await
        .unwrap();
    let again = app
        .http
        .post(app.url("/orders"))
        .bearer_auth(&token)
        .header("idempotency-key", "order-1")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(id_of(again).await.to_string(), first);
    assert_eq!(placed().await, [first], "still one OrderCreated");

    // A sign-in's answer (a live token) is never kept.
    let signed_in = app
        .http
        .post(app.url("/sessions"))
        .header("idempotency-key", "session-1")
        .json(&json!({"email": "nobody@example.com", "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::UNAUTHORIZED);
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = 'session-1'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(kept, 0);

    // Keys older than a day are purged.
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) \
         VALUES ('old', 'old', 'x', now() - interval '25 hours')",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let restarted = env.spawn_app(false).await;
    eventually(Duration::from_secs(10), "the old key purged", || async {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = 'old'")
                .fetch_one(&env.pool)
                .await
                .ok()?;
        (left == 0).then_some(())
    })
    .await;
    restarted.stop().await;
}

/// A command's events as the command bus hands them to the repository.
fn serialized(
    aggregate_id: &str,
    sequences: std::ops::RangeInclusive<usize>,
) -> Vec<SerializedEvent> {
    sequences
        .map(|sequence| SerializedEvent {
            aggregate_id: aggregate_id.to_string(),
            sequence,
            aggregate_type: "Product".to_string(),
            event_type: format!("Event{sequence}"),
            event_version: "1.0".to_string(),
            payload: json!({"n": sequence}),
            metadata: json!({}),
        })
        .collect()
}

#[tokio::test]
async fn a_commit_is_one_statement_all_or_nothing_in_sequence_order() {
    let env = TestEnv::new().await;
    let repository = EventRepository::new(env.pool.clone(), None);
    let id = Uuid::now_v7().to_string();
    repository
        .persist::<Product>(&serialized(&id, 1..=3), None)
        .await
        .expect("the first commit");
    // A writer that read the same version: its sequence 3 is taken, so
    // neither of its events is written.
    let conflict = repository
        .persist::<Product>(&serialized(&id, 3..=4), None)
        .await;
    assert!(
        matches!(conflict, Err(PersistenceError::OptimisticLockError)),
        "{conflict:?}"
    );
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT sequence, event_type, global_position FROM events \
         WHERE aggregate_type = 'Product' AND aggregate_id = $1 ORDER BY global_position",
    )
    .bind(&id)
    .fetch_all(&env.pool)
    .await
    .expect("the rows");
    let sequences: Vec<i64> = rows.iter().map(|row| row.0).collect();
    assert_eq!(
        sequences,
        [1, 2, 3],
        "in sequence order, and nothing of the conflict"
    );
    assert_eq!(rows[2].1, "Event3");
    let loaded = repository
        .get_events::<Product>(&id)
        .await
        .expect("load the events");
    assert_eq!(loaded.len(), 3);
    assert_eq!(loaded[1].payload, json!({"n": 2}));
}

/// Adjusts `product`'s stock by `delta` through `api`; answers the version.
async fn adjust(api: &support::scenario::Api, seller: &str, product: Uuid, delta: i64) -> u64 {
    let response = api
        .post(
            &format!("/products/{product}/inventory"),
            Some(seller),
            json!({"adjust": delta}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "adjust by {delta}");
    let body: Value = response.json().await.expect("the answer");
    body["version"].as_u64().expect("a version")
}

#[tokio::test]
async fn two_command_apis_on_one_store_each_see_the_others_writes_through_their_caches() {
    let env = TestEnv::new().await;
    // Two command APIs, each with its own buses and so its own cache of
    // aggregates: as two processes behind a load balancer.
    let first = env.spawn_app(false).await;
    let second = env.spawn_app(false).await;
    let seller = first.seller().await;
    let product = first.product(&seller, 9.99, 0).await;

    // The second API caches the product with 1 unit; the first then adds 1.
    assert_eq!(adjust(&second, &seller.token, product, 1).await, 2);
    assert_eq!(adjust(&first, &seller.token, product, 1).await, 3);
    // On its cached state (1 unit) the second would refuse taking 2 units;
    // the store says 2, so it must take them.
    assert_eq!(adjust(&second, &seller.token, product, -2).await, 4);
    // The first one's cached state (version 3) is behind: its commit must
    // not overwrite version 4, and taking a unit of none is refused.
    let refused = first
        .post(
            &format!("/products/{product}/inventory"),
            Some(&seller.token),
            json!({"adjust": -1}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT, "no stock left");

    // Alternating writers across two snapshots (every 100 events): every
    // answer is the next version, nothing is lost.
    let mut expected_version = 4;
    for round in 0..250u64 {
        let api = if round % 3 == 0 { &first } else { &second };
        expected_version += 1;
        assert_eq!(
            adjust(api, &seller.token, product, 1).await,
            expected_version,
            "round {round}"
        );
    }
    let id = product.to_string();
    assert_eq!(loaded_alike(&env, &id).await.inventory(), 250);
    // A read through a bus that cached an older state catches up.
    assert_eq!(
        first
            .shop
            .buses
            .products
            .load(&id)
            .await
            .expect("load")
            .inventory(),
        250
    );
}

#[tokio::test]
async fn a_process_that_never_saw_an_aggregate_decides_on_the_stores_state() {
    let env = TestEnv::new().await;
    let first = env.spawn_app(false).await;
    let second = env.spawn_app(false).await;
    let dir = tempfile::tempdir().expect("a directory");
    let listings =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/catalog/baby+rockers.json");
    std::fs::copy(&listings, dir.path().join("baby+rockers.json")).expect("the shared catalogue");

    let seeded = seed_catalog(&first.shop, dir.path(), 5, |_| {})
        .await
        .expect("seed");
    assert!(seeded.created > 10, "{seeded:?}");
    let events = env.event_count().await;
    // The second process holds none of these products: each creation is
    // first tried on the state of an aggregate without events, and its
    // commit, finding the sequence taken, sends it to the store's state,
    // which refuses a second creation.
    let again = seed_catalog(&second.shop, dir.path(), 5, |_| {})
        .await
        .expect("seed again");
    assert_eq!((again.created, again.already_present), (0, seeded.created));
    assert_eq!(env.event_count().await, events, "nothing written twice");

    // Several products at once: the cached ones caught up in one query, the
    // others loaded, each as the store has it.
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events WHERE event_type = 'ProductCreated' ORDER BY global_position LIMIT 6",
    )
    .fetch_all(&env.pool)
    .await
    .expect("the products");
    for (i, id) in ids.iter().take(4).enumerate() {
        let product_id = Uuid::parse_str(id).expect("an id");
        let change = StockChange::Adjust(i as i64 + 1);
        change_stock(&second.shop, &Caller::system(), product_id, change)
            .await
            .expect("adjusted");
    }
    let mut wanted = ids.clone();
    wanted.push(Uuid::now_v7().to_string());
    let many = first
        .shop
        .buses
        .products
        .load_many(&wanted)
        .await
        .expect("load many");
    let fresh = CommandBus::<Product>::new(env.pool.clone(), None);
    for (id, state) in wanted.iter().zip(&many) {
        assert_eq!(state, &fresh.load(id).await.expect("load"), "product {id}");
    }
    assert_eq!(many[0].inventory(), 6, "5 seeded and 1 added elsewhere");
    assert_eq!(many[3].inventory(), 9, "5 seeded and 4 added elsewhere");
    assert_eq!(many[6], Product::default(), "an id without events");
}

/// A bus that caught an aggregate up past snapshots another bus wrote does
/// not know their numbers. Its commit across the next snapshot writes the
/// events once and leaves one snapshot, which loads to the state every
/// event gives (postgres-es inserted a second snapshot for a number it did
/// not find, and for a number behind the store's committed the events, then
/// reported a conflict, and the command ran again).
#[tokio::test]
async fn a_commit_across_a_snapshot_another_bus_took_writes_its_events_once() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 5.0, 0).await.to_string();
    let every = Some(atlantic_platform::buses::PRODUCT_SNAPSHOT_EVERY);
    let (first, second) = (
        CommandBus::<Product>::new(env.pool.clone(), every),
        CommandBus::<Product>::new(env.pool.clone(), every),
    );
    second.load(&product).await.expect("load");
    let created: i64 =
        sqlx::query_scalar("SELECT max(sequence) FROM events WHERE aggregate_id = $1")
            .bind(&product)
            .fetch_one(&env.pool)
            .await
            .expect("the version");
    let mut version = created as usize;
    // The first bus takes the snapshots at 100 and 200; the second catches
    // up past each without learning its number.
    for _ in 0..2 {
        version = add_one(&first, &product).await;
        while !version.is_multiple_of(100) {
            version = add_one(&first, &product).await;
        }
        second.load(&product).await.expect("catch up");
    }
    while version < 320 {
        let next = add_one(&second, &product).await;
        assert_eq!(next, version + 1, "one event per command");
        version = next;
    }
    assert_eq!(
        loaded_alike(&env, &product).await.inventory(),
        320 - created
    );
    let snapshots: Vec<i64> = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'Product' AND aggregate_id = $1",
    )
    .bind(&product)
    .fetch_all(&env.pool)
    .await
    .expect("the snapshots");
    assert_eq!(snapshots, [300]);
}

/// Adds a unit of `product` through `bus`; answers the new version.
async fn add_one(bus: &CommandBus<Product>, product: &str) -> usize {
    let add = atlantic_domain::product::ProductCommand::AdjustInventory {
        actor: atlantic_domain::Actor::system(),
        delta: 1,
    };
    bus.execute(
        product,
        add,
        &atlantic_platform::metadata::CommandMetadata::system(),
    )
    .await
    .expect("adjust")
    .version
}

/// Product `id` as a fresh bus loads it through its snapshot, asserted
/// equal to the state all its events give.
async fn loaded_alike(env: &TestEnv, id: &str) -> Product {
    let through_snapshot = CommandBus::<Product>::new(
        env.pool.clone(),
        Some(atlantic_platform::buses::PRODUCT_SNAPSHOT_EVERY),
    )
    .load(id)
    .await
    .expect("load through the snapshot");
    let from_every_event = CommandBus::<Product>::new(env.pool.clone(), None)
        .load(id)
        .await
        .expect("load from every event");
    assert_eq!(through_snapshot, from_every_event);
    through_snapshot
}
