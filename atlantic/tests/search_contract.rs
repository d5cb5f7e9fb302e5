//! One contract for every search adapter: the Postgres adapter always, and
//! Meilisearch where a server is configured (`MEILI_URL`).

mod support;

use atlantic_projections::replay;
use atlantic_projections::search::SearchProjection;
use atlantic_projections::{Envelope, MeiliProjection, Projection};
use atlantic_query_api::search::{MeiliSearch, PostgresSearch, SearchIndex, SearchQuery, Sort};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use support::{eventually, TestEnv};
use uuid::Uuid;

/// A small catalogue: laptops, laptop bags (which mention laptops), baby goods.
fn catalogue() -> Vec<Envelope> {
    let mut events = Vec::new();
    let mut add = |name: String, category: &str, brand: &str, price: f64, inventory: i64| {
        let id = Uuid::now_v7().to_string();
        events.push(Envelope {
            subject: "events.product.created".into(),
            aggregate_type: "Product".into(),
            aggregate_id: id.clone(),
            sequence: 1,
            position: events.len() as i64 + 1,
            body: json!({
                "event": "product.created", "timestamp": "2026-01-01T00:00:00Z", "productId": id,
                "sellerId": Uuid::nil(), "name": name, "description": format!("{name}, a fine thing"),
                "category": category, "brand": brand, "price": price,
                "specifications": {"rating": 3.5 + (price as i64 % 3) as f64 / 2.0}, "inventory": inventory,
            }),
        });
    };
    for i in 0..12 {
        add(
            format!("Notebook Pro {i} Laptop"),
            "electronics > laptop",
            ["Acme", "Zenith"][i % 2],
            500.0 + i as f64 * 50.0,
            i as i64 % 3,
        );
    }
    for i in 0..6 {
        add(
            format!("Laptop Backpack {i}"),
            "kids > backpacks",
            "Carry",
            20.0 + i as f64,
            5,
        );
    }
    for i in 0..14 {
        add(
            format!("Baby Rocker {i}"),
            "baby > rockers",
            ["Baybee", "Cozy"][i % 2],
            40.0 + i as f64 * 3.0,
            1,
        );
    }
    events
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        category: None,
        brand: None,
        min_price_cents: None,
        max_price_cents: None,
        in_stock: None,
        sort: Sort::Relevance,
        page: 1,
        per_page: 20,
    }
}

/// Feeds the catalogue through `projection` and checks `index` behaves.
async fn contract(projection: &dyn Projection, index: &dyn SearchIndex) {
    let events = catalogue();
    projection.apply(&events).await.unwrap();
    projection.apply(&events).await.unwrap();
    let all = eventually(
        Duration::from_secs(30),
        "the documents to be searchable",
        || async {
            let all = index.search(&query("")).await.ok()?;
            (all.total == events.len() as u64).then_some(all)
        },
    )
    .await;
    for facet in ["category", "brand"] {
        assert_eq!(
            all.facets[facet].values().sum::<u64>(),
            all.total,
            "{facet} facet adds up"
        );
    }

    let typo = index.search(&query("lapotp")).await.unwrap();
    assert_eq!(typo.total, 18, "laptops and laptop bags");
    assert!(
        typo.hits[..12]
            .iter()
            .all(|h| h.category == "electronics > laptop"),
        "what a listing is outranks what it mentions"
    );

    let mut filtered = query("laptop");
    filtered.category = Some("electronics > laptop".into());
    filtered.min_price_cents = Some(60_000);
    filtered.max_price_cents = Some(90_000);
    filtered.sort = Sort::PriceAsc;
    let found = index.search(&filtered).await.unwrap();
    let prices: Vec<f64> = found.hits.iter().map(|h| h.price).collect();
    assert_eq!(prices, [600.0, 650.0, 700.0, 750.0, 800.0, 850.0, 900.0]);
    assert_eq!(
        found.facets["category"].get("electronics > laptop"),
        Some(&7)
    );

    let mut stocked = query("notebook");
    stocked.in_stock = Some(true);
    let found = index.search(&stocked).await.unwrap();
    assert_eq!(found.total, 8);
    assert!(found.hits.iter().all(|h| h.in_stock));

    let mut seen = HashSet::new();
    for page in 1..=4 {
        let mut paged = query("");
        paged.per_page = 10;
        paged.page = page;
        for hit in index.search(&paged).await.unwrap().hits {
            assert!(seen.insert(hit.id), "a hit repeated across pages");
        }
    }
    assert_eq!(seen.len(), events.len(), "pages neither skip nor repeat");
}

#[tokio::test]
async fn the_postgres_adapter_keeps_the_search_contract() {
    let env = TestEnv::new().await;
    contract(
        &SearchProjection::new(env.pool.clone()),
        &PostgresSearch::new(env.pool.clone()),
    )
    .await;
}

#[tokio::test]
async fn the_meilisearch_adapter_keeps_the_search_contract() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        eprintln!("skipped: MEILI_URL is not set, so no Meilisearch server was exercised");
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let uid = format!("test_{}_products", Uuid::now_v7().simple());
    let client = meilisearch_sdk::client::Client::new(&url, key.as_deref()).unwrap();
    let projection = MeiliProjection::connect(&url, key.as_deref(), &uid)
        .await
        .unwrap();
    contract(&projection, &MeiliSearch::new(&client, &uid)).await;
    let _ = client.delete_index(&uid).await;
}

#[tokio::test]
async fn a_meilisearch_replay_swaps_in_an_index_rebuilt_from_the_store() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        eprintln!("skipped: MEILI_URL is not set, so no Meilisearch server was exercised");
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let env = TestEnv::new().await;
    let app = env.spawn_app(false).await;
    let seller = app.seller().await;
    let mut products = HashSet::new();
    for price in [3.0, 4.0, 5.0] {
        products.insert(app.product(&seller, price, 2).await.to_string());
    }
    let uid = format!("test_{}_products", Uuid::now_v7().simple());
    let client = meilisearch_sdk::client::Client::new(&url, key.as_deref()).unwrap();
    // The live index holds a document no event in this store made.
    let live = MeiliProjection::connect(&url, key.as_deref(), &uid)
        .await
        .unwrap();
    live.apply(&catalogue()[..1]).await.unwrap();

    replay::replay_meili(&env.pool, &url, key.as_deref(), &uid, false, &|_| {})
        .await
        .unwrap();
    let found = MeiliSearch::new(&client, &uid)
        .search(&query(""))
        .await
        .unwrap();
    let ids: HashSet<String> = found.hits.iter().map(|h| h.id.to_string()).collect();
    assert_eq!(
        ids, products,
        "the index holds exactly the store's products"
    );
    assert!(
        client.get_index(format!("{uid}_replay")).await.is_err(),
        "the replaced index is deleted"
    );
    let _ = client.delete_index(&uid).await;
}
