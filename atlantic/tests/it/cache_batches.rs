//! The product cache applies a batch as it would apply its events one by one:
//! creations, changes, deletions and redeliveries of several products mixed.

use crate::search_contract::envelope;
use crate::support::{redis_url, TestEnv};

use atlantic_projections::cache::{CacheProjection, ProductCache};
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
