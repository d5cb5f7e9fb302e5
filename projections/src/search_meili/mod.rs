//! The search read model on Meilisearch: one document per product (id, seller,
//! name, description, category, brand, price, specifications, inventory,
//! inStock, catalogueRating, customerRating, rating, version), kept from
//! product and rating events.
//!
//! A batch reads the versions its products' documents have (one request, the
//! documents themselves are never read back), folds its events into one
//! document per product — whole on `created`, partial on `updated`, merged by
//! Meilisearch itself — and writes them in one task, waited for with a
//! deadline. An event no newer than the stored version changes nothing, so a
//! redelivery or a replay's overlap never puts an older value back; one
//! projector writes an index at a time (its advisory lock, and the replay's
//! pause), so nothing changes a version between the read and the write.
//!
//! Each customer's rating is a document of a second index, `<index>-ratings`
//! (id, productId, stars, version), newer-only too; a product's
//! `customerRating` is the average of its ratings' stars, read from that
//! index's facet counts (one multi-search per batch).

mod documents;
pub mod replay;
mod settings;
mod tasks;

use crate::product_fields::fields_set;
use crate::{Envelope, Projection};
use anyhow::{bail, Context};
use atlantic_domain::published::PublishedEvent;
use documents::Document;
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::documents::DocumentsQuery;
use meilisearch_sdk::errors::ErrorCode;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::{SearchQuery, Selectors};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one Meilisearch task may take.
const TASK_TIMEOUT: Duration = Duration::from_secs(30);

/// The projection's name.
pub const NAME: &str = "search-meili";

/// Products as documents of a Meilisearch index.
pub struct MeiliProjection {
    client: Client,
    index: Index,
    ratings: Index,
}

/// What the index holds of a document, as far as a batch needs it: its
/// version and the two ratings a product's `rating` derives from.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    id: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    catalogue_rating: Value,
    #[serde(default)]
    customer_rating: Value,
}

/// What a batch does to a product's document.
enum Change {
    /// Sets these fields (all of them for a new document).
    Upsert(Document),
    /// Removes the document.
    Delete,
}

/// A product as the batch leaves it.
#[derive(Default)]
struct Product {
    /// The version of the last event applied, 0 for none.
    version: i64,
    /// Whether the index holds (or will hold) its document.
    indexed: bool,
    catalogue_rating: Value,
    customer_rating: Value,
    change: Option<Change>,
}

impl Product {
    /// What the index holds of it.
    fn stored(stored: Stored) -> Self {
        Product {
            version: stored.version,
            indexed: true,
            catalogue_rating: stored.catalogue_rating,
            customer_rating: stored.customer_rating,
            change: None,
        }
    }

    /// The partial document the batch writes, begun if need be.
    fn partial(&mut self) -> &mut Document {
        if !matches!(self.change, Some(Change::Upsert(_))) {
            self.change = Some(Change::Upsert(Document::new()));
        }
        match &mut self.change {
            Some(Change::Upsert(document)) => document,
            _ => unreachable!("an upsert was just set"),
        }
    }

    /// Applies one product event newer than what it holds.
    fn apply(&mut self, event: &Envelope) -> anyhow::Result<()> {
        if event.sequence <= self.version {
            return Ok(());
        }
        let fields = fields_set(event.event());
        match (event.event(), fields) {
            (PublishedEvent::ProductCreated { .. }, Some(fields)) => {
                let document = documents::created(fields);
                self.catalogue_rating = document["catalogueRating"].clone();
                self.customer_rating = Value::Null;
                self.change = Some(Change::Upsert(document));
                self.indexed = true;
            }
            (PublishedEvent::ProductUpdated { .. }, Some(fields)) if self.indexed => {
                self.partial().extend(fields);
            }
            // A partial update of a product not (yet) indexed waits for a
            // replay.
            (PublishedEvent::ProductUpdated { .. }, _) => return Ok(()),
            (PublishedEvent::ProductDeleted { .. }, _) => {
                self.change = Some(Change::Delete);
                self.indexed = false;
            }
            _ => return Ok(()),
        }
        self.version = event.sequence;
        Ok(())
    }

    /// Sets the customers' average, when the index holds the product.
    fn rate(&mut self, average: Value) {
        if self.indexed {
            self.partial()
                .insert("customerRating".into(), average.clone());
            self.customer_rating = average;
        }
    }

    /// What to write of product `id`: its document's fields with the version
    /// and what derives from them, or its deletion.
    fn written(self, id: &str) -> Option<Change> {
        match self.change? {
            Change::Delete => Some(Change::Delete),
            Change::Upsert(mut document) => {
                if document.contains_key("customerRating")
                    || document.contains_key("catalogueRating")
                {
                    let rating = documents::rating(&self.customer_rating, &self.catalogue_rating);
                    document.insert("rating".into(), rating);
                }
                document.insert("id".into(), json!(id));
                document.insert("version".into(), json!(self.version));
                Some(Change::Upsert(document))
            }
        }
    }
}

impl MeiliProjection {
    /// The projection into the index `index_uid` of the Meilisearch at
    /// `url`; nothing is asked of the server before [`Projection::prepare`].
    pub fn new(url: &str, api_key: Option<&str>, index_uid: &str) -> anyhow::Result<Self> {
        let client = Client::new(url, api_key).context("bad Meilisearch URL")?;
        Ok(MeiliProjection {
            index: client.index(index_uid),
            ratings: client.index(ratings_index(index_uid)),
            client,
        })
    }

    /// [`MeiliProjection::new`], with its indexes made and set up.
    pub async fn connect(
        url: &str,
        api_key: Option<&str>,
        index_uid: &str,
    ) -> anyhow::Result<Self> {
        let projection = MeiliProjection::new(url, api_key, index_uid)?;
        projection.prepare().await?;
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
        tasks::finish(&self.client, &[task], TASK_TIMEOUT)
            .await
            .with_context(|| format!("cannot swap {} and {}", self.index.uid, other.index.uid))
    }

    /// Deletes the index and its ratings' index, where they exist.
    pub async fn delete_index(&self) -> anyhow::Result<()> {
        for uid in [&self.index.uid, &self.ratings.uid] {
            let task = self.client.delete_index(uid).await?;
            match tasks::outcome(&self.client, &task, TASK_TIMEOUT).await? {
                Some(error) if !matches!(error.error_code, ErrorCode::IndexNotFound) => {
                    bail!("cannot delete the index {uid}: {}", error.error_message)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Creates `index` (primary key `id`) unless it exists.
    async fn create(&self, index: &Index) -> anyhow::Result<()> {
        let task = self.client.create_index(&index.uid, Some("id")).await?;
        match tasks::outcome(&self.client, &task, TASK_TIMEOUT).await? {
            Some(error) if !matches!(error.error_code, ErrorCode::IndexAlreadyExists) => {
                bail!(
                    "cannot create the index {}: {}",
                    index.uid,
                    error.error_message
                )
            }
            _ => Ok(()),
        }
    }

    /// Sets `upserts` (merged into stored documents) and removes `deletions`
    /// in `index`, waiting for both tasks.
    async fn write(
        &self,
        index: &Index,
        upserts: &[Document],
        deletions: &[String],
    ) -> anyhow::Result<()> {
        let mut written = Vec::new();
        if !upserts.is_empty() {
            written.push(index.add_or_update(upserts, Some("id")).await?);
        }
        if !deletions.is_empty() {
            written.push(index.delete_documents(deletions).await?);
        }
        tasks::finish(&self.client, &written, TASK_TIMEOUT).await
    }

    /// Keeps the batch's rating events in the ratings index; returns the
    /// products they rate, whether or not the index already held them (a
    /// batch delivered again after a crash may have written its ratings and
    /// not the products' averages).
    async fn apply_ratings(&self, events: &[Envelope]) -> anyhow::Result<Vec<String>> {
        let ratings: Vec<&Envelope> = events
            .iter()
            .filter(|e| e.aggregate_type == "Rating")
            .collect();
        if ratings.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ratings.iter().map(|e| e.aggregate_id.clone()).collect();
        let mut versions: BTreeMap<String, i64> = fetch::<Stored>(&self.ratings, ids)
            .await?
            .into_iter()
            .map(|stored| (stored.id, stored.version))
            .collect();
        let mut changed = BTreeMap::new();
        let mut products = Vec::new();
        for event in ratings {
            let (product_id, stars) = match *event.event() {
                PublishedEvent::RatingAdded {
                    product_id, stars, ..
                }
                | PublishedEvent::RatingUpdated {
                    product_id, stars, ..
                } => (product_id.to_string(), json!(stars)),
                PublishedEvent::RatingDeleted { product_id, .. } => {
                    (product_id.to_string(), Value::Null)
                }
                _ => continue,
            };
            products.push(product_id.clone());
            if versions
                .get(&event.aggregate_id)
                .is_some_and(|&version| version >= event.sequence)
            {
                continue;
            }
            let document: Document = [
                ("id", json!(event.aggregate_id)),
                ("productId", json!(product_id)),
                ("stars", stars),
                ("version", json!(event.sequence)),
            ]
            .into_iter()
            .map(|(field, value)| (field.to_string(), value))
            .collect();
            versions.insert(event.aggregate_id.clone(), event.sequence);
            changed.insert(event.aggregate_id.clone(), document);
        }
        let documents: Vec<Document> = changed.into_values().collect();
        self.write(&self.ratings, &documents, &[]).await?;
        products.sort();
        products.dedup();
        Ok(products)
    }

    /// The average stars of each of `products`' ratings (null for one
    /// without any), in one multi-search of the ratings index.
    async fn customer_ratings(&self, products: &[String]) -> anyhow::Result<Vec<Value>> {
        if products.is_empty() {
            return Ok(Vec::new());
        }
        let filters: Vec<String> = products
            .iter()
            .map(|product| format!("productId = \"{product}\" AND stars IS NOT NULL"))
            .collect();
        let mut search = self.client.multi_search();
        for filter in &filters {
            let mut query = SearchQuery::new(&self.ratings);
            query
                .with_filter(filter)
                .with_facets(Selectors::Some(&["stars"]))
                .with_limit(0);
            search.with_search_query(query);
        }
        let response = search
            .execute::<Document>()
            .await
            .context("cannot count the customers' ratings")?;
        Ok(response
            .results
            .into_iter()
            .map(|results| {
                let counts = results
                    .facet_distribution
                    .and_then(|facets| facets.get("stars").cloned())
                    .unwrap_or_default();
                let (sum, count) = counts
                    .iter()
                    .filter_map(|(stars, n)| stars.parse::<f64>().ok().map(|s| (s * *n as f64, *n)))
                    .fold((0.0, 0), |(sum, count), (s, n)| (sum + s, count + n));
                if count > 0 {
                    json!(sum / count as f64)
                } else {
                    Value::Null
                }
            })
            .collect())
    }
}

/// The index of the customers' ratings beside the products' index `uid`.
fn ratings_index(uid: &str) -> String {
    format!("{uid}-ratings")
}

/// What `index` holds of the documents `ids` (those it has), in one request.
async fn fetch<T: DeserializeOwned + Send + Sync + 'static>(
    index: &Index,
    mut ids: Vec<String>,
) -> anyhow::Result<Vec<T>> {
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let results = DocumentsQuery::new(index)
        .with_ids(ids.iter().map(String::as_str))
        .with_fields(["id", "version", "catalogueRating", "customerRating"])
        .with_limit(ids.len())
        .execute::<T>()
        .await
        .with_context(|| format!("cannot read the versions in the index {}", index.uid))?;
    Ok(results.results)
}

/// The product id of a product event, or none for other events.
fn product_id(event: &Envelope) -> Option<String> {
    match *event.event() {
        PublishedEvent::ProductCreated { product_id, .. }
        | PublishedEvent::ProductUpdated { product_id, .. }
        | PublishedEvent::ProductDeleted { product_id } => Some(product_id.to_string()),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Projection for MeiliProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into(), "events.rating.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.client.health().await?;
        Ok(())
    }

    async fn prepare(&self) -> anyhow::Result<()> {
        for (index, wanted) in [
            (&self.index, settings::products()),
            (&self.ratings, settings::ratings()),
        ] {
            self.create(index).await?;
            if settings::ensure(&self.client, index, &wanted, TASK_TIMEOUT).await? {
                tracing::info!(index = %index.uid, "search settings applied");
            }
        }
        Ok(())
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let rated = self.apply_ratings(events).await?;
        let mut ids = rated.clone();
        for event in events {
            ids.extend(product_id(event));
        }
        let mut products: BTreeMap<String, Product> = fetch::<Stored>(&self.index, ids.clone())
            .await?
            .into_iter()
            .map(|stored| (stored.id.clone(), Product::stored(stored)))
            .collect();
        for id in ids {
            products.entry(id).or_default();
        }
        for event in events {
            if let Some(id) = product_id(event) {
                if let Some(product) = products.get_mut(&id) {
                    product.apply(event)?;
                }
            }
        }
        let averages = self.customer_ratings(&rated).await?;
        for (id, average) in rated.iter().zip(averages) {
            if let Some(product) = products.get_mut(id) {
                product.rate(average);
            }
        }

        let mut upserts = Vec::new();
        let mut deletions = Vec::new();
        for (id, product) in products {
            match product.written(&id) {
                Some(Change::Upsert(document)) => upserts.push(document),
                Some(Change::Delete) => deletions.push(id),
                None => {}
            }
        }
        self.write(&self.index, &upserts, &deletions).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product every event below is about.
    const P: &str = "00000000-0000-0000-0000-000000000001";

    /// A `product.updated` of `P` with `fields`.
    fn updated(sequence: i64, fields: Value) -> Envelope {
        let mut body = json!({"event": "product.updated", "timestamp": "2026-01-01T00:00:00Z", "productId": P});
        if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
            body.extend(fields);
        }
        Envelope {
            subject: "events.product.updated".into(),
            aggregate_type: "Product".into(),
            aggregate_id: P.into(),
            sequence,
            position: sequence,
            published: serde_json::from_value(body).unwrap(),
        }
    }

    #[test]
    fn an_older_event_changes_nothing() {
        let mut product = Product::stored(Stored {
            id: P.into(),
            version: 3,
            catalogue_rating: json!(4.0),
            customer_rating: Value::Null,
        });
        product.apply(&updated(2, json!({"name": "Old"}))).unwrap();
        assert!(product.written(P).is_none());
    }

    #[test]
    fn a_batch_folds_into_one_partial_document() {
        let mut product = Product::stored(Stored {
            id: P.into(),
            version: 1,
            catalogue_rating: json!(4.0),
            customer_rating: Value::Null,
        });
        product.apply(&updated(2, json!({"name": "New"}))).unwrap();
        product.apply(&updated(3, json!({"inventory": 0}))).unwrap();
        product.rate(json!(2.0));
        let Some(Change::Upsert(document)) = product.written(P) else {
            panic!("an upsert");
        };
        assert_eq!(document["name"], "New");
        assert_eq!(document["inStock"], false);
        assert_eq!(document["rating"], 2.0);
        assert_eq!(document["version"], 3);
        assert!(!document.contains_key("price"), "what no event set stays");
    }

    #[test]
    fn an_update_before_the_creation_waits() {
        let mut product = Product::default();
        product.apply(&updated(2, json!({"name": "New"}))).unwrap();
        product.rate(json!(5.0));
        assert!(!product.indexed);
        assert!(product.written(P).is_none());
    }
}
