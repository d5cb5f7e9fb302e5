//! The search read model on Meilisearch: one document per product (id, seller,
//! name, description, category, brand, price, specifications, inventory,
//! inStock, catalogueRating, customerRating, rating, version), kept from
//! product and rating events. A document changes only for an event newer than
//! its `version`, so a batch delivered again changes nothing.
//!
//! Each customer's rating is a document of a second index, `<index>-ratings`
//! (id, productId, stars, version), newer-only too; a product's
//! `customerRating` is the average of its ratings' stars, read from that
//! index's facet counts. `rating` is `customerRating`, or the catalogue's
//! rating while no customer has rated; never the product's specifications.

use crate::{Envelope, Projection};
use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error, ErrorCode, MeilisearchError};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::Selectors;
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
const FIELDS: [(&str, Check); 8] = [
    ("name", Value::is_string),
    ("description", Value::is_string),
    ("category", Value::is_string),
    ("brand", Value::is_string),
    ("price", Value::is_number),
    ("specifications", Value::is_object),
    ("inventory", Value::is_i64),
    ("catalogueRating", Value::is_number),
];

/// How often a task's status is polled.
const POLL: Duration = Duration::from_millis(50);

/// Documents fetched at once.
const FETCHES: usize = 8;

/// Products as documents of a Meilisearch index.
pub struct MeiliProjection {
    client: Client,
    index: Index,
    ratings: Index,
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
        let ratings_uid = ratings_index(index_uid);
        let projection = MeiliProjection {
            index: client.index(index_uid),
            ratings: client.index(&ratings_uid),
            client,
            wait: Duration::from_secs(30),
        };
        for uid in [index_uid, ratings_uid.as_str()] {
            let task = projection.client.create_index(uid, Some("id")).await?;
            if let Some(error) = projection.outcome(task).await? {
                if !matches!(error.error_code, ErrorCode::IndexAlreadyExists) {
                    bail!("cannot create the index {uid}: {}", error.error_message);
                }
            }
        }
        let task = projection
            .ratings
            .set_filterable_attributes(["productId", "stars"])
            .await?;
        projection
            .finish(task)
            .await
            .with_context(|| format!("cannot apply the settings of the index {ratings_uid}"))?;
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

    /// Swaps this index's documents and settings, and its ratings', with
    /// `other`'s, in one Meilisearch task.
    pub async fn swap_with(&self, other: &MeiliProjection) -> anyhow::Result<()> {
        let swaps = [
            SwapIndexes {
                indexes: (self.index.uid.clone(), other.index.uid.clone()),
                rename: None,
            },
            SwapIndexes {
                indexes: (self.ratings.uid.clone(), other.ratings.uid.clone()),
                rename: None,
            },
        ];
        let task = self.client.swap_indexes(&swaps).await?;
        self.finish(task)
            .await
            .with_context(|| format!("cannot swap {} and {}", self.index.uid, other.index.uid))
    }

    /// Deletes the index and its ratings' index.
    pub async fn delete_index(&self) -> anyhow::Result<()> {
        for uid in [&self.index.uid, &self.ratings.uid] {
            let task = self.client.delete_index(uid).await?;
            self.finish(task)
                .await
                .with_context(|| format!("cannot delete the index {uid}"))?;
        }
        Ok(())
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
        let document = document_of(&self.index, &id).await?;
        let product = Product {
            document,
            changed: false,
        };
        Ok((id, product))
    }

    /// Keeps the batch's rating events in the ratings index; returns the
    /// products whose ratings changed.
    async fn apply_ratings(&self, events: &[Envelope]) -> anyhow::Result<Vec<String>> {
        let ratings: Vec<&Envelope> = events
            .iter()
            .filter(|e| e.aggregate_type == "Rating")
            .collect();
        let mut stored: BTreeMap<String, Option<Document>> = BTreeMap::new();
        for event in &ratings {
            if !stored.contains_key(&event.aggregate_id) {
                let document = document_of(&self.ratings, &event.aggregate_id).await?;
                stored.insert(event.aggregate_id.clone(), document);
            }
        }
        let mut changed = BTreeMap::new();
        for event in ratings {
            let stars = match event.name() {
                "added" | "updated" => event.body["stars"].clone(),
                "deleted" => Value::Null,
                _ => continue,
            };
            let current = stored.get(&event.aggregate_id).cloned().flatten();
            if current
                .as_ref()
                .is_some_and(|d| version(d) >= event.sequence)
            {
                continue;
            }
            let product_id = Uuid::parse_str(event.body["productId"].as_str().unwrap_or_default())
                .with_context(|| format!("a rating without its product: {}", event.body))?
                .to_string();
            let document: Document = [
                ("id", json!(event.aggregate_id)),
                ("productId", json!(product_id)),
                ("stars", stars),
                ("version", json!(event.sequence)),
            ]
            .into_iter()
            .map(|(field, value)| (field.to_string(), value))
            .collect();
            stored.insert(event.aggregate_id.clone(), Some(document.clone()));
            changed.insert(event.aggregate_id.clone(), document);
        }
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let documents: Vec<Document> = changed.into_values().collect();
        let task = self.ratings.add_or_update(&documents, Some("id")).await?;
        self.finish(task).await?;
        let mut products: Vec<String> = documents
            .iter()
            .filter_map(|d| d["productId"].as_str().map(str::to_string))
            .collect();
        products.sort();
        products.dedup();
        Ok(products)
    }

    /// The average stars of `product`'s ratings, none while it has none.
    async fn customer_rating(&self, product: &str) -> anyhow::Result<Option<f64>> {
        let filter = format!("productId = \"{product}\" AND stars IS NOT NULL");
        let results = self
            .ratings
            .search()
            .with_filter(&filter)
            .with_facets(Selectors::Some(&["stars"]))
            .with_limit(0)
            .execute::<Document>()
            .await
            .with_context(|| format!("cannot count the ratings of {product}"))?;
        let counts = results
            .facet_distribution
            .and_then(|facets| facets.get("stars").cloned())
            .unwrap_or_default();
        let (sum, count) = counts
            .iter()
            .filter_map(|(stars, n)| stars.parse::<f64>().ok().map(|s| (s * *n as f64, *n)))
            .fold((0.0, 0), |(sum, count), (s, n)| (sum + s, count + n));
        Ok((count > 0).then(|| sum / count as f64))
    }
}

/// The index of the customers' ratings beside the products' index `uid`.
fn ratings_index(uid: &str) -> String {
    format!("{uid}-ratings")
}

/// The stored document `id` of `index`, if any.
async fn document_of(index: &Index, id: &str) -> anyhow::Result<Option<Document>> {
    match index.get_document::<Document>(id).await {
        Ok(document) => Ok(Some(document)),
        Err(Error::Meilisearch(error))
            if matches!(error.error_code, ErrorCode::DocumentNotFound) =>
        {
            Ok(None)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read the document {id}")),
    }
}

/// The product id of a product event, or none for other events.
fn product_id(event: &Envelope) -> anyhow::Result<Option<String>> {
    if event.aggregate_type != "Product"
        || !matches!(event.name(), "created" | "updated" | "deleted")
    {
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
/// `inStock` from `inventory`, `rating` from the ratings.
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
    document.insert("inStock".into(), json!(in_stock));
    rate(document);
    document.insert("version".into(), json!(version));
}

/// Sets `rating`: the customers' average, or the catalogue's rating while no
/// customer has rated.
fn rate(document: &mut Document) {
    let rating = document
        .get("customerRating")
        .filter(|r| r.is_number())
        .or_else(|| document.get("catalogueRating"))
        .cloned()
        .unwrap_or(Value::Null);
    document.insert("rating".into(), rating);
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
        vec!["events.product.>".into(), "events.rating.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.client.health().await?;
        Ok(())
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let rated = self.apply_ratings(events).await?;
        let mut ids = rated.clone();
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
        for id in rated {
            let average = self.customer_rating(&id).await?;
            if let Some(Some(document)) = products.get_mut(&id).map(|p| p.document.as_mut()) {
                document.insert("customerRating".into(), json!(average));
                rate(document);
            }
            if let Some(product) = products.get_mut(&id) {
                product.changed |= product.document.is_some();
            }
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
