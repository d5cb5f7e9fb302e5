//! The search read model on Meilisearch: one document per product (id, seller,
//! name, description, category, brand, price, specifications, inventory,
//! inStock, rating, version), kept from product events. A document changes
//! only for an event newer than its `version`, so a batch delivered again
//! changes nothing.

use crate::{Envelope, Projection};
use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error, ErrorCode, MeilisearchError};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::settings::{MinWordSizeForTypos, Settings, TypoToleranceSettings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

/// A stored document.
type Document = Map<String, Value>;

/// Checks that a field's value has the right JSON type.
type Check = fn(&Value) -> bool;

/// The fields an event body may set, each with the check its value must pass.
const FIELDS: [(&str, Check); 7] = [
    ("name", Value::is_string),
    ("description", Value::is_string),
    ("category", Value::is_string),
    ("brand", Value::is_string),
    ("price", Value::is_number),
    ("specifications", Value::is_object),
    ("inventory", Value::is_i64),
];

/// How often a task's status is polled.
const POLL: Duration = Duration::from_millis(50);

/// Documents fetched at once.
const FETCHES: usize = 8;

/// Products as documents of a Meilisearch index.
pub struct MeiliProjection {
    client: Client,
    index: Index,
    wait: Duration,
}

/// A product as the batch leaves it: its document (none once deleted) and
/// whether the batch changed it.
struct Product {
    document: Option<Document>,
    changed: bool,
}

impl MeiliProjection {
    /// Connects to the Meilisearch at `url`, creates the index `index_uid`
    /// (primary key `id`) unless it exists, and applies the search settings.
    pub async fn connect(
        url: &str,
        api_key: Option<&str>,
        index_uid: &str,
    ) -> anyhow::Result<Self> {
        let client = Client::new(url, api_key)?;
        let projection = MeiliProjection {
            index: client.index(index_uid),
            client,
            wait: Duration::from_secs(30),
        };
        let task = projection
            .client
            .create_index(index_uid, Some("id"))
            .await?;
        if let Some(error) = projection.outcome(task).await? {
            if !matches!(error.error_code, ErrorCode::IndexAlreadyExists) {
                bail!(
                    "cannot create the index {index_uid}: {}",
                    error.error_message
                );
            }
        }
        let settings = Settings::new()
            .with_searchable_attributes(["category", "name", "brand", "description"])
            .with_filterable_attributes(["category", "brand", "price", "inStock", "rating"])
            .with_sortable_attributes(["price", "rating"])
            // A chosen sort orders every hit, as in the Postgres adapter.
            .with_ranking_rules([
                "sort",
                "words",
                "typo",
                "proximity",
                "attribute",
                "exactness",
            ])
            // One typo from 4 letters, two from 6, as in the Postgres adapter.
            .with_typo_tolerance(TypoToleranceSettings {
                min_word_size_for_typos: Some(MinWordSizeForTypos {
                    one_typo: Some(4),
                    two_typos: Some(6),
                }),
                ..Default::default()
            });
        let task = projection.index.set_settings(&settings).await?;
        projection
            .finish(task)
            .await
            .with_context(|| format!("cannot apply the settings of the index {index_uid}"))?;
        Ok(projection)
    }

    /// Swaps this index's documents and settings with `other`'s.
    pub async fn swap_with(&self, other: &MeiliProjection) -> anyhow::Result<()> {
        let swap = SwapIndexes {
            indexes: (self.index.uid.clone(), other.index.uid.clone()),
            rename: None,
        };
        let task = self.client.swap_indexes([&swap]).await?;
        self.finish(task)
            .await
            .with_context(|| format!("cannot swap {} and {}", swap.indexes.0, swap.indexes.1))
    }

    /// Deletes the index.
    pub async fn delete_index(&self) -> anyhow::Result<()> {
        let task = self.client.delete_index(&self.index.uid).await?;
        self.finish(task)
            .await
            .with_context(|| format!("cannot delete the index {}", self.index.uid))
    }

    /// Waits for `task` (at most `self.wait`); the error of a failed task.
    async fn outcome(&self, task: TaskInfo) -> anyhow::Result<Option<MeilisearchError>> {
        let uid = task.task_uid;
        let task = task
            .wait_for_completion(&self.client, Some(POLL), Some(self.wait))
            .await
            .with_context(|| format!("waiting for Meilisearch task {uid}"))?;
        match task {
            Task::Succeeded { .. } => Ok(None),
            Task::Failed { content } => Ok(Some(content.error)),
            _ => bail!("Meilisearch task {uid} did not finish"),
        }
    }

    /// Waits for `task`; fails when the task failed.
    async fn finish(&self, task: TaskInfo) -> anyhow::Result<()> {
        let uid = task.task_uid;
        match self.outcome(task).await? {
            Some(error) => bail!("Meilisearch task {uid} failed: {}", error.error_message),
            None => Ok(()),
        }
    }

    /// The stored document of product `id`, if any.
    async fn stored(&self, id: String) -> anyhow::Result<(String, Product)> {
        let document = match self.index.get_document::<Document>(&id).await {
            Ok(document) => Some(document),
            Err(Error::Meilisearch(error))
                if matches!(error.error_code, ErrorCode::DocumentNotFound) =>
            {
                None
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read the document {id}"))
            }
        };
        let product = Product {
            document,
            changed: false,
        };
        Ok((id, product))
    }
}

/// The product id of a product event, or none for other events.
fn product_id(event: &Envelope) -> anyhow::Result<Option<String>> {
    if !matches!(event.name(), "created" | "updated" | "deleted") {
        return Ok(None);
    }
    let id = Uuid::parse_str(&event.aggregate_id)
        .with_context(|| format!("bad product id {:?}", event.aggregate_id))?;
    Ok(Some(id.to_string()))
}

/// The document's version, 0 when it has none.
fn version(document: &Document) -> i64 {
    document.get("version").and_then(Value::as_i64).unwrap_or(0)
}

/// Sets the fields `body` provides, `version`, and what derives from them:
/// `inStock` from `inventory`, `rating` from the catalogue's rating it was
/// imported with (never from its specifications).
fn merge(document: &mut Document, body: &Value, version: i64) {
    for (field, valid) in FIELDS {
        if let Some(value) = body.get(field).filter(|v| valid(v)) {
            document.insert(field.to_string(), value.clone());
        }
    }
    let in_stock = document
        .get("inventory")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        > 0;
    if let Some(rating) = body.get("catalogueRating").filter(|r| r.is_number()) {
        document.insert("rating".into(), rating.clone());
    }
    document.insert("inStock".into(), json!(in_stock));
    document.insert("version".into(), json!(version));
}

/// The document of product `id` as `created` with `body`.
fn created(id: &str, body: &Value, version: i64) -> anyhow::Result<Document> {
    if !body.get("price").is_some_and(Value::is_number) {
        bail!("product {id} was created without a numeric price");
    }
    let mut document: Document = [
        ("id", json!(id)),
        (
            "sellerId",
            body.get("sellerId").cloned().unwrap_or_default(),
        ),
        ("name", json!("")),
        ("description", json!("")),
        ("category", json!("")),
        ("brand", json!("")),
        ("specifications", json!({})),
        ("inventory", json!(0)),
        ("rating", Value::Null),
    ]
    .into_iter()
    .map(|(field, value)| (field.to_string(), value))
    .collect();
    merge(&mut document, body, version);
    Ok(document)
}

#[async_trait::async_trait]
impl Projection for MeiliProjection {
    fn name(&self) -> &'static str {
        "search-meili"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.client.health().await?;
        Ok(())
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut ids = Vec::new();
        for event in events {
            ids.extend(product_id(event)?);
        }
        ids.sort();
        ids.dedup();
        let mut products: BTreeMap<String, Product> = futures::stream::iter(ids)
            .map(|id| self.stored(id))
            .buffer_unordered(FETCHES)
            .try_collect()
            .await?;

        for event in events {
            let Some(id) = product_id(event)? else {
                continue;
            };
            let Some(product) = products.get_mut(&id) else {
                continue;
            };
            let newer = product
                .document
                .as_ref()
                .is_none_or(|d| version(d) < event.sequence);
            match event.name() {
                "created" if newer => {
                    product.document = Some(created(&id, &event.body, event.sequence)?);
                }
                // A partial update of a product not (yet) indexed waits for a
                // later full document or a replay.
                "updated" if newer => match &mut product.document {
                    Some(document) => merge(document, &event.body, event.sequence),
                    None => continue,
                },
                "deleted" => product.document = None,
                _ => continue,
            }
            product.changed = true;
        }

        let mut upserts = Vec::new();
        let mut deletions = Vec::new();
        for (id, product) in products.into_iter().filter(|(_, p)| p.changed) {
            match product.document {
                Some(document) => upserts.push(document),
                None => deletions.push(id),
            }
        }
        let mut tasks = Vec::new();
        if !upserts.is_empty() {
            tasks.push(self.index.add_or_update(&upserts, Some("id")).await?);
        }
        if !deletions.is_empty() {
            tasks.push(self.index.delete_documents(&deletions).await?);
        }
        for task in tasks {
            self.finish(task).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_documents_carry_stock_rating_and_version() {
        let body = json!({
            "productId": "p", "sellerId": "s", "name": "Laptop", "description": "Fast",
            "category": "laptops", "brand": "HP", "price": 999.5,
            "specifications": {"rating": 1.0, "ram": "16GB"}, "inventory": 3,
            "catalogueRating": 4.5,
        });
        let document = created("p", &body, 1).unwrap();
        assert_eq!(document["name"], "Laptop");
        assert_eq!(document["price"], 999.5);
        assert_eq!(document["inStock"], true);
        assert_eq!(document["rating"], 4.5);
        assert_eq!(document["version"], 1);
        assert!(!document.contains_key("productId"));
    }

    #[test]
    fn updates_set_only_the_fields_they_carry() {
        let body = json!({"productId": "p", "name": "Laptop", "price": 10, "inventory": 2});
        let mut document = created("p", &body, 1).unwrap();
        let update = json!({
            "productId": "p", "inventory": 0, "inventoryChange": -2, "reason": "sale",
            "specifications": {"rating": 5},
        });
        merge(&mut document, &update, 2);
        assert_eq!(document["name"], "Laptop");
        assert_eq!(document["inventory"], 0);
        assert_eq!(document["inStock"], false);
        assert_eq!(
            document["rating"],
            Value::Null,
            "a seller's specifications never rate"
        );
        assert_eq!(document["version"], 2);
        assert!(!document.contains_key("reason"));
    }
}
