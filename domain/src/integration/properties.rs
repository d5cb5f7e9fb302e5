//! Every event any aggregate can emit, for any command with any values (the
//! edges of every type included), serialises, reads back as the same event
//! (through the same bounds the store is read with), converts to its
//! published JSON and decodes back from it as the same published event: no
//! committed event can stop the relay or a consumer.

use super::to_integration_event;
use crate::comment::{Comment, CommentCommand};
use crate::money::MAX_CENTS;
use crate::order::{Order, OrderCommand, OrderLine, PaymentStatus, ReservedLine};
use crate::payment::{Payment, PaymentCommand};
use crate::product::{Product, ProductChanges, ProductCommand, ProductDetails};
use crate::published::Published;
use crate::rating::{Rating, RatingCommand, Stars};
use crate::seller::{Seller, SellerCommand};
use crate::user::{Address, User, UserCommand};
use crate::{bounds, Actor, Email, Money, Role, Text};
use chrono::Utc;
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Debug;
use uuid::Uuid;

/// Runs `commands` one after another on one aggregate and checks every event
/// that is emitted.
fn every_event_reads_back_and_publishes<A>(commands: Vec<A::Command>) -> Result<(), TestCaseError>
where
    A: Aggregate<Services = ()>,
    A::Event: PartialEq + Debug + Serialize + DeserializeOwned + Clone,
{
    let id = Uuid::from_u128(1).to_string();
    let mut history: Vec<A::Event> = Vec::new();
    for command in commands {
        let outcome = TestFramework::<A>::with(())
            .given(history.clone())
            .when(command)
            .inspect_result();
        for event in outcome.unwrap_or_default() {
            let stored = serde_json::to_value(&event)
                .map_err(|e| TestCaseError::fail(format!("{event:?} does not serialise: {e}")))?;
            let read: A::Event = serde_json::from_value(stored.clone())
                .map_err(|e| TestCaseError::fail(format!("{stored} does not read back: {e}")))?;
            prop_assert_eq!(&read, &event);
            let version = cqrs_es::DomainEvent::event_version(&event);
            let published =
                to_integration_event(A::TYPE, &id, &version, stored.clone(), Utc::now())
                    .map_err(|e| TestCaseError::fail(format!("{stored} does not publish: {e}")))?;
            let body = serde_json::to_value(&published).map_err(|e| {
                TestCaseError::fail(format!("{published:?} does not serialise: {e}"))
            })?;
            let decoded: Published = serde_json::from_value(body.clone())
                .map_err(|e| TestCaseError::fail(format!("{body} does not decode: {e}")))?;
            prop_assert_eq!(decoded, published);
            history.push(event);
        }
    }
    Ok(())
}

fn id() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        Just(Uuid::from_u128(1)),
        Just(Uuid::from_u128(2)),
        Just(Uuid::from_u128(3))
    ]
}

fn actor() -> impl Strategy<Value = Actor> {
    (
        id(),
        prop_oneof![Just(Role::Customer), Just(Role::Seller), Just(Role::Admin)],
        prop::option::of(id()),
    )
        .prop_map(|(user_id, role, seller_id)| Actor {
            user_id,
            role,
            seller_id,
        })
}

fn u32_edges() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(bounds::MAX_LINE_QUANTITY),
        Just(bounds::MAX_LINE_QUANTITY + 1),
        Just(bounds::MAX_INVENTORY as u32),
        Just(u32::MAX),
        any::<u32>(),
    ]
}

fn i64_edges() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(1),
        Just(bounds::MAX_INVENTORY),
        Just(-bounds::MAX_INVENTORY),
        Just(bounds::MAX_INVENTORY + 1),
        Just(i64::MAX),
        Just(i64::MIN),
        any::<i64>(),
    ]
}

fn rating() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(5.0),
        Just(5.01),
        Just(-0.5),
        Just(f64::MAX),
        any::<f64>()
    ]
}

fn money() -> impl Strategy<Value = Money> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(bounds::MAX_UNIT_PRICE_CENTS),
        Just(bounds::MAX_UNIT_PRICE_CENTS + 1),
        Just(MAX_CENTS),
        0..=MAX_CENTS,
    ]
    .prop_map(|cents| Money::from_cents(cents).unwrap_or_default())
}

/// Any string, including NUL, other control characters, and lengths at and
/// past `max`.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "\\PC{0,10}\u{0}\\PC{0,10}",
        Just("x".repeat(max)),
        Just("é".repeat(max + 1)),
        Just(" ".repeat(3)),
    ]
}

fn text<const N: usize>() -> impl Strategy<Value = Text<N>> {
    any_text(N).prop_filter_map("not a text", |s| Text::parse(&s).ok())
}

fn email() -> impl Strategy<Value = Email> {
    prop_oneof![
        "[a-z]{1,10}@[a-z]{1,10}\\.io",
        Just(format!("{}@x.io", "a".repeat(250)))
    ]
    .prop_filter_map("not an address", |s| Email::parse(&s).ok())
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        i64_edges().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any_text(3000).prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 120, 12, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(Value::Array),
            prop::collection::btree_map(any_text(120), inner, 0..12)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn specifications() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(any_text(120), json(), 0..70)
        .prop_map(|map| map.into_iter().collect())
}

fn address() -> impl Strategy<Value = Address> {
    (text(), text(), text(), text(), text()).prop_map(
        |(line1, city, region, country, postal_code)| Address {
            line1,
            city,
            region,
            country,
            postal_code,
        },
    )
}

fn product_command() -> impl Strategy<Value = ProductCommand> {
    let details = (text(), text(), text(), text(), money(), specifications()).prop_map(
        |(name, description, category, brand, price, specifications)| ProductDetails {
            name,
            description,
            category,
            brand,
            price,
            specifications,
        },
    );
    let changes = (
        prop::option::of(text()),
        prop::option::of(money()),
        prop::option::of(specifications()),
    )
        .prop_map(|(name, price, specifications)| ProductChanges {
            name,
            price,
            specifications,
            ..ProductChanges::default()
        });
    prop_oneof![
        (
            actor(),
            id(),
            id(),
            details,
            u32_edges(),
            prop::option::of(rating())
        )
            .prop_map(
                |(actor, product_id, seller_id, details, inventory, catalogue_rating)| {
                    ProductCommand::Create {
                        actor,
                        product_id,
                        seller_id,
                        details,
                        inventory,
                        catalogue_rating,
                    }
                }
            ),
        (actor(), changes).prop_map(|(actor, changes)| ProductCommand::Update { actor, changes }),
        actor().prop_map(|actor| ProductCommand::Delete { actor }),
        (actor(), i64_edges())
            .prop_map(|(actor, delta)| ProductCommand::AdjustInventory { actor, delta }),
        (actor(), u32_edges())
            .prop_map(|(actor, inventory)| ProductCommand::SetInventory { actor, inventory }),
        (id(), u32_edges())
            .prop_map(|(order_id, quantity)| ProductCommand::Reserve { order_id, quantity }),
        id().prop_map(|order_id| ProductCommand::Release { order_id }),
        id().prop_map(|order_id| ProductCommand::Ship { order_id }),
        (id(), u32_edges())
            .prop_map(|(order_id, quantity)| ProductCommand::Restock { order_id, quantity }),
    ]
}

fn order_command() -> impl Strategy<Value = OrderCommand> {
    let line = |product: BoxedStrategy<Uuid>| {
        (product, u32_edges(), money()).prop_map(|(product_id, quantity, price)| OrderLine {
            product_id,
            quantity,
            price,
        })
    };
    let lines = prop_oneof![
        prop::collection::vec(line(id().boxed()), 0..4),
        prop::collection::vec(
            line(any::<u128>().prop_map(Uuid::from_u128).boxed()),
            99..102
        ),
    ];
    let reserved = (id(), u32_edges()).prop_map(|(product_id, quantity)| ReservedLine {
        product_id,
        quantity,
    });
    let status = prop_oneof![Just(PaymentStatus::Success), Just(PaymentStatus::Declined)];
    prop_oneof![
        (id(), id(), lines, address(), text()).prop_map(
            |(order_id, customer_id, lines, shipping_address, payment_token)| OrderCommand::Place {
                order_id,
                customer_id,
                lines,
                shipping_address,
                payment_token,
            }
        ),
        (any::<bool>(), prop::collection::vec(any_text(500), 0..3)).prop_map(
            |(is_valid, validation_errors)| OrderCommand::RecordValidation {
                is_valid,
                validation_errors
            }
        ),
        (any_text(200), status, money()).prop_map(|(payment_id, status, amount)| {
            OrderCommand::RecordPayment {
                payment_id,
                status,
                amount,
            }
        }),
        prop::collection::vec(reserved, 0..4)
            .prop_map(|items| OrderCommand::RecordInventoryReserved { items }),
        (any_text(200), any_text(200), any_text(200)).prop_map(
            |(shipment_id, carrier, tracking_number)| {
                OrderCommand::Ship {
                    shipment_id,
                    carrier,
                    tracking_number,
                }
            }
        ),
        any_text(100).prop_map(|delivery_status| OrderCommand::Deliver { delivery_status }),
        (actor(), text()).prop_map(|(actor, reason)| OrderCommand::Cancel { actor, reason }),
        (actor(), text()).prop_map(|(actor, reason)| OrderCommand::Return { actor, reason }),
    ]
}

fn user_command() -> impl Strategy<Value = UserCommand> {
    let role = prop_oneof![Just(Role::Customer), Just(Role::Seller), Just(Role::Admin)];
    prop_oneof![
        (id(), email(), text(), any_text(200), role, any::<bool>()).prop_map(
            |(user_id, email, name, password_hash, role, non_transactional_mail)| {
                UserCommand::Register {
                    user_id,
                    email,
                    name,
                    password_hash,
                    role,
                    non_transactional_mail,
                }
            }
        ),
        (
            actor(),
            prop::option::of(text()),
            prop::option::of(address()),
            prop::option::of(any::<bool>())
        )
            .prop_map(|(actor, name, address, non_transactional_mail)| {
                UserCommand::UpdateProfile {
                    actor,
                    name,
                    address,
                    non_transactional_mail,
                }
            }),
        id().prop_map(|seller_id| UserCommand::BecomeSeller { seller_id }),
    ]
}

fn seller_command() -> impl Strategy<Value = SellerCommand> {
    prop_oneof![
        (id(), id(), text(), email()).prop_map(|(seller_id, owner_id, name, contact_email)| {
            SellerCommand::Create {
                seller_id,
                owner_id,
                name,
                contact_email,
            }
        }),
        (
            actor(),
            prop::option::of(text()),
            prop::option::of(email()),
            prop::option::of(0..=1_000_000_000u32)
        )
            .prop_map(|(actor, name, contact_email, stock_alert_below)| {
                SellerCommand::Update {
                    actor,
                    name,
                    contact_email,
                    stock_alert_below,
                }
            }),
    ]
}

fn rating_command() -> impl Strategy<Value = RatingCommand> {
    let stars =
        prop_oneof![i64_edges(), 1i64..=5].prop_filter_map("not stars", |n| Stars::parse(n).ok());
    prop_oneof![
        (id(), id(), stars).prop_map(|(product_id, user_id, stars)| RatingCommand::Rate {
            product_id,
            user_id,
            stars
        }),
        (id(), id()).prop_map(|(product_id, user_id)| RatingCommand::Withdraw {
            product_id,
            user_id
        }),
    ]
}

fn comment_command() -> impl Strategy<Value = CommentCommand> {
    prop_oneof![
        (id(), id(), text()).prop_map(|(product_id, author_id, text)| CommentCommand::Post {
            product_id,
            author_id,
            text
        }),
        (actor(), text()).prop_map(|(actor, text)| CommentCommand::Edit { actor, text }),
        actor().prop_map(|actor| CommentCommand::Remove { actor }),
    ]
}

fn payment_command() -> impl Strategy<Value = PaymentCommand> {
    prop_oneof![
        (id(), any_text(200), money()).prop_map(|(order_id, payment_id, amount)| {
            PaymentCommand::Capture {
                order_id,
                payment_id,
                amount,
            }
        }),
        (id(), any_text(200)).prop_map(|(order_id, payment_id)| PaymentCommand::Decline {
            order_id,
            payment_id
        }),
        any_text(200).prop_map(|refund_id| PaymentCommand::Refund { refund_id }),
    ]
}

/// The first `taken` of `path` followed by `rest`, so that random commands
/// also reach the states only a valid sequence leads to.
fn after<C: Clone>(path: &[C], taken: usize, rest: Vec<C>) -> Vec<C> {
    path.iter().take(taken).cloned().chain(rest).collect()
}

fn admin() -> Actor {
    Actor {
        user_id: Uuid::from_u128(9),
        role: Role::Admin,
        seller_id: None,
    }
}

/// A product listed by an admin with some stock, reserved by order 1.
fn product_path() -> Vec<ProductCommand> {
    let details = ProductDetails {
        name: Text::parse("Laptop").unwrap(),
        description: Text::parse("A laptop").unwrap(),
        category: Text::parse("laptops").unwrap(),
        brand: Text::parse("Acme").unwrap(),
        price: Money::from_cents(99_999).unwrap(),
        specifications: Map::new(),
    };
    vec![
        ProductCommand::Create {
            actor: admin(),
            product_id: Uuid::from_u128(1),
            seller_id: Uuid::from_u128(2),
            details,
            inventory: 10,
            catalogue_rating: Some(4.5),
        },
        ProductCommand::Reserve {
            order_id: Uuid::from_u128(1),
            quantity: 3,
        },
    ]
}

/// An order placed, validated and paid.
fn order_path() -> Vec<OrderCommand> {
    let address = Address {
        line1: Text::parse("1 Main St").unwrap(),
        city: Text::parse("Lisbon").unwrap(),
        region: Text::parse("Lisboa").unwrap(),
        country: Text::parse("PT").unwrap(),
        postal_code: Text::parse("1000").unwrap(),
    };
    let price = Money::from_cents(1999).unwrap();
    vec![
        OrderCommand::Place {
            order_id: Uuid::from_u128(1),
            customer_id: Uuid::from_u128(1),
            lines: vec![OrderLine {
                product_id: Uuid::from_u128(2),
                quantity: 2,
                price,
            }],
            shipping_address: address,
            payment_token: Text::parse("tok_visa").unwrap(),
        },
        OrderCommand::RecordValidation {
            is_valid: true,
            validation_errors: vec![],
        },
        OrderCommand::RecordPayment {
            payment_id: "pay_1".into(),
            status: PaymentStatus::Success,
            amount: price.times(2).unwrap(),
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn product_events_read_back_and_publish(taken in 0usize..=2, commands in prop::collection::vec(product_command(), 1..30)) {
        every_event_reads_back_and_publishes::<Product>(after(&product_path(), taken, commands))?;
    }

    #[test]
    fn order_events_read_back_and_publish(taken in 0usize..=3, commands in prop::collection::vec(order_command(), 1..20)) {
        every_event_reads_back_and_publishes::<Order>(after(&order_path(), taken, commands))?;
    }

    #[test]
    fn user_events_read_back_and_publish(commands in prop::collection::vec(user_command(), 1..10)) {
        every_event_reads_back_and_publishes::<User>(commands)?;
    }

    #[test]
    fn seller_events_read_back_and_publish(commands in prop::collection::vec(seller_command(), 1..10)) {
        every_event_reads_back_and_publishes::<Seller>(commands)?;
    }

    #[test]
    fn rating_events_read_back_and_publish(commands in prop::collection::vec(rating_command(), 1..10)) {
        every_event_reads_back_and_publishes::<Rating>(commands)?;
    }

    #[test]
    fn comment_events_read_back_and_publish(commands in prop::collection::vec(comment_command(), 1..10)) {
        every_event_reads_back_and_publishes::<Comment>(commands)?;
    }

    #[test]
    fn payment_events_read_back_and_publish(commands in prop::collection::vec(payment_command(), 1..10)) {
        every_event_reads_back_and_publishes::<Payment>(commands)?;
    }
}
