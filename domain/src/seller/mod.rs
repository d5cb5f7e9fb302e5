//! A seller: the business behind a set of products, run by one user.

mod aggregate;
mod commands;
mod errors;
mod events;

pub use aggregate::Seller;
pub use commands::SellerCommand;
pub use errors::SellerError;
pub use events::SellerEvent;

use uuid::Uuid;

/// Namespace of seller ids: a seller's id is derived from its owner's.
const SELLER_NAMESPACE: Uuid = Uuid::from_u128(0x5e11_e700_0000_4000_8000_0000_0000_0001);

/// The id of the seller `owner` runs. One seller per user, so deriving the id
/// from the owner makes creating a seller (two aggregates) safe to retry.
pub fn seller_id_of(owner: Uuid) -> Uuid {
    Uuid::new_v5(&SELLER_NAMESPACE, owner.as_bytes())
}
