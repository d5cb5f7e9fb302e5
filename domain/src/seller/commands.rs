use crate::{Actor, Email, Text};
use uuid::Uuid;

/// What can be asked of a seller.
#[derive(Debug, Clone, PartialEq)]
pub enum SellerCommand {
    /// Open a seller run by `owner_id`.
    Create {
        /// The new seller's id.
        seller_id: Uuid,
        /// The user who runs it.
        owner_id: Uuid,
        /// The seller's name.
        name: Text<200>,
        /// Where buyers and the shop reach the seller.
        contact_email: Email,
    },
    /// Change the name or the contact address.
    Update {
        /// Who asks.
        actor: Actor,
        /// A new name.
        name: Option<Text<200>>,
        /// A new contact address.
        contact_email: Option<Email>,
        /// Below how many units of a product the seller is mailed (0: never).
        stock_alert_below: Option<u32>,
    },
}
