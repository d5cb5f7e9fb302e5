use crate::{Email, Role, Text};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    pub line1: Text<200>,
    /// City.
    pub city: Text<100>,
    /// Region, state or province; also the area analytics group by.
    pub region: Text<100>,
    /// ISO 3166 country code or name.
    pub country: Text<100>,
    /// Postal code.
    pub postal_code: Text<20>,
}

/// What happened to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum UserEvent {
    /// An account was opened.
    UserRegistered {
        /// The user's id.
        user_id: uuid::Uuid,
        /// The login address.
        email: Email,
        /// The name.
        name: Text<200>,
        /// The starting role.
        role: Role,
        /// The argon2id PHC string; never published.
        password_hash: String,
        /// Whether the user takes mail that is not about an order; absent
        /// (written before the choice existed) is yes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        non_transactional_mail: Option<bool>,
    },
    /// The profile changed; absent fields did not.
    UserUpdated {
        /// The new name.
        name: Option<Text<200>>,
        /// The new address.
        address: Option<Address>,
        /// Whether the user now takes mail that is not about an order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        non_transactional_mail: Option<bool>,
    },
    /// The user now runs a seller.
    UserBecameSeller {
        /// The seller.
        seller_id: uuid::Uuid,
    },
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::UserUpdated { .. } => "UserUpdated",
            UserEvent::UserBecameSeller { .. } => "UserBecameSeller",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
