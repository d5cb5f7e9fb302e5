//! Product documents as events make them: a whole document on `created`, and
//! on `updated` a partial one with only the fields the event carries, which
//! Meilisearch merges into the stored document.

use serde_json::{Map, Value};

/// A document, whole or partial.
pub type Document = Map<String, Value>;

/// The whole document of a product created with `fields` (what
/// [`fields_set`](crate::product_fields::fields_set) gives of its
/// `product.created`), and no customer's rating yet.
pub fn created(mut fields: Document) -> Document {
    fields.insert("customerRating".into(), Value::Null);
    fields
}

/// The rating a product is found and sorted by: the customers' average, or
/// the catalogue's rating while no customer has rated; never the product's
/// specifications.
pub fn rating(customer: &Value, catalogue: &Value) -> Value {
    [customer, catalogue]
        .into_iter()
        .find(|r| r.is_number())
        .cloned()
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product_fields::fields_set;
    use atlantic_domain::published::{Published, PublishedEvent};
    use serde_json::json;
    use uuid::Uuid;

    fn published(body: Value) -> PublishedEvent {
        serde_json::from_value::<Published>(body).unwrap().event
    }

    #[test]
    fn created_documents_carry_stock_and_the_catalogue_rating() {
        let event = published(json!({
            "event": "product.created", "timestamp": "2026-01-01T00:00:00Z",
            "productId": Uuid::nil(), "sellerId": Uuid::nil(), "name": "Laptop", "description": "Fast",
            "category": "laptops", "brand": "HP", "price": 999.5,
            "specifications": {"rating": 1.0, "ram": "16GB"}, "inventory": 3,
            "catalogueRating": 4.5,
        }));
        let document = created(fields_set(&event).unwrap());
        assert_eq!(document["name"], "Laptop");
        assert_eq!(document["price"], 999.5);
        assert_eq!(document["inStock"], true);
        assert_eq!(document["catalogueRating"], 4.5);
        assert_eq!(document["customerRating"], Value::Null);
        assert!(!document.contains_key("productId"));
    }

    #[test]
    fn updates_carry_only_their_fields() {
        let event = published(json!({
            "event": "product.updated", "timestamp": "2026-01-01T00:00:00Z",
            "productId": Uuid::nil(), "inventory": 0, "inventoryChange": -2, "reason": "reserved",
            "orderId": Uuid::nil(),
        }));
        let partial = fields_set(&event).unwrap();
        assert_eq!(partial["inventory"], 0);
        assert_eq!(partial["inStock"], false);
        assert!(!partial.contains_key("name"), "the name stays as stored");
        assert!(!partial.contains_key("reason"));
        assert!(!partial.contains_key("orderId"));
    }

    #[test]
    fn customers_outrank_the_catalogue_and_specifications_never_rate() {
        assert_eq!(rating(&json!(2.5), &json!(4.0)), json!(2.5));
        assert_eq!(rating(&Value::Null, &json!(4.0)), json!(4.0));
        assert_eq!(rating(&Value::Null, &Value::Null), Value::Null);
    }
}
