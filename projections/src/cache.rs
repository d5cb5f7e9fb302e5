//! The product detail cache in Redis (DragonFly in production): one JSON
//! document per product, refreshed on every product event, written only when
//! newer than what is there (compare-and-set on the version in a script), so
//! the projector and the query API's read-through never overwrite a newer
//! document with an older one. Beside it, each product's customers' rating
//! summary, written by the reviews projector.

use crate::product_fields::fields_set;
use crate::{Envelope, Projection};
use atlantic_domain::published::PublishedEvent;
use redis::aio::ConnectionManager;
use serde_json::{json, Value};

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

/// The projection's name.
pub const NAME: &str = "cache";

/// The aggregates whose events it applies.
pub const AGGREGATE_TYPES: &[&str] = &["Product"];

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
        match (event.event(), fields_set(event.event())) {
            (PublishedEvent::ProductCreated { .. }, Some(mut doc)) => {
                doc.insert("id".into(), json!(id));
                doc.insert("version".into(), json!(event.sequence));
                self.cache.put_if_newer(id, &Value::Object(doc)).await?;
            }
            (PublishedEvent::ProductUpdated { .. }, Some(fields)) => {
                // Without the document there is nothing to patch; the next read
                // fills it from the search read model.
                let Some(Value::Object(mut doc)) = self.cache.get(id).await? else {
                    return Ok(());
                };
                if doc.get("deleted") == Some(&Value::Bool(true)) {
                    return Ok(());
                }
                doc.extend(fields);
                doc.insert("version".into(), json!(event.sequence));
                self.cache.put_if_newer(id, &Value::Object(doc)).await?;
            }
            (PublishedEvent::ProductDeleted { .. }, _) => {
                let tombstone = json!({"id": id, "deleted": true, "version": event.sequence});
                self.cache.put_if_newer(id, &tombstone).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Projection for CacheProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.cache.ping().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        for event in &crate::coalesce::product_updates(events) {
            self.apply_one(event).await?;
        }
        Ok(())
    }
}
