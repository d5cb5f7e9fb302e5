//! Rebuilding read models from the events table while writes continue, and
//! projectors killed with SIGKILL: the read models end equal to the event store.

mod support;

use atlantic_projections::analytics::{Analytics, InventoryRow};
use atlantic_projections::replay::{self, ORDER_VIEWS, SEARCH};
use atlantic_sagas::SagaSettings;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::nats::free_port;
use support::process::{wait_healthy, Server};
use support::scenario::{address, Api, Shopper};
use support::{clickhouse_url, eventually, TestEnv};
use uuid::Uuid;

/// (version, inventory) per product, from the event store.
async fn products_in_store(env: &TestEnv) -> BTreeMap<Uuid, (i64, i64)> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT aggregate_id, max(sequence), \
                (array_agg(coalesce(payload -> event_type ->> 'inventory', '0') ORDER BY sequence DESC) \
                   FILTER (WHERE payload -> event_type ? 'inventory'))[1]::bigint \
         FROM events WHERE aggregate_type = 'Product' GROUP BY aggregate_id",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, version, inventory)| (Uuid::parse_str(&id).unwrap(), (version, inventory)))
        .collect()
}

async fn products_in_search(env: &TestEnv) -> BTreeMap<Uuid, (i64, i64)> {
    let rows: Vec<(Uuid, i64, i64)> =
        sqlx::query_as("SELECT product_id, version, inventory FROM search_products")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, version, inventory)| (id, (version, inventory)))
        .collect()
}

/// Events per order in the store, and timeline rows per order in the views.
async fn order_events(env: &TestEnv) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let store: Vec<(String, i64)> = sqlx::query_as(
        "SELECT aggregate_id, count(*) FROM events WHERE aggregate_type = 'Order' GROUP BY 1",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let views: Vec<(String, i64)> =
        sqlx::query_as("SELECT order_id::text, count(*) FROM order_timeline GROUP BY 1")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    (store.into_iter().collect(), views.into_iter().collect())
}

async fn converged(env: &TestEnv) {
    eventually(
        Duration::from_secs(90),
        "the read models to equal the event store",
        || async {
            let (store, views) = order_events(env).await;
            (products_in_store(env).await == products_in_search(env).await && store == views)
                .then_some(())
        },
    )
    .await;
}

async fn write(api: &Api, seller: &Shopper, customer: &Shopper, products: &[Uuid], i: usize) {
    let product = products[i % products.len()];
    let (path, token, body) = if i.is_multiple_of(10) {
        let order = json!({"items": [{"productId": product, "quantity": 1}], "shippingAddress": address(), "payment": {"token": "tok_visa"}});
        ("/orders".to_string(), &customer.token, order)
    } else {
        (
            format!("/products/{product}/inventory"),
            &seller.token,
            json!({"adjust": 2}),
        )
    };
    // A killed server drops requests; send again until one is answered.
    loop {
        let sent = api
            .http
            .post(api.url(&path))
            .bearer_auth(token)
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Sends `count` writes in the background, 8 at a time, counting them in `done`.
fn spawn_writes(
    api: Api,
    seller: &Shopper,
    customer: &Shopper,
    products: &[Uuid],
    count: usize,
    done: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    let (seller, customer, products) = (seller.clone(), customer.clone(), products.to_vec());
    tokio::spawn(async move {
        for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
            join_all(
                chunk
                    .iter()
                    .map(|i| write(&api, &seller, &customer, &products, *i)),
            )
            .await;
            done.fetch_add(chunk.len(), Ordering::SeqCst);
        }
    })
}

#[tokio::test]
async fn a_replay_during_writes_ends_equal_to_the_event_store() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let seller = app.seller().await;
    let customer = app.customer().await;
    let mut products = Vec::new();
    for _ in 0..8 {
        products.push(app.product(&seller, 3.0, 1000).await);
    }
    let live_table: u32 = sqlx::query_scalar("SELECT 'search_products'::regclass::oid::int")
        .fetch_one(&env.pool)
        .await
        .map(|oid: i32| oid as u32)
        .unwrap();

    let done = Arc::new(AtomicUsize::new(0));
    let writes = spawn_writes(
        app.api.clone(),
        &seller,
        &customer,
        &products,
        300,
        done.clone(),
    );
    eventually(
        Duration::from_secs(60),
        "writes to be under way",
        || async { (done.load(Ordering::SeqCst) >= 40).then_some(()) },
    )
    .await;
    let url = env.database_url.clone();
    replay::replay_postgres(&env.pool, &url, &SEARCH, false, &|_| {})
        .await
        .unwrap();
    replay::replay_postgres(&env.pool, &url, &ORDER_VIEWS, false, &|_| {})
        .await
        .unwrap();
    assert!(
        done.load(Ordering::SeqCst) < 300,
        "the replays ran while writes continued"
    );
    writes.await.unwrap();

    let swapped: i32 = sqlx::query_scalar("SELECT 'search_products'::regclass::oid::int")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_ne!(
        swapped as u32, live_table,
        "the rebuilt table was swapped in"
    );
    converged(&env).await;

    let dry = replay::replay_postgres(&env.pool, &url, &SEARCH, true, &|_| {})
        .await
        .unwrap();
    let product_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Product'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(dry.events as i64, product_events);
    let after_dry: i32 = sqlx::query_scalar("SELECT 'search_products'::regclass::oid::int")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(after_dry, swapped, "a dry run changes nothing");
}

#[tokio::test]
async fn projectors_killed_mid_batch_converge_exactly() {
    let env = TestEnv::new().await;
    let port = free_port();
    let query_port = free_port().to_string();
    let extra = [("QUERY_API_ADDR", format!("127.0.0.1:{query_port}"))];
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let api = Api::new(format!("http://127.0.0.1:{port}"));
    let mut server = Server::start(&env, port, &extra);
    wait_healthy(&api).await;
    let seller = api.seller().await;
    let customer = api.customer().await;
    let mut products = Vec::new();
    for _ in 0..6 {
        products.push(api.product(&seller, 4.0, 1000).await);
    }
    let done = Arc::new(AtomicUsize::new(0));
    let writes = spawn_writes(
        api.clone(),
        &seller,
        &customer,
        &products,
        400,
        done.clone(),
    );
    for milestone in [80, 200, 320] {
        eventually(Duration::from_secs(120), "writes to progress", || async {
            (done.load(Ordering::SeqCst) >= milestone).then_some(())
        })
        .await;
        server.kill_9();
        server = Server::start(&env, port, &extra);
        wait_healthy(&api).await;
    }
    writes.await.unwrap();
    converged(&env).await;
    let analytics = Analytics::connect(&clickhouse_url(), &env.clickhouse_database)
        .await
        .unwrap();
    let expected: BTreeMap<String, i64> = products_in_store(&env)
        .await
        .into_iter()
        .map(|(id, (_, inventory))| (id.to_string(), inventory))
        .collect();
    eventually(Duration::from_secs(60), "analytics to converge", || async {
        let rows = analytics
            .client()
            .query("SELECT product_id, inventory, version, at FROM inventory FINAL")
            .fetch_all::<InventoryRow>()
            .await
            .ok()?;
        let stock: BTreeMap<String, i64> = rows
            .into_iter()
            .map(|r| (r.product_id, r.inventory))
            .collect();
        (stock == expected).then_some(())
    })
    .await;
    let query = Api::new(format!("http://127.0.0.1:{query_port}"));
    let store = products_in_store(&env).await;
    for product in &products {
        let expected = store[product].1;
        eventually(Duration::from_secs(30), "the cache to converge", || async {
            let response = query
                .http
                .get(query.url(&format!("/products/{product}")))
                .send()
                .await
                .ok()?;
            (response.status() == StatusCode::OK).then_some(())?;
            let doc: serde_json::Value = response.json().await.ok()?;
            (doc["inventory"] == expected).then_some(())
        })
        .await;
    }
}
