//! The catalogue fields a product event sets, as the JSON the product
//! documents (the Redis cache, Meilisearch) hold.

use atlantic_domain::published::PublishedEvent;
use serde_json::{json, Map, Value};

/// Every field on `product.created` (`catalogueRating` null when the
/// catalogue gave none), only the carried ones on `product.updated`; with
/// `inStock` whenever `inventory` is set. `None` for any other event.
pub fn fields_set(event: &PublishedEvent) -> Option<Map<String, Value>> {
    let mut fields = Map::new();
    let mut set = |field: &str, value: Option<Value>| {
        if let Some(value) = value {
            fields.insert(field.to_string(), value);
        }
    };
    let inventory = match event {
        PublishedEvent::ProductCreated {
            seller_id,
            name,
            description,
            category,
            brand,
            price,
            specifications,
            inventory,
            catalogue_rating,
            ..
        } => {
            set("sellerId", Some(json!(seller_id)));
            set("name", Some(json!(name)));
            set("description", Some(json!(description)));
            set("category", Some(json!(category)));
            set("brand", Some(json!(brand)));
            set("price", Some(json!(price)));
            set("specifications", Some(json!(specifications)));
            set("catalogueRating", Some(json!(catalogue_rating)));
            Some(*inventory)
        }
        PublishedEvent::ProductUpdated {
            name,
            description,
            category,
            brand,
            price,
            specifications,
            inventory,
            ..
        } => {
            set("name", name.as_ref().map(|v| json!(v)));
            set("description", description.as_ref().map(|v| json!(v)));
            set("category", category.as_ref().map(|v| json!(v)));
            set("brand", brand.as_ref().map(|v| json!(v)));
            set("price", price.map(|v| json!(v)));
            set("specifications", specifications.as_ref().map(|v| json!(v)));
            *inventory
        }
        _ => return None,
    };
    if let Some(inventory) = inventory {
        fields.insert("inventory".into(), json!(inventory));
        fields.insert("inStock".into(), json!(inventory > 0));
    }
    Some(fields)
}
