//! The shopping cart: put products in, take them out, check out.

use crate::orders::{already_placed, place_order, NewOrder, WantedLine};
use crate::{Caller, Outcome, Shop, UseCaseError};
use atlantic_domain::bounds::{check_quantity, MAX_ORDER_LINES};
use atlantic_domain::user::Address;
use atlantic_domain::Text;
use uuid::Uuid;

/// A checkout.
#[derive(Debug)]
pub struct Checkout {
    /// The order's id when the client gave an idempotency key (derived from it).
    pub order_id: Option<Uuid>,
    /// Where it goes.
    pub shipping_address: Address,
    /// The payment gateway's token.
    pub payment_token: Text<200>,
}

/// The caller's cart, a line per product.
pub async fn cart(shop: &Shop, caller: &Caller) -> Outcome<Vec<WantedLine>> {
    let items = shop.carts.items(caller.user_id()).await?;
    Ok(items
        .into_iter()
        .map(|(product_id, quantity)| WantedLine {
            product_id,
            quantity,
        })
        .collect())
}

/// Sets how many of a product for sale the caller's cart holds; answers the cart.
pub async fn put_in_cart(
    shop: &Shop,
    caller: &Caller,
    line: WantedLine,
) -> Outcome<Vec<WantedLine>> {
    check_quantity(line.quantity)
        .map_err(|message| UseCaseError::invalid_field("quantity", message))?;
    crate::catalogue::listed(shop, line.product_id).await?;
    let set = shop
        .carts
        .set(
            caller.user_id(),
            line.product_id,
            line.quantity,
            MAX_ORDER_LINES,
        )
        .await?;
    if !set {
        return Err(UseCaseError::invalid_field(
            "items",
            format!("a cart holds at most {MAX_ORDER_LINES} products"),
        ));
    }
    cart(shop, caller).await
}

/// Takes a product out of the caller's cart; answers the cart.
pub async fn remove_from_cart(
    shop: &Shop,
    caller: &Caller,
    product_id: Uuid,
) -> Outcome<Vec<WantedLine>> {
    shop.carts.remove(caller.user_id(), product_id).await?;
    cart(shop, caller).await
}

/// Places an order of the caller's cart and empties it; the cart is put back
/// when the order is refused.
pub async fn check_out(shop: &Shop, caller: &Caller, checkout: Checkout) -> Outcome {
    if let Some(order_id) = checkout.order_id {
        // Run again after its answer was lost: the cart is long taken.
        if let Some(accepted) = already_placed(shop, caller, order_id).await? {
            return Ok(accepted);
        }
    }
    let user_id = caller.user_id();
    let taken = shop.carts.take(user_id).await?;
    if taken.is_empty() {
        return Err(UseCaseError::Conflict("the cart is empty".into()));
    }
    let order = NewOrder {
        order_id: checkout.order_id,
        lines: taken
            .iter()
            .map(|(&product_id, &quantity)| WantedLine {
                product_id,
                quantity,
            })
            .collect(),
        shipping_address: checkout.shipping_address,
        payment_token: checkout.payment_token,
    };
    // A task of its own: a caller that goes away cannot stop it between
    // taking the cart and placing the order (or putting the cart back).
    let (shop, caller) = (shop.clone(), caller.clone());
    tokio::spawn(async move {
        let placed = place_order(&shop, &caller, order).await;
        if placed.is_err() {
            if let Err(error) = shop.carts.restore(user_id, &taken).await {
                tracing::error!(%user_id, error = %error, "cannot put a cart back after a failed checkout");
            }
        }
        placed
    })
    .await
    .map_err(|e| UseCaseError::Internal(anyhow::Error::new(e).context("checkout")))?
}
