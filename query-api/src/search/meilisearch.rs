//! The Meilisearch search adapter: the `products` index kept by the
//! `search-meili` projection, with filters, facets over category and brand,
//! sorts and page-based pagination (so the total is exact).

use super::{Hit, SearchIndex, SearchQuery, SearchResults, Sort, Unavailable};
use meilisearch_sdk::client::Client;
use meilisearch_sdk::errors::{Error, ErrorCode};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::Selectors;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The facets every result carries.
const FACETS: &[&str] = &["category", "brand"];

/// Searches a Meilisearch index of product documents.
pub struct MeiliSearch {
    client: Client,
    index: Index,
}

impl MeiliSearch {
    /// The adapter over the index `index_uid` of `client`.
    pub fn new(client: &Client, index_uid: &str) -> Self {
        MeiliSearch {
            client: client.clone(),
            index: client.index(index_uid),
        }
    }
}

/// A product document as the projection stores it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    brand: String,
    #[serde(default)]
    price: f64,
    #[serde(default)]
    specifications: Value,
    #[serde(default)]
    in_stock: bool,
    #[serde(default)]
    rating: Option<f64>,
}

/// `value` as a double-quoted filter value.
fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `cents` as a decimal number (`1999` → `19.99`).
fn decimal(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

/// The filter expression of `query`, empty when it filters nothing.
fn filter(query: &SearchQuery) -> String {
    let mut conditions = Vec::new();
    if let Some(category) = &query.category {
        conditions.push(format!("category = {}", quote(category)));
    }
    if let Some(brand) = &query.brand {
        conditions.push(format!("brand = {}", quote(brand)));
    }
    if let Some(min) = query.min_price_cents {
        conditions.push(format!("price >= {}", decimal(min)));
    }
    if let Some(max) = query.max_price_cents {
        conditions.push(format!("price <= {}", decimal(max)));
    }
    if let Some(in_stock) = query.in_stock {
        conditions.push(format!("inStock = {in_stock}"));
    }
    conditions.join(" AND ")
}

/// The sort criteria of `sort`.
fn sort(sort: Sort) -> &'static [&'static str] {
    match sort {
        Sort::Relevance => &[],
        Sort::PriceAsc => &["price:asc"],
        Sort::PriceDesc => &["price:desc"],
        Sort::RatingAsc => &["rating:asc"],
        Sort::RatingDesc => &["rating:desc"],
    }
}

/// A Meilisearch error as the adapter reports it: [`Unavailable`] when the
/// server does not answer, answers with a server error, or has no index yet.
fn failure(error: Error) -> anyhow::Error {
    let unavailable = match &error {
        Error::HttpError(_) | Error::Timeout => true,
        Error::MeilisearchCommunication(failed) => failed.status_code >= 500,
        Error::Meilisearch(failed) => matches!(failed.error_code, ErrorCode::IndexNotFound),
        _ => false,
    };
    if unavailable {
        Unavailable(error.to_string()).into()
    } else {
        error.into()
    }
}

#[async_trait::async_trait]
impl SearchIndex for MeiliSearch {
    fn projection(&self) -> &'static str {
        atlantic_projections::search_meili::NAME
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        self.client.health().await.map_err(failure)?;
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> anyhow::Result<SearchResults> {
        let filter = filter(query);
        let sort = sort(query.sort);
        let mut search = self.index.search();
        search
            .with_facets(Selectors::Some(FACETS))
            .with_page(query.page.max(1) as usize)
            .with_hits_per_page(query.per_page as usize);
        if !query.text.trim().is_empty() {
            search.with_query(&query.text);
        }
        if !filter.is_empty() {
            search.with_filter(&filter);
        }
        if !sort.is_empty() {
            search.with_sort(sort);
        }
        let results = search.execute::<Document>().await.map_err(failure)?;

        let mut distribution = results.facet_distribution.unwrap_or_default();
        let facets = FACETS
            .iter()
            .map(|field| {
                let counts: BTreeMap<String, u64> = distribution
                    .remove(*field)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(value, count)| (value, count as u64))
                    .collect();
                (field.to_string(), counts)
            })
            .collect::<BTreeMap<_, _>>();
        let hits = results
            .hits
            .into_iter()
            .map(|hit| {
                let doc = hit.result;
                Hit {
                    id: doc.id,
                    name: doc.name,
                    description: doc.description,
                    category: doc.category,
                    brand: doc.brand,
                    price: doc.price,
                    specifications: doc.specifications,
                    in_stock: doc.in_stock,
                    rating: doc.rating,
                }
            })
            .collect();
        Ok(SearchResults {
            hits,
            total: results
                .total_hits
                .or(results.estimated_total_hits)
                .unwrap_or_default() as u64,
            page: query.page,
            per_page: query.per_page,
            facets,
            processing_time_ms: results.processing_time_ms as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> SearchQuery {
        SearchQuery {
            text: "laptop".into(),
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

    #[test]
    fn values_are_quoted_and_escaped() {
        assert_eq!(quote(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }

    #[test]
    fn prices_are_decimals() {
        assert_eq!(decimal(1999), "19.99");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(-150), "-1.50");
    }

    #[test]
    fn filters_join_every_condition() {
        assert_eq!(filter(&query()), "");
        let query = SearchQuery {
            category: Some("Laptops".into()),
            brand: Some("HP".into()),
            min_price_cents: Some(10_000),
            max_price_cents: Some(99_999),
            in_stock: Some(true),
            ..query()
        };
        assert_eq!(
            filter(&query),
            r#"category = "Laptops" AND brand = "HP" AND price >= 100.00 AND price <= 999.99 AND inStock = true"#
        );
    }
}
