//! Hostile input: every value past its bound, and every text PostgreSQL cannot
//! store, is a 4xx problem+json that writes nothing; the shop goes on working
//! for everyone afterwards.

use crate::support;

use atlantic_domain::order::OrderStatus;
use atlantic_sagas::SagaSettings;
use reqwest::{Method, StatusCode};
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

    let post = Method::POST;
    let mut cases: Vec<(Method, String, Option<String>, String, String)> = Vec::new();
    let mut case = |method: &Method, path: &str, who: Option<&str>, body: String, field: &str| {
        cases.push((
            method.clone(),
            path.to_string(),
            who.map(str::to_string),
            body,
            field.to_string(),
        ));
    };

    // Orders: quantities, lines, the same product twice, totals.
    for quantity in [
        json!(0),
        json!(1001),
        json!(4_294_967_295u64),
        json!(4_294_967_296u64),
        json!(-1),
    ] {
        let body = order(json!([{"productId": cheap, "quantity": quantity}]));
        case(&post, "/orders", token, body, "items[0].quantity");
    }
    let lines = |n: usize, product: Option<Uuid>| -> Value {
        (0..n)
            .map(|_| json!({"productId": product.unwrap_or_else(Uuid::now_v7), "quantity": 1}))
            .collect()
    };
    case(&post, "/orders", token, order(lines(101, None)), "items");
    case(&post, "/orders", token, order(json!([])), "items");
    case(
        &post,
        "/orders",
        token,
        order(lines(2, Some(cheap))),
        "items[1].productId",
    );
    case(
        &post,
        "/orders",
        token,
        order(lines(100, Some(cheap))),
        "items[1].productId",
    );
    let too_dear =
        json!([{"productId": dearest, "quantity": 1000}, {"productId": second, "quantity": 1000}]);
    case(&post, "/orders", token, order(too_dear), "items");

    // Text PostgreSQL cannot store, in every kind of field (JSON escapes it
    // as \u0000).
    for field in ["name", "description", "brand", "category"] {
        case(
            &post,
            "/products",
            seller_token,
            product_body(json!({field: "a\u{0}b"})),
            field,
        );
    }
    let nul_spec = product_body(json!({"specifications": {"k": "a\u{0}b"}}));
    case(
        &post,
        "/products",
        seller_token,
        nul_spec,
        "specifications.k",
    );
    let with_nul = |fields: Value| fields.to_string().replace("NUL", "\\u0000");
    let users = [
        (
            "email",
            json!({"email": "NUL@x.io", "password": "long enough pw", "name": "A"}),
        ),
        (
            "name",
            json!({"email": "ok@x.io", "password": "long enough pw", "name": "NUL"}),
        ),
    ];
    for (field, body) in users {
        case(&post, "/users", None, with_nul(body), field);
    }
    case(
        &post,
        "/sessions",
        None,
        with_nul(json!({"email": "NUL@x.io", "password": "pw"})),
        "email",
    );
    case(
        &post,
        "/sessions",
        None,
        with_nul(json!({"email": "ok@x.io", "password": "NUL"})),
        "password",
    );
    let long_password = json!({"email": "ok@x.io", "password": "p".repeat(1025)});
    case(
        &post,
        "/sessions",
        None,
        long_password.to_string(),
        "password",
    );
    let long_email = json!({"email": format!("{}@x.io", "a".repeat(300)), "password": "x"});
    case(&post, "/sessions", None, long_email.to_string(), "email");
    let comments = format!("/products/{cheap}/comments");
    case(
        &post,
        &comments,
        token,
        with_nul(json!({"text": "NUL"})),
        "text",
    );
    let mut bad_address = address();
    bad_address["city"] = json!("NUL");
    let body = json!({"items": [{"productId": cheap, "quantity": 1}], "shippingAddress": bad_address, "payment": {"token": "tok_visa"}});
    case(
        &post,
        "/orders",
        token,
        with_nul(body),
        "shippingAddress.city",
    );
    let profile = format!("/users/{}", customer.id);
    case(
        &Method::PATCH,
        &profile,
        token,
        with_nul(json!({"name": "NUL"})),
        "name",
    );

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
        case(&post, "/products", seller_token, body, "specifications");
    }

    // Prices and inventory at the edges of their types.
    for price in [json!(1_000_000.01), json!(1e12), json!(-1), json!(0.001)] {
        case(
            &post,
            "/products",
            seller_token,
            product_body(json!({"price": price})),
            "price",
        );
    }
    for inventory in [json!(1_000_000_001), json!(4_294_967_295u64), json!(-1)] {
        let body = product_body(json!({"inventory": inventory}));
        case(&post, "/products", seller_token, body, "inventory");
    }
    let stock = format!("/products/{cheap}/inventory");
    for (field, body) in [
        ("adjust", json!({"adjust": i64::MAX})),
        ("adjust", json!({"adjust": i64::MIN})),
        ("set", json!({"set": 1_000_000_001})),
        ("set", json!({"set": 4_294_967_295u64})),
    ] {
        case(&post, &stock, seller_token, body.to_string(), field);
    }
    let listing = format!("/products/{cheap}");
    case(
        &Method::PATCH,
        &listing,
        seller_token,
        json!({"price": 2e6}).to_string(),
        "price",
    );
    let cart = format!("/cart/items/{cheap}");
    case(
        &Method::PUT,
        &cart,
        token,
        json!({"quantity": 1001}).to_string(),
        "quantity",
    );

    for (method, path, who, body, field) in cases {
        invalid(&app, method, &path, who.as_deref(), &body, &field).await;
    }
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let nul_key = with_nul(json!({"specifications": {"aNUL": 1}}));
    let nul_key = product_body(serde_json::from_str(&nul_key).unwrap());
    refused(
        &app,
        post.clone(),
        "/products",
        seller_token,
        &nul_key,
        unprocessable,
    )
    .await;
    let not_finite = product_body(json!({})).replace("\"watts\":9", "\"watts\":1e400");
    refused(
        &app,
        post.clone(),
        "/products",
        seller_token,
        &not_finite,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let nan = product_body(json!({})).replace("9}", "NaN}");
    refused(
        &app,
        post.clone(),
        "/products",
        seller_token,
        &nan,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Within the bounds of one change, but past the stock's limits given
    // the product's current stock: conflicts with its state.
    for change in [json!({"adjust": -11}), json!({"adjust": 1_000_000_000})] {
        refused(
            &app,
            post.clone(),
            &stock,
            seller_token,
            &change.to_string(),
            StatusCode::CONFLICT,
        )
        .await;
    }

    // Query strings: NUL, and search parameters past their bounds.
    let long = "x".repeat(201);
    for (field, path) in [
        ("q", "/products/search?q=a%00b".to_string()),
        ("category", "/products/search?category=%00".to_string()),
        ("brand", "/products/search?brand=x%00".to_string()),
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
        assert_eq!(response.status(), unprocessable, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert!(problem["errors"][field].is_string(), "{path}: {problem}");
    }

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
        let order = app
            .shop
            .buses
            .orders
            .load(&order_id.to_string())
            .await
            .ok()?;
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
