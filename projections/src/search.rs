//! The search read model of the Postgres adapter (`search_products`,
//! `search_terms`, `search_ratings`), kept from product and rating events. A
//! product's `rating` is its customers' average, or the catalogue's rating
//! it was imported with until a customer rates it; never its
//! specifications.

use crate::{Envelope, Projection};
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Products as search documents.
pub struct SearchProjection {
    pool: PgPool,
}

impl SearchProjection {
    /// The projection over the tables in `pool`.
    pub fn new(pool: PgPool) -> Self {
        SearchProjection { pool }
    }
}

/// The words of `text` worth correcting typos towards.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

async fn remember_terms(tx: &mut Transaction<'_, Postgres>, body: &Value) -> anyhow::Result<()> {
    let mut words = Vec::new();
    for field in ["name", "category", "brand"] {
        if let Some(text) = body[field].as_str() {
            words.extend(terms(text));
        }
    }
    if !words.is_empty() {
        sqlx::query(
            "INSERT INTO search_terms (term) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(&words)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn apply_product(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let product_id = Uuid::parse_str(&event.aggregate_id)?;
    let body = &event.body;
    let text = |field: &str| body[field].as_str().map(str::to_string);
    match event.name() {
        "created" => {
            sqlx::query(
                "INSERT INTO search_products (product_id, seller_id, name, description, category, brand, price, \
                                              specifications, inventory, catalogue_rating, customer_rating, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, ($7::text)::numeric, $8, $9, $10, \
                         (SELECT avg(stars) FROM search_ratings WHERE product_id = $1 AND stars IS NOT NULL), $11) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(product_id)
            .bind(Uuid::parse_str(body["sellerId"].as_str().unwrap_or_default())?)
            .bind(text("name").unwrap_or_default())
            .bind(text("description").unwrap_or_default())
            .bind(text("category").unwrap_or_default())
            .bind(text("brand").unwrap_or_default())
            .bind(body["price"].to_string())
            .bind(&body["specifications"])
            .bind(body["inventory"].as_i64().unwrap_or(0))
            .bind(body["catalogueRating"].as_f64())
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
            remember_terms(tx, body).await?;
        }
        "updated" => {
            sqlx::query(
                "UPDATE search_products SET \
                    name = coalesce($2, name), description = coalesce($3, description), \
                    category = coalesce($4, category), brand = coalesce($5, brand), \
                    price = coalesce(($6::text)::numeric, price), \
                    specifications = coalesce($7, specifications), \
                    inventory = coalesce($8, inventory), version = $9 \
                 WHERE product_id = $1 AND version < $9",
            )
            .bind(product_id)
            .bind(text("name"))
            .bind(text("description"))
            .bind(text("category"))
            .bind(text("brand"))
            .bind(body.get("price").map(|p| p.to_string()))
            .bind(body.get("specifications").filter(|s| s.is_object()))
            .bind(body["inventory"].as_i64())
            .bind(event.sequence)
            .execute(&mut **tx)
            .await?;
            remember_terms(tx, body).await?;
        }
        "deleted" => {
            sqlx::query("DELETE FROM search_products WHERE product_id = $1")
                .bind(product_id)
                .execute(&mut **tx)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Keeps one customer's rating and the average of its product.
async fn apply_rating(tx: &mut Transaction<'_, Postgres>, event: &Envelope) -> anyhow::Result<()> {
    let stars = match event.name() {
        "added" | "updated" => Some(
            event.body["stars"]
                .as_i64()
                .and_then(|stars| i16::try_from(stars).ok())
                .ok_or_else(|| anyhow::anyhow!("a rating without stars"))?,
        ),
        "deleted" => None,
        _ => return Ok(()),
    };
    let product_id = Uuid::parse_str(event.body["productId"].as_str().unwrap_or_default())?;
    sqlx::query(
        "INSERT INTO search_ratings (rating_id, product_id, stars, version) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (rating_id) DO UPDATE SET stars = excluded.stars, version = excluded.version \
         WHERE search_ratings.version < excluded.version",
    )
    .bind(Uuid::parse_str(&event.aggregate_id)?)
    .bind(product_id)
    .bind(stars)
    .bind(event.sequence)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE search_products SET customer_rating = \
            (SELECT avg(stars) FROM search_ratings WHERE product_id = $1 AND stars IS NOT NULL) \
         WHERE product_id = $1",
    )
    .bind(product_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Projection for SearchProjection {
    fn name(&self) -> &'static str {
        "search"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into(), "events.rating.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        crate::runtime::postgres_reachable(&self.pool).await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut tx = crate::postgres_batch::begin_batch(&self.pool, self.name()).await?;
        for event in events {
            if event.aggregate_type == "Rating" {
                apply_rating(&mut tx, event).await?;
            } else {
                apply_product(&mut tx, event).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn terms_are_lowercase_words_of_three_letters_or_more() {
        assert_eq!(
            terms("HP Victus 15-fa0333TX Gaming Laptop"),
            ["victus", "fa0333tx", "gaming", "laptop"]
        );
        assert_eq!(terms("baby > rockers"), ["baby", "rockers"]);
    }
}
