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
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

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

    /// The cached documents of `product_ids`, in their order, in one round
    /// trip.
    pub async fn get_many(&self, product_ids: &[&str]) -> redis::RedisResult<Vec<Option<Value>>> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut mget = redis::cmd("MGET");
        for id in product_ids {
            mget.arg(self.key(id));
        }
        let raw: Vec<Option<String>> = mget.query_async(&mut self.redis.clone()).await?;
        Ok(raw
            .into_iter()
            .map(|raw| raw.and_then(|raw| serde_json::from_str(&raw).ok()))
            .collect())
    }

    /// Stores each document (each carries its `version`) unless a newer one
    /// is there, in one round trip.
    pub async fn put_all_if_newer<'a>(
        &self,
        docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> redis::RedisResult<()> {
        let script = redis::Script::new(SET_IF_NEWER);
        let mut pipe = redis::pipe();
        pipe.load_script(&script).ignore();
        let mut any = false;
        for (product_id, doc) in docs {
            let mut invocation = script.prepare_invoke();
            invocation
                .key(self.key(product_id))
                .arg(doc.to_string())
                .arg(doc["version"].as_i64().unwrap_or(0));
            pipe.invoke_script(&invocation).ignore();
            any = true;
        }
        if any {
            pipe.query_async::<()>(&mut self.redis.clone()).await?;
        }
        Ok(())
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

    /// Reads the documents the batch's updates patch in one round trip,
    /// applies the batch to them in memory, and writes each changed document
    /// once (if newer) in another.
    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let events = crate::coalesce::product_updates(events);
        let mut patched: Vec<&str> = events
            .iter()
            .filter(|e| matches!(e.event(), PublishedEvent::ProductUpdated { .. }))
            .map(|e| e.aggregate_id.as_str())
            .collect();
        patched.sort_unstable();
        patched.dedup();
        let read = self.cache.get_many(&patched).await?;
        let mut docs: HashMap<&str, Option<Map<String, Value>>> = patched
            .into_iter()
            .zip(read)
            .map(|(id, doc)| match doc {
                Some(Value::Object(doc)) => (id, Some(doc)),
                _ => (id, None),
            })
            .collect();
        let mut changed: HashSet<&str> = HashSet::new();
        for event in &events {
            let id = event.aggregate_id.as_str();
            // What the store would refuse (not newer) is not applied here either.
            let held = docs
                .get(id)
                .and_then(Option::as_ref)
                .and_then(|doc| doc.get("version")?.as_i64());
            if held.is_some_and(|held| held >= event.sequence) {
                continue;
            }
            let version = json!(event.sequence);
            match (event.event(), fields_set(event.event())) {
                (PublishedEvent::ProductCreated { .. }, Some(mut doc)) => {
                    doc.insert("id".into(), json!(id));
                    doc.insert("version".into(), version);
                    docs.insert(id, Some(doc));
                }
                (PublishedEvent::ProductUpdated { .. }, Some(fields)) => {
                    // Without the document there is nothing to patch; the next
                    // read fills it from the search read model.
                    let Some(Some(doc)) = docs.get_mut(id) else {
                        continue;
                    };
                    if doc.get("deleted") == Some(&Value::Bool(true)) {
                        continue;
                    }
                    doc.extend(fields);
                    doc.insert("version".into(), version);
                }
                (PublishedEvent::ProductDeleted { .. }, _) => {
                    let tombstone = Map::from_iter([
                        ("id".to_string(), json!(id)),
                        ("deleted".to_string(), json!(true)),
                        ("version".to_string(), version),
                    ]);
                    docs.insert(id, Some(tombstone));
                }
                _ => continue,
            }
            changed.insert(id);
        }
        let written: Vec<(&str, Value)> = changed
            .into_iter()
            .filter_map(|id| Some((id, Value::Object(docs.remove(id)??))))
            .collect();
        self.cache
            .put_all_if_newer(written.iter().map(|(id, doc)| (*id, doc)))
            .await?;
        Ok(())
    }
}
