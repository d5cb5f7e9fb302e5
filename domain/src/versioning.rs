//! Event versions and the upcasters that read old rows as today's events.
//!
//! Policy: a stored event is never rewritten. A change of an event's stored
//! shape raises its `event_version` and comes with an upcaster from the
//! version before; every reader of stored events (the command bus, the relay,
//! the replays, the order event streams) reads through [`upcast`] or
//! [`upcasters`]. The published JSON is a contract of its own
//! ([`crate::published`]) and does not follow the stored shape.
//!
//! Versions so far: the order events that carry money (`OrderCreated`,
//! `PaymentProcessed`, `OrderReturned`) are at version 2, which stores money
//! as integer cents with the currency ([`crate::stored_money`]).

use crate::stored_money;
use cqrs_es::persist::{EventUpcaster, SemanticVersionEventUpcaster, SerializedEvent};
use serde_json::Value;
use std::sync::LazyLock;

/// The upcasters [`upcast`] reads through, made once.
static UPCASTERS: LazyLock<Vec<Box<dyn EventUpcaster>>> = LazyLock::new(upcasters);

/// The version of the order events that carry money.
pub const ORDER_MONEY_VERSION: &str = "2";

/// Reads a version 1 order event that carries money as version 2: each of
/// `fields` (a path of keys, `*` for every element of an array) from a
/// decimal number to cents with the currency.
fn order_money(
    event_type: &'static str,
    fields: &'static [&'static [&'static str]],
) -> Box<dyn EventUpcaster> {
    Box::new(SemanticVersionEventUpcaster::new(
        event_type,
        ORDER_MONEY_VERSION,
        Box::new(move |mut payload: Value| {
            if let Some(event) = payload.get_mut(event_type) {
                for path in fields {
                    convert(event, path);
                }
            }
            payload
        }),
    ))
}

/// Converts the amount at `path` under `value`.
fn convert(value: &mut Value, path: &[&str]) {
    match path.split_first() {
        None => *value = stored_money::from_decimal(value.take()),
        Some((&"*", rest)) => {
            for item in value.as_array_mut().into_iter().flatten() {
                convert(item, rest);
            }
        }
        Some((key, rest)) => {
            if let Some(inner) = value.get_mut(*key) {
                convert(inner, rest);
            }
        }
    }
}

/// Every upcaster, for the command bus's event stores.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![
        order_money("OrderCreated", &[&["items", "*", "price"], &["totalPrice"]]),
        order_money("PaymentProcessed", &[&["amount"]]),
        order_money("OrderReturned", &[&["refundAmount"]]),
    ]
}

/// A stored payload of `event_version`, read as today's version of its event
/// (its type is the payload's one key).
pub fn upcast(event_version: &str, payload: Value) -> Value {
    let Some(event_type) = payload.as_object().and_then(|o| o.keys().next()).cloned() else {
        return payload;
    };
    // A row of today's version (nearly every row) goes through untouched.
    if !UPCASTERS
        .iter()
        .any(|upcaster| upcaster.can_upcast(&event_type, event_version))
    {
        return payload;
    }
    let mut event = SerializedEvent::new(
        String::new(),
        0,
        String::new(),
        event_type,
        event_version.to_string(),
        payload,
        Value::Null,
    );
    for upcaster in UPCASTERS.iter() {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    event.payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integration::to_integration_event;
    use crate::order::{OrderEvent, OrderLine, PaymentStatus};
    use crate::user::Address;
    use crate::{Money, Text};
    use chrono::Utc;
    use cqrs_es::DomainEvent;
    use serde_json::json;
    use uuid::Uuid;

    fn money(cents: i64) -> Money {
        Money::from_cents(cents).unwrap()
    }

    fn created() -> OrderEvent {
        OrderEvent::OrderCreated {
            order_id: Uuid::from_u128(1),
            customer_id: Uuid::from_u128(2),
            items: vec![OrderLine {
                product_id: Uuid::from_u128(3),
                quantity: 2,
                price: money(1999),
            }],
            total_price: money(3998),
            shipping_address: Address {
                line1: Text::parse("1 Main St").unwrap(),
                city: Text::parse("Lisbon").unwrap(),
                region: Text::parse("Lisboa").unwrap(),
                country: Text::parse("PT").unwrap(),
                postal_code: Text::parse("1000").unwrap(),
            },
            payment_token: "tok_visa".into(),
        }
    }

    #[test]
    fn version_2_stores_cents_and_the_currency() {
        let stored = serde_json::to_value(created()).unwrap();
        assert_eq!(
            stored["OrderCreated"]["totalPrice"],
            json!({"cents": 3998, "currency": "EUR"})
        );
        assert_eq!(
            stored["OrderCreated"]["items"][0]["price"],
            json!({"cents": 1999, "currency": "EUR"})
        );
        assert_eq!(created().event_version(), "2");
    }

    #[test]
    fn rows_of_version_1_read_as_version_2_and_publish_the_same_json() {
        let cases = [
            (
                created(),
                json!({"OrderCreated": {
                    "orderId": Uuid::from_u128(1), "customerId": Uuid::from_u128(2),
                    "items": [{"productId": Uuid::from_u128(3), "quantity": 2, "price": 19.99}],
                    "totalPrice": 39.98,
                    "shippingAddress": {"line1": "1 Main St", "city": "Lisbon", "region": "Lisboa",
                                        "country": "PT", "postalCode": "1000"},
                    "paymentToken": "tok_visa"}}),
            ),
            (
                OrderEvent::PaymentProcessed {
                    payment_id: "pay_1".into(),
                    payment_status: PaymentStatus::Success,
                    amount: money(3998),
                },
                json!({"PaymentProcessed": {"paymentId": "pay_1", "paymentStatus": "SUCCESS", "amount": 39.98}}),
            ),
            (
                OrderEvent::OrderReturned {
                    return_reason: "Damaged".into(),
                    refund_amount: money(3998),
                },
                json!({"OrderReturned": {"returnReason": "Damaged", "refundAmount": 39.98}}),
            ),
        ];
        let order = Uuid::from_u128(1).to_string();
        let at = Utc::now();
        for (event, version_1) in cases {
            let read: OrderEvent = serde_json::from_value(upcast("1", version_1.clone())).unwrap();
            assert_eq!(read, event);
            let old = to_integration_event("Order", &order, "1", version_1, at).unwrap();
            let new = to_integration_event(
                "Order",
                &order,
                &event.event_version(),
                serde_json::to_value(&event).unwrap(),
                at,
            )
            .unwrap();
            assert_eq!(old, new, "the published JSON does not change");
        }
        let published = to_integration_event(
            "Order",
            &order,
            "2",
            serde_json::to_value(created()).unwrap(),
            at,
        )
        .unwrap();
        let body = serde_json::to_value(published).unwrap();
        assert_eq!(body["totalPrice"].to_string(), "39.98");
        assert_eq!(body["items"][0]["price"].to_string(), "19.99");
    }

    #[test]
    fn a_version_2_row_is_left_as_it_is_and_another_currency_refused() {
        let stored = serde_json::to_value(created()).unwrap();
        assert_eq!(upcast("2", stored.clone()), stored);
        let mut dollars = stored;
        dollars["OrderCreated"]["totalPrice"]["currency"] = json!("USD");
        assert!(serde_json::from_value::<OrderEvent>(dollars).is_err());
    }
}
