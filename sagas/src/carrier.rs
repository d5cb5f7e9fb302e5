//! The carrier the saga ships through, and the sandbox carrier.

use atlantic_domain::user::Address;
use uuid::Uuid;

/// A carrier's receipt for a parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    /// The carrier's shipment id.
    pub shipment_id: String,
    /// The carrier's name.
    pub carrier: String,
    /// Where the customer follows the parcel.
    pub tracking_number: String,
}

/// A carrier that would not take the parcel.
#[derive(Debug, thiserror::Error)]
#[error("carrier error: {0}")]
pub struct CarrierError(pub String);

/// Books shipments. Must be idempotent per order.
#[async_trait::async_trait]
pub trait CarrierGateway: Send + Sync {
    /// Books the parcel of `order_id` to `address`.
    async fn ship(&self, order_id: Uuid, address: &Address) -> Result<Shipment, CarrierError>;
}

/// The sandbox carrier: books every parcel, except to postal code `00000`,
/// where it is always unavailable (to exercise retries and the dead-letter
/// subject). Ids derive from the order.
#[derive(Debug, Clone, Default)]
pub struct SandboxCarrier;

/// The postal code the sandbox carrier never serves.
pub const UNSERVED_POSTAL_CODE: &str = "00000";

#[async_trait::async_trait]
impl CarrierGateway for SandboxCarrier {
    async fn ship(&self, order_id: Uuid, address: &Address) -> Result<Shipment, CarrierError> {
        if address.postal_code.as_str() == UNSERVED_POSTAL_CODE {
            return Err(CarrierError(format!(
                "no pickups for postal code {UNSERVED_POSTAL_CODE}"
            )));
        }
        let digits = order_id.as_u128() % 10u128.pow(16);
        Ok(Shipment {
            shipment_id: format!("shp_{}", order_id.simple()),
            carrier: "Atlantic Sandbox Post".to_string(),
            tracking_number: format!("1Z{digits:016}"),
        })
    }
}
