//! Rebuilding read models from the events table while writes continue,
//! projectors killed with SIGKILL, and a search engine that goes away for a
//! while: the read models end equal to the event store.

use crate::support;

use atlantic_projections::analytics::{Analytics, InventoryRow};
use atlantic_projections::replay;
use atlantic_sagas::SagaSettings;
use futures::future::join_all;
use meilisearch_sdk::documents::DocumentsQuery;
use reqwest::{Method, StatusCode};
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

/// Whether every order view is at its order's last status event (the
/// newest of its timeline; the view's status and version come from the
/// same event), as applying its events one by one leaves it.
async fn views_at_their_last_status(env: &TestEnv) -> bool {
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_views v \
         WHERE v.version <> (SELECT max(t.sequence) FROM order_timeline t WHERE t.order_id = v.order_id)",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    behind == 0
}

/// Units ordered per product, from the event store.
async fn units_in_store(env: &TestEnv) -> BTreeMap<String, i64> {
    sqlx::query_as(
        "SELECT line ->> 'productId', sum((line ->> 'quantity')::bigint)::bigint \
         FROM events, jsonb_array_elements(payload -> 'OrderCreated' -> 'items') AS line \
         WHERE aggregate_type = 'Order' AND event_type = 'OrderCreated' GROUP BY 1",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Waits until the analytics hold the store's stock and units ordered per product.
async fn analytics_converged(env: &TestEnv, analytics: &Analytics) {
    eventually(Duration::from_secs(60), "analytics to converge", || async {
        let stock: BTreeMap<String, i64> = products_in_store(env)
            .await
            .into_iter()
            .map(|(id, (_, inventory))| (id.to_string(), inventory))
            .collect();
        let units = units_in_store(env).await;
        let in_stock: BTreeMap<String, i64> = analytics
            .client()
            .query("SELECT product_id, inventory, version, at FROM inventory FINAL")
            .fetch_all::<InventoryRow>()
            .await
            .ok()?
            .into_iter()
            .map(|r| (r.product_id, r.inventory))
            .collect();
        let ordered: BTreeMap<String, i64> = analytics
            .client()
            .query(
                "SELECT product_id, toInt64(sum(units)) FROM order_lines FINAL GROUP BY product_id",
            )
            .fetch_all::<(String, i64)>()
            .await
            .ok()?
            .into_iter()
            .collect();
        (in_stock == stock && ordered == units).then_some(())
    })
    .await;
}

/// Each product's last name, in the store and in search.
async fn names(env: &TestEnv) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let store: Vec<(String, String)> = sqlx::query_as(
        "SELECT aggregate_id, \
                (array_agg(payload -> event_type ->> 'name' ORDER BY sequence DESC) \
                   FILTER (WHERE payload -> event_type ? 'name'))[1] \
         FROM events WHERE aggregate_type = 'Product' GROUP BY aggregate_id",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let search: Vec<(String, String)> =
        sqlx::query_as("SELECT product_id::text, name FROM search_products")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    (store.into_iter().collect(), search.into_iter().collect())
}

/// Each rating's stars (none once withdrawn) and the comments, in the store
/// and in the reviews read model.
async fn reviews(
    env: &TestEnv,
) -> (
    (BTreeMap<Uuid, Option<i16>>, i64),
    (BTreeMap<Uuid, Option<i16>>, i64),
) {
    let store: Vec<(Uuid, Option<i16>)> = sqlx::query_as(
        "SELECT DISTINCT ON (aggregate_id) aggregate_id::uuid, (payload -> event_type ->> 'stars')::smallint \
         FROM events WHERE aggregate_type = 'Rating' ORDER BY aggregate_id, sequence DESC",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let views: Vec<(Uuid, Option<i16>)> =
        sqlx::query_as("SELECT rating_id, stars FROM product_ratings")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    let comments_in_store: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'Comment' AND event_type = 'CommentCreated'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let comments_in_views: i64 = sqlx::query_scalar("SELECT count(*) FROM product_comments")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    (
        (store.into_iter().collect(), comments_in_store),
        (views.into_iter().collect(), comments_in_views),
    )
}

/// Each product's customers' average as the store says it and as search
/// holds it, in thousandths of a star.
async fn search_ratings(env: &TestEnv) -> (BTreeMap<Uuid, i64>, BTreeMap<Uuid, i64>) {
    let store: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT product_id, round(avg(stars) * 1000)::bigint FROM ( \
             SELECT DISTINCT ON (aggregate_id) (payload -> event_type ->> 'productId')::uuid AS product_id, \
                    (payload -> event_type ->> 'stars')::smallint AS stars \
             FROM events WHERE aggregate_type = 'Rating' ORDER BY aggregate_id, sequence DESC) latest \
         WHERE stars IS NOT NULL GROUP BY product_id",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let search: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT product_id, round(customer_rating::numeric * 1000)::bigint FROM search_products \
         WHERE customer_rating IS NOT NULL",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    (store.into_iter().collect(), search.into_iter().collect())
}

/// What the test's Meilisearch holds, as the Postgres helpers above read the
/// store: (version, inventory), names and customers' averages per product.
/// `None` without a Meilisearch.
async fn meili_search(env: &TestEnv) -> Option<MeiliHolds> {
    let meili = env.meili.as_ref()?;
    let client = meilisearch_sdk::client::Client::new(meili.url(), Some(meili.key())).unwrap();
    let index = client.index(env.meili_index());
    let documents = DocumentsQuery::new(&index)
        .with_limit(100_000)
        .with_fields(["id", "version", "inventory", "name", "customerRating"])
        .execute::<serde_json::Value>()
        .await
        .ok()?
        .results;
    let mut holds = MeiliHolds::default();
    for document in documents {
        let id = Uuid::parse_str(document["id"].as_str()?).ok()?;
        let (version, inventory) = (
            document["version"].as_i64()?,
            document["inventory"].as_i64()?,
        );
        holds.products.insert(id, (version, inventory));
        holds
            .names
            .insert(id.to_string(), document["name"].as_str()?.to_string());
        if let Some(average) = document["customerRating"].as_f64() {
            holds.ratings.insert(id, (average * 1000.0).round() as i64);
        }
    }
    Some(holds)
}

/// See [`meili_search`].
#[derive(Default, PartialEq, Debug)]
struct MeiliHolds {
    products: BTreeMap<Uuid, (i64, i64)>,
    names: BTreeMap<String, String>,
    ratings: BTreeMap<Uuid, i64>,
}

async fn converged(env: &TestEnv) {
    eventually(
        Duration::from_secs(90),
        "the read models to equal the event store",
        || async {
            let (store, views) = order_events(env).await;
            let (named, shown) = names(env).await;
            let (reviewed, listed) = reviews(env).await;
            let (rated, ranked) = search_ratings(env).await;
            let in_store = products_in_store(env).await;
            if env.meili.is_some() {
                let meili = meili_search(env).await?;
                (meili.products == in_store && meili.names == named && meili.ratings == rated)
                    .then_some(())?;
            }
            (in_store == products_in_search(env).await
                && store == views
                && views_at_their_last_status(env).await
                && named == shown
                && reviewed == listed
                && rated == ranked)
                .then_some(())
        },
    )
    .await;
}

async fn write(api: &Api, seller: &Shopper, customer: &Shopper, products: &[Uuid], i: usize) {
    let product = products[i % products.len()];
    let (method, path, token, body) = match i % 10 {
        0 => {
            let order = json!({"items": [{"productId": product, "quantity": 1}], "shippingAddress": address(), "payment": {"token": "tok_visa"}});
            (Method::POST, "/orders".to_string(), &customer.token, order)
        }
        3 => (
            Method::POST,
            format!("/products/{product}/ratings"),
            &customer.token,
            json!({"stars": i % 5 + 1}),
        ),
        7 => (
            Method::POST,
            format!("/products/{product}/comments"),
            &customer.token,
            json!({"text": format!("Note {i}")}),
        ),
        // A partial update: only the name.
        5 => (
            Method::PATCH,
            format!("/products/{product}"),
            &seller.token,
            json!({"name": format!("Laptop {i}")}),
        ),
        _ => (
            Method::POST,
            format!("/products/{product}/inventory"),
            &seller.token,
            json!({"adjust": 2}),
        ),
    };
    // A killed server drops requests; send again until one is answered.
    loop {
        let sent = api
            .http
            .request(method.clone(), api.url(&path))
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
        for start in (0..count).step_by(8) {
            let chunk = start..count.min(start + 8);
            let sent = chunk.len();
            join_all(chunk.map(|i| write(&api, &seller, &customer, &products, i))).await;
            done.fetch_add(sent, Ordering::SeqCst);
        }
    })
}

/// Writes without end in the background, once `at_least` of them are done.
async fn writes_under_way(
    api: &Api,
    seller: &Shopper,
    customer: &Shopper,
    products: &[Uuid],
    at_least: usize,
) -> (tokio::task::JoinHandle<()>, Arc<AtomicUsize>) {
    let done = Arc::new(AtomicUsize::new(0));
    let writes = spawn_writes(
        api.clone(),
        seller,
        customer,
        products,
        usize::MAX,
        done.clone(),
    );
    written(&done, at_least).await;
    (writes, done)
}

/// Waits until `done` counts `at_least` writes.
async fn written(done: &AtomicUsize, at_least: usize) {
    eventually(
        Duration::from_secs(60),
        "writes to be under way",
        || async { (done.load(Ordering::SeqCst) >= at_least).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn a_replay_during_writes_ends_equal_to_the_event_store() {
    let env = TestEnv::with_meili("the Meilisearch part of a replay during writes").await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let seller = app.seller().await;
    let customer = app.customer().await;
    let mut products = Vec::new();
    for _ in 0..8 {
        products.push(app.product(&seller, 3.0, 1000).await);
    }
    // Only a customer who received a product rates it.
    let admin = app.admin().await;
    support::receive(&app, &env.pool, &admin, &customer, &products).await;
    let live_table: u32 = sqlx::query_scalar("SELECT 'search_products'::regclass::oid::int")
        .fetch_one(&env.pool)
        .await
        .map(|oid: i32| oid as u32)
        .unwrap();
    let analytics = Analytics::connect(&clickhouse_url(), &env.clickhouse_database)
        .await
        .unwrap();
    // A row no event made: the rebuilt tables must not hold it.
    analytics
        .client()
        .query("INSERT INTO order_lines VALUES ('stale', 'stale', 'stale', 5, 500, now())")
        .execute()
        .await
        .unwrap();
    for kind in ["view", "click"] {
        let response = app
            .post(
                "/clicks",
                None,
                json!({"productId": products[0], "kind": kind}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let clicks = || async {
        analytics
            .client()
            .query("SELECT toUInt64(count()) FROM clicks FINAL")
            .fetch_one::<u64>()
            .await
            .unwrap()
    };
    eventually(
        Duration::from_secs(30),
        "the clicks to be counted",
        || async { (clicks().await == 2).then_some(()) },
    )
    .await;

    // Writes go on until the replays are done.
    let (writes, done) = writes_under_way(&app.api, &seller, &customer, &products, 40).await;
    let before_replays = done.load(Ordering::SeqCst);
    // Every read model, as the command line rebuilds them.
    let (replayed, printed) = env.cli(&["replay", "all"]).await;
    assert!(replayed, "{printed}");
    assert!(printed.contains("search (Meilisearch): replayed") || env.meili.is_none());
    assert!(
        done.load(Ordering::SeqCst) > before_replays,
        "writes went on during the replays"
    );
    writes.abort();

    let swapped: i32 = sqlx::query_scalar("SELECT 'search_products'::regclass::oid::int")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_ne!(
        swapped as u32, live_table,
        "the rebuilt table was swapped in"
    );
    converged(&env).await;
    analytics_converged(&env, &analytics).await;
    assert_eq!(clicks().await, 2, "clicks stay through a replay");

    let (counted, printed) = env.cli(&["replay", "search", "--dry-run"]).await;
    assert!(counted, "{printed}");
    let dry: i64 = printed
        .lines()
        .find_map(|line| line.strip_prefix("search (Postgres tables): would replay "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a dry run's count: {printed}"));
    let search_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type IN ('Product', 'Rating')",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(dry, search_events);
    let after_dry: i32 = sqlx::query_scalar("SELECT 'search_products'::regclass::oid::int")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(after_dry, swapped, "a dry run changes nothing");
}

#[tokio::test]
async fn projectors_killed_mid_batch_converge_exactly() {
    let env = TestEnv::with_meili("the Meilisearch part of projectors killed mid-batch").await;
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
    let admin = support::admin_by_cli(&env, &api).await;
    support::receive(&api, &env.pool, &admin, &customer, &products).await;
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
    analytics_converged(&env, &analytics).await;
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

/// A read model whose every batch makes the store grow faster than it is
/// read: each application writes two more events of a product.
struct Chasing {
    pool: sqlx::PgPool,
    product: String,
    next_sequence: AtomicUsize,
    applied: AtomicUsize,
}

#[async_trait::async_trait]
impl atlantic_projections::Projection for Chasing {
    fn name(&self) -> &'static str {
        "chasing"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into()]
    }

    async fn apply(&self, events: &[atlantic_projections::Envelope]) -> anyhow::Result<()> {
        self.applied.fetch_add(events.len(), Ordering::SeqCst);
        for _ in 0..2 {
            let sequence = self.next_sequence.fetch_add(1, Ordering::SeqCst) as i64;
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                 VALUES ('Product', $1, $2, 'InventoryAdjusted', '1', $3, '{}')",
            )
            .bind(&self.product)
            .bind(sequence)
            .bind(json!({"InventoryAdjusted": {"delta": 1, "inventory": sequence}}))
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_replay_ends_at_its_mark_however_fast_events_arrive() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 2.0, 1).await;
    for _ in 0..3 {
        app.product(&seller, 3.0, 1).await;
    }
    let before = replay::count(&env.pool, &["Product"]).await.unwrap();
    let chasing = Chasing {
        pool: env.pool.clone(),
        product: product.to_string(),
        next_sequence: AtomicUsize::new(2),
        applied: AtomicUsize::new(0),
    };
    let replayed = tokio::time::timeout(
        Duration::from_secs(60),
        replay::replay_in_place(&env.pool, &chasing, &["Product"], false, &|_| {}),
    )
    .await
    .expect("the replay ends")
    .unwrap();
    assert_eq!(replayed.events, before, "exactly the events up to the mark");
    assert_eq!(chasing.applied.load(Ordering::SeqCst) as u64, before);
    let after = replay::count(&env.pool, &["Product"]).await.unwrap();
    assert!(after > before, "events kept arriving while it ran");
    app.stop().await;
}

#[tokio::test]
async fn search_converges_after_meilisearch_goes_away_while_products_change() {
    let mut env = TestEnv::with_meili("the Meilisearch outage").await;
    if env.meili.is_none() {
        return;
    }
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().expect("the query API runs");
    let seller = app.seller().await;
    let customer = app.customer().await;
    let mut products = Vec::new();
    for _ in 0..4 {
        products.push(app.product(&seller, 3.0, 1000).await);
    }
    let admin = app.admin().await;
    support::receive(&app, &env.pool, &admin, &customer, &products).await;
    converged(&env).await;

    let (writes, done) = writes_under_way(&app.api, &seller, &customer, &products, 16).await;
    env.meili.as_mut().expect("a Meilisearch").kill_9();

    let search = query
        .http
        .get(query.url("/products/search?q=laptop"))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(search.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = search.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    let ready = query.http.get(query.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["search"], "down");
    assert_eq!(ready["checks"]["postgres"], "up");

    // The outage lasts 10 s while products go on changing.
    let during = done.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(
        done.load(Ordering::SeqCst) > during,
        "products changed while Meilisearch was away"
    );
    env.meili.as_mut().expect("a Meilisearch").restart();
    let restarted = done.load(Ordering::SeqCst);
    written(&done, restarted + 16).await;
    writes.abort();

    converged(&env).await;
    assert!(
        env.dead_letters().await.is_empty(),
        "an outage parks nothing"
    );
    let search = query
        .http
        .get(query.url("/products/search?q=laptop"))
        .send()
        .await
        .unwrap();
    assert_eq!(search.status(), StatusCode::OK);
    let ready = query.http.get(query.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}
