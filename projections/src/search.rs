//! The search read model of the Postgres adapter (`search_products`,
//! `search_terms`, `search_ratings`), kept from product and rating events. A
//! product's `rating` is its customers' average, or the catalogue's rating
//! it was imported with until a customer rates it; never its
//! specifications.

use crate::replay::PostgresReadModel;
use crate::{Envelope, Projection};
use atlantic_domain::published::PublishedEvent;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashSet;
use std::sync::Arc;

/// The projection's name.
pub const NAME: &str = "search";

/// The generation of the vocabulary (`search_terms`), raised only by the
/// batches that add a word to it (and by a replay's swap): the typo
/// corrections of a word stay right while it stays the same.
pub const VOCABULARY: &str = "search-vocabulary";

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

/// Applies a batch's product updates, one row per product (`$1` the ids,
/// then the fields an update sets, null where it left them, and `$9` the
/// versions). It is planned for each batch (not kept prepared): a plan made
/// while the table was young and kept would scan the whole table.
pub const UPDATES: &str = "UPDATE search_products p SET \
        name = coalesce(u.name, p.name), description = coalesce(u.description, p.description), \
        category = coalesce(u.category, p.category), brand = coalesce(u.brand, p.brand), \
        price = coalesce(u.price::numeric, p.price), \
        specifications = coalesce(u.specifications, p.specifications), \
        inventory = coalesce(u.inventory, p.inventory), version = u.version \
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                 $7::jsonb[], $8::int8[], $9::int8[]) \
          AS u(product_id, name, description, category, brand, price, specifications, inventory, version) \
     WHERE p.product_id = ANY($1) AND p.product_id = u.product_id AND p.version < u.version";

/// Product creations, updates and vocabulary of one batch, written with one
/// statement each: creations before anything that may read or change them,
/// updates before a deletion and at the batch's end, the terms at its end.
#[derive(Default)]
struct Pending {
    created: Created,
    updated: Updated,
    terms: Vec<String>,
}

/// The updates of products since the last flush, one vector per column, at
/// most one per product (the batch's runs of updates come folded, see
/// [`crate::coalesce`]).
#[derive(Default)]
struct Updated {
    /// The products of `product_id`, to tell one that comes again.
    products: HashSet<uuid::Uuid>,
    product_id: Vec<uuid::Uuid>,
    name: Vec<Option<String>>,
    description: Vec<Option<String>>,
    category: Vec<Option<String>>,
    brand: Vec<Option<String>>,
    price: Vec<Option<String>>,
    specifications: Vec<Option<Value>>,
    inventory: Vec<Option<i64>>,
    version: Vec<i64>,
}

/// The columns of the products created in a row, one vector per column.
#[derive(Default)]
struct Created {
    product_id: Vec<uuid::Uuid>,
    seller_id: Vec<uuid::Uuid>,
    name: Vec<String>,
    description: Vec<String>,
    category: Vec<String>,
    brand: Vec<String>,
    price: Vec<String>,
    specifications: Vec<Value>,
    inventory: Vec<i64>,
    catalogue_rating: Vec<Option<f64>>,
    version: Vec<i64>,
}

impl Pending {
    fn remember_terms(&mut self, texts: [Option<&str>; 3]) {
        self.terms
            .extend(texts.into_iter().flatten().flat_map(terms));
    }

    /// Inserts the products created since the last flush; one created again
    /// (delivered twice) stays as it is.
    async fn flush_created(&mut self, tx: &mut Transaction<'_, Postgres>) -> anyhow::Result<()> {
        if self.created.product_id.is_empty() {
            return Ok(());
        }
        let c = std::mem::take(&mut self.created);
        sqlx::query(
            "INSERT INTO search_products (product_id, seller_id, name, description, category, brand, price, \
                                          specifications, inventory, catalogue_rating, customer_rating, version) \
             SELECT c.product_id, c.seller_id, c.name, c.description, c.category, c.brand, c.price::numeric, \
                    c.specifications, c.inventory, c.catalogue_rating::real, \
                    (SELECT avg(stars) FROM search_ratings r WHERE r.product_id = c.product_id AND stars IS NOT NULL), \
                    c.version \
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                         $8::jsonb[], $9::int8[], $10::float8[], $11::int8[]) \
                  AS c(product_id, seller_id, name, description, category, brand, price, specifications, \
                       inventory, catalogue_rating, version) \
             ON CONFLICT DO NOTHING",
        )
        .bind(c.product_id)
        .bind(c.seller_id)
        .bind(c.name)
        .bind(c.description)
        .bind(c.category)
        .bind(c.brand)
        .bind(c.price)
        .bind(c.specifications)
        .bind(c.inventory)
        .bind(c.catalogue_rating)
        .bind(c.version)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Applies the updates since the last flush, in one statement.
    async fn flush_updated(&mut self, tx: &mut Transaction<'_, Postgres>) -> anyhow::Result<()> {
        if self.updated.product_id.is_empty() {
            return Ok(());
        }
        let u = std::mem::take(&mut self.updated);
        sqlx::query(UPDATES)
            .persistent(false)
            .bind(u.product_id)
            .bind(u.name)
            .bind(u.description)
            .bind(u.category)
            .bind(u.brand)
            .bind(u.price)
            .bind(u.specifications)
            .bind(u.inventory)
            .bind(u.version)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Writes what is pending: the creations, the updates, then the
    /// vocabulary. Answers whether the vocabulary gained a word.
    async fn flush(mut self, tx: &mut Transaction<'_, Postgres>) -> anyhow::Result<bool> {
        self.flush_created(tx).await?;
        self.flush_updated(tx).await?;
        self.terms.sort_unstable();
        self.terms.dedup();
        if self.terms.is_empty() {
            return Ok(false);
        }
        let added = sqlx::query(
            "INSERT INTO search_terms (term) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(&self.terms)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(added > 0)
    }
}

async fn apply_product(
    tx: &mut Transaction<'_, Postgres>,
    pending: &mut Pending,
    event: &Envelope,
) -> anyhow::Result<()> {
    if let PublishedEvent::ProductCreated {
        product_id,
        seller_id,
        name,
        description,
        category,
        brand,
        price,
        specifications,
        inventory,
        catalogue_rating,
    } = event.event()
    {
        let c = &mut pending.created;
        c.product_id.push(*product_id);
        c.seller_id.push(*seller_id);
        c.name.push(name.clone());
        c.description.push(description.clone());
        c.category.push(category.clone());
        c.brand.push(brand.clone());
        c.price.push(price.to_string());
        c.specifications.push(Value::Object(specifications.clone()));
        c.inventory.push(*inventory);
        c.catalogue_rating.push(*catalogue_rating);
        c.version.push(event.sequence);
        pending.remember_terms(
            [Some(name), Some(category), Some(brand)].map(|t| t.map(String::as_str)),
        );
        return Ok(());
    }
    pending.flush_created(tx).await?;
    match event.event() {
        PublishedEvent::ProductUpdated {
            product_id,
            name,
            description,
            category,
            brand,
            price,
            specifications,
            inventory,
            ..
        } => {
            if pending.updated.products.contains(product_id) {
                pending.flush_updated(tx).await?;
            }
            let u = &mut pending.updated;
            u.products.insert(*product_id);
            u.product_id.push(*product_id);
            u.name.push(name.clone());
            u.description.push(description.clone());
            u.category.push(category.clone());
            u.brand.push(brand.clone());
            u.price.push(price.map(|price| price.to_string()));
            u.specifications
                .push(specifications.clone().map(Value::Object));
            u.inventory.push(*inventory);
            u.version.push(event.sequence);
            pending.remember_terms([name, category, brand].map(|t| t.as_deref()));
        }
        PublishedEvent::ProductDeleted { product_id } => {
            pending.flush_updated(tx).await?;
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
    let (rating_id, product_id, stars) = match *event.event() {
        PublishedEvent::RatingAdded {
            rating_id,
            product_id,
            stars,
            ..
        }
        | PublishedEvent::RatingUpdated {
            rating_id,
            product_id,
            stars,
            ..
        } => (rating_id, product_id, Some(i16::from(stars))),
        PublishedEvent::RatingDeleted {
            rating_id,
            product_id,
            ..
        } => (rating_id, product_id, None),
        _ => return Ok(()),
    };
    sqlx::query(
        "INSERT INTO search_ratings (rating_id, product_id, stars, version) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (rating_id) DO UPDATE SET stars = excluded.stars, version = excluded.version \
         WHERE search_ratings.version < excluded.version",
    )
    .bind(rating_id)
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
        NAME
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into(), "events.rating.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        crate::runtime::postgres_reachable(&self.pool).await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut tx = crate::postgres_batch::begin_batch(&self.pool, self.name()).await?;
        let mut pending = Pending::default();
        for event in &crate::coalesce::product_updates(events) {
            apply_product(&mut tx, &mut pending, event).await?;
            apply_rating(&mut tx, event).await?;
        }
        if pending.flush(&mut tx).await? {
            crate::postgres_batch::next_generation(&mut tx, VOCABULARY).await?;
        }
        crate::postgres_batch::next_generation(&mut tx, self.name()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What a replay rebuilds of this read model (see [`crate::replay`]).
pub const REPLAY: PostgresReadModel = PostgresReadModel {
    name: NAME,
    tables: &["search_products", "search_terms", "search_ratings"],
    generations: &[NAME, VOCABULARY],
    aggregate_types: &["Product", "Rating"],
    make: |pool| Arc::new(SearchProjection::new(pool)),
};

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
