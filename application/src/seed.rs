//! Loads product listings (the format of the shared catalogue: one JSON array
//! per file, files named `<lvl0>+<lvl1>.json`) through the command path.
//!
//! A listing without a category takes its file's name (`baby+rockers.json` ⇒
//! `baby > rockers`); one without a brand takes the first word of its title;
//! one without a description uses its title; every other field goes into
//! `specifications`. A listing without a price is skipped and counted.

use crate::catalogue::{list_product, NewProduct};
use crate::{Caller, Shop, UseCaseError};
use anyhow::Context;
use atlantic_domain::bounds::check_catalogue_rating;
use atlantic_domain::product::ProductDetails;
use atlantic_domain::seller::{seller_id_of, SellerCommand, SellerError};
use atlantic_domain::{Email, Money, Text};
use atlantic_platform::bus::CommandError;
use futures::stream::{self, StreamExt};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Fields of a listing that are not specifications (its `rating` is the
/// catalogue's, kept apart from them and from customers' ratings).
const KNOWN: [&str; 7] = [
    "id",
    "title",
    "price",
    "brand",
    "category",
    "description",
    "rating",
];

/// What a seeding run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    /// Products created.
    pub created: usize,
    /// Listings whose product already existed (a second run).
    pub already_present: usize,
    /// Listings without a price.
    pub skipped_without_price: usize,
    /// Listings refused for other reasons (empty title, bad price).
    pub rejected: usize,
}

/// A listing turned into a product, or why not.
enum Listing {
    Product(Uuid, Box<ProductDetails>, Option<f64>),
    NoPrice,
    Invalid,
}

/// `baby+rockers.json` ⇒ `baby > rockers`.
pub fn category_from_file(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .split('+')
        .collect::<Vec<_>>()
        .join(" > ")
}

fn listing(raw: &Value, file_category: &str, fallback_id: Uuid) -> Listing {
    let Some(fields) = raw.as_object() else {
        return Listing::Invalid;
    };
    let Some(price) = fields.get("price").and_then(Value::as_f64) else {
        return Listing::NoPrice;
    };
    let Ok(price) = Money::from_decimal((price * 100.0).round() / 100.0) else {
        return Listing::Invalid;
    };
    let title: String = fields
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    let Ok(name) = Text::parse(&title) else {
        return Listing::Invalid;
    };
    let category = match fields.get("category") {
        Some(Value::String(category)) => category.clone(),
        Some(Value::Object(levels)) => levels
            .get("lvl1")
            .or_else(|| levels.get("lvl0"))
            .and_then(Value::as_str)
            .unwrap_or(file_category)
            .to_string(),
        _ => file_category.to_string(),
    };
    let brand = fields
        .get("brand")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            name.as_str()
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let description: String = fields
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or(name.as_str())
        .chars()
        .take(20_000)
        .collect();
    let specifications: Map<String, Value> = fields
        .iter()
        .filter(|(key, _)| !KNOWN.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let id = fields
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or(fallback_id);
    match (
        Text::parse(&description),
        Text::parse(&category),
        Text::parse(&brand),
    ) {
        (Ok(description), Ok(category), Ok(brand)) => Listing::Product(
            id,
            Box::new(ProductDetails {
                name,
                description,
                category,
                brand,
                price,
                specifications,
            }),
            fields
                .get("rating")
                .and_then(Value::as_f64)
                .and_then(|rating| check_catalogue_rating(rating).ok()),
        ),
        _ => Listing::Invalid,
    }
}

/// The seller that catalogue listings are sold by.
pub fn catalogue_seller() -> Uuid {
    seller_id_of(Uuid::nil())
}

/// Loads every `*.json` of `dir` with `inventory` units each; `progress` is
/// told the number of listings first, then once per listing.
pub async fn seed_catalog(
    shop: &Shop,
    dir: &Path,
    inventory: u32,
    progress: impl Fn(SeedProgress),
) -> anyhow::Result<SeedSummary> {
    let caller = Caller::system();
    let seller = catalogue_seller();
    let create_seller = SellerCommand::Create {
        seller_id: seller,
        owner_id: Uuid::nil(),
        name: Text::parse("Atlantic Catalogue").map_err(anyhow::Error::msg)?,
        contact_email: Email::parse("catalogue@atlantic.example").map_err(anyhow::Error::msg)?,
    };
    match shop
        .buses
        .sellers
        .execute(&seller.to_string(), create_seller, &caller.metadata)
        .await
    {
        Ok(_) | Err(CommandError::Rejected(SellerError::AlreadyExists)) => {}
        Err(other) => {
            return Err(anyhow::anyhow!(
                "cannot create the catalogue seller: {other}"
            ))
        }
    }

    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut listings = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let parsed: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", file.display()))?;
        let category = category_from_file(file);
        for (index, raw) in parsed.as_array().into_iter().flatten().enumerate() {
            let fallback = Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                format!("{}#{index}", file.display()).as_bytes(),
            );
            listings.push(listing(raw, &category, fallback));
        }
    }
    progress(SeedProgress::Total(listings.len()));

    let mut summary = SeedSummary::default();
    let outcomes = stream::iter(listings.into_iter().map(|listing| {
        let caller = caller.clone();
        async move {
            let (product_id, details, catalogue_rating) = match listing {
                Listing::Product(id, details, rating) => (id, details, rating),
                Listing::NoPrice => return Seeded::NoPrice,
                Listing::Invalid => return Seeded::Rejected,
            };
            let product = NewProduct {
                product_id,
                seller_id: Some(seller),
                details: *details,
                inventory,
                catalogue_rating,
            };
            match list_product(shop, &caller, product).await {
                Ok(_) => Seeded::Created,
                // A create conflicts only with the product being there.
                Err(UseCaseError::Conflict(_)) => Seeded::AlreadyPresent,
                Err(_) => Seeded::Rejected,
            }
        }
    }))
    .buffer_unordered(16);
    futures::pin_mut!(outcomes);
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Seeded::Created => summary.created += 1,
            Seeded::AlreadyPresent => summary.already_present += 1,
            Seeded::NoPrice => summary.skipped_without_price += 1,
            Seeded::Rejected => summary.rejected += 1,
        }
        progress(SeedProgress::Done);
    }
    Ok(summary)
}

enum Seeded {
    Created,
    AlreadyPresent,
    NoPrice,
    Rejected,
}

/// Progress of a seeding run.
#[derive(Debug, Clone, Copy)]
pub enum SeedProgress {
    /// How many listings there are.
    Total(usize),
    /// One more listing handled.
    Done,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_listing_without_category_or_brand_takes_them_from_the_file_and_title() {
        let raw = json!({"id": "13c4e8a1-9c21-44c8-9873-cc50499b838b", "title": "Baybee 5 in 1 Baby Rocker",
                         "price": 4999, "rating": 3.9, "reviews": 76});
        let category = category_from_file(Path::new("catalog/baby+rockers.json"));
        let Listing::Product(id, details, rating) = listing(&raw, &category, Uuid::nil()) else {
            panic!("a product");
        };
        assert_eq!(id.to_string(), "13c4e8a1-9c21-44c8-9873-cc50499b838b");
        assert_eq!(details.category.as_str(), "baby > rockers");
        assert_eq!(details.brand.as_str(), "Baybee");
        assert_eq!(details.price.cents(), 499_900);
        assert_eq!(rating, Some(3.9));
        assert!(!details.specifications.contains_key("rating"));
        assert_eq!(details.specifications.get("reviews"), Some(&json!(76)));
        assert!(!details.specifications.contains_key("title"));
    }

    #[test]
    fn a_listing_keeps_its_own_category_and_brand_and_one_without_price_is_skipped() {
        let raw = json!({"title": "HP Victus 15", "price": 69270, "brand": "HP", "ram": "16 GB",
                         "category": {"lvl0": "electronics", "lvl1": "electronics > laptop"}});
        let Listing::Product(_, details, rating) = listing(&raw, "x", Uuid::nil()) else {
            panic!("a product");
        };
        assert_eq!(details.category.as_str(), "electronics > laptop");
        assert_eq!(details.brand.as_str(), "HP");
        assert_eq!(rating, None);
        assert_eq!(details.specifications.get("ram"), Some(&json!("16 GB")));
        assert!(matches!(
            listing(&json!({"title": "No price"}), "x", Uuid::nil()),
            Listing::NoPrice
        ));
    }
}
