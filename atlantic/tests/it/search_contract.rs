//! One contract for every search adapter: the Postgres adapter always, and
//! Meilisearch on a server of the test's own wherever its binary is found.

use crate::support;

use atlantic_domain::published::Published;
use atlantic_projections::search::SearchProjection;
use atlantic_projections::search_meili::replay::replay_meili;
use atlantic_projections::{Envelope, MeiliProjection, Projection};
use atlantic_query_api::search::{
    MeiliSearch, PostgresSearch, SearchIndex, SearchQuery, SearchResults, Sort,
};
use meilisearch_sdk::client::Client;
use meilisearch_sdk::tasks::TasksSearchQuery;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use support::meili::MeiliServer;
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
            published: published(json!({
                "event": "product.created", "timestamp": "2026-01-01T00:00:00Z", "productId": id,
                "sellerId": Uuid::nil(), "name": name, "description": format!("{name}, a fine thing"),
                "category": category, "brand": brand, "price": price,
                "specifications": {"rating": 3.5 + (price as i64 % 3) as f64 / 2.0}, "inventory": inventory,
            })),
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

pub(crate) fn envelope(
    subject: &str,
    aggregate_type: &str,
    id: &str,
    sequence: i64,
    body: serde_json::Value,
) -> Envelope {
    Envelope {
        subject: subject.into(),
        aggregate_type: aggregate_type.into(),
        aggregate_id: id.into(),
        sequence,
        position: 0,
        published: published(with_header(subject, aggregate_type, id, body)),
    }
}

/// `body` with the fields every published event carries (its kind, time and
/// aggregate's id), where the test left them out.
fn with_header(
    subject: &str,
    aggregate_type: &str,
    id: &str,
    mut body: serde_json::Value,
) -> serde_json::Value {
    if let Some(fields) = body.as_object_mut() {
        let kind = subject.trim_start_matches("events.");
        fields.entry("event").or_insert_with(|| json!(kind));
        fields
            .entry("timestamp")
            .or_insert_with(|| json!("2026-01-01T00:00:00Z"));
        fields
            .entry(format!("{}Id", aggregate_type.to_lowercase()))
            .or_insert_with(|| json!(id));
    }
    body
}

/// A published event's body, decoded as a consumer decodes it.
fn published(body: serde_json::Value) -> Published {
    serde_json::from_value(body).expect("a published event")
}

/// Five teapots rated by the catalogue, by customers, by both, or only by
/// their seller's specifications; and the order `rating:desc` must give
/// them: customers' average first, the catalogue's while no customer rated,
/// specifications never.
fn rated_teapots() -> (Vec<Envelope>, Vec<String>) {
    let ids: Vec<String> = (0..5).map(|_| Uuid::now_v7().to_string()).collect();
    let mut events = Vec::new();
    for (i, catalogue) in [Some(4.0), Some(2.0), None, None, Some(3.5)]
        .into_iter()
        .enumerate()
    {
        let mut body = json!({
            "event": "product.created", "timestamp": "2026-01-01T00:00:00Z", "productId": ids[i],
            "sellerId": Uuid::nil(), "name": format!("Teapot {i}"), "description": "A teapot",
            "category": "kitchen > teapots", "brand": "Kettle", "price": 30.0,
            "specifications": {"rating": 5.0}, "inventory": 3,
        });
        if let Some(rating) = catalogue {
            body["catalogueRating"] = json!(rating);
        }
        events.push(envelope(
            "events.product.created",
            "Product",
            &ids[i],
            1,
            body,
        ));
    }
    let rating = |name: &str,
                  product: usize,
                  rating_id: &str,
                  sequence: i64,
                  stars: Option<i64>| {
        let mut body = json!({"event": format!("rating.{name}"), "productId": ids[product], "userId": Uuid::nil()});
        if let Some(stars) = stars {
            body["stars"] = json!(stars);
        }
        envelope(
            &format!("events.rating.{name}"),
            "Rating",
            rating_id,
            sequence,
            body,
        )
    };
    let r: Vec<String> = (0..5).map(|_| Uuid::now_v7().to_string()).collect();
    events.extend([
        rating("added", 0, &r[0], 1, Some(1)),
        rating("added", 0, &r[1], 1, Some(2)),
        rating("added", 3, &r[2], 1, Some(4)),
        rating("updated", 3, &r[2], 2, Some(5)),
        // An older event delivered late changes nothing.
        rating("added", 3, &r[2], 1, Some(1)),
        rating("added", 3, &r[3], 1, Some(5)),
        rating("added", 4, &r[4], 1, Some(3)),
        rating("deleted", 4, &r[4], 2, None),
    ]);
    let order = [3, 4, 1, 0, 2].iter().map(|&i| ids[i].clone()).collect();
    (events, order)
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

    // Updates carry only what changed; one delivered again after a newer one
    // changes nothing.
    let id = events[0].aggregate_id.clone();
    let update = |sequence: i64, body: serde_json::Value| {
        envelope("events.product.updated", "Product", &id, sequence, body)
    };
    let first = update(2, json!({"productId": id, "name": "Zephyr One"}));
    let second = update(3, json!({"productId": id, "name": "Zephyr Two"}));
    let repriced = update(4, json!({"productId": id, "price": 1234.5}));
    projection
        .apply(&[first.clone(), second.clone()])
        .await
        .unwrap();
    projection.apply(&[repriced]).await.unwrap();
    projection.apply(&[first, second]).await.unwrap();
    let zephyr = eventually(Duration::from_secs(30), "the update searchable", || async {
        let found = index.search(&query("zephyr")).await.ok()?;
        (found.hits.first()?.price == 1234.5).then_some(found)
    })
    .await;
    assert_eq!(zephyr.total, 1);
    assert_eq!(zephyr.hits[0].name, "Zephyr Two", "the newest name stays");
    assert_eq!(zephyr.hits[0].brand, "Acme", "what no update carried stays");

    let (teapots, expected) = rated_teapots();
    projection.apply(&teapots).await.unwrap();
    projection.apply(&teapots).await.unwrap();
    let mut by_rating = query("teapot");
    by_rating.sort = Sort::RatingDesc;
    let ranked = eventually(Duration::from_secs(30), "the teapots ranked", || async {
        let found = index.search(&by_rating).await.ok()?;
        let ids: Vec<String> = found.hits.iter().map(|h| h.id.clone()).collect();
        (ids == expected).then_some(found)
    })
    .await;
    let ratings: Vec<Option<f64>> = ranked.hits.iter().map(|h| h.rating).collect();
    assert_eq!(ratings, [Some(5.0), Some(3.5), Some(2.0), Some(1.5), None]);
}

#[tokio::test]
async fn the_postgres_adapter_keeps_the_search_contract() {
    let env = TestEnv::new().await;
    let projection = SearchProjection::new(env.pool.clone());
    let index = PostgresSearch::new(env.pool.clone());
    contract(&projection, &index).await;

    // A word of the vocabulary is taken as spelled right; another is
    // corrected towards it.
    let product = |name: &str| {
        let id = Uuid::now_v7().to_string();
        envelope(
            "events.product.created",
            "Product",
            &id,
            1,
            json!({
                "productId": id, "sellerId": Uuid::nil(), "name": name, "description": "outdoors",
                "category": "sports", "brand": "Acme", "price": 10.0, "specifications": {}, "inventory": 1,
            }),
        )
    };
    projection
        .apply(&[product("Camping Tent"), product("Gaming Mouse")])
        .await
        .unwrap();
    let names = |results: SearchResults| -> Vec<String> {
        results.hits.into_iter().map(|hit| hit.name).collect()
    };
    assert_eq!(
        names(index.search(&query("camping")).await.unwrap()),
        ["Camping Tent"]
    );
    assert_eq!(
        names(index.search(&query("campign")).await.unwrap()),
        ["Camping Tent"]
    );
}

#[tokio::test]
async fn the_postgres_adapter_corrects_typos_towards_the_words_the_vocabulary_gained_since() {
    let env = TestEnv::new().await;
    let projection = SearchProjection::new(env.pool.clone());
    let index = PostgresSearch::new(env.pool.clone());
    let product = |name: &str, sequence: i64, id: &str| {
        envelope(
            "events.product.created",
            "Product",
            id,
            sequence,
            json!({
                "productId": id, "sellerId": Uuid::nil(), "name": name, "description": "outdoors",
                "category": "sports", "brand": "Acme", "price": 10.0, "specifications": {}, "inventory": 1,
            }),
        )
    };
    let names = |results: SearchResults| -> HashSet<String> {
        results.hits.into_iter().map(|hit| hit.name).collect()
    };
    let tent = Uuid::now_v7().to_string();
    projection
        .apply(&[product("Camping Tent", 1, &tent)])
        .await
        .unwrap();
    let misspelt = query("campign");
    assert_eq!(
        names(index.search(&misspelt).await.unwrap()),
        HashSet::from(["Camping Tent".to_string()])
    );

    // A batch that adds no word leaves the corrections of "campign" as they
    // were; one that adds "campaign", a closer word, corrects it towards
    // that word too.
    projection
        .apply(&[envelope(
            "events.product.updated",
            "Product",
            &tent,
            2,
            json!({"productId": tent, "name": "Tent Camping"}),
        )])
        .await
        .unwrap();
    assert_eq!(
        names(index.search(&misspelt).await.unwrap()),
        HashSet::from(["Tent Camping".to_string()])
    );
    projection
        .apply(&[product("Campaign Poster", 1, &Uuid::now_v7().to_string())])
        .await
        .unwrap();
    assert_eq!(
        names(index.search(&misspelt).await.unwrap()),
        HashSet::from(["Tent Camping".to_string(), "Campaign Poster".to_string()])
    );
}

#[tokio::test]
async fn the_postgres_adapter_answers_from_memory_only_while_the_read_model_is_unchanged() {
    let env = TestEnv::new().await;
    let projection = SearchProjection::new(env.pool.clone());
    let index = PostgresSearch::new(env.pool.clone());
    let names = |results: SearchResults| -> Vec<String> {
        results.hits.into_iter().map(|hit| hit.name).collect()
    };
    let id = Uuid::now_v7().to_string();
    let event = |subject: &str, sequence: i64, body: serde_json::Value| {
        envelope(subject, "Product", &id, sequence, body)
    };
    projection
        .apply(&[event(
            "events.product.created",
            1,
            json!({
                "productId": id, "sellerId": Uuid::nil(), "name": "Camping Tent", "description": "outdoors",
                "category": "sports", "brand": "Acme", "price": 10.0, "specifications": {}, "inventory": 1,
            }),
        )])
        .await
        .unwrap();
    let camping = query("camping");
    assert_eq!(
        names(index.search(&camping).await.unwrap()),
        ["Camping Tent"]
    );

    // Every batch moves the read model on: the next answer is computed anew.
    projection
        .apply(&[event(
            "events.product.updated",
            2,
            json!({"productId": id, "name": "Camping Stove"}),
        )])
        .await
        .unwrap();
    assert_eq!(
        names(index.search(&camping).await.unwrap()),
        ["Camping Stove"]
    );

    // A change that no batch made leaves the generation where it was: this
    // process answers from memory, another computes the answer.
    sqlx::query("UPDATE search_products SET name = 'Camping Chair'")
        .execute(&env.pool)
        .await
        .unwrap();
    assert_eq!(
        names(index.search(&camping).await.unwrap()),
        ["Camping Stove"]
    );
    let elsewhere = PostgresSearch::new(env.pool.clone());
    assert_eq!(
        names(elsewhere.search(&camping).await.unwrap()),
        ["Camping Chair"]
    );

    // A replay swaps in the read model rebuilt from the event store, which
    // holds none of these events: no answer of the old tables is given again.
    atlantic_projections::replay::replay_postgres(
        &env.pool,
        &atlantic_projections::search::REPLAY,
        false,
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(index.search(&camping).await.unwrap().total, 0);
}

/// A client of `meili`, a new products index's name and its projection (the
/// index made and set up).
async fn meili_index(meili: &MeiliServer) -> (Client, String, MeiliProjection) {
    let uid = format!("test_{}_products", Uuid::now_v7().simple());
    let client = Client::new(meili.url(), Some(meili.key())).unwrap();
    let projection = MeiliProjection::connect(&meili.url(), Some(meili.key()), &uid)
        .await
        .unwrap();
    (client, uid, projection)
}

#[tokio::test]
async fn the_meilisearch_adapter_keeps_the_search_contract() {
    let Some(meili) = MeiliServer::start("the Meilisearch contract") else {
        return;
    };
    let (client, uid, projection) = meili_index(&meili).await;
    contract(&projection, &MeiliSearch::new(&client, &uid)).await;
    let _ = client.delete_index(&uid).await;
}

#[tokio::test]
async fn a_meilisearch_replay_swaps_in_an_index_rebuilt_from_the_store() {
    let Some(meili) = MeiliServer::start("the Meilisearch replay") else {
        return;
    };
    let (url, key) = (meili.url(), Some(meili.key().to_string()));
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

    replay_meili(&env.pool, &url, key.as_deref(), &uid, false, &|_| {})
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

#[tokio::test]
async fn meilisearch_settings_are_code_applied_at_start_and_put_back() {
    let Some(meili) = MeiliServer::start("the Meilisearch settings") else {
        return;
    };
    let (client, uid, projection) = meili_index(&meili).await;
    let index = client.index(&uid);
    let searched = Some(
        ["category", "name", "brand", "description"]
            .map(String::from)
            .to_vec(),
    );
    let settings = index.get_settings().await.unwrap();
    assert_eq!(settings.searchable_attributes, searched);
    let mut sortable = settings.sortable_attributes.unwrap();
    sortable.sort();
    assert_eq!(sortable, ["price", "rating"]);
    assert_eq!(
        settings.ranking_rules.unwrap().first().map(String::as_str),
        Some("sort")
    );
    let typos = settings
        .typo_tolerance
        .unwrap()
        .min_word_size_for_typos
        .unwrap();
    assert_eq!((typos.one_typo, typos.two_typos), (Some(4), Some(6)));

    let updates = || async {
        TasksSearchQuery::new(&client)
            .with_index_uids([uid.as_str()])
            .with_types(["settingsUpdate"])
            .execute()
            .await
            .unwrap()
            .total
    };
    let applied = updates().await;
    projection.prepare().await.unwrap();
    assert_eq!(updates().await, applied, "settings in place are left alone");

    // Changed by hand: the next start puts them back.
    index
        .set_searchable_attributes(["name"])
        .await
        .unwrap()
        .wait_for_completion(&client, None, Some(Duration::from_secs(30)))
        .await
        .unwrap();
    projection.prepare().await.unwrap();
    assert_eq!(
        index.get_settings().await.unwrap().searchable_attributes,
        searched
    );
    assert_eq!(updates().await, applied + 2);
}
