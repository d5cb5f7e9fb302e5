//! Orders: place, cancel, record delivery, return.

use crate::shop::run;
use crate::{Accepted, Caller, Outcome, Shop, UseCaseError};
use atlantic_domain::bounds::MAX_ORDER_LINES;
use atlantic_domain::order::{Order, OrderCommand, OrderLine};
use atlantic_domain::user::Address;
use atlantic_domain::{Money, Role, Text};
use cqrs_es::Aggregate;
use std::collections::HashSet;
use uuid::Uuid;

/// A line as the customer asks for it: no price, the catalogue sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedLine {
    /// The product.
    pub product_id: Uuid,
    /// Units (the domain's bounds).
    pub quantity: u32,
}

/// A new order.
#[derive(Debug)]
pub struct NewOrder {
    /// The order's id when the client gave an idempotency key (derived from
    /// it): an order already placed under it is answered again.
    pub order_id: Option<Uuid>,
    /// What to order: 1 to [`MAX_ORDER_LINES`] lines, each product once.
    pub lines: Vec<WantedLine>,
    /// Where it goes.
    pub shipping_address: Address,
    /// The payment gateway's token.
    pub payment_token: Text<200>,
}

/// The order `caller` already placed under `order_id`, as its placing answered.
pub async fn already_placed(
    shop: &Shop,
    caller: &Caller,
    order_id: Uuid,
) -> Outcome<Option<Accepted>> {
    let order = shop.buses.orders.load(&order_id.to_string()).await?;
    match order.customer_id() {
        None => Ok(None),
        Some(customer) if customer == caller.user_id() => {
            Ok(Some(Accepted::new(Order::TYPE, order_id, 1)))
        }
        Some(_) => Err(UseCaseError::Conflict(
            "this Idempotency-Key belongs to another order".into(),
        )),
    }
}

/// Places an order. Each line's price is the catalogue's at this moment; a
/// product that does not exist is priced 0 and the order saga refuses it.
pub async fn place_order(shop: &Shop, caller: &Caller, order: NewOrder) -> Outcome {
    if let Some(order_id) = order.order_id {
        if let Some(accepted) = already_placed(shop, caller, order_id).await? {
            return Ok(accepted);
        }
    }
    let wanted = order.lines;
    if wanted.is_empty() || wanted.len() > MAX_ORDER_LINES {
        return Err(UseCaseError::invalid_field(
            "items",
            format!("an order has 1 to {MAX_ORDER_LINES} lines"),
        ));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = wanted.iter().position(|line| !seen.insert(line.product_id)) {
        return Err(UseCaseError::invalid_field(
            &format!("items[{twice}].productId"),
            "each product may appear on one line only",
        ));
    }
    let ids: Vec<String> = wanted
        .iter()
        .map(|line| line.product_id.to_string())
        .collect();
    let products = shop.buses.products.load_many(&ids).await?;
    let lines: Vec<OrderLine> = wanted
        .iter()
        .zip(products)
        .map(|(line, product)| OrderLine {
            product_id: line.product_id,
            quantity: line.quantity,
            price: product.price().unwrap_or(Money::ZERO),
        })
        .collect();
    let order_id = order.order_id.unwrap_or_else(Uuid::now_v7);
    let command = OrderCommand::Place {
        order_id,
        customer_id: caller.user_id(),
        lines,
        shipping_address: order.shipping_address,
        payment_token: order.payment_token,
    };
    run(&shop.buses.orders, order_id, command, caller).await
}

/// Cancels an order before it ships (its customer or an admin).
pub async fn cancel_order(
    shop: &Shop,
    caller: &Caller,
    order_id: Uuid,
    reason: Text<500>,
) -> Outcome {
    let command = OrderCommand::Cancel {
        actor: caller.actor.clone(),
        reason,
    };
    run(&shop.buses.orders, order_id, command, caller).await
}

/// Records the carrier's word that an order arrived (admins).
pub async fn record_delivery(
    shop: &Shop,
    caller: &Caller,
    order_id: Uuid,
    delivery_status: Text<100>,
) -> Outcome {
    caller.require(&[Role::Admin])?;
    let command = OrderCommand::Deliver {
        delivery_status: delivery_status.as_str().to_string(),
    };
    run(&shop.buses.orders, order_id, command, caller).await
}

/// Sends a delivered order back (its customer).
pub async fn return_order(
    shop: &Shop,
    caller: &Caller,
    order_id: Uuid,
    reason: Text<500>,
) -> Outcome {
    let command = OrderCommand::Return {
        actor: caller.actor.clone(),
        reason,
    };
    run(&shop.buses.orders, order_id, command, caller).await
}
