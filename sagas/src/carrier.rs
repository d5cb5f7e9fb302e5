//! The carrier the saga ships through, and the sandbox carrier.

use atlantic_domain::user::Address;
use sqlx::PgPool;
use std::time::Duration;
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

/// Books and cancels shipments. Both must be idempotent per order.
#[async_trait::async_trait]
pub trait CarrierGateway: Send + Sync {
    /// Books the parcel of `order_id` to `address`.
    async fn ship(&self, order_id: Uuid, address: &Address) -> Result<Shipment, CarrierError>;

    /// Cancels the booking of `order_id`, if there is one.
    async fn cancel(&self, order_id: Uuid) -> Result<(), CarrierError>;
}

/// The sandbox carrier, a carrier's test mode: books every parcel, except to
/// postal code `00000`, where it is always unavailable (to exercise retries
/// and dead letters), and confirms a booking to `99999` only after a while
/// (to exercise a cancel that races the booking). It keeps its bookings in Postgres
/// (`sandbox_shipments`), like a carrier's dashboard; ids derive from the order.
#[derive(Debug, Clone)]
pub struct SandboxCarrier {
    pool: PgPool,
}

/// The postal code the sandbox carrier never serves.
pub const UNSERVED_POSTAL_CODE: &str = "00000";
/// The postal code the sandbox carrier is slow to book for.
pub const SLOW_POSTAL_CODE: &str = "99999";
/// How long the confirmation of a booking to [`SLOW_POSTAL_CODE`] takes.
pub const SLOW_BOOKING: Duration = Duration::from_millis(500);

/// The carrier's name on its receipts.
const NAME: &str = "Atlantic Sandbox Post";

impl SandboxCarrier {
    /// A sandbox carrier with its ledger in `pool`.
    pub fn new(pool: PgPool) -> Self {
        SandboxCarrier { pool }
    }
}

fn ledger_error(error: sqlx::Error) -> CarrierError {
    CarrierError(format!("the carrier's ledger: {error}"))
}

#[async_trait::async_trait]
impl CarrierGateway for SandboxCarrier {
    async fn ship(&self, order_id: Uuid, address: &Address) -> Result<Shipment, CarrierError> {
        if address.postal_code.as_str() == UNSERVED_POSTAL_CODE {
            return Err(CarrierError(format!(
                "no pickups for postal code {UNSERVED_POSTAL_CODE}"
            )));
        }
        let digits = order_id.as_u128() % 10u128.pow(16);
        let booked: (String, String, bool) = sqlx::query_as(
            "INSERT INTO sandbox_shipments (order_id, shipment_id, tracking_number) VALUES ($1, $2, $3) \
             ON CONFLICT (order_id) DO UPDATE SET order_id = excluded.order_id \
             RETURNING shipment_id, tracking_number, cancelled_at IS NOT NULL",
        )
        .bind(order_id)
        .bind(format!("shp_{}", order_id.simple()))
        .bind(format!("1Z{digits:016}"))
        .fetch_one(&self.pool)
        .await
        .map_err(ledger_error)?;
        let (shipment_id, tracking_number, cancelled) = booked;
        if address.postal_code.as_str() == SLOW_POSTAL_CODE {
            tokio::time::sleep(SLOW_BOOKING).await;
        }
        if cancelled {
            return Err(CarrierError(format!(
                "the booking of order {order_id} was cancelled"
            )));
        }
        Ok(Shipment {
            shipment_id,
            carrier: NAME.to_string(),
            tracking_number,
        })
    }

    async fn cancel(&self, order_id: Uuid) -> Result<(), CarrierError> {
        sqlx::query(
            "UPDATE sandbox_shipments SET cancelled_at = now() \
             WHERE order_id = $1 AND cancelled_at IS NULL",
        )
        .bind(order_id)
        .execute(&self.pool)
        .await
        .map_err(ledger_error)?;
        Ok(())
    }
}
