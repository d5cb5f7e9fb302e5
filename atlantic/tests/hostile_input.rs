//! Hostile input: every value past its bound, and every text PostgreSQL cannot
//! store, is a 4xx problem+json that writes nothing; the shop goes on working
//! for everyone afterwards.

mod support;

use atlantic_domain::order::OrderStatus;
use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::scenario::{address, id_of};
use support::{eventually, TestApp, TestEnv};
use uuid::Uuid;

/// Sends `body` as raw JSON text (so it may hold escapes `json!` would not
/// make) and checks the answer is a problem with `status`; returns it.
async fn refused(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: &str,
    status: StatusCode,
) -> Value {
    let mut request = app
        .http
        .request(method, app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the API answers");
    assert_eq!(response.status(), status, "{path} {body:.300}");
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    response.json().await.expect("a problem")
}

/// 422 naming `field` in `errors`.
async fn invalid(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: &str,
    field: &str,
) {
    let problem = refused(
        app,
        method,
        path,
        token,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"][field].is_string(),
        "{path}: expected {field} named in {problem}"
    );
}

fn order(items: Value) -> String {
    json!({"items": items, "shippingAddress": address(), "payment": {"token": "tok_visa"}})
        .to_string()
}

fn product_body(overrides: Value) -> String {
    let mut body = json!({
        "name": "Desk lamp",
        "description": "A lamp",
        "category": "lighting",
        "brand": "Lumo",
        "price": 25.0,
        "specifications": {"watts": 9},
        "inventory": 5,
    });
    for (key, value) in overrides.as_object().cloned().unwrap_or_default() {
        body[key] = value;
    }
    body.to_string()
}

#[tokio::test]
async fn hostile_orders_and_values_write_nothing_and_the_shop_goes_on() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().expect("the query API");
    let seller = app.seller().await;
    let customer = app.customer().await;
    let cheap = app.product(&seller, 1.0, 10).await;
    let dearest = app.product(&seller, 1_000_000.0, 10).await;
    let second = app.product(&seller, 1_000_000.0, 10).await;
    let token = Some(customer.token.as_str());
    let seller_token = Some(seller.token.as_str());
    let before = env.event_count().await;
    use reqwest::Method;

    // Orders: quantities, lines, the same product twice, totals.
    for quantity in [
        json!(0),
        json!(1001),
        json!(4_294_967_295u64),
        json!(4_294_967_296u64),
        json!(-1),
    ] {
        let body = order(json!([{"productId": cheap, "quantity": quantity}]));
        invalid(
            &app,
            Method::POST,
            "/orders",
            token,
            &body,
            "items[0].quantity",
        )
        .await;
    }
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"productId": Uuid::now_v7(), "quantity": 1}))
        .collect();
    invalid(
        &app,
        Method::POST,
        "/orders",
        token,
        &order(json!(many)),
        "items",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/orders",
        token,
        &order(json!([])),
        "items",
    )
    .await;
    let twice = json!([{"productId": cheap, "quantity": 1}, {"productId": cheap, "quantity": 1}]);
    invalid(
        &app,
        Method::POST,
        "/orders",
        token,
        &order(twice),
        "items[1].productId",
    )
    .await;
    let many_times: Vec<Value> = (0..100)
        .map(|_| json!({"productId": cheap, "quantity": 1}))
        .collect();
    invalid(
        &app,
        Method::POST,
        "/orders",
        token,
        &order(json!(many_times)),
        "items[1].productId",
    )
    .await;
    let too_dear =
        json!([{"productId": dearest, "quantity": 1000}, {"productId": second, "quantity": 1000}]);
    invalid(
        &app,
        Method::POST,
        "/orders",
        token,
        &order(too_dear),
        "items",
    )
    .await;

    // Text PostgreSQL cannot store, in every kind of field.
    let nul = "a\\u0000b";
    for (field, body) in [
        ("name", product_body(json!({"name": "a\u{0}b"}))),
        (
            "description",
            product_body(json!({"description": "a\u{0}b"})),
        ),
        ("brand", product_body(json!({"brand": "a\u{0}b"}))),
        ("category", product_body(json!({"category": "a\u{0}b"}))),
        (
            "specifications.k",
            product_body(json!({"specifications": {"k": "a\u{0}b"}})),
        ),
    ] {
        invalid(&app, Method::POST, "/products", seller_token, &body, field).await;
    }
    let nul_key = product_body(json!({"specifications": {"a\u{0}": 1}}));
    refused(
        &app,
        Method::POST,
        "/products",
        seller_token,
        &nul_key,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/users",
        None,
        &format!(r#"{{"email": "{nul}@x.io", "password": "long enough pw", "name": "A"}}"#),
        "email",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/users",
        None,
        &format!(r#"{{"email": "ok@x.io", "password": "long enough pw", "name": "{nul}"}}"#),
        "name",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/sessions",
        None,
        &format!(r#"{{"email": "{nul}@x.io", "password": "long enough pw"}}"#),
        "email",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/sessions",
        None,
        &format!(r#"{{"email": "ok@x.io", "password": "{nul}"}}"#),
        "password",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &format!("/products/{cheap}/comments"),
        token,
        &format!(r#"{{"text": "{nul}"}}"#),
        "text",
    )
    .await;
    let mut bad_address = address();
    bad_address["city"] = json!("a\u{0}b");
    let body = json!({"items": [{"productId": cheap, "quantity": 1}], "shippingAddress": bad_address, "payment": {"token": "tok_visa"}});
    invalid(
        &app,
        Method::POST,
        "/orders",
        token,
        &body.to_string(),
        "shippingAddress.city",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &format!("/users/{}", customer.id),
        token,
        &format!(r#"{{"name": "{nul}"}}"#),
        "name",
    )
    .await;
    for path in [
        "/products/search?q=a%00b",
        "/products/search?category=%00",
        "/products/search?brand=x%00",
    ] {
        let response = query.http.get(query.url(path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["errors"].as_object().is_some_and(|e| e.len() == 1),
            "{problem}"
        );
    }

    // Search parameters past their bounds.
    let long = "x".repeat(201);
    for (field, path) in [
        ("q", format!("/products/search?q={long}")),
        ("category", format!("/products/search?category={long}")),
        ("brand", format!("/products/search?brand={long}")),
        (
            "minPrice",
            "/products/search?minPrice=1000000.01".to_string(),
        ),
        ("maxPrice", "/products/search?maxPrice=1e400".to_string()),
        ("perPage", "/products/search?perPage=101".to_string()),
        ("page", "/products/search?page=0".to_string()),
        ("page", "/products/search?page=101&perPage=100".to_string()),
    ] {
        let response = query.http.get(query.url(&path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(problem["errors"][field].is_string(), "{path}: {problem}");
    }

    // Specifications: huge, deep, wide, non-finite and huge numbers.
    let deep = json!({"a": {"b": {"c": {"d": {"e": 1}}}}});
    let wide: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("k{i}"), json!(i))).collect();
    let huge: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("k{i}"), json!("y".repeat(1000))))
        .collect();
    for specifications in [
        deep,
        json!(wide),
        json!(huge),
        json!({"n": 1e300}),
        json!({"n": -1e16}),
    ] {
        let body = product_body(json!({"specifications": specifications}));
        invalid(
            &app,
            Method::POST,
            "/products",
            seller_token,
            &body,
            "specifications",
        )
        .await;
    }
    let not_finite = product_body(json!({})).replace("\"watts\":9", "\"watts\":1e400");
    refused(
        &app,
        Method::POST,
        "/products",
        seller_token,
        &not_finite,
        StatusCode::BAD_REQUEST,
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/products",
        seller_token,
        &product_body(json!({})).replace("9}", "NaN}"),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Prices and inventory at the edges of their types.
    for price in [json!(1_000_000.01), json!(1e12), json!(-1), json!(0.001)] {
        invalid(
            &app,
            Method::POST,
            "/products",
            seller_token,
            &product_body(json!({"price": price})),
            "price",
        )
        .await;
    }
    for inventory in [json!(1_000_000_001), json!(4_294_967_295u64), json!(-1)] {
        invalid(
            &app,
            Method::POST,
            "/products",
            seller_token,
            &product_body(json!({"inventory": inventory})),
            "inventory",
        )
        .await;
    }
    let stock = format!("/products/{cheap}/inventory");
    for (field, body) in [
        ("adjust", json!({"adjust": i64::MAX})),
        ("adjust", json!({"adjust": i64::MIN})),
        ("adjust", json!({"adjust": 1_000_000_000})),
        ("set", json!({"set": 1_000_000_001})),
        ("set", json!({"set": 4_294_967_295u64})),
    ] {
        invalid(
            &app,
            Method::POST,
            &stock,
            seller_token,
            &body.to_string(),
            field,
        )
        .await;
    }
    refused(
        &app,
        Method::POST,
        &stock,
        seller_token,
        &json!({"adjust": -11}).to_string(),
        StatusCode::CONFLICT,
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &format!("/products/{cheap}"),
        seller_token,
        &json!({"price": 2e6}).to_string(),
        "price",
    )
    .await;
    let cart = format!("/cart/items/{cheap}");
    invalid(
        &app,
        Method::PUT,
        &cart,
        token,
        &json!({"quantity": 1001}).to_string(),
        "quantity",
    )
    .await;

    assert_eq!(
        env.event_count().await,
        before,
        "a refused request wrote an event"
    );

    // The edges themselves are accepted.
    let edge = app
        .post(&stock, seller_token, json!({"set": 1_000_000_000 - 10}))
        .await;
    assert_eq!(edge.status(), StatusCode::ACCEPTED);

    // Afterwards an ordinary order ships and a new product is searchable.
    let placed = app
        .post(
            "/orders",
            token,
            json!({"items": [{"productId": cheap, "quantity": 1000}], "shippingAddress": address(), "payment": {"token": "tok_visa"}}),
        )
        .await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order_id = id_of(placed).await;
    eventually(Duration::from_secs(30), "the order to ship", || async {
        let order = app.state.orders.load(&order_id.to_string()).await.ok()?;
        (order.status() == OrderStatus::Shipped).then_some(())
    })
    .await;
    let created = app
        .post(
            "/products",
            seller_token,
            serde_json::from_str(&product_body(json!({"name": "Zanzibar teapot"}))).unwrap(),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let product = id_of(created).await;
    eventually(
        Duration::from_secs(30),
        "the new product in search",
        || async {
            let response = query
                .http
                .get(query.url("/products/search?q=zanzibar"))
                .send()
                .await
                .ok()?;
            let body: Value = response.json().await.ok()?;
            body["hits"]
                .as_array()?
                .iter()
                .any(|hit| hit["id"] == json!(product))
                .then_some(())
        },
    )
    .await;
    app.stop().await;
}
