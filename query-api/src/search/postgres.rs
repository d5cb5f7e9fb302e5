//! The Postgres search adapter: full-text over `search_products` (category
//! weighs most, then name, then brand and description), typo tolerance through
//! the `search_terms` vocabulary (edit distance 1 for words of 4–5 letters, 2
//! from 6, for words the vocabulary does not hold), filters, facets, sorts
//! and pagination.
//!
//! A search is one look at the generations of the read model and of its
//! vocabulary, and at most two statements: one finds the vocabulary's words
//! within each query word's typo budget, all words at once; the other reads
//! the matches once and gives both the page of hits and the facets over all
//! of them. A search asked again before the read model changed is answered
//! from memory, and a word's corrections are kept until the vocabulary
//! gains a word ([`GenerationCache`]).

use super::generation_cache::GenerationCache;
use super::{Hit, SearchIndex, SearchQuery, SearchResults, Sort};
use atlantic_projections::postgres_batch::generations;
use atlantic_projections::search::VOCABULARY;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::time::Instant;

/// The words a query holds at most.
const MAX_WORDS: usize = 10;

/// The vocabulary's words within each word's typo budget (`$1` the words'
/// places in the query, `$2` the words, `$3` their budgets), the five closest
/// per word. A word the vocabulary holds is taken as spelled right and gets
/// none (so "camping" does not also find "gaming"). A word `b` edits away is
/// at most `b` letters longer or shorter, so only the terms of those lengths
/// are compared.
const ALTERNATIVES: &str = "SELECT w.place, t.term FROM unnest($1::int4[], $2::text[], $3::int4[]) AS w(place, word, budget) \
     CROSS JOIN LATERAL (\
         SELECT term, levenshtein(term, w.word) AS distance FROM search_terms \
         WHERE length(term) BETWEEN length(w.word) - w.budget AND length(w.word) + w.budget \
           AND levenshtein_less_equal(term, w.word, w.budget) <= w.budget AND term <> w.word \
         ORDER BY distance, term LIMIT 5) t \
     WHERE NOT EXISTS (SELECT 1 FROM search_terms known WHERE known.term = w.word) \
     ORDER BY w.place, t.distance, t.term";

/// Searches the Postgres read model.
pub struct PostgresSearch {
    pool: PgPool,
    answers: GenerationCache<SearchQuery, SearchResults>,
    corrections: GenerationCache<String, Vec<String>>,
}

/// Answers of searches kept at most (a page holds at most 100 hits, so the
/// cache holds at most 25,600).
const ANSWERS: NonZeroUsize = match NonZeroUsize::new(256) {
    Some(capacity) => capacity,
    None => panic!("the capacity is not zero"),
};

/// Words whose corrections are kept at most.
const CORRECTIONS: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(capacity) => capacity,
    None => panic!("the capacity is not zero"),
};

/// How many edits a query word may be away from a vocabulary word.
fn typo_budget(word: &str) -> i32 {
    match word.chars().count() {
        0..=3 => 0,
        4..=5 => 1,
        _ => 2,
    }
}

impl PostgresSearch {
    /// The adapter over `pool`.
    pub fn new(pool: PgPool) -> Self {
        PostgresSearch {
            pool,
            answers: GenerationCache::new(ANSWERS),
            corrections: GenerationCache::new(CORRECTIONS),
        }
    }

    /// The query's words, each with the vocabulary's words within its typo
    /// budget, as a `to_tsquery` text (words are letters and digits only).
    /// The corrections of a word are remembered for as long as the
    /// vocabulary, at generation `vocabulary`, gains no word.
    async fn tsquery(&self, text: &str, vocabulary: i64) -> anyhow::Result<Option<String>> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .take(MAX_WORDS)
            .collect();
        if words.is_empty() {
            return Ok(None);
        }
        let mut groups: Vec<Vec<String>> = words.iter().map(|w| vec![format!("{w}:*")]).collect();
        let (mut places, mut unknown, mut budgets) = (Vec::new(), Vec::new(), Vec::new());
        for (place, word) in words.iter().enumerate() {
            let budget = typo_budget(word);
            if budget == 0 {
                continue;
            }
            match self.corrections.get(vocabulary, word) {
                Some(close) => groups[place].extend(close),
                None => {
                    places.push(place as i32);
                    unknown.push(word.clone());
                    budgets.push(budget);
                }
            }
        }
        if !places.is_empty() {
            let close: Vec<(i32, String)> = sqlx::query_as(ALTERNATIVES)
                .bind(&places)
                .bind(&unknown)
                .bind(&budgets)
                .fetch_all(&self.pool)
                .await?;
            for (place, term) in close {
                if let Some(group) = usize::try_from(place).ok().and_then(|p| groups.get_mut(p)) {
                    group.push(term);
                }
            }
            for (place, word) in places.iter().zip(&unknown) {
                if let Some(group) = usize::try_from(*place).ok().and_then(|p| groups.get(p)) {
                    self.corrections.put(vocabulary, word, &group[1..].to_vec());
                }
            }
        }
        let groups: Vec<String> = groups
            .into_iter()
            .map(|group| format!("({})", group.join(" | ")))
            .collect();
        Ok(Some(groups.join(" & ")))
    }
}

/// Adds the query as a `tsquery`. PostgreSQL settles on a generic plan for
/// a statement it has run a few times, and there `to_tsquery` of a bound
/// text is not folded to a constant: it would parse the text again for every
/// match. As a subquery it is parsed once per statement (an init plan), and
/// the full-text index still serves it.
fn push_tsquery(builder: &mut QueryBuilder<'_, Postgres>, tsquery: &str) {
    builder
        .push("(SELECT to_tsquery('simple', ")
        .push_bind(tsquery.to_string())
        .push("))");
}

/// Adds the WHERE clause of the matches.
fn push_conditions(
    builder: &mut QueryBuilder<'_, Postgres>,
    query: &SearchQuery,
    tsquery: &Option<String>,
) {
    builder.push(" WHERE true");
    if let Some(tsquery) = tsquery {
        builder.push(" AND document @@ ");
        push_tsquery(builder, tsquery);
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

/// The order of hits over the columns of `table` (`score`, `price`,
/// `rating`, `product_id`).
fn order_by(sort: Sort, table: &str) -> String {
    let key = match sort {
        Sort::Relevance => "score DESC",
        Sort::PriceAsc => "price ASC",
        Sort::PriceDesc => "price DESC",
        Sort::RatingAsc => "rating ASC NULLS LAST",
        Sort::RatingDesc => "rating DESC NULLS LAST",
    };
    format!(" ORDER BY {table}.{key}, {table}.product_id")
}

/// One count of a facet: its field, the value and the matches with it.
type FacetCount = (String, String, i64);

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
        let [generation, vocabulary] =
            generations(&self.pool, [self.projection(), VOCABULARY]).await?;
        if let Some(mut answer) = self.answers.get(generation, query) {
            answer.processing_time_ms = started.elapsed().as_millis() as u64;
            return Ok(answer);
        }
        let answer = self.run(query, vocabulary, started).await?;
        self.answers.put(generation, query, &answer);
        Ok(answer)
    }
}

impl PostgresSearch {
    /// Runs `query` on the read model, its vocabulary at generation
    /// `vocabulary`.
    async fn run(
        &self,
        query: &SearchQuery,
        vocabulary: i64,
        started: Instant,
    ) -> anyhow::Result<SearchResults> {
        let tsquery = self.tsquery(&query.text, vocabulary).await?;

        // Only a search by relevance ranks its matches.
        let mut statement = QueryBuilder::<Postgres>::new(
            "WITH matches AS MATERIALIZED (SELECT product_id, category, brand, price, rating, ",
        );
        match (&tsquery, query.sort) {
            (Some(tsquery), Sort::Relevance) => {
                statement.push("ts_rank('{0.1, 0.2, 0.4, 1.0}', document, ");
                push_tsquery(&mut statement, tsquery);
                statement.push(") AS score");
            }
            _ => {
                statement.push("0::real AS score");
            }
        }
        statement.push(" FROM search_products");
        push_conditions(&mut statement, query, &tsquery);
        statement
            .push("), page AS (SELECT product_id, score, price, rating FROM matches")
            .push(order_by(query.sort, "matches"))
            .push(" LIMIT ")
            .push_bind(i64::from(query.per_page))
            .push(" OFFSET ")
            .push_bind(i64::from(query.page - 1) * i64::from(query.per_page))
            .push(
                ") SELECT \
                 (SELECT coalesce(json_agg(json_build_object(\
                     'id', p.product_id::text, 'name', p.name, 'description', p.description, \
                     'category', p.category, 'brand', p.brand, 'price', p.price::float8, \
                     'specifications', p.specifications, 'inStock', p.inventory > 0, \
                     'rating', p.rating::float8)",
            )
            .push(order_by(query.sort, "page"))
            .push(
                "), '[]') FROM page JOIN search_products p USING (product_id)) AS hits, \
                 (SELECT coalesce(json_agg(json_build_array(field, value, n)), '[]') FROM (\
                     SELECT CASE WHEN GROUPING(category) = 0 THEN 'category' ELSE 'brand' END AS field, \
                            coalesce(category, brand) AS value, count(*) AS n \
                     FROM matches GROUP BY GROUPING SETS ((category), (brand))) counts) AS facets",
            );
        let (Json(hits), Json(counts)): (Json<Vec<Hit>>, Json<Vec<FacetCount>>) =
            statement.build_query_as().fetch_one(&self.pool).await?;

        let mut facets: BTreeMap<String, BTreeMap<String, u64>> = ["category", "brand"]
            .into_iter()
            .map(|field| (field.to_string(), BTreeMap::new()))
            .collect();
        for (field, value, n) in counts {
            facets
                .entry(field)
                .or_default()
                .insert(value, u64::try_from(n).unwrap_or(0));
        }
        let total = facets["category"].values().sum();
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
