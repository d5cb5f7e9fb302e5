use crate::{Email, Text};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened to a seller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum SellerEvent {
    /// A seller was opened.
    SellerCreated {
        /// The seller's id.
        seller_id: Uuid,
        /// The user who runs it (unique: one seller per user).
        user_id: Uuid,
        /// The name.
        name: Text<200>,
        /// The contact address.
        contact_email: Email,
    },
    /// The seller changed; absent fields did not.
    SellerUpdated {
        /// The new name.
        name: Option<Text<200>>,
        /// The new contact address.
        contact_email: Option<Email>,
        /// Below how many units of a product the seller is mailed (0: never).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::bounds::optional_stock_alert"
        )]
        stock_alert_below: Option<u32>,
    },
}

impl DomainEvent for SellerEvent {
    fn event_type(&self) -> String {
        match self {
            SellerEvent::SellerCreated { .. } => "SellerCreated",
            SellerEvent::SellerUpdated { .. } => "SellerUpdated",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
