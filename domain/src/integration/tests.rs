use super::*;
use crate::order::{OrderLine, PaymentStatus};
use crate::published::PublishedEvent;
use crate::user::Address;
use crate::{Money, Text};
use chrono::TimeZone;
use std::collections::BTreeSet;
use uuid::Uuid;

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 7, 11, 12, 34, 56).unwrap()
}

/// A published event as it goes on the wire.
struct Sent {
    subject: String,
    body: Value,
}

/// What is sent for a stored event; it decodes back as what was published.
fn send(aggregate_type: &str, id: &str, event: impl cqrs_es::DomainEvent) -> Sent {
    let published = to_integration_event(
        aggregate_type,
        id,
        &event.event_version(),
        serde_json::to_value(event).unwrap(),
        at(),
    )
    .unwrap();
    let body = serde_json::to_value(&published).unwrap();
    let decoded: Published = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(decoded, published);
    Sent {
        subject: published.subject(),
        body,
    }
}

/// The order every order event below belongs to.
const ORDER: &str = "00000000-0000-0000-0000-000000003039";

fn publish(event: OrderEvent) -> Sent {
    send("Order", ORDER, event)
}

#[test]
fn order_created_is_the_brief_field_for_field() {
    let product = |n| Uuid::from_u128(n);
    let event = OrderEvent::OrderCreated {
        order_id: Uuid::from_u128(12345),
        customer_id: Uuid::from_u128(67890),
        items: vec![
            OrderLine {
                product_id: product(111),
                quantity: 2,
                price: Money::from_cents(1999).unwrap(),
            },
            OrderLine {
                product_id: product(222),
                quantity: 1,
                price: Money::from_cents(3999).unwrap(),
            },
        ],
        total_price: Money::from_cents(7997).unwrap(),
        shipping_address: Address {
            line1: Text::parse("1 Main St").unwrap(),
            city: Text::parse("Lisbon").unwrap(),
            region: Text::parse("Lisboa").unwrap(),
            country: Text::parse("PT").unwrap(),
            postal_code: Text::parse("1000").unwrap(),
        },
        payment_token: "tok_visa".into(),
    };
    let published = publish(event);
    assert_eq!(published.subject, "events.order.OrderCreated");
    let body = published.body;
    assert_eq!(
        keys(&body),
        [
            "customerId",
            "event",
            "items",
            "orderId",
            "timestamp",
            "totalPrice"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(body["timestamp"], "2024-07-11T12:34:56Z");
    assert_eq!(body["orderId"], ORDER);
    assert_eq!(body["totalPrice"].to_string(), "79.97");
    assert_eq!(body["items"][0]["price"].to_string(), "19.99");
    assert_eq!(
        keys(&body["items"][0]),
        ["price", "productId", "quantity"].map(String::from).into()
    );
}

#[test]
fn every_order_event_carries_exactly_the_brief_fields() {
    let cases = [
        (
            OrderEvent::OrderValidated {
                is_valid: true,
                validation_errors: vec![],
            },
            vec!["isValid", "validationErrors"],
        ),
        (
            OrderEvent::PaymentProcessed {
                payment_id: "98765".into(),
                payment_status: PaymentStatus::Success,
                amount: Money::from_cents(7997).unwrap(),
            },
            vec!["amount", "paymentId", "paymentStatus"],
        ),
        (
            OrderEvent::InventoryReserved {
                items: vec![ReservedLine {
                    product_id: Uuid::from_u128(1),
                    quantity: 2,
                }],
            },
            vec!["items"],
        ),
        (
            OrderEvent::OrderShipped {
                shipment_id: "54321".into(),
                carrier: "UPS".into(),
                tracking_number: "1Z".into(),
            },
            vec!["carrier", "shipmentId", "trackingNumber"],
        ),
        (
            OrderEvent::OrderDelivered {
                delivery_status: "DELIVERED".into(),
            },
            vec!["deliveryStatus"],
        ),
        (
            OrderEvent::OrderCancelled {
                cancellation_reason: "Customer request".into(),
            },
            vec!["cancellationReason"],
        ),
        (
            OrderEvent::OrderReturned {
                return_reason: "Damaged item".into(),
                refund_amount: Money::from_cents(7997).unwrap(),
            },
            vec!["refundAmount", "returnReason"],
        ),
    ];
    for (event, fields) in cases {
        let name = cqrs_es::DomainEvent::event_type(&event);
        let published = publish(event);
        assert_eq!(published.subject, format!("events.order.{name}"));
        assert_eq!(published.body["event"], name);
        let mut expected: BTreeSet<String> = fields.into_iter().map(String::from).collect();
        expected.extend(["event", "timestamp", "orderId"].map(String::from));
        assert_eq!(keys(&published.body), expected, "{name}");
    }
    let paid = publish(OrderEvent::PaymentProcessed {
        payment_id: "p".into(),
        payment_status: PaymentStatus::Success,
        amount: Money::from_cents(7997).unwrap(),
    });
    assert_eq!(paid.body["paymentStatus"], "SUCCESS");
}

#[test]
fn other_contexts_use_dotted_names_and_hide_secrets() {
    let registered = UserEvent::UserRegistered {
        user_id: Uuid::from_u128(1),
        email: crate::Email::parse("ann@example.com").unwrap(),
        name: Text::parse("Ann").unwrap(),
        role: crate::Role::Customer,
        password_hash: "$argon2id$secret".into(),
        non_transactional_mail: Some(false),
    };
    let user = Uuid::from_u128(1).to_string();
    let published = send("User", &user, registered);
    assert_eq!(published.subject, "events.user.created");
    assert_eq!(published.body["event"], "user.created");
    assert_eq!(published.body["userId"], user);
    assert!(!published.body.to_string().contains("secret"));

    let product = Uuid::from_u128(2).to_string();
    let published = send("Product", &product, ProductEvent::ProductDeleted {});
    assert_eq!(published.subject, "events.product.deleted");
    assert_eq!(published.body["productId"], product);

    assert!(to_integration_event("Nope", "x", "1", Value::Null, at()).is_err());
    let not_an_id = serde_json::to_value(ProductEvent::ProductDeleted {}).unwrap();
    assert!(matches!(
        to_integration_event("Product", "p1", "1", not_an_id, at()),
        Err(IntegrationError::BadId(_))
    ));
}

#[test]
fn ratings_and_comments_are_published_with_their_product() {
    let rated = crate::rating::RatingEvent::RatingUpdated {
        product_id: Uuid::from_u128(1),
        user_id: Uuid::from_u128(2),
        stars: crate::rating::Stars::parse(4).unwrap(),
    };
    let rating = Uuid::from_u128(3).to_string();
    let published = send("Rating", &rating, rated);
    assert_eq!(published.subject, "events.rating.updated");
    assert_eq!(
        keys(&published.body),
        [
            "event",
            "timestamp",
            "ratingId",
            "productId",
            "userId",
            "stars"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );
    assert_eq!(published.body["event"], "rating.updated");
    assert_eq!(published.body["stars"], 4);

    let removed = crate::comment::CommentEvent::CommentDeleted {
        product_id: Uuid::from_u128(1),
    };
    let comment = Uuid::from_u128(4).to_string();
    let published = send("Comment", &comment, removed);
    assert_eq!(published.subject, "events.comment.deleted");
    assert_eq!(published.body["commentId"], comment);
    assert_eq!(published.body["productId"], Uuid::from_u128(1).to_string());
}

#[test]
fn a_click_is_published_on_its_own_stream_and_decodes() {
    let click = Published {
        timestamp: "2024-07-11T12:34:56Z".into(),
        event: PublishedEvent::ClickTracked {
            click_id: Uuid::from_u128(1),
            product_id: Uuid::from_u128(2),
            kind: "view".into(),
            area: "unknown".into(),
            session_id: None,
        },
    };
    assert_eq!(click.subject(), "clicks.tracked");
    let body = serde_json::to_value(&click).unwrap();
    assert_eq!(body["event"], "click.tracked");
    assert_eq!(body["sessionId"], Value::Null);
    assert_eq!(serde_json::from_value::<Published>(body).unwrap(), click);
}
