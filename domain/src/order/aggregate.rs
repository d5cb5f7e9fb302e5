use super::{OrderCommand, OrderError, OrderEvent, OrderLine, PaymentStatus};
use crate::bounds::{check_price, check_quantity, MAX_ORDER_LINES};
use crate::user::Address;
use crate::{Actor, Money};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use uuid::Uuid;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Not placed yet.
    #[default]
    New,
    /// Placed, waiting for validation.
    Created,
    /// Checked; see `is_valid`.
    Validated,
    /// Paid or declined; see the payment status.
    PaymentProcessed,
    /// Stock held for every line.
    InventoryReserved,
    /// With the carrier.
    Shipped,
    /// Arrived.
    Delivered,
    /// Stopped before shipping (terminal).
    Cancelled,
    /// Sent back after delivery (terminal).
    Returned,
}

impl OrderStatus {
    /// Whether nothing can happen to the order any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Cancelled | OrderStatus::Returned)
    }

    /// Whether a cancellation is still possible (before shipping).
    pub fn is_cancellable(self) -> bool {
        matches!(
            self,
            OrderStatus::Created
                | OrderStatus::Validated
                | OrderStatus::PaymentProcessed
                | OrderStatus::InventoryReserved
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An order's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    status: OrderStatus,
    customer_id: Option<Uuid>,
    lines: Vec<OrderLine>,
    total: Money,
    is_valid: bool,
    payment: Option<PaymentStatus>,
    payment_token: String,
    shipping_address: Option<Address>,
}

impl Order {
    /// Where the order is.
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// Σ quantity × price.
    pub fn total(&self) -> Money {
        self.total
    }

    /// Whether a payment was captured.
    pub fn is_paid(&self) -> bool {
        self.payment == Some(PaymentStatus::Success)
    }

    /// The lines.
    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    /// Who ordered, once placed.
    pub fn customer_id(&self) -> Option<Uuid> {
        self.customer_id
    }

    /// The payment method's token.
    pub fn payment_token(&self) -> &str {
        &self.payment_token
    }

    /// Where it goes, once placed.
    pub fn shipping_address(&self) -> Option<&Address> {
        self.shipping_address.as_ref()
    }

    fn expect(&self, status: OrderStatus, action: &'static str) -> Result<(), OrderError> {
        if self.status == OrderStatus::New {
            Err(OrderError::NotFound)
        } else if self.status != status {
            Err(OrderError::IllegalTransition {
                action,
                status: self.status,
            })
        } else {
            Ok(())
        }
    }

    /// A customer may only touch their own orders, and learns nothing of others'.
    fn visible_to(&self, actor: &Actor) -> Result<(), OrderError> {
        match self.customer_id {
            Some(customer) if actor.is_user_or_admin(customer) => Ok(()),
            _ => Err(OrderError::NotFound),
        }
    }

    fn decide(&self, command: OrderCommand) -> Result<Option<OrderEvent>, OrderError> {
        let event = match command {
            OrderCommand::Place {
                order_id,
                customer_id,
                lines,
                shipping_address,
                payment_token,
            } => {
                if self.status != OrderStatus::New {
                    return Err(OrderError::AlreadyExists);
                }
                let total_price = total_of(&lines)?;
                OrderEvent::OrderCreated {
                    order_id,
                    customer_id,
                    items: lines,
                    total_price,
                    shipping_address,
                    payment_token: payment_token.as_str().to_string(),
                }
            }
            OrderCommand::RecordValidation {
                is_valid,
                validation_errors,
            } => {
                self.expect(OrderStatus::Created, "validate")?;
                OrderEvent::OrderValidated {
                    is_valid,
                    validation_errors,
                }
            }
            OrderCommand::RecordPayment {
                payment_id,
                status,
                amount,
            } => {
                self.expect(OrderStatus::Validated, "pay for")?;
                if !self.is_valid {
                    return Err(OrderError::IllegalTransition {
                        action: "pay for",
                        status: self.status,
                    });
                }
                if status == PaymentStatus::Success && amount != self.total {
                    return Err(OrderError::AmountMismatch);
                }
                OrderEvent::PaymentProcessed {
                    payment_id,
                    payment_status: status,
                    amount,
                }
            }
            OrderCommand::RecordInventoryReserved { items } => {
                self.expect(OrderStatus::PaymentProcessed, "reserve stock for")?;
                if !self.is_paid() {
                    return Err(OrderError::IllegalTransition {
                        action: "reserve stock for",
                        status: self.status,
                    });
                }
                let matches_lines = items.len() == self.lines.len()
                    && items.iter().zip(&self.lines).all(|(held, line)| {
                        held.product_id == line.product_id && held.quantity == line.quantity
                    });
                if !matches_lines {
                    return Err(OrderError::InvalidLines(
                        "what is held must be the order's lines".into(),
                    ));
                }
                OrderEvent::InventoryReserved { items }
            }
            OrderCommand::Ship {
                shipment_id,
                carrier,
                tracking_number,
            } => {
                self.expect(OrderStatus::InventoryReserved, "ship")?;
                OrderEvent::OrderShipped {
                    shipment_id,
                    carrier,
                    tracking_number,
                }
            }
            OrderCommand::Deliver { delivery_status } => {
                self.expect(OrderStatus::Shipped, "deliver")?;
                OrderEvent::OrderDelivered { delivery_status }
            }
            OrderCommand::Cancel { actor, reason } => {
                self.visible_to(&actor)?;
                if self.status == OrderStatus::Cancelled {
                    return Ok(None);
                }
                if !self.status.is_cancellable() {
                    return Err(OrderError::IllegalTransition {
                        action: "cancel",
                        status: self.status,
                    });
                }
                OrderEvent::OrderCancelled {
                    cancellation_reason: reason.as_str().to_string(),
                }
            }
            OrderCommand::Return { actor, reason } => {
                self.visible_to(&actor)?;
                self.expect(OrderStatus::Delivered, "return")?;
                OrderEvent::OrderReturned {
                    return_reason: reason.as_str().to_string(),
                    refund_amount: self.total,
                }
            }
        };
        Ok(Some(event))
    }
}

/// Σ quantity × price, after checking the lines make an order.
fn total_of(lines: &[OrderLine]) -> Result<Money, OrderError> {
    if lines.is_empty() {
        return Err(OrderError::InvalidLines(
            "an order needs at least one line".into(),
        ));
    }
    if lines.len() > MAX_ORDER_LINES {
        return Err(OrderError::InvalidLines(format!(
            "an order has at most {MAX_ORDER_LINES} lines"
        )));
    }
    let mut seen = HashSet::new();
    let mut total = Money::ZERO;
    for line in lines {
        check_quantity(line.quantity)
            .map_err(|message| OrderError::InvalidLines(format!("quantities {message}")))?;
        check_price(line.price)
            .map_err(|message| OrderError::InvalidLines(format!("unit prices {message}")))?;
        if !seen.insert(line.product_id) {
            return Err(OrderError::InvalidLines(
                "each product may appear on one line only".into(),
            ));
        }
        total = line
            .price
            .times(line.quantity)
            .and_then(|amount| total.plus(amount))
            .ok_or_else(|| {
                OrderError::InvalidLines(format!(
                    "the total must be at most {}",
                    Money::from_cents(crate::money::MAX_CENTS).unwrap_or_default()
                ))
            })?;
    }
    Ok(total)
}

impl Aggregate for Order {
    const TYPE: &'static str = "Order";
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
    type Services = ();

    async fn handle(
        &mut self,
        command: OrderCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), OrderError> {
        if let Some(event) = self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: OrderEvent) {
        self.status = match event {
            OrderEvent::OrderCreated {
                customer_id,
                items,
                total_price,
                shipping_address,
                payment_token,
                ..
            } => {
                self.customer_id = Some(customer_id);
                self.shipping_address = Some(shipping_address);
                self.payment_token = payment_token;
                self.lines = items;
                self.total = total_price;
                OrderStatus::Created
            }
            OrderEvent::OrderValidated { is_valid, .. } => {
                self.is_valid = is_valid;
                OrderStatus::Validated
            }
            OrderEvent::PaymentProcessed { payment_status, .. } => {
                self.payment = Some(payment_status);
                OrderStatus::PaymentProcessed
            }
            OrderEvent::InventoryReserved { .. } => OrderStatus::InventoryReserved,
            OrderEvent::OrderShipped { .. } => OrderStatus::Shipped,
            OrderEvent::OrderDelivered { .. } => OrderStatus::Delivered,
            OrderEvent::OrderCancelled { .. } => OrderStatus::Cancelled,
            OrderEvent::OrderReturned { .. } => OrderStatus::Returned,
        };
    }
}

#[cfg(test)]
mod tests;
