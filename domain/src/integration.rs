//! How a stored domain event becomes the event published on NATS (the types
//! of [`crate::published`]). Secrets (password hashes, payment tokens) and the
//! order's address never leave the event store.

use crate::comment::CommentEvent;
use crate::order::{OrderEvent, ReservedLine};
use crate::payment::PaymentEvent;
use crate::product::ProductEvent;
use crate::published::{PricedLine, Published, PublishedEvent, ReservedUnits, StockReason};
use crate::rating::RatingEvent;
use crate::seller::SellerEvent;
use crate::user::UserEvent;
use chrono::{DateTime, SecondsFormat, Utc};
use cqrs_es::Aggregate;
use serde_json::Value;
use uuid::Uuid;

/// Namespace of event ids (UUID v5 over `{aggregate_type}:{aggregate_id}:{sequence}`).
const EVENT_ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6a1b_2c3d_4e5f_4a6b_8c7d_9e0f_1a2b_3c4d);

/// The message id of a stored event: `{aggregate_type}:{aggregate_id}:{sequence}`,
/// unique per event and the same on every republish.
pub fn message_id(aggregate_type: &str, aggregate_id: &str, sequence: i64) -> String {
    format!("{aggregate_type}:{aggregate_id}:{sequence}")
}

/// The event's id, derived from its message id, so anything that sees the event
/// (the relay, a consumer, the saga) computes the same id for it.
pub fn event_id(aggregate_type: &str, aggregate_id: &str, sequence: i64) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &EVENT_ID_NAMESPACE,
        message_id(aggregate_type, aggregate_id, sequence).as_bytes(),
    )
}

/// Why a stored event could not be turned into its published form.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// The row's aggregate type is not one Atlantic stores.
    #[error("unknown aggregate type `{0}`")]
    UnknownAggregate(String),
    /// The row's aggregate id is not a UUID.
    #[error("aggregate id `{0}` is not a UUID")]
    BadId(String),
    /// The payload does not parse as that aggregate's event.
    #[error("event payload does not parse: {0}")]
    Payload(#[from] serde_json::Error),
}

/// Turns a stored event (its aggregate type and id, the version its payload
/// was written in, the payload and its commit time) into the event published
/// on NATS; an old version is read as today's first
/// ([`crate::versioning::upcast`]).
pub fn to_integration_event(
    aggregate_type: &str,
    aggregate_id: &str,
    event_version: &str,
    payload: Value,
    timestamp: DateTime<Utc>,
) -> Result<Published, IntegrationError> {
    let payload = crate::versioning::upcast(event_version, payload);
    let timestamp = timestamp.to_rfc3339_opts(SecondsFormat::Secs, true);
    let uuid = || {
        Uuid::parse_str(aggregate_id).map_err(|_| IntegrationError::BadId(aggregate_id.to_string()))
    };
    let event = match aggregate_type {
        t if t == crate::order::Order::TYPE => {
            order_event(serde_json::from_value(payload)?, uuid()?)
        }
        t if t == crate::product::Product::TYPE => {
            product_event(serde_json::from_value(payload)?, uuid()?)
        }
        t if t == crate::user::User::TYPE => user_event(serde_json::from_value(payload)?, uuid()?),
        t if t == crate::seller::Seller::TYPE => {
            seller_event(serde_json::from_value(payload)?, uuid()?)
        }
        t if t == crate::rating::Rating::TYPE => {
            rating_event(serde_json::from_value(payload)?, uuid()?)
        }
        t if t == crate::comment::Comment::TYPE => {
            comment_event(serde_json::from_value(payload)?, uuid()?)
        }
        t if t == crate::payment::Payment::TYPE => {
            payment_event(serde_json::from_value(payload)?, aggregate_id.to_string())
        }
        other => return Err(IntegrationError::UnknownAggregate(other.to_string())),
    };
    Ok(Published { timestamp, event })
}

fn product_event(event: ProductEvent, product_id: Uuid) -> PublishedEvent {
    let stock = |inventory: i64, change: i64, reason: StockReason, order_id: Option<Uuid>| {
        PublishedEvent::ProductUpdated {
            product_id,
            name: None,
            description: None,
            category: None,
            brand: None,
            price: None,
            specifications: None,
            inventory: Some(inventory),
            inventory_change: Some(change),
            reason: Some(reason),
            order_id,
        }
    };
    match event {
        ProductEvent::ProductCreated {
            seller_id,
            details,
            inventory,
            catalogue_rating,
            ..
        } => PublishedEvent::ProductCreated {
            product_id,
            seller_id,
            name: details.name.as_str().to_string(),
            description: details.description.as_str().to_string(),
            category: details.category.as_str().to_string(),
            brand: details.brand.as_str().to_string(),
            price: details.price,
            specifications: details.specifications,
            inventory,
            catalogue_rating,
        },
        ProductEvent::ProductUpdated { changes } => PublishedEvent::ProductUpdated {
            product_id,
            name: changes.name.map(|t| t.as_str().to_string()),
            description: changes.description.map(|t| t.as_str().to_string()),
            category: changes.category.map(|t| t.as_str().to_string()),
            brand: changes.brand.map(|t| t.as_str().to_string()),
            price: changes.price,
            specifications: changes.specifications,
            inventory: None,
            inventory_change: None,
            reason: None,
            order_id: None,
        },
        ProductEvent::ProductDeleted {} => PublishedEvent::ProductDeleted { product_id },
        ProductEvent::InventoryAdjusted { delta, inventory } => {
            stock(inventory, delta, StockReason::Adjustment, None)
        }
        ProductEvent::StockReserved {
            order_id,
            quantity,
            inventory,
        } => stock(
            inventory,
            -i64::from(quantity),
            StockReason::Reserved,
            Some(order_id),
        ),
        ProductEvent::StockReleased {
            order_id,
            quantity,
            inventory,
        } => stock(
            inventory,
            i64::from(quantity),
            StockReason::Released,
            Some(order_id),
        ),
        ProductEvent::StockShipped {
            order_id,
            inventory,
            ..
        } => stock(inventory, 0, StockReason::Shipped, Some(order_id)),
        ProductEvent::StockRestocked {
            order_id,
            quantity,
            inventory,
        } => stock(
            inventory,
            i64::from(quantity),
            StockReason::Restocked,
            Some(order_id),
        ),
    }
}

fn user_event(event: UserEvent, user_id: Uuid) -> PublishedEvent {
    match event {
        UserEvent::UserRegistered {
            email, name, role, ..
        } => PublishedEvent::UserCreated {
            user_id,
            email: email.as_str().to_string(),
            name: name.as_str().to_string(),
            role: role.as_str().to_string(),
        },
        UserEvent::UserUpdated { name, address, .. } => PublishedEvent::UserUpdated {
            user_id,
            name: name.map(|name| name.as_str().to_string()),
            address,
            role: None,
            seller_id: None,
        },
        UserEvent::UserBecameSeller { seller_id } => PublishedEvent::UserUpdated {
            user_id,
            name: None,
            address: None,
            role: Some(crate::Role::Seller.as_str().to_string()),
            seller_id: Some(seller_id),
        },
    }
}

fn seller_event(event: SellerEvent, seller_id: Uuid) -> PublishedEvent {
    match event {
        SellerEvent::SellerCreated {
            user_id,
            name,
            contact_email,
            ..
        } => PublishedEvent::SellerCreated {
            seller_id,
            user_id,
            name: name.as_str().to_string(),
            contact_email: contact_email.as_str().to_string(),
        },
        SellerEvent::SellerUpdated {
            name,
            contact_email,
            ..
        } => PublishedEvent::SellerUpdated {
            seller_id,
            name: name.map(|name| name.as_str().to_string()),
            contact_email: contact_email.map(|email| email.as_str().to_string()),
        },
    }
}

fn rating_event(event: RatingEvent, rating_id: Uuid) -> PublishedEvent {
    match event {
        RatingEvent::RatingAdded {
            product_id,
            user_id,
            stars,
        } => PublishedEvent::RatingAdded {
            rating_id,
            product_id,
            user_id,
            stars: stars.get(),
        },
        RatingEvent::RatingUpdated {
            product_id,
            user_id,
            stars,
        } => PublishedEvent::RatingUpdated {
            rating_id,
            product_id,
            user_id,
            stars: stars.get(),
        },
        RatingEvent::RatingDeleted {
            product_id,
            user_id,
        } => PublishedEvent::RatingDeleted {
            rating_id,
            product_id,
            user_id,
        },
    }
}

fn comment_event(event: CommentEvent, comment_id: Uuid) -> PublishedEvent {
    match event {
        CommentEvent::CommentCreated {
            product_id,
            author_id,
            text,
        } => PublishedEvent::CommentCreated {
            comment_id,
            product_id,
            author_id,
            text: text.as_str().to_string(),
        },
        CommentEvent::CommentUpdated { product_id, text } => PublishedEvent::CommentUpdated {
            comment_id,
            product_id,
            text: text.as_str().to_string(),
        },
        CommentEvent::CommentDeleted { product_id } => PublishedEvent::CommentDeleted {
            comment_id,
            product_id,
        },
    }
}

fn payment_event(event: PaymentEvent, payment_id: String) -> PublishedEvent {
    match event {
        PaymentEvent::PaymentCaptured {
            order_id,
            payment_id: gateway_payment_id,
            amount,
        } => PublishedEvent::PaymentCaptured {
            payment_id,
            order_id,
            gateway_payment_id,
            amount,
        },
        PaymentEvent::PaymentDeclined {
            order_id,
            payment_id: gateway_payment_id,
        } => PublishedEvent::PaymentDeclined {
            payment_id,
            order_id,
            gateway_payment_id,
        },
        PaymentEvent::PaymentRefunded {
            order_id,
            refund_id,
            amount,
        } => PublishedEvent::PaymentRefunded {
            payment_id,
            order_id,
            refund_id,
            amount,
        },
    }
}

fn order_event(event: OrderEvent, order_id: Uuid) -> PublishedEvent {
    match event {
        OrderEvent::OrderCreated {
            customer_id,
            items,
            total_price,
            ..
        } => PublishedEvent::OrderCreated {
            order_id,
            customer_id,
            items: items
                .into_iter()
                .map(|line| PricedLine {
                    product_id: line.product_id,
                    quantity: line.quantity,
                    price: line.price,
                })
                .collect(),
            total_price,
        },
        OrderEvent::OrderValidated {
            is_valid,
            validation_errors,
        } => PublishedEvent::OrderValidated {
            order_id,
            is_valid,
            validation_errors,
        },
        OrderEvent::PaymentProcessed {
            payment_id,
            payment_status,
            amount,
        } => PublishedEvent::PaymentProcessed {
            order_id,
            payment_id,
            payment_status,
            amount,
        },
        OrderEvent::InventoryReserved { items } => PublishedEvent::InventoryReserved {
            order_id,
            items: items
                .into_iter()
                .map(
                    |ReservedLine {
                         product_id,
                         quantity,
                     }| ReservedUnits {
                        product_id,
                        quantity,
                    },
                )
                .collect(),
        },
        OrderEvent::OrderShipped {
            shipment_id,
            carrier,
            tracking_number,
        } => PublishedEvent::OrderShipped {
            order_id,
            shipment_id,
            carrier,
            tracking_number,
        },
        OrderEvent::OrderDelivered { delivery_status } => PublishedEvent::OrderDelivered {
            order_id,
            delivery_status,
        },
        OrderEvent::OrderCancelled {
            cancellation_reason,
        } => PublishedEvent::OrderCancelled {
            order_id,
            cancellation_reason,
        },
        OrderEvent::OrderReturned {
            return_reason,
            refund_amount,
        } => PublishedEvent::OrderReturned {
            order_id,
            return_reason,
            refund_amount,
        },
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
