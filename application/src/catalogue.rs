//! The catalogue: sellers list, change, restock and withdraw products.

use crate::shop::run;
use crate::{Caller, Outcome, Shop, UseCaseError};
use atlantic_domain::product::{ProductChanges, ProductCommand, ProductDetails};
use atlantic_domain::Role;
use uuid::Uuid;

/// A new listing.
#[derive(Debug)]
pub struct NewProduct {
    /// The product's id (the seeder keeps the catalogue's; the API makes a new one).
    pub product_id: Uuid,
    /// The seller: the caller's own when `None`; an admin must name one.
    pub seller_id: Option<Uuid>,
    /// What it is and costs.
    pub details: ProductDetails,
    /// Units in stock.
    pub inventory: u32,
    /// The rating of the catalogue it comes from (admins only).
    pub catalogue_rating: Option<f64>,
}

/// A stock change.
#[derive(Debug, Clone, Copy)]
pub enum StockChange {
    /// Add (or with a negative number take away) units.
    Adjust(i64),
    /// Set the units in stock.
    Set(u32),
}

/// The seller a product of `caller` is listed under.
fn seller_for(caller: &Caller, named: Option<Uuid>) -> Result<Uuid, UseCaseError> {
    caller.require(&[Role::Seller, Role::Admin])?;
    match (caller.actor.role, named, caller.actor.seller_id) {
        (Role::Admin, Some(seller), _) => Ok(seller),
        (_, None, Some(own)) => Ok(own),
        (_, Some(seller), Some(own)) if seller == own => Ok(own),
        (Role::Admin, None, None) => Err(UseCaseError::invalid_field(
            "sellerId",
            "an admin must name the seller",
        )),
        _ => Err(UseCaseError::Forbidden(
            "you may list products only under your own seller".into(),
        )),
    }
}

/// Lists a product (a seller under their own seller, or an admin naming one).
pub async fn list_product(shop: &Shop, caller: &Caller, product: NewProduct) -> Outcome {
    let seller_id = seller_for(caller, product.seller_id)?;
    let command = ProductCommand::Create {
        actor: caller.actor.clone(),
        product_id: product.product_id,
        seller_id,
        details: product.details,
        inventory: product.inventory,
        catalogue_rating: product.catalogue_rating,
    };
    run(&shop.buses.products, product.product_id, command, caller).await
}

/// Changes a product's details (its seller or an admin).
pub async fn update_product(
    shop: &Shop,
    caller: &Caller,
    product_id: Uuid,
    changes: ProductChanges,
) -> Outcome {
    let command = ProductCommand::Update {
        actor: caller.actor.clone(),
        changes,
    };
    run(&shop.buses.products, product_id, command, caller).await
}

/// Changes a product's stock (its seller or an admin).
pub async fn change_stock(
    shop: &Shop,
    caller: &Caller,
    product_id: Uuid,
    change: StockChange,
) -> Outcome {
    let actor = caller.actor.clone();
    let command = match change {
        StockChange::Adjust(delta) => ProductCommand::AdjustInventory { actor, delta },
        StockChange::Set(inventory) => ProductCommand::SetInventory { actor, inventory },
    };
    run(&shop.buses.products, product_id, command, caller).await
}

/// Withdraws a product from sale (its seller or an admin).
pub async fn delist_product(shop: &Shop, caller: &Caller, product_id: Uuid) -> Outcome {
    let command = ProductCommand::Delete {
        actor: caller.actor.clone(),
    };
    run(&shop.buses.products, product_id, command, caller).await
}

/// Refuses a product that is not (or no longer) for sale.
pub(crate) async fn listed(shop: &Shop, product_id: Uuid) -> Result<(), UseCaseError> {
    let product = shop.buses.products.load(&product_id.to_string()).await?;
    if product.is_listed() {
        Ok(())
    } else {
        Err(UseCaseError::NotFound(format!("no product {product_id}")))
    }
}
