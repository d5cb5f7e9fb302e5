//! Ratings and comments in Postgres (`product_ratings`, `product_comments`),
//! for a product's rating summary and its comments.

use crate::cache::ProductCache;
use crate::{Envelope, Projection};
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Ratings and comments.
pub struct Reviews {
    pool: PgPool,
    cache: Option<ProductCache>,
}

impl Reviews {
    /// The projection over the read-model tables in `pool`.
    pub fn new(pool: PgPool) -> Self {
        Reviews { pool, cache: None }
    }

    /// The projection that also refreshes each rated product's summary in
    /// `cache`.
    pub fn with_cache(pool: PgPool, cache: ProductCache) -> Self {
        Reviews {
            pool,
            cache: Some(cache),
        }
    }
}

/// Writes the rating summary of every rated product to `cache` (after a
/// replay of this read model); how many.
pub async fn refresh_summaries(pool: &PgPool, cache: &ProductCache) -> anyhow::Result<usize> {
    let products: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT product_id FROM product_ratings")
        .fetch_all(pool)
        .await?;
    write_summaries(pool, cache, &products).await?;
    Ok(products.len())
}

/// Writes the rating summaries of `products` to `cache`, read in one query.
async fn write_summaries(
    pool: &PgPool,
    cache: &ProductCache,
    products: &[Uuid],
) -> anyhow::Result<()> {
    for (product_id, summary) in rating_summaries(pool, products).await? {
        cache
            .put_rating(&product_id.to_string(), &summary, false)
            .await?;
    }
    Ok(())
}

/// The customers' rating summary of each of `products`: `{"average", "count"}`.
async fn rating_summaries(pool: &PgPool, products: &[Uuid]) -> anyhow::Result<Vec<(Uuid, Value)>> {
    let rows: Vec<(Uuid, i64, Option<f64>)> = sqlx::query_as(
        "SELECT p.product_id, count(r.stars), avg(r.stars)::float8 \
         FROM unnest($1::uuid[]) AS p(product_id) \
         LEFT JOIN product_ratings r ON r.product_id = p.product_id AND r.stars IS NOT NULL \
         GROUP BY p.product_id",
    )
    .bind(products)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, count, average)| (id, json!({"average": average, "count": count})))
        .collect())
}

/// The customers' rating summary of `product_id`: `{"average", "count"}`.
pub async fn rating_summary(pool: &PgPool, product_id: Uuid) -> anyhow::Result<Value> {
    let summaries = rating_summaries(pool, &[product_id]).await?;
    Ok(summaries
        .into_iter()
        .next()
        .map(|(_, summary)| summary)
        .unwrap_or_else(|| json!({"average": null, "count": 0})))
}

fn uuid_field(event: &Envelope, field: &str) -> anyhow::Result<Uuid> {
    let value = event.body[field].as_str().unwrap_or_default();
    Uuid::parse_str(value).map_err(|e| anyhow::anyhow!("bad {field} {value:?}: {e}"))
}

async fn apply_rating(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let stars = match event.name() {
        "added" | "updated" => Some(
            event.body["stars"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("a rating without stars"))?,
        ),
        "deleted" => None,
        _ => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO product_ratings (rating_id, product_id, user_id, stars, version) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (rating_id) DO UPDATE SET stars = excluded.stars, version = excluded.version \
         WHERE product_ratings.version < excluded.version",
    )
    .bind(Uuid::parse_str(&event.aggregate_id)?)
    .bind(uuid_field(event, "productId")?)
    .bind(uuid_field(event, "userId")?)
    .bind(stars.map(|s| s as i16))
    .bind(event.sequence)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn apply_comment(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let comment_id = Uuid::parse_str(&event.aggregate_id)?;
    let at = event.timestamp();
    match event.name() {
        "created" => {
            sqlx::query(
                "INSERT INTO product_comments (comment_id, product_id, author_id, text, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(comment_id)
            .bind(uuid_field(event, "productId")?)
            .bind(uuid_field(event, "authorId")?)
            .bind(event.body["text"].as_str().unwrap_or_default())
            .bind(at)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        "updated" | "deleted" => {
            sqlx::query(
                "UPDATE product_comments SET text = coalesce($2, text), deleted = deleted OR $3, \
                        updated_at = $4, version = $5 \
                 WHERE comment_id = $1 AND version < $5",
            )
            .bind(comment_id)
            .bind(event.body["text"].as_str())
            .bind(event.name() == "deleted")
            .bind(at)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

#[async_trait::async_trait]
impl Projection for Reviews {
    fn name(&self) -> &'static str {
        "reviews"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.rating.>".into(), "events.comment.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        crate::runtime::postgres_reachable(&self.pool).await?;
        match &self.cache {
            Some(cache) => cache.ping().await,
            None => Ok(()),
        }
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut tx = crate::postgres_batch::begin_batch(&self.pool, self.name()).await?;
        let mut rated = BTreeSet::new();
        for event in events {
            match event.aggregate_type.as_str() {
                "Rating" => {
                    apply_rating(&mut tx, event).await?;
                    rated.insert(uuid_field(event, "productId")?);
                }
                "Comment" => apply_comment(&mut tx, event).await?,
                _ => {}
            }
        }
        tx.commit().await?;
        // After the commit: a failure here fails the batch, which is applied
        // again (changing nothing) and writes the summaries then.
        if let Some(cache) = &self.cache {
            let rated: Vec<Uuid> = rated.into_iter().collect();
            write_summaries(&self.pool, cache, &rated).await?;
        }
        Ok(())
    }
}
