//! The product detail cache in Redis (DragonFly in production): one JSON
//! document per product, refreshed on every product event, written only when
//! newer than what is there (compare-and-set on the version in a script), so
//! the projector and the query API's read-through never overwrite a newer
//! document with an older one. Beside it, each product's customers' rating
//! summary, written by the reviews projector.

use crate::{Envelope, Projection};
use redis::aio::ConnectionManager;
use serde_json::{json, Map, Value};

/// Sets KEYS[1] to ARGV[1] unless the stored document's version is at least
/// ARGV[2]. Returns 1 when it wrote.
const SET_IF_NEWER: &str = r#"
local current = redis.call('GET', KEYS[1])
if current then
  local ok, doc = pcall(cjson.decode, current)
  if ok and doc['version'] and tonumber(doc['version']) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"#;

/// Product documents in Redis under one key prefix.
#[derive(Clone)]
pub struct ProductCache {
    redis: ConnectionManager,
    prefix: String,
}

impl ProductCache {
    /// Whether Redis answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    /// A cache on `redis` under `prefix`.
    pub fn new(redis: ConnectionManager, prefix: String) -> Self {
        ProductCache { redis, prefix }
    }

    fn key(&self, product_id: &str) -> String {
        format!("{}product:{}", self.prefix, product_id)
    }

    fn rating_key(&self, product_id: &str) -> String {
        format!("{}product-rating:{}", self.prefix, product_id)
    }

    /// The cached document of `product_id` and its customers' rating summary
    /// (`{"average", "count"}`), each if cached, in one round trip.
    pub async fn get_with_rating(
        &self,
        product_id: &str,
    ) -> redis::RedisResult<(Option<Value>, Option<Value>)> {
        let (doc, rating): (Option<String>, Option<String>) = redis::cmd("MGET")
            .arg(self.key(product_id))
            .arg(self.rating_key(product_id))
            .query_async(&mut self.redis.clone())
            .await?;
        let parse = |raw: Option<String>| raw.and_then(|raw| serde_json::from_str(&raw).ok());
        Ok((parse(doc), parse(rating)))
    }

    /// Stores the rating summary of `product_id` (the reviews projector, after
    /// each change; `only_if_missing` for a read-through, so that it cannot
    /// overwrite a newer summary the projector wrote meanwhile).
    pub async fn put_rating(
        &self,
        product_id: &str,
        summary: &Value,
        only_if_missing: bool,
    ) -> redis::RedisResult<()> {
        let mut set = redis::cmd("SET");
        set.arg(self.rating_key(product_id))
            .arg(summary.to_string());
        if only_if_missing {
            set.arg("NX");
        }
        set.query_async::<Option<String>>(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    /// The cached document of `product_id`: `Some(doc)`; a deleted product's
    /// document has `"deleted": true`.
    pub async fn get(&self, product_id: &str) -> redis::RedisResult<Option<Value>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.key(product_id))
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(raw.and_then(|raw| serde_json::from_str(&raw).ok()))
    }

    /// Stores `doc` (which carries its `version`) unless a newer one is there.
    pub async fn put_if_newer(&self, product_id: &str, doc: &Value) -> redis::RedisResult<bool> {
        let version = doc["version"].as_i64().unwrap_or(0);
        let written: i64 = redis::Script::new(SET_IF_NEWER)
            .key(self.key(product_id))
            .arg(doc.to_string())
            .arg(version)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(written == 1)
    }
}

/// The document shown by `GET /products/{id}`, from a `product.created` body.
pub fn document_from_created(product_id: &str, body: &Value, version: i64) -> Value {
    let inventory = body["inventory"].as_i64().unwrap_or(0);
    json!({
        "id": product_id,
        "name": body["name"],
        "description": body["description"],
        "category": body["category"],
        "brand": body["brand"],
        "price": body["price"],
        "specifications": body["specifications"],
        "sellerId": body["sellerId"],
        "inventory": inventory,
        "inStock": inventory > 0,
        "catalogueRating": body["catalogueRating"].as_f64(),
        "version": version,
    })
}

/// Keeps the cache from product events.
pub struct CacheProjection {
    cache: ProductCache,
}

impl CacheProjection {
    /// The projection writing to `cache`.
    pub fn new(cache: ProductCache) -> Self {
        CacheProjection { cache }
    }

    async fn apply_one(&self, event: &Envelope) -> anyhow::Result<()> {
        let id = event.aggregate_id.as_str();
        match event.name() {
            "created" => {
                self.cache
                    .put_if_newer(id, &document_from_created(id, &event.body, event.sequence))
                    .await?;
            }
            "updated" => {
                // Without the document there is nothing to patch; the next read
                // fills it from the search read model.
                let Some(Value::Object(mut doc)) = self.cache.get(id).await? else {
                    return Ok(());
                };
                if doc.get("deleted") == Some(&Value::Bool(true)) {
                    return Ok(());
                }
                patch(&mut doc, &event.body);
                doc.insert("version".into(), json!(event.sequence));
                self.cache.put_if_newer(id, &Value::Object(doc)).await?;
            }
            "deleted" => {
                let tombstone = json!({"id": id, "deleted": true, "version": event.sequence});
                self.cache.put_if_newer(id, &tombstone).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

fn patch(doc: &mut Map<String, Value>, body: &Value) {
    for field in [
        "name",
        "description",
        "category",
        "brand",
        "price",
        "specifications",
        "inventory",
    ] {
        if let Some(value) = body.get(field) {
            doc.insert(field.into(), value.clone());
        }
    }
    if let Some(inventory) = body["inventory"].as_i64() {
        doc.insert("inStock".into(), json!(inventory > 0));
    }
}

#[async_trait::async_trait]
impl Projection for CacheProjection {
    fn name(&self) -> &'static str {
        "cache"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.cache.ping().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        for event in events {
            self.apply_one(event).await?;
        }
        Ok(())
    }
}
