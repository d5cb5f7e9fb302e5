use super::{OrderLine, PaymentStatus, ReservedLine};
use crate::user::Address;
use crate::{Actor, Money, Text};
use uuid::Uuid;

/// What can be asked of an order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderCommand {
    /// Place an order. Line prices are the catalogue's at order time, looked up by
    /// the caller; the customer never sets them.
    Place {
        /// The new order's id.
        order_id: Uuid,
        /// Who orders.
        customer_id: Uuid,
        /// What is ordered.
        lines: Vec<OrderLine>,
        /// Where it goes.
        shipping_address: Address,
        /// The payment method's token for the gateway.
        payment_token: Text<200>,
    },
    /// Record the outcome of validation.
    RecordValidation {
        /// Whether the order may go on.
        is_valid: bool,
        /// Why not, when it may not.
        validation_errors: Vec<String>,
    },
    /// Record the outcome of payment.
    RecordPayment {
        /// The gateway's payment id.
        payment_id: String,
        /// Approved or declined.
        status: PaymentStatus,
        /// The amount charged.
        amount: Money,
    },
    /// Record that every line's stock is held.
    RecordInventoryReserved {
        /// What is held.
        items: Vec<ReservedLine>,
    },
    /// Hand the order to a carrier.
    Ship {
        /// The carrier's shipment id.
        shipment_id: String,
        /// The carrier.
        carrier: String,
        /// The tracking number.
        tracking_number: String,
    },
    /// The carrier delivered it.
    Deliver {
        /// The carrier's word for it.
        delivery_status: String,
    },
    /// Stop the order before it ships.
    Cancel {
        /// Who asks.
        actor: Actor,
        /// Why.
        reason: Text<500>,
    },
    /// Send a delivered order back.
    Return {
        /// Who asks.
        actor: Actor,
        /// Why.
        reason: Text<500>,
    },
}
