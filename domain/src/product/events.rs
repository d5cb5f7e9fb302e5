use super::{ProductChanges, ProductDetails};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened to a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum ProductEvent {
    /// A product was listed.
    ProductCreated {
        /// The product's id.
        product_id: Uuid,
        /// Its seller.
        seller_id: Uuid,
        /// Its details.
        #[serde(flatten)]
        details: ProductDetails,
        /// Units in stock.
        #[serde(deserialize_with = "crate::bounds::inventory")]
        inventory: i64,
        /// The catalogue's rating of the listing, when it was imported.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::bounds::optional_catalogue_rating"
        )]
        catalogue_rating: Option<f64>,
    },
    /// Details changed.
    ProductUpdated {
        /// The fields that changed.
        #[serde(flatten)]
        changes: ProductChanges,
    },
    /// The product was taken off the catalogue.
    ProductDeleted {},
    /// Stock was adjusted by a seller or an admin.
    InventoryAdjusted {
        /// The change in units.
        #[serde(deserialize_with = "crate::bounds::stock_change")]
        delta: i64,
        /// Units in stock after it.
        #[serde(deserialize_with = "crate::bounds::inventory")]
        inventory: i64,
    },
    /// Units were held for an order.
    StockReserved {
        /// The order.
        order_id: Uuid,
        /// Units held.
        #[serde(deserialize_with = "crate::bounds::quantity")]
        quantity: u32,
        /// Units in stock after it.
        #[serde(deserialize_with = "crate::bounds::inventory")]
        inventory: i64,
    },
    /// An order's held units came back (cancellation).
    StockReleased {
        /// The order.
        order_id: Uuid,
        /// Units given back.
        #[serde(deserialize_with = "crate::bounds::quantity")]
        quantity: u32,
        /// Units in stock after it.
        #[serde(deserialize_with = "crate::bounds::inventory")]
        inventory: i64,
    },
    /// An order's held units left with the carrier; its reservation ended.
    StockShipped {
        /// The order.
        order_id: Uuid,
        /// Units that left.
        #[serde(deserialize_with = "crate::bounds::quantity")]
        quantity: u32,
        /// Units in stock (unchanged: held units were already taken out).
        #[serde(deserialize_with = "crate::bounds::inventory")]
        inventory: i64,
    },
    /// A returned order's units came back.
    StockRestocked {
        /// The order.
        order_id: Uuid,
        /// Units put back.
        #[serde(deserialize_with = "crate::bounds::quantity")]
        quantity: u32,
        /// Units in stock after it.
        #[serde(deserialize_with = "crate::bounds::inventory")]
        inventory: i64,
    },
}

impl DomainEvent for ProductEvent {
    fn event_type(&self) -> String {
        match self {
            ProductEvent::ProductCreated { .. } => "ProductCreated",
            ProductEvent::ProductUpdated { .. } => "ProductUpdated",
            ProductEvent::ProductDeleted {} => "ProductDeleted",
            ProductEvent::InventoryAdjusted { .. } => "InventoryAdjusted",
            ProductEvent::StockReserved { .. } => "StockReserved",
            ProductEvent::StockReleased { .. } => "StockReleased",
            ProductEvent::StockShipped { .. } => "StockShipped",
            ProductEvent::StockRestocked { .. } => "StockRestocked",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
