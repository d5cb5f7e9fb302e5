//! Product search behind one trait, so the system runs with Meilisearch or,
//! where there is none, with the Postgres adapter.

mod generation_cache;
mod meilisearch;
mod postgres;

pub use meilisearch::MeiliSearch;
pub use postgres::PostgresSearch;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Best match first.
    Relevance,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Lowest rated first.
    RatingAsc,
    /// Best rated first.
    RatingDesc,
}

impl Sort {
    /// Parses `price:asc`, `rating:desc`, …
    pub fn parse(value: &str) -> Option<Sort> {
        Some(match value {
            "price:asc" => Sort::PriceAsc,
            "price:desc" => Sort::PriceDesc,
            "rating:asc" => Sort::RatingAsc,
            "rating:desc" => Sort::RatingDesc,
            "relevance" => Sort::Relevance,
            _ => return None,
        })
    }
}

/// A search, already validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    /// Free text; typos are tolerated.
    pub text: String,
    /// Exact category.
    pub category: Option<String>,
    /// Exact brand.
    pub brand: Option<String>,
    /// Lowest price, in cents.
    pub min_price_cents: Option<i64>,
    /// Highest price, in cents.
    pub max_price_cents: Option<i64>,
    /// Only products with stock (true) or without (false).
    pub in_stock: Option<bool>,
    /// Order of hits.
    pub sort: Sort,
    /// 1-based page.
    pub page: u32,
    /// Hits per page.
    pub per_page: u32,
}

/// One hit: the brief's search document plus stock and rating.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    /// The product's id.
    pub id: String,
    /// Title.
    pub name: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: String,
    /// Brand.
    pub brand: String,
    /// Unit price.
    pub price: f64,
    /// Further facts.
    #[schema(value_type = Object)]
    pub specifications: Value,
    /// Whether any unit is for sale.
    pub in_stock: bool,
    /// Average rating, when known.
    pub rating: Option<f64>,
}

/// A page of hits with the facets of the whole result.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    /// This page's hits.
    pub hits: Vec<Hit>,
    /// Hits in all pages.
    pub total: u64,
    /// This page.
    pub page: u32,
    /// Hits per page.
    pub per_page: u32,
    /// Counts per category and per brand over all hits.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// Time spent searching.
    pub processing_time_ms: u64,
}

/// The search engine does not answer (as opposed to a search that failed):
/// the query API says 503, and `/ready` says so.
#[derive(Debug, thiserror::Error)]
#[error("search is unavailable: {0}")]
pub struct Unavailable(pub String);

/// A search engine over the product documents.
#[async_trait::async_trait]
pub trait SearchIndex: Send + Sync {
    /// Runs `query`; an [`Unavailable`] error when the engine does not answer.
    async fn search(&self, query: &SearchQuery) -> anyhow::Result<SearchResults>;

    /// Whether the engine answers.
    async fn reachable(&self) -> anyhow::Result<()>;

    /// The live projection that feeds it (a read that must see its own write
    /// waits for this one).
    fn projection(&self) -> &'static str;
}
