use super::*;
use crate::order::ReservedLine;
use crate::user::Address;
use crate::{Role, Text};
use cqrs_es::test::{AggregateTestExecutor, TestFramework};
use proptest::prelude::*;

const ORDER: Uuid = Uuid::from_u128(10);
const CUSTOMER: Uuid = Uuid::from_u128(11);

fn customer() -> Actor {
    Actor {
        user_id: CUSTOMER,
        role: Role::Customer,
        seller_id: None,
    }
}

fn stranger() -> Actor {
    Actor {
        user_id: Uuid::from_u128(12),
        role: Role::Customer,
        seller_id: None,
    }
}

fn address() -> Address {
    Address {
        line1: Text::parse("1 Main St").unwrap(),
        city: Text::parse("Lisbon").unwrap(),
        region: Text::parse("Lisboa").unwrap(),
        country: Text::parse("PT").unwrap(),
        postal_code: Text::parse("1000-001").unwrap(),
    }
}

fn line(product: u128, quantity: u32, cents: i64) -> OrderLine {
    OrderLine {
        product_id: Uuid::from_u128(product),
        quantity,
        price: Money::from_cents(cents).unwrap(),
    }
}

fn brief_lines() -> Vec<OrderLine> {
    vec![line(111, 2, 1999), line(222, 1, 3999)]
}

fn place(lines: Vec<OrderLine>) -> OrderCommand {
    OrderCommand::Place {
        order_id: ORDER,
        customer_id: CUSTOMER,
        lines,
        shipping_address: address(),
        payment_token: Text::parse("tok_visa").unwrap(),
    }
}

fn created() -> OrderEvent {
    OrderEvent::OrderCreated {
        order_id: ORDER,
        customer_id: CUSTOMER,
        items: brief_lines(),
        total_price: Money::from_cents(7997).unwrap(),
        shipping_address: address(),
        payment_token: "tok_visa".into(),
    }
}

fn validated(is_valid: bool) -> OrderEvent {
    OrderEvent::OrderValidated {
        is_valid,
        validation_errors: vec![],
    }
}

fn paid(status: PaymentStatus) -> OrderEvent {
    OrderEvent::PaymentProcessed {
        payment_id: "pay_1".into(),
        payment_status: status,
        amount: Money::from_cents(7997).unwrap(),
    }
}

fn held_lines() -> Vec<ReservedLine> {
    brief_lines()
        .into_iter()
        .map(|line| ReservedLine {
            product_id: line.product_id,
            quantity: line.quantity,
        })
        .collect()
}

fn reserved() -> OrderEvent {
    OrderEvent::InventoryReserved {
        items: held_lines(),
    }
}

fn shipped() -> OrderEvent {
    OrderEvent::OrderShipped {
        shipment_id: "shp_1".into(),
        carrier: "Sandbox".into(),
        tracking_number: "1Z".into(),
    }
}

fn delivered() -> OrderEvent {
    OrderEvent::OrderDelivered {
        delivery_status: "DELIVERED".into(),
    }
}

fn given(events: Vec<OrderEvent>) -> AggregateTestExecutor<Order> {
    TestFramework::<Order>::with(()).given(events)
}

fn reason() -> Text<500> {
    Text::parse("Customer request").unwrap()
}

#[test]
fn placing_the_brief_order_totals_79_97() {
    TestFramework::<Order>::with(())
        .given_no_previous_events()
        .when(place(brief_lines()))
        .then_expect_events(vec![created()]);
    given(vec![created()])
        .when(place(brief_lines()))
        .then_expect_error(OrderError::AlreadyExists);
}

#[test]
fn bad_lines_are_refused() {
    for lines in [
        vec![],
        vec![line(1, 0, 100)],
        vec![line(1, 1, 100), line(1, 2, 100)],
        (0..=crate::bounds::MAX_ORDER_LINES as u128)
            .map(|p| line(p, 1, 1))
            .collect(),
    ] {
        let result = TestFramework::<Order>::with(())
            .given_no_previous_events()
            .when(place(lines))
            .inspect_result();
        assert!(matches!(result, Err(OrderError::InvalidLines(_))));
    }
}

#[test]
fn the_happy_path_runs_in_order() {
    given(vec![created()])
        .when(OrderCommand::RecordValidation {
            is_valid: true,
            validation_errors: vec![],
        })
        .then_expect_events(vec![validated(true)]);
    given(vec![created(), validated(true)])
        .when(OrderCommand::RecordPayment {
            payment_id: "pay_1".into(),
            status: PaymentStatus::Success,
            amount: Money::from_cents(7997).unwrap(),
        })
        .then_expect_events(vec![paid(PaymentStatus::Success)]);
    given(vec![
        created(),
        validated(true),
        paid(PaymentStatus::Success),
    ])
    .when(OrderCommand::RecordInventoryReserved {
        items: held_lines(),
    })
    .then_expect_events(vec![reserved()]);
    given(vec![
        created(),
        validated(true),
        paid(PaymentStatus::Success),
        reserved(),
    ])
    .when(OrderCommand::Ship {
        shipment_id: "shp_1".into(),
        carrier: "Sandbox".into(),
        tracking_number: "1Z".into(),
    })
    .then_expect_events(vec![shipped()]);
    given(vec![
        created(),
        validated(true),
        paid(PaymentStatus::Success),
        reserved(),
        shipped(),
    ])
    .when(OrderCommand::Deliver {
        delivery_status: "DELIVERED".into(),
    })
    .then_expect_events(vec![delivered()]);
}

#[test]
fn steps_out_of_order_are_illegal() {
    given(vec![created()])
        .when(OrderCommand::Ship {
            shipment_id: "s".into(),
            carrier: "c".into(),
            tracking_number: "t".into(),
        })
        .then_expect_error(OrderError::IllegalTransition {
            action: "ship",
            status: OrderStatus::Created,
        });
    given(vec![created(), validated(false)])
        .when(OrderCommand::RecordPayment {
            payment_id: "p".into(),
            status: PaymentStatus::Success,
            amount: Money::from_cents(7997).unwrap(),
        })
        .then_expect_error(OrderError::IllegalTransition {
            action: "pay for",
            status: OrderStatus::Validated,
        });
    given(vec![created(), validated(true)])
        .when(OrderCommand::RecordPayment {
            payment_id: "p".into(),
            status: PaymentStatus::Success,
            amount: Money::from_cents(1).unwrap(),
        })
        .then_expect_error(OrderError::AmountMismatch);
    given(vec![
        created(),
        validated(true),
        paid(PaymentStatus::Declined),
    ])
    .when(OrderCommand::RecordInventoryReserved { items: vec![] })
    .then_expect_error(OrderError::IllegalTransition {
        action: "reserve stock for",
        status: OrderStatus::PaymentProcessed,
    });
    TestFramework::<Order>::with(())
        .given_no_previous_events()
        .when(OrderCommand::Deliver {
            delivery_status: "DELIVERED".into(),
        })
        .then_expect_error(OrderError::NotFound);
}

#[test]
fn cancel_before_shipping_only_and_only_by_its_customer() {
    let cancelled = OrderEvent::OrderCancelled {
        cancellation_reason: "Customer request".into(),
    };
    given(vec![
        created(),
        validated(true),
        paid(PaymentStatus::Success),
    ])
    .when(OrderCommand::Cancel {
        actor: customer(),
        reason: reason(),
    })
    .then_expect_events(vec![cancelled.clone()]);
    given(vec![created(), cancelled.clone()])
        .when(OrderCommand::Cancel {
            actor: customer(),
            reason: reason(),
        })
        .then_expect_events(vec![]);
    given(vec![created()])
        .when(OrderCommand::Cancel {
            actor: stranger(),
            reason: reason(),
        })
        .then_expect_error(OrderError::NotFound);
    given(vec![
        created(),
        validated(true),
        paid(PaymentStatus::Success),
        reserved(),
        shipped(),
    ])
    .when(OrderCommand::Cancel {
        actor: Actor::system(),
        reason: reason(),
    })
    .then_expect_error(OrderError::IllegalTransition {
        action: "cancel",
        status: OrderStatus::Shipped,
    });
}

#[test]
fn return_after_delivery_refunds_the_total() {
    let history = vec![
        created(),
        validated(true),
        paid(PaymentStatus::Success),
        reserved(),
        shipped(),
        delivered(),
    ];
    given(history.clone())
        .when(OrderCommand::Return {
            actor: customer(),
            reason: Text::parse("Damaged item").unwrap(),
        })
        .then_expect_events(vec![OrderEvent::OrderReturned {
            return_reason: "Damaged item".into(),
            refund_amount: Money::from_cents(7997).unwrap(),
        }]);
    given(history[..5].to_vec())
        .when(OrderCommand::Return {
            actor: customer(),
            reason: reason(),
        })
        .then_expect_error(OrderError::IllegalTransition {
            action: "return",
            status: OrderStatus::Shipped,
        });
}

fn any_command() -> impl Strategy<Value = OrderCommand> {
    prop_oneof![
        any::<bool>().prop_map(|is_valid| OrderCommand::RecordValidation {
            is_valid,
            validation_errors: vec![]
        }),
        any::<bool>().prop_map(|ok| OrderCommand::RecordPayment {
            payment_id: "p".into(),
            status: if ok {
                PaymentStatus::Success
            } else {
                PaymentStatus::Declined
            },
            amount: Money::from_cents(7997).unwrap()
        }),
        Just(OrderCommand::RecordInventoryReserved { items: vec![] }),
        Just(OrderCommand::Ship {
            shipment_id: "s".into(),
            carrier: "c".into(),
            tracking_number: "t".into()
        }),
        Just(OrderCommand::Deliver {
            delivery_status: "DELIVERED".into()
        }),
        Just(OrderCommand::Cancel {
            actor: Actor::system(),
            reason: reason()
        }),
        Just(OrderCommand::Return {
            actor: Actor::system(),
            reason: reason()
        }),
    ]
}

proptest! {
    /// Once cancelled or returned, no command changes an order.
    #[test]
    fn no_transition_out_of_a_terminal_state(commands in prop::collection::vec(any_command(), 0..40)) {
        let mut order = Order::default();
        order.apply(created());
        for command in commands {
            let before = order.status();
            if let Ok(Some(event)) = order.decide(command) {
                prop_assert!(!before.is_terminal(), "{before} changed");
                order.apply(event);
            }
        }
    }

    /// The total is exactly Σ quantity × price.
    #[test]
    fn total_is_the_sum_of_the_lines(lines in prop::collection::vec((1u32..1000, 0i64..10_000_000), 1..20)) {
        let lines: Vec<OrderLine> = lines
            .into_iter()
            .enumerate()
            .map(|(i, (quantity, cents))| line(i as u128, quantity, cents))
            .collect();
        let expected: i64 = lines.iter().map(|l| i64::from(l.quantity) * l.price.cents()).sum();
        let event = Order::default().decide(place(lines)).unwrap().unwrap();
        match event {
            OrderEvent::OrderCreated { total_price, .. } => prop_assert_eq!(total_price.cents(), expected),
            other => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}
