//! The product cache and the search tables apply a batch as they would apply
//! its events one by one: creations, changes, deletions and redeliveries of
//! several products mixed.

use crate::search_contract::envelope;
use crate::support::{redis_url, TestEnv};

use atlantic_projections::cache::{CacheProjection, ProductCache};
use atlantic_projections::search::SearchProjection;
use atlantic_projections::{Envelope, Projection};
use serde_json::{json, Value};
use uuid::Uuid;

fn created(id: &str, name: &str) -> Envelope {
    envelope(
        "events.product.created",
        "Product",
        id,
        1,
        json!({
            "productId": id, "sellerId": Uuid::nil(), "name": name, "description": "a thing",
            "category": "kitchen > teapots", "brand": "Acme", "price": 12.5,
            "specifications": {}, "inventory": 3,
        }),
    )
}

/// Every product of the search tables, as text, in id order.
async fn search_rows(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT concat_ws('|', product_id, name, description, category, brand, price, \
                specifications, inventory, version) FROM search_products ORDER BY product_id",
    )
    .fetch_all(pool)
    .await
    .expect("the search tables")
}

fn updated(id: &str, sequence: i64, body: Value) -> Envelope {
    let mut body = body;
    body["productId"] = json!(id);
    envelope("events.product.updated", "Product", id, sequence, body)
}

fn deleted(id: &str, sequence: i64) -> Envelope {
    envelope(
        "events.product.deleted",
        "Product",
        id,
        sequence,
        json!({"productId": id}),
    )
}

async fn cache(env: &TestEnv, prefix: &str) -> ProductCache {
    let redis = atlantic_platform::redis_connection::connect(&redis_url())
        .await
        .unwrap();
    ProductCache::new(redis, format!("{}{prefix}", env.redis_prefix))
}

#[tokio::test]
async fn a_batch_leaves_the_cache_as_its_events_one_by_one_do() {
    let env = TestEnv::new().await;
    let [a, b, c, d] = [0; 4].map(|_| Uuid::now_v7().to_string());
    let events = vec![
        created(&a, "Teapot"),
        updated(&a, 2, json!({"name": "Big Teapot"})),
        created(&b, "Kettle"),
        updated(&b, 2, json!({"inventory": 0})),
        updated(&a, 3, json!({"price": 20.0})),
        deleted(&b, 3),
        // After its deletion a product's document stays a tombstone.
        updated(&b, 4, json!({"name": "Ghost"})),
        // No document to patch: nothing is written.
        updated(&c, 5, json!({"name": "Unknown"})),
        // Delivered again, older than what the batch wrote.
        created(&a, "Teapot"),
        created(&d, "Cup"),
        updated(&d, 2, json!({"inventory": 9})),
    ];
    let batched = cache(&env, "batched:").await;
    let single = cache(&env, "single:").await;
    CacheProjection::new(batched.clone())
        .apply(&events)
        .await
        .unwrap();
    let one_by_one = CacheProjection::new(single.clone());
    for event in &events {
        one_by_one.apply(std::slice::from_ref(event)).await.unwrap();
    }
    for id in [&a, &b, &c, &d] {
        assert_eq!(
            batched.get(id).await.unwrap(),
            single.get(id).await.unwrap(),
            "product {id}"
        );
    }
    let a_doc = batched.get(&a).await.unwrap().expect("a's document");
    assert_eq!(
        (&a_doc["name"], &a_doc["price"], &a_doc["version"]),
        (&json!("Big Teapot"), &json!(20.0), &json!(3))
    );
    let b_doc = batched.get(&b).await.unwrap().expect("b's tombstone");
    assert_eq!(
        (&b_doc["deleted"], &b_doc["version"]),
        (&json!(true), &json!(3))
    );
    assert_eq!(batched.get(&c).await.unwrap(), None);
    let d_doc = batched.get(&d).await.unwrap().expect("d's document");
    assert_eq!(
        (&d_doc["inventory"], &d_doc["inStock"], &d_doc["version"]),
        (&json!(9), &json!(true), &json!(2))
    );

    // A batch older than the documents changes none of them.
    CacheProjection::new(batched.clone())
        .apply(&events[..2])
        .await
        .unwrap();
    assert_eq!(batched.get(&a).await.unwrap(), Some(a_doc));
}

#[tokio::test]
async fn a_batch_leaves_the_search_tables_as_its_events_one_by_one_do() {
    let (batched, single) = (TestEnv::new().await, TestEnv::new().await);
    let [a, b, c, d] = [0; 4].map(|_| Uuid::now_v7().to_string());
    let events = vec![
        created(&a, "Teapot"),
        updated(&a, 2, json!({"name": "Big Teapot"})),
        created(&b, "Kettle"),
        created(&d, "Cup"),
        updated(&b, 2, json!({"inventory": 0})),
        updated(&d, 2, json!({"inventory": 9})),
        updated(&a, 3, json!({"price": 20.0})),
        deleted(&b, 3),
        // After its deletion, a product's updates find no row.
        updated(&b, 4, json!({"name": "Ghost"})),
        updated(&c, 5, json!({"name": "Unknown"})),
        // Delivered again between two updates of its product.
        created(&a, "Teapot"),
        updated(
            &a,
            4,
            json!({"brand": "Acme Deluxe", "description": "a big teapot"}),
        ),
        updated(
            &d,
            3,
            json!({"price": 3.5, "specifications": {"colour": "blue"}}),
        ),
    ];
    SearchProjection::new(batched.pool.clone())
        .apply(&events)
        .await
        .unwrap();
    let one_by_one = SearchProjection::new(single.pool.clone());
    for event in &events {
        one_by_one.apply(std::slice::from_ref(event)).await.unwrap();
    }
    let rows = search_rows(&batched.pool).await;
    assert_eq!(rows, search_rows(&single.pool).await);
    assert_eq!(
        rows.len(),
        2,
        "a and d, b deleted, c never created: {rows:?}"
    );
    let a_row = rows
        .iter()
        .find(|row| row.starts_with(&a))
        .expect("a's row");
    assert_eq!(
        a_row,
        &format!("{a}|Big Teapot|a big teapot|kitchen > teapots|Acme Deluxe|20.00|{{}}|3|4")
    );
    let d_row = rows
        .iter()
        .find(|row| row.starts_with(&d))
        .expect("d's row");
    assert_eq!(
        d_row,
        &format!("{d}|Cup|a thing|kitchen > teapots|Acme|3.50|{{\"colour\": \"blue\"}}|9|3")
    );

    // Delivered again up to the deletion (as after a crash before the
    // checkpoint), a batch changes no row.
    SearchProjection::new(batched.pool.clone())
        .apply(&events[..8])
        .await
        .unwrap();
    assert_eq!(search_rows(&batched.pool).await, rows);
}
