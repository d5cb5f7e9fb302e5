//! The read side: projections into search, cache and order views, and the
//! query API over them, fed by the real relay and NATS.

use crate::support;

use atlantic_application::seed::seed_catalog;
use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;
use support::scenario::{address, id_of, Api};
use support::{eventually, TestEnv};
use uuid::Uuid;

fn catalog() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/catalog");
    assert!(
        dir.is_dir(),
        "the shared catalogue is expected at {}",
        dir.display()
    );
    dir
}

async fn get(api: &Api, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = api.http.get(api.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the query API answers")
}

async fn search(api: &Api, query: &str) -> Value {
    let response = get(api, &format!("/products/search?{query}"), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn listings_without_price(dir: &PathBuf) -> (usize, usize) {
    let mut total = 0;
    let mut without = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let listings: Vec<Value> =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            total += listings.len();
            without += listings.iter().filter(|l| !l["price"].is_number()).count();
        }
    }
    (total, without)
}

#[tokio::test]
async fn the_seeded_catalogue_is_searchable_with_typos_facets_filters_sorts_and_pages() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().unwrap();
    let dir = catalog();
    let summary = seed_catalog(&app.shop, &dir, 100, |_| {}).await.unwrap();
    let (total, without_price) = listings_without_price(&dir);
    assert_eq!(summary.skipped_without_price, without_price);
    assert_eq!(
        summary.created
            + summary.already_present
            + summary.skipped_without_price
            + summary.rejected,
        total
    );
    assert!(summary.created > 4000, "{summary:?}");
    eventually(
        Duration::from_secs(180),
        "every product in search",
        || async {
            let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM search_products")
                .fetch_one(&env.pool)
                .await
                .ok()?;
            (indexed as usize == summary.created).then_some(())
        },
    )
    .await;

    let typo = search(&query, "q=lapotp&perPage=10").await;
    let hits = typo["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 10);
    for hit in hits {
        assert_eq!(hit["category"], "electronics > laptop", "{}", hit["name"]);
    }

    let all = search(&query, "perPage=1").await;
    assert_eq!(all["total"], summary.created);
    for facet in ["category", "brand"] {
        let sum: u64 = all["facets"][facet]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sum, all["total"].as_u64().unwrap(), "{facet} facet adds up");
    }
    let laptops = search(&query, "q=laptop&perPage=20").await;
    let sum: u64 = laptops["facets"]["brand"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum, laptops["total"].as_u64().unwrap());
    assert_eq!(laptops["hits"][0]["category"], "electronics > laptop");

    let filtered = search(&query, "category=electronics%20%3E%20laptop&minPrice=30000&maxPrice=60000&sort=price:asc&perPage=100").await;
    let prices: Vec<f64> = filtered["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["price"].as_f64().unwrap())
        .collect();
    assert!(!prices.is_empty());
    assert!(
        prices.iter().all(|p| (30000.0..=60000.0).contains(p)),
        "{prices:?}"
    );
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "sorted by price");
    assert!(filtered["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["category"] == "electronics > laptop"));

    let per_page = 50;
    let expected = search(&query, "q=baby&perPage=1").await["total"]
        .as_u64()
        .unwrap() as usize;
    assert!(expected > per_page);
    let mut seen = HashSet::new();
    let mut page = 1;
    loop {
        let result = search(&query, &format!("q=baby&perPage={per_page}&page={page}")).await;
        let hits = result["hits"].as_array().unwrap();
        if hits.is_empty() {
            break;
        }
        for hit in hits {
            assert!(
                seen.insert(hit["id"].as_str().unwrap().to_string()),
                "a hit repeated across pages"
            );
        }
        page += 1;
    }
    assert_eq!(seen.len(), expected, "pages neither skip nor repeat");

    for bad in [
        "perPage=1000",
        "page=0",
        "sort=bogus",
        "page=200&perPage=100",
        "minPrice=-1",
        "unknown=1",
    ] {
        let response = get(&query, &format!("/products/search?{bad}"), None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}

#[tokio::test]
async fn product_changes_reach_search_and_the_cache_and_orders_have_views() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().unwrap();
    let seller = app.seller().await;
    let product = app.product(&seller, 12.5, 5).await;
    let detail = format!("/products/{product}");
    let shown = eventually(
        Duration::from_secs(30),
        "the product in the query API",
        || async {
            let response = get(&query, &detail, None).await;
            (response.status() == StatusCode::OK).then_some(())?;
            response.json::<Value>().await.ok()
        },
    )
    .await;
    assert_eq!(shown["name"], "Laptop 14");
    assert_eq!(shown["inventory"], 5);
    assert_eq!(shown["price"], 12.5);

    let renamed = app
        .patch(
            &detail,
            Some(&seller.token),
            json!({"name": "Featherweight Notebook"}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::ACCEPTED);
    let adjusted = app
        .post(
            &format!("{detail}/inventory"),
            Some(&seller.token),
            json!({"adjust": 3}),
        )
        .await;
    assert_eq!(adjusted.status(), StatusCode::ACCEPTED);
    eventually(
        Duration::from_secs(30),
        "the change in the cache",
        || async {
            let doc: Value = get(&query, &detail, None).await.json().await.ok()?;
            (doc["name"] == "Featherweight Notebook" && doc["inventory"] == 8).then_some(())
        },
    )
    .await;
    eventually(Duration::from_secs(30), "the change in search", || async {
        let result = search(&query, "q=featherweight").await;
        (result["hits"][0]["id"] == product.to_string()).then_some(())
    })
    .await;

    let customer = app.customer().await;
    let response = app
        .post(
            "/orders",
            Some(&customer.token),
            json!({"items": [{"productId": product, "quantity": 2}], "shippingAddress": address(), "payment": {"token": "tok_visa"}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order = id_of(response).await;
    let view = eventually(
        Duration::from_secs(30),
        "the order view to show it shipped",
        || async {
            let view: Value = get(&query, &format!("/orders/{order}"), Some(&customer.token))
                .await
                .json()
                .await
                .ok()?;
            (view["status"] == "Shipped").then_some(view)
        },
    )
    .await;
    let timeline: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline,
        [
            "OrderCreated",
            "OrderValidated",
            "PaymentProcessed",
            "InventoryReserved",
            "OrderShipped"
        ]
    );
    assert_eq!(view["totalPrice"], 25.0);
    assert!(view["timeline"][0]["timestamp"].is_string());
    let stranger = app.customer().await;
    assert_eq!(
        get(&query, &format!("/orders/{order}"), Some(&stranger.token))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&query, &format!("/orders/{order}"), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let mine: Value = get(&query, "/me/orders", Some(&customer.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], order.to_string());
    let me: Value = eventually(Duration::from_secs(30), "the profile", || async {
        let response = get(&query, "/me", Some(&customer.token)).await;
        (response.status() == StatusCode::OK).then_some(())?;
        response.json().await.ok()
    })
    .await;
    assert_eq!(me["id"], customer.id.to_string());

    let deleted = app
        .http
        .delete(app.url(&detail))
        .bearer_auth(&seller.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    eventually(
        Duration::from_secs(30),
        "the product to be gone",
        || async {
            let gone = get(&query, &detail, None).await.status() == StatusCode::NOT_FOUND;
            let unsearchable = search(&query, "q=featherweight").await["total"] == 0;
            (gone && unsearchable).then_some(())
        },
    )
    .await;

    assert!(
        env.dead_letters().await.is_empty(),
        "no projection parked an event"
    );
    let metrics = get(&query, "/metrics", None).await.text().await.unwrap();
    assert!(
        !metrics.contains("atlantic_projection_retries_total"),
        "a projection failed an event: {metrics}"
    );

    let openapi: Value = get(&query, "/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/products/search"].is_object());
    let ready: Value = get(&query, "/ready", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "up");
    assert_eq!(
        ready["checks"],
        json!({"postgres": "up", "redis": "up", "clickhouse": "up", "search": "up"})
    );
    let metrics = get(&query, "/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("atlantic_projection_events_total{projection=\"search\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("atlantic_projection_lag_events{projection=\"order-views\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_seller_shows_its_name_and_product_count() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().unwrap();
    let seller = app.seller().await;
    let kept = app.product(&seller, 3.0, 1).await;
    let dropped = app.product(&seller, 4.0, 1).await;
    let seller_id = eventually(Duration::from_secs(30), "the seller's profile", || async {
        let me: Value = get(&query, "/me", Some(&seller.token))
            .await
            .json()
            .await
            .ok()?;
        me["sellerId"].as_str().map(str::to_string)
    })
    .await;
    let path = format!("/sellers/{seller_id}");
    let renamed = app
        .patch(&path, Some(&seller.token), json!({"name": "Acme Outlet"}))
        .await;
    assert_eq!(renamed.status(), StatusCode::ACCEPTED);
    let deleted = app
        .http
        .delete(app.url(&format!("/products/{dropped}")))
        .bearer_auth(&seller.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let shown = eventually(Duration::from_secs(30), "the seller's view", || async {
        let response = get(&query, &path, None).await;
        (response.status() == StatusCode::OK).then_some(())?;
        let view: Value = response.json().await.ok()?;
        (view["name"] == "Acme Outlet" && view["productCount"] == 1).then_some(view)
    })
    .await;
    assert_eq!(shown["id"], seller_id);
    assert_eq!(shown["contactEmail"], "shop@acme.io");
    assert_eq!(
        get(&query, &format!("/products/{kept}"), None)
            .await
            .status(),
        StatusCode::OK
    );

    let unknown = get(&query, &format!("/sellers/{}", Uuid::new_v4()), None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // No resource has such a name: 404, as for every id path.
    let malformed = get(&query, "/sellers/not-a-uuid", None).await;
    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        malformed.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_poison_event_is_parked_and_the_projector_goes_on() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().unwrap();
    let js = env.nats.jetstream().await;
    // One message that is not a published event at all, and one that is but
    // that search cannot store (a NUL in its name, which Postgres text refuses).
    js.publish("events.product.created", "not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Atlantic-Aggregate-Type", "Product");
    headers.insert("Atlantic-Aggregate-Id", Uuid::new_v4().to_string().as_str());
    headers.insert("Atlantic-Sequence", "1");
    headers.insert("Atlantic-Position", "1");
    let body = json!({
        "event": "product.created", "timestamp": "2026-01-01T00:00:00Z",
        "productId": Uuid::new_v4(), "sellerId": Uuid::new_v4(), "name": "Poison\u{0}",
        "description": "", "category": "", "brand": "", "price": 1.0,
        "specifications": {}, "inventory": 1,
    });
    js.publish_with_headers("events.product.created", headers, body.to_string().into())
        .await
        .unwrap()
        .await
        .unwrap();

    let seller = app.seller().await;
    let product = app.product(&seller, 9.0, 1).await;
    eventually(
        Duration::from_secs(60),
        "the next product in search",
        || async {
            let found = search(&query, "q=laptop").await;
            (found["hits"][0]["id"] == product.to_string()).then_some(())
        },
    )
    .await;

    let parked: Vec<_> = env
        .dead_letters()
        .await
        .into_iter()
        .filter(|letter| letter.consumer == "projection-search")
        .collect();
    assert_eq!(parked.len(), 2, "both poison messages are parked");
    assert!(parked.iter().all(|letter| !letter.error.is_empty()
        && letter.subject == "events.product.created"
        && letter.attempts >= 1));
    let metrics = get(&query, "/metrics", None).await.text().await.unwrap();
    let line = |line: &str| metrics.lines().any(|l| l == line);
    assert!(
        line("atlantic_projection_dead_letters_total{projection=\"search\"} 2"),
        "{metrics}"
    );
    assert!(
        line("atlantic_projection_retries_total{projection=\"search\"} 4"),
        "the event search could not apply was tried five times: {metrics}"
    );
    assert!(
        line("atlantic_dead_letters{consumer=\"projection-search\"} 2"),
        "{metrics}"
    );
}
