use super::Stars;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened to a rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum RatingEvent {
    /// A customer rated a product (first time, or after withdrawing).
    RatingAdded {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: Stars,
    },
    /// A customer changed a rating.
    RatingUpdated {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: Stars,
    },
    /// A customer withdrew a rating.
    RatingDeleted {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
    },
}

impl DomainEvent for RatingEvent {
    fn event_type(&self) -> String {
        match self {
            RatingEvent::RatingAdded { .. } => "RatingAdded",
            RatingEvent::RatingUpdated { .. } => "RatingUpdated",
            RatingEvent::RatingDeleted { .. } => "RatingDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
