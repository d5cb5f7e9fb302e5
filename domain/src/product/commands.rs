use super::ProductError;
use crate::bounds::check_price;
use crate::{specifications, Actor, Money, Text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A listing's catalogue details: the brief's search document without the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDetails {
    /// Title.
    pub name: Text<500>,
    /// Long description.
    pub description: Text<20000>,
    /// Category path, e.g. `laptops` or `baby > rockers`.
    pub category: Text<200>,
    /// Brand.
    pub brand: Text<200>,
    /// Unit price.
    #[serde(deserialize_with = "crate::bounds::price")]
    pub price: Money,
    /// Any further facts (processor, ram, age, …), within `specifications`'s bounds.
    #[serde(deserialize_with = "crate::specifications::checked")]
    pub specifications: Map<String, Value>,
}

/// A partial change of a listing's details; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductChanges {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<500>>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text<20000>>,
    /// New category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Text<200>>,
    /// New brand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<Text<200>>,
    /// New price.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::bounds::optional_price"
    )]
    pub price: Option<Money>,
    /// New specifications (replace the old ones whole).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::specifications::optional_checked"
    )]
    pub specifications: Option<Map<String, Value>>,
}

impl ProductDetails {
    /// Checks the bounds the text types do not carry: price and specifications.
    pub fn check(&self) -> Result<(), ProductError> {
        check_price(self.price).map_err(|message| ProductError::invalid("price", message))?;
        specifications::check(&self.specifications)
            .map_err(|message| ProductError::invalid("specifications", message))
    }
}

impl ProductChanges {
    /// Whether the change names no field.
    pub fn is_empty(&self) -> bool {
        *self == ProductChanges::default()
    }

    /// Checks the bounds the text types do not carry: price and specifications.
    pub fn check(&self) -> Result<(), ProductError> {
        if let Some(price) = self.price {
            check_price(price).map_err(|message| ProductError::invalid("price", message))?;
        }
        if let Some(specs) = &self.specifications {
            specifications::check(specs)
                .map_err(|message| ProductError::invalid("specifications", message))?;
        }
        Ok(())
    }
}

/// What can be asked of a product.
#[derive(Debug, Clone, PartialEq)]
pub enum ProductCommand {
    /// List a new product.
    Create {
        /// Who asks.
        actor: Actor,
        /// The new product's id.
        product_id: Uuid,
        /// The seller who sells it.
        seller_id: Uuid,
        /// Its details.
        details: ProductDetails,
        /// Units in stock.
        inventory: u32,
        /// The rating the catalogue it is imported from gave it (0 to 5),
        /// kept apart from customers' ratings; only an admin may set it.
        catalogue_rating: Option<f64>,
    },
    /// Change the details.
    Update {
        /// Who asks.
        actor: Actor,
        /// What changes.
        changes: ProductChanges,
    },
    /// Take the product off the catalogue.
    Delete {
        /// Who asks.
        actor: Actor,
    },
    /// Add (positive) or remove (negative) units of stock.
    AdjustInventory {
        /// Who asks.
        actor: Actor,
        /// The change in units.
        delta: i64,
    },
    /// Set the stock to an absolute count.
    SetInventory {
        /// Who asks.
        actor: Actor,
        /// The new count.
        inventory: u32,
    },
    /// Hold `quantity` units for an order. Idempotent per order.
    Reserve {
        /// The order.
        order_id: Uuid,
        /// Units to hold.
        quantity: u32,
    },
    /// Give back what an order held (cancellation). Idempotent per order.
    Release {
        /// The order.
        order_id: Uuid,
    },
    /// The order's held units left with the carrier: its reservation ends.
    /// Idempotent per order.
    Ship {
        /// The order.
        order_id: Uuid,
    },
    /// Put back what a returned order took. Once per order and product: the
    /// events table refuses a second restock of the same order.
    Restock {
        /// The order.
        order_id: Uuid,
        /// Units it took.
        quantity: u32,
    },
}
