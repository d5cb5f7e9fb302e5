//! The integration-event contract: how a stored domain event is published on NATS.
//!
//! Order events are the brief's JSON field for field (`event`, `timestamp`,
//! `orderId`, …); the other contexts use the brief's dotted names
//! (`product.created`, `user.updated`, …) with `event`, `timestamp`, the entity's
//! id and the entity's fields in camelCase. Secrets (password hashes, payment
//! tokens) and the order's address never leave the event store.

use crate::comment::CommentEvent;
use crate::order::{OrderEvent, PaymentStatus, ReservedLine};
use crate::payment::PaymentEvent;
use crate::product::ProductEvent;
use crate::rating::RatingEvent;
use crate::seller::SellerEvent;
use crate::user::UserEvent;
use crate::Money;
use chrono::{DateTime, SecondsFormat, Utc};
use cqrs_es::Aggregate;
use serde::Serialize;
use serde_json::{json, Map, Value};

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

/// A domain event in its published form.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationEvent {
    /// The NATS subject, `events.<context>.<name>`.
    pub subject: String,
    /// The JSON body.
    pub body: Value,
}

/// Why a stored event could not be turned into its published form.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// The row's aggregate type is not one Atlantic stores.
    #[error("unknown aggregate type `{0}`")]
    UnknownAggregate(String),
    /// The payload does not parse as that aggregate's event.
    #[error("event payload does not parse: {0}")]
    Payload(#[from] serde_json::Error),
}

/// Turns a stored event (its aggregate type and id, payload and commit time) into
/// the subject and body published on NATS.
pub fn to_integration_event(
    aggregate_type: &str,
    aggregate_id: &str,
    payload: Value,
    timestamp: DateTime<Utc>,
) -> Result<IntegrationEvent, IntegrationError> {
    let timestamp = timestamp.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (context, name, id_field, fields) = match aggregate_type {
        t if t == crate::order::Order::TYPE => {
            let event: OrderEvent = serde_json::from_value(payload)?;
            return Ok(order_event(event, aggregate_id, timestamp));
        }
        t if t == crate::product::Product::TYPE => {
            let (name, fields) = product_event(serde_json::from_value(payload)?)?;
            ("product", name, "productId", fields)
        }
        t if t == crate::user::User::TYPE => {
            let (name, fields) = user_event(serde_json::from_value(payload)?)?;
            ("user", name, "userId", fields)
        }
        t if t == crate::seller::Seller::TYPE => {
            let (name, fields) = seller_event(serde_json::from_value(payload)?)?;
            ("seller", name, "sellerId", fields)
        }
        t if t == crate::rating::Rating::TYPE => {
            let (name, fields) = rating_event(serde_json::from_value(payload)?)?;
            ("rating", name, "ratingId", fields)
        }
        t if t == crate::comment::Comment::TYPE => {
            let (name, fields) = comment_event(serde_json::from_value(payload)?)?;
            ("comment", name, "commentId", fields)
        }
        t if t == crate::payment::Payment::TYPE => {
            let (name, fields) = payment_event(serde_json::from_value(payload)?)?;
            ("payment", name, "paymentId", fields)
        }
        other => return Err(IntegrationError::UnknownAggregate(other.to_string())),
    };
    let event_name = format!("{context}.{name}");
    let mut body = Map::new();
    body.insert("event".into(), Value::String(event_name));
    body.insert("timestamp".into(), Value::String(timestamp));
    body.insert(id_field.into(), Value::String(aggregate_id.to_string()));
    for (key, value) in fields {
        body.entry(key).or_insert(value);
    }
    Ok(IntegrationEvent {
        subject: format!("events.{context}.{name}"),
        body: Value::Object(body),
    })
}

fn fields_of(value: impl Serialize) -> Result<Map<String, Value>, IntegrationError> {
    match serde_json::to_value(value)? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

fn product_event(
    event: ProductEvent,
) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    Ok(match event {
        ProductEvent::ProductCreated {
            seller_id,
            details,
            inventory,
            catalogue_rating,
            ..
        } => {
            let mut fields = fields_of(details)?;
            fields.insert("sellerId".into(), json!(seller_id));
            fields.insert("inventory".into(), json!(inventory));
            if let Some(rating) = catalogue_rating {
                fields.insert("catalogueRating".into(), json!(rating));
            }
            ("created", fields)
        }
        ProductEvent::ProductUpdated { changes } => ("updated", fields_of(changes)?),
        ProductEvent::ProductDeleted {} => ("deleted", Map::new()),
        ProductEvent::InventoryAdjusted { delta, inventory } => (
            "updated",
            fields_of(
                json!({"inventory": inventory, "inventoryChange": delta, "reason": "adjustment"}),
            )?,
        ),
        ProductEvent::StockReserved {
            order_id,
            quantity,
            inventory,
        } => stock_change(inventory, -i64::from(quantity), "reserved", order_id)?,
        ProductEvent::StockReleased {
            order_id,
            quantity,
            inventory,
        } => stock_change(inventory, i64::from(quantity), "released", order_id)?,
        ProductEvent::StockShipped {
            order_id,
            inventory,
            ..
        } => stock_change(inventory, 0, "shipped", order_id)?,
        ProductEvent::StockRestocked {
            order_id,
            quantity,
            inventory,
        } => stock_change(inventory, i64::from(quantity), "restocked", order_id)?,
    })
}

fn stock_change(
    inventory: i64,
    change: i64,
    reason: &str,
    order_id: uuid::Uuid,
) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    Ok((
        "updated",
        fields_of(json!({
            "inventory": inventory,
            "inventoryChange": change,
            "reason": reason,
            "orderId": order_id,
        }))?,
    ))
}

fn user_event(event: UserEvent) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    Ok(match event {
        UserEvent::UserRegistered {
            email, name, role, ..
        } => (
            "created",
            fields_of(json!({"email": email, "name": name, "role": role}))?,
        ),
        UserEvent::UserUpdated { name, address } => {
            let mut fields = Map::new();
            if let Some(name) = name {
                fields.insert("name".into(), json!(name));
            }
            if let Some(address) = address {
                fields.insert("address".into(), serde_json::to_value(address)?);
            }
            ("updated", fields)
        }
        UserEvent::UserBecameSeller { seller_id } => (
            "updated",
            fields_of(json!({"role": "seller", "sellerId": seller_id}))?,
        ),
    })
}

fn seller_event(
    event: SellerEvent,
) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    Ok(match event {
        SellerEvent::SellerCreated {
            user_id,
            name,
            contact_email,
            ..
        } => (
            "created",
            fields_of(json!({"userId": user_id, "name": name, "contactEmail": contact_email}))?,
        ),
        SellerEvent::SellerUpdated {
            name,
            contact_email,
        } => {
            let mut fields = Map::new();
            if let Some(name) = name {
                fields.insert("name".into(), json!(name));
            }
            if let Some(email) = contact_email {
                fields.insert("contactEmail".into(), json!(email));
            }
            ("updated", fields)
        }
    })
}

fn rating_event(
    event: RatingEvent,
) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    let name = match &event {
        RatingEvent::RatingAdded { .. } => "added",
        RatingEvent::RatingUpdated { .. } => "updated",
        RatingEvent::RatingDeleted { .. } => "deleted",
    };
    let fields = match event {
        RatingEvent::RatingAdded {
            product_id,
            user_id,
            stars,
        }
        | RatingEvent::RatingUpdated {
            product_id,
            user_id,
            stars,
        } => json!({"productId": product_id, "userId": user_id, "stars": stars}),
        RatingEvent::RatingDeleted {
            product_id,
            user_id,
        } => json!({"productId": product_id, "userId": user_id}),
    };
    Ok((name, fields_of(fields)?))
}

fn comment_event(
    event: CommentEvent,
) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    Ok(match event {
        CommentEvent::CommentCreated {
            product_id,
            author_id,
            text,
        } => (
            "created",
            fields_of(json!({"productId": product_id, "authorId": author_id, "text": text}))?,
        ),
        CommentEvent::CommentUpdated { product_id, text } => (
            "updated",
            fields_of(json!({"productId": product_id, "text": text}))?,
        ),
        CommentEvent::CommentDeleted { product_id } => {
            ("deleted", fields_of(json!({"productId": product_id}))?)
        }
    })
}

fn payment_event(
    event: PaymentEvent,
) -> Result<(&'static str, Map<String, Value>), IntegrationError> {
    Ok(match event {
        PaymentEvent::PaymentCaptured {
            order_id,
            payment_id,
            amount,
        } => (
            "captured",
            fields_of(
                json!({"orderId": order_id, "gatewayPaymentId": payment_id, "amount": amount}),
            )?,
        ),
        PaymentEvent::PaymentDeclined {
            order_id,
            payment_id,
        } => (
            "declined",
            fields_of(json!({"orderId": order_id, "gatewayPaymentId": payment_id}))?,
        ),
        PaymentEvent::PaymentRefunded {
            order_id,
            refund_id,
            amount,
        } => (
            "refunded",
            fields_of(json!({"orderId": order_id, "refundId": refund_id, "amount": amount}))?,
        ),
    })
}

/// One line of `OrderCreated` as the brief shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BriefLine {
    product_id: String,
    quantity: u32,
    price: Money,
}

fn order_event(event: OrderEvent, order_id: &str, timestamp: String) -> IntegrationEvent {
    let name = cqrs_es::DomainEvent::event_type(&event);
    let mut body = json!({"event": name, "timestamp": timestamp, "orderId": order_id});
    let fields = match event {
        OrderEvent::OrderCreated {
            customer_id,
            items,
            total_price,
            ..
        } => json!({
            "customerId": customer_id.to_string(),
            "items": items.into_iter().map(|line| BriefLine {
                product_id: line.product_id.to_string(),
                quantity: line.quantity,
                price: line.price,
            }).collect::<Vec<_>>(),
            "totalPrice": total_price,
        }),
        OrderEvent::OrderValidated {
            is_valid,
            validation_errors,
        } => json!({"isValid": is_valid, "validationErrors": validation_errors}),
        OrderEvent::PaymentProcessed {
            payment_id,
            payment_status,
            amount,
        } => json!({
            "paymentId": payment_id,
            "paymentStatus": match payment_status {
                PaymentStatus::Success => "SUCCESS",
                PaymentStatus::Declined => "DECLINED",
            },
            "amount": amount,
        }),
        OrderEvent::InventoryReserved { items } => json!({
            "items": items.into_iter().map(|ReservedLine { product_id, quantity }| {
                json!({"productId": product_id.to_string(), "quantity": quantity})
            }).collect::<Vec<_>>(),
        }),
        OrderEvent::OrderShipped {
            shipment_id,
            carrier,
            tracking_number,
        } => {
            json!({"shipmentId": shipment_id, "carrier": carrier, "trackingNumber": tracking_number})
        }
        OrderEvent::OrderDelivered { delivery_status } => {
            json!({"deliveryStatus": delivery_status})
        }
        OrderEvent::OrderCancelled {
            cancellation_reason,
        } => json!({"cancellationReason": cancellation_reason}),
        OrderEvent::OrderReturned {
            return_reason,
            refund_amount,
        } => json!({"returnReason": return_reason, "refundAmount": refund_amount}),
    };
    if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
        body.extend(fields);
    }
    IntegrationEvent {
        subject: format!("events.order.{name}"),
        body,
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
