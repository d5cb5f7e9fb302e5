use super::{ProductCommand, ProductDetails, ProductError, ProductEvent};
use crate::bounds::{
    check_catalogue_rating, check_inventory, check_quantity, check_stock_change, MAX_INVENTORY,
};
use crate::{Actor, Money};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A product's current state. `inventory` is the count still for sale: units held
/// for orders are already taken out of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    id: Option<Uuid>,
    seller_id: Option<Uuid>,
    details: Option<ProductDetails>,
    inventory: i64,
    deleted: bool,
    /// Units each order holds while it is open: an order's entry leaves when
    /// it ships, is released or is restocked, so the state (and its snapshot)
    /// holds only orders in flight, never every order ever.
    reservations: BTreeMap<Uuid, Reservation>,
}

/// What one open order holds of this product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Reservation {
    quantity: u32,
}

impl Product {
    /// Whether the product exists and is not deleted.
    pub fn is_listed(&self) -> bool {
        self.id.is_some() && !self.deleted
    }

    /// Units for sale.
    pub fn inventory(&self) -> i64 {
        self.inventory
    }

    /// The unit price, while listed.
    pub fn price(&self) -> Option<Money> {
        self.details
            .as_ref()
            .filter(|_| !self.deleted)
            .map(|d| d.price)
    }

    /// The seller, once created.
    pub fn seller_id(&self) -> Option<Uuid> {
        self.seller_id
    }

    /// The title, once created.
    pub fn name(&self) -> Option<&str> {
        self.details.as_ref().map(|d| d.name.as_str())
    }

    fn listed_for(&self, actor: &Actor) -> Result<(), ProductError> {
        match self.seller_id {
            Some(seller) if !self.deleted => {
                if actor.manages_seller(seller) {
                    Ok(())
                } else {
                    Err(ProductError::Forbidden)
                }
            }
            _ => Err(ProductError::NotFound),
        }
    }

    /// Units held for open orders.
    fn held(&self) -> i64 {
        self.reservations
            .values()
            .map(|held| i64::from(held.quantity))
            .sum()
    }

    /// How many orders hold units of it now.
    pub fn open_reservations(&self) -> usize {
        self.reservations.len()
    }

    /// The stock after `delta`: never below zero, and never with what is held
    /// above [`MAX_INVENTORY`] (both conflicts with the state), so every
    /// release and restock stays within it too.
    fn adjusted(&self, delta: i64, field: &'static str) -> Result<ProductEvent, ProductError> {
        check_stock_change(delta).map_err(|message| ProductError::invalid(field, message))?;
        let inventory = self.inventory + delta;
        if inventory < 0 {
            return Err(ProductError::InsufficientInventory {
                available: self.inventory,
                requested: -delta,
            });
        }
        if inventory + self.held() > MAX_INVENTORY {
            return Err(ProductError::StockLimit { held: self.held() });
        }
        Ok(ProductEvent::InventoryAdjusted { delta, inventory })
    }

    fn decide(&self, command: ProductCommand) -> Result<Option<ProductEvent>, ProductError> {
        let event = match command {
            ProductCommand::Create {
                actor,
                product_id,
                seller_id,
                details,
                inventory,
                catalogue_rating,
            } => {
                if self.id.is_some() {
                    return Err(ProductError::AlreadyExists);
                }
                if !actor.manages_seller(seller_id)
                    || (catalogue_rating.is_some() && !actor.is_admin())
                {
                    return Err(ProductError::Forbidden);
                }
                if let Some(rating) = catalogue_rating {
                    check_catalogue_rating(rating)
                        .map_err(|message| ProductError::invalid("catalogueRating", message))?;
                }
                details.check()?;
                check_inventory(i64::from(inventory))
                    .map_err(|message| ProductError::invalid("inventory", message))?;
                ProductEvent::ProductCreated {
                    product_id,
                    seller_id,
                    details,
                    inventory: i64::from(inventory),
                    catalogue_rating,
                }
            }
            ProductCommand::Update { actor, changes } => {
                self.listed_for(&actor)?;
                if changes.is_empty() {
                    return Err(ProductError::NothingToUpdate);
                }
                changes.check()?;
                ProductEvent::ProductUpdated { changes }
            }
            ProductCommand::Delete { actor } => {
                self.listed_for(&actor)?;
                ProductEvent::ProductDeleted {}
            }
            ProductCommand::AdjustInventory { actor, delta } => {
                self.listed_for(&actor)?;
                if delta == 0 {
                    return Ok(None);
                }
                self.adjusted(delta, "adjust")?
            }
            ProductCommand::SetInventory { actor, inventory } => {
                self.listed_for(&actor)?;
                let target = check_inventory(i64::from(inventory))
                    .map_err(|message| ProductError::invalid("set", message))?;
                let delta = target - self.inventory;
                if delta == 0 {
                    return Ok(None);
                }
                self.adjusted(delta, "set")?
            }
            ProductCommand::Reserve { order_id, quantity } => {
                check_quantity(quantity).map_err(|_| ProductError::InvalidQuantity)?;
                if self.reservations.contains_key(&order_id) {
                    return Ok(None);
                }
                if !self.is_listed() {
                    return Err(ProductError::NotFound);
                }
                let requested = i64::from(quantity);
                if self.inventory < requested {
                    return Err(ProductError::InsufficientInventory {
                        available: self.inventory,
                        requested,
                    });
                }
                ProductEvent::StockReserved {
                    order_id,
                    quantity,
                    inventory: self.inventory - requested,
                }
            }
            ProductCommand::Release { order_id } => match self.reservations.get(&order_id) {
                Some(held) => ProductEvent::StockReleased {
                    order_id,
                    quantity: held.quantity,
                    inventory: self.inventory + i64::from(held.quantity),
                },
                None => return Ok(None),
            },
            ProductCommand::Ship { order_id } => match self.reservations.get(&order_id) {
                Some(held) => ProductEvent::StockShipped {
                    order_id,
                    quantity: held.quantity,
                    inventory: self.inventory,
                },
                None => return Ok(None),
            },
            ProductCommand::Restock { order_id, quantity } => {
                check_quantity(quantity).map_err(|_| ProductError::InvalidQuantity)?;
                let still_held = self
                    .reservations
                    .get(&order_id)
                    .map_or(0, |held| i64::from(held.quantity));
                let inventory = self.inventory + i64::from(quantity);
                if inventory + self.held() - still_held > MAX_INVENTORY {
                    return Err(ProductError::StockLimit {
                        held: self.held() - still_held,
                    });
                }
                ProductEvent::StockRestocked {
                    order_id,
                    quantity,
                    inventory,
                }
            }
        };
        Ok(Some(event))
    }
}

impl Aggregate for Product {
    const TYPE: &'static str = "Product";
    type Command = ProductCommand;
    type Event = ProductEvent;
    type Error = ProductError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ProductCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ProductError> {
        if let Some(event) = self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ProductEvent) {
        match event {
            ProductEvent::ProductCreated {
                product_id,
                seller_id,
                details,
                inventory,
                ..
            } => {
                self.id = Some(product_id);
                self.seller_id = Some(seller_id);
                self.details = Some(details);
                self.inventory = inventory;
            }
            ProductEvent::ProductUpdated { changes } => {
                if let Some(details) = self.details.as_mut() {
                    if let Some(name) = changes.name {
                        details.name = name;
                    }
                    if let Some(description) = changes.description {
                        details.description = description;
                    }
                    if let Some(category) = changes.category {
                        details.category = category;
                    }
                    if let Some(brand) = changes.brand {
                        details.brand = brand;
                    }
                    if let Some(price) = changes.price {
                        details.price = price;
                    }
                    if let Some(specifications) = changes.specifications {
                        details.specifications = specifications;
                    }
                }
            }
            ProductEvent::ProductDeleted {} => self.deleted = true,
            ProductEvent::InventoryAdjusted { inventory, .. } => self.inventory = inventory,
            ProductEvent::StockReserved {
                order_id,
                quantity,
                inventory,
            } => {
                self.inventory = inventory;
                self.reservations.insert(order_id, Reservation { quantity });
            }
            ProductEvent::StockReleased {
                order_id,
                inventory,
                ..
            }
            | ProductEvent::StockShipped {
                order_id,
                inventory,
                ..
            }
            | ProductEvent::StockRestocked {
                order_id,
                inventory,
                ..
            } => {
                self.inventory = inventory;
                self.reservations.remove(&order_id);
            }
        }
    }
}

#[cfg(test)]
mod tests;
