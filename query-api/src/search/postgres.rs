//! The Postgres search adapter: full-text over `search_products` (category
//! weighs most, then name, then brand and description), typo tolerance through
//! the `search_terms` vocabulary (edit distance 1 for words of 4–5 letters, 2
//! from 6), filters, facets, sorts and pagination.

use super::{Hit, SearchIndex, SearchQuery, SearchResults, Sort};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use std::collections::BTreeMap;
use std::time::Instant;

/// Searches the Postgres read model.
pub struct PostgresSearch {
    pool: PgPool,
}

impl PostgresSearch {
    /// The adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PostgresSearch { pool }
    }

    /// The query's words, each with the vocabulary's words within its typo
    /// budget, as a `to_tsquery` text (words are letters and digits only).
    async fn tsquery(&self, text: &str) -> anyhow::Result<Option<String>> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .take(10)
            .collect();
        if words.is_empty() {
            return Ok(None);
        }
        let mut groups = Vec::with_capacity(words.len());
        for word in words {
            let budget: i32 = match word.chars().count() {
                0..=3 => 0,
                4..=5 => 1,
                _ => 2,
            };
            let mut alternatives = vec![format!("{word}:*")];
            if budget > 0 {
                let close: Vec<String> = sqlx::query_scalar(
                    "SELECT term FROM search_terms \
                     WHERE levenshtein_less_equal(term, $1, $2) <= $2 AND term <> $1 \
                     ORDER BY levenshtein(term, $1), term LIMIT 5",
                )
                .bind(&word)
                .bind(budget)
                .fetch_all(&self.pool)
                .await?;
                alternatives.extend(close);
            }
            groups.push(format!("({})", alternatives.join(" | ")));
        }
        Ok(Some(groups.join(" & ")))
    }
}

/// Adds the WHERE clause shared by the hits and the facets.
fn push_conditions(
    builder: &mut QueryBuilder<'_, Postgres>,
    query: &SearchQuery,
    tsquery: &Option<String>,
) {
    builder.push(" WHERE true");
    if let Some(tsquery) = tsquery {
        builder
            .push(" AND document @@ to_tsquery('simple', ")
            .push_bind(tsquery.clone())
            .push(")");
    }
    if let Some(category) = &query.category {
        builder.push(" AND category = ").push_bind(category.clone());
    }
    if let Some(brand) = &query.brand {
        builder.push(" AND brand = ").push_bind(brand.clone());
    }
    if let Some(min) = query.min_price_cents {
        builder
            .push(" AND price >= ")
            .push_bind(min)
            .push("::numeric / 100");
    }
    if let Some(max) = query.max_price_cents {
        builder
            .push(" AND price <= ")
            .push_bind(max)
            .push("::numeric / 100");
    }
    match query.in_stock {
        Some(true) => {
            builder.push(" AND inventory > 0");
        }
        Some(false) => {
            builder.push(" AND inventory <= 0");
        }
        None => {}
    }
}

#[async_trait::async_trait]
impl SearchIndex for PostgresSearch {
    fn projection(&self) -> &'static str {
        atlantic_projections::search::NAME
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> anyhow::Result<SearchResults> {
        let started = Instant::now();
        let tsquery = self.tsquery(&query.text).await?;

        let mut hits = QueryBuilder::<Postgres>::new(
            "SELECT product_id::text AS id, name, description, category, brand, price::float8 AS price, \
                    specifications, inventory > 0 AS in_stock, rating::float8 AS rating, ",
        );
        match &tsquery {
            Some(tsquery) => hits
                .push("ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', document, to_tsquery('simple', ")
                .push_bind(tsquery.clone())
                .push(")) AS score"),
            None => hits.push("0::real AS score"),
        };
        hits.push(" FROM search_products");
        push_conditions(&mut hits, query, &tsquery);
        hits.push(match query.sort {
            Sort::Relevance => " ORDER BY score DESC, product_id",
            Sort::PriceAsc => " ORDER BY price ASC, product_id",
            Sort::PriceDesc => " ORDER BY price DESC, product_id",
            Sort::RatingAsc => " ORDER BY rating ASC NULLS LAST, product_id",
            Sort::RatingDesc => " ORDER BY rating DESC NULLS LAST, product_id",
        });
        hits.push(" LIMIT ")
            .push_bind(i64::from(query.per_page))
            .push(" OFFSET ")
            .push_bind(i64::from(query.page - 1) * i64::from(query.per_page));
        let rows = hits.build().fetch_all(&self.pool).await?;
        let hits = rows
            .iter()
            .map(|row| Hit {
                id: row.get("id"),
                name: row.get("name"),
                description: row.get("description"),
                category: row.get("category"),
                brand: row.get("brand"),
                price: row.get("price"),
                specifications: row.get("specifications"),
                in_stock: row.get("in_stock"),
                rating: row.get("rating"),
            })
            .collect();

        let mut facets = BTreeMap::new();
        let mut total = 0;
        for field in ["category", "brand"] {
            let mut counts = QueryBuilder::<Postgres>::new(format!(
                "SELECT {field} AS value, count(*) AS n FROM search_products"
            ));
            push_conditions(&mut counts, query, &tsquery);
            counts.push(format!(" GROUP BY {field}"));
            let rows = counts.build().fetch_all(&self.pool).await?;
            let values: BTreeMap<String, u64> = rows
                .iter()
                .map(|row| (row.get::<String, _>("value"), row.get::<i64, _>("n") as u64))
                .collect();
            total = values.values().sum();
            facets.insert(field.to_string(), values);
        }
        Ok(SearchResults {
            hits,
            total,
            page: query.page,
            per_page: query.per_page,
            facets,
            processing_time_ms: started.elapsed().as_millis() as u64,
        })
    }
}
