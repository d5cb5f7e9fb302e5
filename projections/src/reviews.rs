//! Ratings and comments in Postgres (`product_ratings`, `product_comments`),
//! for a product's rating summary and its comments.

use crate::cache::ProductCache;
use crate::replay::PostgresReadModel;
use crate::{Envelope, Projection};
use atlantic_domain::published::PublishedEvent;
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// The projection's name.
pub const NAME: &str = "reviews";

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

/// Keeps one customer's rating; answers the product it rates, if a rating event.
async fn apply_rating(
    tx: &mut Transaction<'_, Postgres>,
    event: &Envelope,
) -> anyhow::Result<Option<Uuid>> {
    let (rating_id, product_id, user_id, stars) = match *event.event() {
        PublishedEvent::RatingAdded {
            rating_id,
            product_id,
            user_id,
            stars,
        }
        | PublishedEvent::RatingUpdated {
            rating_id,
            product_id,
            user_id,
            stars,
        } => (rating_id, product_id, user_id, Some(i16::from(stars))),
        PublishedEvent::RatingDeleted {
            rating_id,
            product_id,
            user_id,
        } => (rating_id, product_id, user_id, None),
        _ => return Ok(None),
    };
    sqlx::query(
        "INSERT INTO product_ratings (rating_id, product_id, user_id, stars, version) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (rating_id) DO UPDATE SET stars = excluded.stars, version = excluded.version \
         WHERE product_ratings.version < excluded.version",
    )
    .bind(rating_id)
    .bind(product_id)
    .bind(user_id)
    .bind(stars)
    .bind(event.sequence)
    .execute(&mut **tx)
    .await?;
    Ok(Some(product_id))
}

async fn apply_comment(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let at = event.timestamp();
    let (comment_id, text, deleted) = match event.event() {
        PublishedEvent::CommentCreated {
            comment_id,
            product_id,
            author_id,
            text,
        } => {
            sqlx::query(
                "INSERT INTO product_comments (comment_id, product_id, author_id, text, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(comment_id)
            .bind(product_id)
            .bind(author_id)
            .bind(text)
            .bind(at)
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
            return Ok(());
        }
        PublishedEvent::CommentUpdated {
            comment_id, text, ..
        } => (comment_id, Some(text), false),
        PublishedEvent::CommentDeleted { comment_id, .. } => (comment_id, None, true),
        _ => return Ok(()),
    };
    sqlx::query(
        "UPDATE product_comments SET text = coalesce($2, text), deleted = deleted OR $3, \
                updated_at = $4, version = $5 \
         WHERE comment_id = $1 AND version < $5",
    )
    .bind(comment_id)
    .bind(text)
    .bind(deleted)
    .bind(at)
    .bind(event.sequence)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Projection for Reviews {
    fn name(&self) -> &'static str {
        NAME
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
            rated.extend(apply_rating(&mut tx, event).await?);
            apply_comment(&mut tx, event).await?;
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

/// What a replay rebuilds of this read model (see [`crate::replay`]).
pub const REPLAY: PostgresReadModel = PostgresReadModel {
    name: NAME,
    generations: &[NAME],
    tables: &["product_ratings", "product_comments"],
    aggregate_types: &["Rating", "Comment"],
    make: |pool| Arc::new(Reviews::new(pool)),
};
