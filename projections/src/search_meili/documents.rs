//! Product documents as events make them: a whole document on `created`, and
//! on `updated` a partial one with only the fields the event carries, which
//! Meilisearch merges into the stored document.

use anyhow::bail;
use serde_json::{json, Map, Value};

/// A document, whole or partial.
pub type Document = Map<String, Value>;

/// Checks that a field's value has the right JSON type.
type Check = fn(&Value) -> bool;

/// The fields an event body may set, each with the check its value must pass.
const FIELDS: [(&str, Check); 8] = [
    ("name", Value::is_string),
    ("description", Value::is_string),
    ("category", Value::is_string),
    ("brand", Value::is_string),
    ("price", Value::is_number),
    ("specifications", Value::is_object),
    ("inventory", Value::is_i64),
    ("catalogueRating", Value::is_number),
];

/// The document of product `id` as `created` with `body`.
pub fn created(id: &str, body: &Value) -> anyhow::Result<Document> {
    if !body.get("price").is_some_and(Value::is_number) {
        bail!("product {id} was created without a numeric price");
    }
    let mut document: Document = [
        ("id", json!(id)),
        (
            "sellerId",
            body.get("sellerId").cloned().unwrap_or_default(),
        ),
        ("name", json!("")),
        ("description", json!("")),
        ("category", json!("")),
        ("brand", json!("")),
        ("specifications", json!({})),
        ("inventory", json!(0)),
        ("catalogueRating", Value::Null),
        ("customerRating", Value::Null),
    ]
    .into_iter()
    .map(|(field, value)| (field.to_string(), value))
    .collect();
    merge(&mut document, body);
    Ok(document)
}

/// Sets in `document` the fields `body` provides, and `inStock` with
/// `inventory`.
pub fn merge(document: &mut Document, body: &Value) {
    for (field, valid) in FIELDS {
        if let Some(value) = body.get(field).filter(|v| valid(v)) {
            document.insert(field.to_string(), value.clone());
        }
    }
    if let Some(inventory) = document.get("inventory").and_then(Value::as_i64) {
        document.insert("inStock".into(), json!(inventory > 0));
    }
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

    #[test]
    fn created_documents_carry_stock_and_the_catalogue_rating() {
        let body = json!({
            "productId": "p", "sellerId": "s", "name": "Laptop", "description": "Fast",
            "category": "laptops", "brand": "HP", "price": 999.5,
            "specifications": {"rating": 1.0, "ram": "16GB"}, "inventory": 3,
            "catalogueRating": 4.5,
        });
        let document = created("p", &body).unwrap();
        assert_eq!(document["name"], "Laptop");
        assert_eq!(document["price"], 999.5);
        assert_eq!(document["inStock"], true);
        assert_eq!(document["catalogueRating"], 4.5);
        assert!(!document.contains_key("productId"));
    }

    #[test]
    fn updates_carry_only_their_fields() {
        let mut partial = Document::new();
        let update = json!({
            "productId": "p", "inventory": 0, "inventoryChange": -2, "reason": "sale",
            "specifications": {"rating": 5},
        });
        merge(&mut partial, &update);
        assert_eq!(partial["inventory"], 0);
        assert_eq!(partial["inStock"], false);
        assert!(!partial.contains_key("name"), "the name stays as stored");
        assert!(!partial.contains_key("reason"));
    }

    #[test]
    fn customers_outrank_the_catalogue_and_specifications_never_rate() {
        assert_eq!(rating(&json!(2.5), &json!(4.0)), json!(2.5));
        assert_eq!(rating(&Value::Null, &json!(4.0)), json!(4.0));
        assert_eq!(rating(&Value::Null, &Value::Null), Value::Null);
    }
}
