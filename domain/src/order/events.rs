use crate::user::Address;
use crate::Money;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One line of an order: a product, how many, and its unit price at order time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    /// The product.
    pub product_id: Uuid,
    /// Units, 1 to [`MAX_LINE_QUANTITY`](crate::bounds::MAX_LINE_QUANTITY).
    #[serde(deserialize_with = "crate::bounds::quantity")]
    pub quantity: u32,
    /// Unit price, at most [`MAX_UNIT_PRICE_CENTS`](crate::bounds::MAX_UNIT_PRICE_CENTS).
    #[serde(
        serialize_with = "crate::stored_money::serialize",
        deserialize_with = "crate::stored_money::price"
    )]
    pub price: Money,
}

/// A product's units held for an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedLine {
    /// The product.
    pub product_id: Uuid,
    /// Units held.
    #[serde(deserialize_with = "crate::bounds::quantity")]
    pub quantity: u32,
}

/// The gateway's answer to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Approved and captured.
    Success,
    /// Refused by the gateway.
    Declined,
}

/// What happened to an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum OrderEvent {
    /// The order was placed.
    OrderCreated {
        /// The order's id.
        order_id: Uuid,
        /// Who ordered.
        customer_id: Uuid,
        /// What was ordered.
        items: Vec<OrderLine>,
        /// Σ quantity × price.
        #[serde(with = "crate::stored_money")]
        total_price: Money,
        /// Where it goes.
        shipping_address: Address,
        /// The payment method's token (kept in the store, never published).
        payment_token: String,
    },
    /// The order was checked against the catalogue.
    OrderValidated {
        /// Whether it may go on.
        is_valid: bool,
        /// Why not.
        validation_errors: Vec<String>,
    },
    /// The payment was answered.
    PaymentProcessed {
        /// The gateway's payment id.
        payment_id: String,
        /// Approved or declined.
        payment_status: PaymentStatus,
        /// The amount.
        #[serde(with = "crate::stored_money")]
        amount: Money,
    },
    /// Every line's stock is held.
    InventoryReserved {
        /// What is held.
        items: Vec<ReservedLine>,
    },
    /// A carrier took the order.
    OrderShipped {
        /// The carrier's shipment id.
        shipment_id: String,
        /// The carrier.
        carrier: String,
        /// The tracking number.
        tracking_number: String,
    },
    /// The order arrived.
    OrderDelivered {
        /// The carrier's word for it.
        delivery_status: String,
    },
    /// The order was stopped.
    OrderCancelled {
        /// Why.
        cancellation_reason: String,
    },
    /// The order came back.
    OrderReturned {
        /// Why.
        return_reason: String,
        /// What is refunded.
        #[serde(with = "crate::stored_money")]
        refund_amount: Money,
    },
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        match self {
            OrderEvent::OrderCreated { .. } => "OrderCreated",
            OrderEvent::OrderValidated { .. } => "OrderValidated",
            OrderEvent::PaymentProcessed { .. } => "PaymentProcessed",
            OrderEvent::InventoryReserved { .. } => "InventoryReserved",
            OrderEvent::OrderShipped { .. } => "OrderShipped",
            OrderEvent::OrderDelivered { .. } => "OrderDelivered",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
            OrderEvent::OrderReturned { .. } => "OrderReturned",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        match self {
            OrderEvent::OrderCreated { .. }
            | OrderEvent::PaymentProcessed { .. }
            | OrderEvent::OrderReturned { .. } => crate::versioning::ORDER_MONEY_VERSION,
            _ => "1",
        }
        .to_string()
    }
}
