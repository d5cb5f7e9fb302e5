use super::*;
use crate::product::ProductChanges;
use crate::{Role, Text};
use cqrs_es::test::TestFramework;
use proptest::prelude::*;

const PRODUCT: Uuid = Uuid::from_u128(1);
const SELLER: Uuid = Uuid::from_u128(2);
const ORDER: Uuid = Uuid::from_u128(3);

fn owner() -> Actor {
    Actor {
        user_id: Uuid::from_u128(4),
        role: Role::Seller,
        seller_id: Some(SELLER),
    }
}

fn stranger() -> Actor {
    Actor {
        user_id: Uuid::from_u128(5),
        role: Role::Seller,
        seller_id: Some(Uuid::from_u128(6)),
    }
}

fn details() -> ProductDetails {
    ProductDetails {
        name: Text::parse("Laptop 14").unwrap(),
        description: Text::parse("A light laptop").unwrap(),
        category: Text::parse("laptops").unwrap(),
        brand: Text::parse("Acme").unwrap(),
        price: Money::from_cents(99_999).unwrap(),
        specifications: serde_json::Map::new(),
    }
}

fn created(inventory: i64) -> ProductEvent {
    ProductEvent::ProductCreated {
        product_id: PRODUCT,
        seller_id: SELLER,
        details: details(),
        inventory,
        catalogue_rating: None,
    }
}

fn given(events: Vec<ProductEvent>) -> cqrs_es::test::AggregateTestExecutor<Product> {
    TestFramework::<Product>::with(()).given(events)
}

#[test]
fn create_by_its_seller_only() {
    let create = |actor| ProductCommand::Create {
        actor,
        product_id: PRODUCT,
        seller_id: SELLER,
        details: details(),
        inventory: 5,
        catalogue_rating: None,
    };
    TestFramework::<Product>::with(())
        .given_no_previous_events()
        .when(create(owner()))
        .then_expect_events(vec![created(5)]);
    TestFramework::<Product>::with(())
        .given_no_previous_events()
        .when(create(stranger()))
        .then_expect_error(ProductError::Forbidden);
    given(vec![created(5)])
        .when(create(owner()))
        .then_expect_error(ProductError::AlreadyExists);
}

#[test]
fn update_and_delete() {
    let changes = ProductChanges {
        price: Some(Money::from_cents(100).unwrap()),
        ..ProductChanges::default()
    };
    given(vec![created(5)])
        .when(ProductCommand::Update {
            actor: owner(),
            changes: changes.clone(),
        })
        .then_expect_events(vec![ProductEvent::ProductUpdated {
            changes: changes.clone(),
        }]);
    given(vec![created(5)])
        .when(ProductCommand::Update {
            actor: stranger(),
            changes: changes.clone(),
        })
        .then_expect_error(ProductError::Forbidden);
    given(vec![created(5)])
        .when(ProductCommand::Update {
            actor: owner(),
            changes: ProductChanges::default(),
        })
        .then_expect_error(ProductError::NothingToUpdate);
    given(vec![created(5)])
        .when(ProductCommand::Delete { actor: owner() })
        .then_expect_events(vec![ProductEvent::ProductDeleted {}]);
    given(vec![created(5), ProductEvent::ProductDeleted {}])
        .when(ProductCommand::Update {
            actor: owner(),
            changes,
        })
        .then_expect_error(ProductError::NotFound);
}

#[test]
fn inventory_adjusts_and_sets_but_never_goes_below_zero() {
    given(vec![created(5)])
        .when(ProductCommand::AdjustInventory {
            actor: owner(),
            delta: -2,
        })
        .then_expect_events(vec![ProductEvent::InventoryAdjusted {
            delta: -2,
            inventory: 3,
        }]);
    given(vec![created(5)])
        .when(ProductCommand::AdjustInventory {
            actor: owner(),
            delta: -6,
        })
        .then_expect_error(ProductError::InsufficientInventory {
            available: 5,
            requested: 6,
        });
    given(vec![created(5)])
        .when(ProductCommand::SetInventory {
            actor: Actor::system(),
            inventory: 12,
        })
        .then_expect_events(vec![ProductEvent::InventoryAdjusted {
            delta: 7,
            inventory: 12,
        }]);
    given(vec![created(5)])
        .when(ProductCommand::SetInventory {
            actor: owner(),
            inventory: 5,
        })
        .then_expect_events(vec![]);
}

#[test]
fn reservation_is_idempotent_per_order_and_refuses_overselling() {
    let reserved = ProductEvent::StockReserved {
        order_id: ORDER,
        quantity: 2,
        inventory: 3,
    };
    given(vec![created(5)])
        .when(ProductCommand::Reserve {
            order_id: ORDER,
            quantity: 2,
        })
        .then_expect_events(vec![reserved.clone()]);
    given(vec![created(5), reserved.clone()])
        .when(ProductCommand::Reserve {
            order_id: ORDER,
            quantity: 2,
        })
        .then_expect_events(vec![]);
    given(vec![created(1)])
        .when(ProductCommand::Reserve {
            order_id: ORDER,
            quantity: 2,
        })
        .then_expect_error(ProductError::InsufficientInventory {
            available: 1,
            requested: 2,
        });
    given(vec![created(5), ProductEvent::ProductDeleted {}])
        .when(ProductCommand::Reserve {
            order_id: ORDER,
            quantity: 1,
        })
        .then_expect_error(ProductError::NotFound);
}

#[test]
fn a_finished_order_leaves_no_reservation_behind() {
    let mut product = Product::default();
    product.apply(created(1_000_000));
    let empty = serde_json::to_vec(&product).unwrap().len();
    for n in 0..1_000u128 {
        let order_id = Uuid::from_u128(1_000 + n);
        let mut run = |command| {
            if let Some(event) = product.decide(command).unwrap() {
                product.apply(event);
            }
        };
        run(ProductCommand::Reserve {
            order_id,
            quantity: 2,
        });
        match n % 3 {
            0 => run(ProductCommand::Ship { order_id }),
            1 => run(ProductCommand::Release { order_id }),
            _ => {
                run(ProductCommand::Ship { order_id });
                run(ProductCommand::Restock {
                    order_id,
                    quantity: 2,
                });
            }
        }
    }
    assert_eq!(product.open_reservations(), 0);
    assert!(serde_json::to_vec(&product).unwrap().len() <= empty);
}

#[test]
fn shipping_ends_a_reservation_once() {
    let reserved = ProductEvent::StockReserved {
        order_id: ORDER,
        quantity: 2,
        inventory: 3,
    };
    let shipped = ProductEvent::StockShipped {
        order_id: ORDER,
        quantity: 2,
        inventory: 3,
    };
    given(vec![created(5), reserved.clone()])
        .when(ProductCommand::Ship { order_id: ORDER })
        .then_expect_events(vec![shipped.clone()]);
    given(vec![created(5), reserved, shipped])
        .when(ProductCommand::Ship { order_id: ORDER })
        .then_expect_events(vec![]);
}

#[test]
fn release_and_restock_give_back_once() {
    let reserved = ProductEvent::StockReserved {
        order_id: ORDER,
        quantity: 2,
        inventory: 3,
    };
    let released = ProductEvent::StockReleased {
        order_id: ORDER,
        quantity: 2,
        inventory: 5,
    };
    given(vec![created(5), reserved.clone()])
        .when(ProductCommand::Release { order_id: ORDER })
        .then_expect_events(vec![released.clone()]);
    given(vec![created(5), reserved.clone(), released])
        .when(ProductCommand::Release { order_id: ORDER })
        .then_expect_events(vec![]);
    given(vec![created(5)])
        .when(ProductCommand::Release { order_id: ORDER })
        .then_expect_events(vec![]);
    given(vec![created(5), reserved])
        .when(ProductCommand::Restock {
            order_id: ORDER,
            quantity: 2,
        })
        .then_expect_events(vec![ProductEvent::StockRestocked {
            order_id: ORDER,
            quantity: 2,
            inventory: 5,
        }]);
}

fn any_command() -> impl Strategy<Value = ProductCommand> {
    let order = (0u128..6).prop_map(Uuid::from_u128);
    prop_oneof![
        (-20i64..20).prop_map(|delta| ProductCommand::AdjustInventory {
            actor: owner(),
            delta
        }),
        (0u32..20).prop_map(|inventory| ProductCommand::SetInventory {
            actor: owner(),
            inventory
        }),
        (order.clone(), 0u32..8)
            .prop_map(|(order_id, quantity)| ProductCommand::Reserve { order_id, quantity }),
        order
            .clone()
            .prop_map(|order_id| ProductCommand::Release { order_id }),
        order
            .clone()
            .prop_map(|order_id| ProductCommand::Ship { order_id }),
        (order, 1u32..8)
            .prop_map(|(order_id, quantity)| ProductCommand::Restock { order_id, quantity }),
    ]
}

proptest! {
    /// Whatever commands arrive, in whatever order, stock never goes below zero
    /// and each order holds at most what it reserved once.
    #[test]
    fn inventory_is_never_negative(start in 0u32..10, commands in prop::collection::vec(any_command(), 0..60)) {
        let mut product = Product::default();
        product.apply(created(i64::from(start)));
        for command in commands {
            if let Ok(Some(event)) = product.decide(command) {
                product.apply(event);
            }
            prop_assert!(product.inventory() >= 0);
        }
        prop_assert!(product.held() >= 0);
    }
}
