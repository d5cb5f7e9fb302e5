//! The events Atlantic publishes on NATS, one type per kind: the relay
//! serialises them, the saga and the projections decode them. Order events
//! are the brief's JSON field for field; the other contexts use the brief's
//! dotted names with the entity's id and fields in camelCase.

use crate::order::PaymentStatus;
use crate::user::Address;
use crate::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A published event: when it was committed, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// Commit time, RFC 3339 in whole seconds (`2026-12-01T14:35:17Z`).
    pub timestamp: String,
    /// The kind (the body's `event` field) and its fields.
    #[serde(flatten)]
    pub event: PublishedEvent,
}

impl Published {
    /// The commit time, if the timestamp parses.
    pub fn committed_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.timestamp)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The NATS subject it is published on: `events.order.<Kind>` for order
    /// events, `events.<context>.<name>` for the others, `clicks.tracked` for clicks.
    pub fn subject(&self) -> String {
        match self.event.name() {
            "click.tracked" => "clicks.tracked".to_string(),
            name => match name.split_once('.') {
                Some((context, name)) => format!("events.{context}.{name}"),
                None => format!("events.order.{name}"),
            },
        }
    }
}

/// A line of `OrderCreated`, priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    /// The product.
    pub product_id: Uuid,
    /// Units.
    pub quantity: u32,
    /// The unit price when the order was placed.
    pub price: Money,
}

/// A line of `InventoryReserved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservedUnits {
    /// The product.
    pub product_id: Uuid,
    /// Units held for the order.
    pub quantity: u32,
}

/// Why a product's stock changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StockReason {
    /// A seller or an admin changed it.
    Adjustment,
    /// Held for an order.
    Reserved,
    /// Given back by an order that did not ship.
    Released,
    /// Left with an order.
    Shipped,
    /// Came back with a returned order.
    Restocked,
}

/// Every kind of published event, tagged by the body's `event` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum PublishedEvent {
    /// An order was placed.
    OrderCreated {
        /// The order.
        order_id: Uuid,
        /// Who placed it.
        customer_id: Uuid,
        /// What it holds, priced.
        items: Vec<PricedLine>,
        /// The sum of the lines.
        total_price: Money,
    },
    /// The order was checked against the catalogue.
    OrderValidated {
        /// The order.
        order_id: Uuid,
        /// Whether every line can be sold.
        is_valid: bool,
        /// Why not, line by line.
        validation_errors: Vec<String>,
    },
    /// The gateway answered the payment.
    PaymentProcessed {
        /// The order.
        order_id: Uuid,
        /// The gateway's payment id.
        payment_id: String,
        /// Whether the money was taken.
        payment_status: PaymentStatus,
        /// How much.
        amount: Money,
    },
    /// The order's units were held.
    InventoryReserved {
        /// The order.
        order_id: Uuid,
        /// What was held.
        items: Vec<ReservedUnits>,
    },
    /// The carrier took the order.
    OrderShipped {
        /// The order.
        order_id: Uuid,
        /// The carrier's shipment id.
        shipment_id: String,
        /// The carrier.
        carrier: String,
        /// Where the customer follows it.
        tracking_number: String,
    },
    /// The order arrived.
    OrderDelivered {
        /// The order.
        order_id: Uuid,
        /// The carrier's word for it.
        delivery_status: String,
    },
    /// The order stopped before it shipped.
    OrderCancelled {
        /// The order.
        order_id: Uuid,
        /// Why.
        cancellation_reason: String,
    },
    /// The order came back.
    OrderReturned {
        /// The order.
        order_id: Uuid,
        /// Why.
        return_reason: String,
        /// What is paid back.
        refund_amount: Money,
    },
    /// A product was listed.
    #[serde(rename = "product.created")]
    ProductCreated {
        /// The product.
        product_id: Uuid,
        /// Who sells it.
        seller_id: Uuid,
        /// Title.
        name: String,
        /// Description.
        description: String,
        /// Category path.
        category: String,
        /// Brand.
        brand: String,
        /// Unit price.
        price: Money,
        /// Free-form attributes.
        specifications: Map<String, Value>,
        /// Units in stock.
        inventory: i64,
        /// The rating of the catalogue it came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        catalogue_rating: Option<f64>,
    },
    /// A product's details or stock changed: only what changed is given.
    #[serde(rename = "product.updated")]
    ProductUpdated {
        /// The product.
        product_id: Uuid,
        /// New title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// New description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// New category.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        /// New brand.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        brand: Option<String>,
        /// New price.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        price: Option<Money>,
        /// New attributes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        specifications: Option<Map<String, Value>>,
        /// Units in stock after the change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inventory: Option<i64>,
        /// How the units in stock changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inventory_change: Option<i64>,
        /// Why they changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<StockReason>,
        /// The order that changed them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_id: Option<Uuid>,
    },
    /// A product was withdrawn from sale.
    #[serde(rename = "product.deleted")]
    ProductDeleted {
        /// The product.
        product_id: Uuid,
    },
    /// An account was opened.
    #[serde(rename = "user.created")]
    UserCreated {
        /// The user.
        user_id: Uuid,
        /// Login address.
        email: String,
        /// Display name.
        name: String,
        /// Role.
        role: String,
    },
    /// A profile or role changed: only what changed is given.
    #[serde(rename = "user.updated")]
    UserUpdated {
        /// The user.
        user_id: Uuid,
        /// New name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// New address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Address>,
        /// New role.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// The seller the user now runs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seller_id: Option<Uuid>,
    },
    /// A seller opened.
    #[serde(rename = "seller.created")]
    SellerCreated {
        /// The seller.
        seller_id: Uuid,
        /// Who runs it.
        user_id: Uuid,
        /// Its name.
        name: String,
        /// Where customers write.
        contact_email: String,
    },
    /// A seller changed: only what changed is given.
    #[serde(rename = "seller.updated")]
    SellerUpdated {
        /// The seller.
        seller_id: Uuid,
        /// New name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// New contact address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact_email: Option<String>,
    },
    /// A customer rated a product.
    #[serde(rename = "rating.added")]
    RatingAdded {
        /// The rating.
        rating_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: u8,
    },
    /// A customer changed their rating.
    #[serde(rename = "rating.updated")]
    RatingUpdated {
        /// The rating.
        rating_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: u8,
    },
    /// A customer withdrew their rating.
    #[serde(rename = "rating.deleted")]
    RatingDeleted {
        /// The rating.
        rating_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
    },
    /// A comment was posted.
    #[serde(rename = "comment.created")]
    CommentCreated {
        /// The comment.
        comment_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// Who wrote it.
        author_id: Uuid,
        /// What it says.
        text: String,
    },
    /// A comment was edited.
    #[serde(rename = "comment.updated")]
    CommentUpdated {
        /// The comment.
        comment_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// What it says now.
        text: String,
    },
    /// A comment was removed.
    #[serde(rename = "comment.deleted")]
    CommentDeleted {
        /// The comment.
        comment_id: Uuid,
        /// The product.
        product_id: Uuid,
    },
    /// The gateway took an order's money.
    #[serde(rename = "payment.captured")]
    PaymentCaptured {
        /// The payment (an aggregate per order).
        payment_id: String,
        /// The order.
        order_id: Uuid,
        /// The gateway's id.
        gateway_payment_id: String,
        /// How much.
        amount: Money,
    },
    /// The gateway refused an order's payment.
    #[serde(rename = "payment.declined")]
    PaymentDeclined {
        /// The payment.
        payment_id: String,
        /// The order.
        order_id: Uuid,
        /// The gateway's id.
        gateway_payment_id: String,
    },
    /// Money went back to the customer.
    #[serde(rename = "payment.refunded")]
    PaymentRefunded {
        /// The payment.
        payment_id: String,
        /// The order.
        order_id: Uuid,
        /// The gateway's refund id.
        refund_id: String,
        /// How much.
        amount: Money,
    },
    /// A shopper looked at or clicked a product (stream `ATLANTIC_CLICKS`).
    #[serde(rename = "click.tracked")]
    ClickTracked {
        /// The click.
        click_id: Uuid,
        /// The product.
        product_id: Uuid,
        /// `view`, `click` or `add_to_cart`.
        kind: String,
        /// The shopper's area, `unknown` when not given.
        area: String,
        /// The shopper's session, when given.
        session_id: Option<String>,
    },
}

impl PublishedEvent {
    /// The body's `event` field.
    pub fn name(&self) -> &'static str {
        match self {
            PublishedEvent::OrderCreated { .. } => "OrderCreated",
            PublishedEvent::OrderValidated { .. } => "OrderValidated",
            PublishedEvent::PaymentProcessed { .. } => "PaymentProcessed",
            PublishedEvent::InventoryReserved { .. } => "InventoryReserved",
            PublishedEvent::OrderShipped { .. } => "OrderShipped",
            PublishedEvent::OrderDelivered { .. } => "OrderDelivered",
            PublishedEvent::OrderCancelled { .. } => "OrderCancelled",
            PublishedEvent::OrderReturned { .. } => "OrderReturned",
            PublishedEvent::ProductCreated { .. } => "product.created",
            PublishedEvent::ProductUpdated { .. } => "product.updated",
            PublishedEvent::ProductDeleted { .. } => "product.deleted",
            PublishedEvent::UserCreated { .. } => "user.created",
            PublishedEvent::UserUpdated { .. } => "user.updated",
            PublishedEvent::SellerCreated { .. } => "seller.created",
            PublishedEvent::SellerUpdated { .. } => "seller.updated",
            PublishedEvent::RatingAdded { .. } => "rating.added",
            PublishedEvent::RatingUpdated { .. } => "rating.updated",
            PublishedEvent::RatingDeleted { .. } => "rating.deleted",
            PublishedEvent::CommentCreated { .. } => "comment.created",
            PublishedEvent::CommentUpdated { .. } => "comment.updated",
            PublishedEvent::CommentDeleted { .. } => "comment.deleted",
            PublishedEvent::PaymentCaptured { .. } => "payment.captured",
            PublishedEvent::PaymentDeclined { .. } => "payment.declined",
            PublishedEvent::PaymentRefunded { .. } => "payment.refunded",
            PublishedEvent::ClickTracked { .. } => "click.tracked",
        }
    }
}
