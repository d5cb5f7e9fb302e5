//! The saga's steps, one per order event. Each reads the order first and acts
//! only when the order is where the step starts.

use super::{Saga, StepResult};
use crate::payment_gateway::Charge;
use atlantic_domain::order::{
    Order, OrderCommand, OrderError, OrderStatus, PaymentStatus, ReservedLine,
};
use atlantic_domain::payment::{PaymentCommand, PaymentState};
use atlantic_domain::product::{ProductCommand, ProductError};
use atlantic_domain::{Actor, Money, Text};
use atlantic_platform::bus::{CommandError, Committed};
use atlantic_platform::metadata::CommandMetadata;
use std::sync::Arc;
use tracing::{error, warn};
use uuid::Uuid;

/// A command refused because the order already moved past the step: someone
/// (a redelivery, the customer, a deadline) got there first. Nothing to do.
pub(super) fn already_done(
    error: CommandError<OrderError>,
) -> Result<Committed, CommandError<OrderError>> {
    match error {
        CommandError::Rejected(OrderError::IllegalTransition { .. }) => Ok(Committed {
            version: 0,
            events: 0,
        }),
        other => Err(other),
    }
}

fn reason(text: &str) -> anyhow::Result<Text<500>> {
    let shortened: String = text.chars().take(500).collect();
    Text::parse(&shortened).map_err(anyhow::Error::msg)
}

impl Saga {
    async fn order(&self, order_id: Uuid) -> anyhow::Result<Order> {
        Ok(self.orders.load(&order_id.to_string()).await?)
    }

    async fn order_command(
        &self,
        order_id: Uuid,
        command: OrderCommand,
        metadata: &CommandMetadata,
    ) -> StepResult {
        self.orders
            .execute(&order_id.to_string(), command, metadata)
            .await
            .or_else(already_done)?;
        Ok(())
    }

    async fn cancel(&self, order_id: Uuid, why: &str, metadata: &CommandMetadata) -> StepResult {
        let command = OrderCommand::Cancel {
            actor: Actor::system(),
            reason: reason(why)?,
        };
        self.order_command(order_id, command, metadata).await
    }

    /// OrderCreated ⇒ OrderValidated: products exist, quantities are positive,
    /// prices are the catalogue's, the total is exact.
    pub(super) async fn validate(&self, order_id: Uuid, metadata: &CommandMetadata) -> StepResult {
        let order = self.order(order_id).await?;
        if order.status() != OrderStatus::Created {
            return Ok(());
        }
        let mut errors = Vec::new();
        let mut total = Money::ZERO;
        let ids: Vec<String> = order
            .lines()
            .iter()
            .map(|line| line.product_id.to_string())
            .collect();
        let products = self.products.load_many(&ids).await?;
        for (line, product) in order.lines().iter().zip(products) {
            if line.quantity == 0 {
                errors.push(format!(
                    "product {}: quantity must be positive",
                    line.product_id
                ));
            }
            match product.price() {
                None => errors.push(format!("product {} does not exist", line.product_id)),
                Some(price) if price != line.price => errors.push(format!(
                    "product {}: price is {price}, the order says {}",
                    line.product_id, line.price
                )),
                Some(_) => {}
            }
            total = line
                .price
                .times(line.quantity)
                .and_then(|amount| total.plus(amount))
                .unwrap_or(Money::ZERO);
        }
        if total != order.total() {
            errors.push(format!(
                "total is {total}, the order says {}",
                order.total()
            ));
        }
        let command = OrderCommand::RecordValidation {
            is_valid: errors.is_empty(),
            validation_errors: errors,
        };
        self.order_command(order_id, command, metadata).await
    }

    /// OrderValidated ⇒ payment asked (valid) or OrderCancelled (invalid).
    pub(super) async fn request_payment(
        self: &Arc<Self>,
        order_id: Uuid,
        is_valid: bool,
        errors: &[String],
        metadata: &CommandMetadata,
    ) -> StepResult {
        let order = self.order(order_id).await?;
        if order.status() != OrderStatus::Validated {
            return Ok(());
        }
        if !is_valid {
            return self
                .cancel(
                    order_id,
                    &format!("validation failed: {}", errors.join("; ")),
                    metadata,
                )
                .await;
        }
        self.start_payment_deadline(order_id, metadata).await?;
        self.clone().spawn_payment(order_id, metadata.clone());
        Ok(())
    }

    /// Asks the gateway in the background: its answer may take long or never
    /// come, and one order must not hold up others. At the deadline the
    /// watcher reconciles with the gateway; this task still waits for a late
    /// answer (ten times as long) and records it, refunding it if the order
    /// was cancelled meanwhile, so a charge in flight is never dropped at
    /// the deadline.
    pub(super) fn spawn_payment(self: Arc<Self>, order_id: Uuid, metadata: CommandMetadata) {
        tokio::spawn(async move {
            let wait = self.settings.payment_timeout * 10;
            match tokio::time::timeout(wait, self.take_payment(order_id, &metadata)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    warn!(%order_id, error = format!("{error:#}"), "payment step failed")
                }
                Err(_) => warn!(%order_id, "the payment gateway did not answer in time"),
            }
        });
    }

    async fn take_payment(&self, order_id: Uuid, metadata: &CommandMetadata) -> StepResult {
        let order = self.order(order_id).await?;
        if order.status() != OrderStatus::Validated {
            return Ok(());
        }
        let charge = self
            .gateway
            .charge(order_id, order.total(), order.payment_token())
            .await?;
        self.record_charge(order_id, &order, charge, metadata).await
    }

    /// A payment whose answer did not come in time (lost, slow, or its
    /// process died): the gateway is asked what it did for the order. A
    /// charge it made is recorded, and given back if the order was cancelled
    /// meanwhile; none cancels the order.
    pub(super) async fn reconcile_payment(
        &self,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> StepResult {
        let order = self.order(order_id).await?;
        match self.gateway.charge_of(order_id).await? {
            Some(record) => {
                self.record_charge(order_id, &order, record.charge, metadata)
                    .await
            }
            None if order.status() == OrderStatus::Validated => {
                let seconds = self.settings.payment_timeout.as_secs_f64();
                let why = format!("payment not answered within {seconds} s");
                self.cancel(order_id, &why, metadata).await?;
                self.clear_deadlines(order_id).await
            }
            None => self.clear_deadlines(order_id).await,
        }
    }

    /// Records the gateway's `charge` on the payment and the order; money
    /// taken for an order that was cancelled meanwhile is given back.
    async fn record_charge(
        &self,
        order_id: Uuid,
        order: &Order,
        charge: Charge,
        metadata: &CommandMetadata,
    ) -> StepResult {
        let payment = order_id.to_string();
        let (payment_id, status) = match charge {
            Charge::Approved { payment_id } => {
                let capture = PaymentCommand::Capture {
                    order_id,
                    payment_id: payment_id.clone(),
                    amount: order.total(),
                };
                self.payments.execute(&payment, capture, metadata).await?;
                (payment_id, PaymentStatus::Success)
            }
            Charge::Declined { payment_id } => {
                let decline = PaymentCommand::Decline {
                    order_id,
                    payment_id: payment_id.clone(),
                };
                self.payments.execute(&payment, decline, metadata).await?;
                (payment_id, PaymentStatus::Declined)
            }
        };
        let record = OrderCommand::RecordPayment {
            payment_id,
            status,
            amount: order.total(),
        };
        self.order_command(order_id, record, metadata).await?;
        // Paid after the order was cancelled (the deadline won): give it
        // back. The intent stays until then, so a refund that fails is tried
        // again by the deadline watcher.
        if self.order(order_id).await?.status() == OrderStatus::Cancelled {
            self.refund_if_captured(order_id, metadata).await?;
        }
        self.clear_deadlines(order_id).await
    }

    /// PaymentProcessed ⇒ InventoryReserved, or OrderCancelled when the payment
    /// was declined or any product is short (releasing what was held).
    pub(super) async fn reserve_inventory(
        &self,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> StepResult {
        let order = self.order(order_id).await?;
        if order.status() != OrderStatus::PaymentProcessed {
            return Ok(());
        }
        if !order.is_paid() {
            return self.cancel(order_id, "payment declined", metadata).await;
        }
        let mut short = None;
        for line in order.lines() {
            let reserve = ProductCommand::Reserve {
                order_id,
                quantity: line.quantity,
            };
            match self
                .products
                .execute(&line.product_id.to_string(), reserve, metadata)
                .await
            {
                Ok(_) => {}
                Err(CommandError::Rejected(
                    refusal @ (ProductError::InsufficientInventory { .. } | ProductError::NotFound),
                )) => {
                    short = Some(format!("product {}: {refusal}", line.product_id));
                    break;
                }
                Err(other) => return Err(other.into()),
            }
        }
        if let Some(why) = short {
            self.release(&order, order_id, metadata).await?;
            return self
                .cancel(
                    order_id,
                    &format!("inventory could not be reserved: {why}"),
                    metadata,
                )
                .await;
        }
        let items = order
            .lines()
            .iter()
            .map(|l| ReservedLine {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect();
        self.order_command(
            order_id,
            OrderCommand::RecordInventoryReserved { items },
            metadata,
        )
        .await
    }

    /// InventoryReserved ⇒ OrderShipped through the carrier.
    pub(super) async fn ship(&self, order_id: Uuid, metadata: &CommandMetadata) -> StepResult {
        let order = self.order(order_id).await?;
        if order.status() != OrderStatus::InventoryReserved {
            return Ok(());
        }
        let address = order
            .shipping_address()
            .ok_or_else(|| anyhow::anyhow!("order {order_id} has no address"))?;
        let shipment = self.carrier.ship(order_id, address).await?;
        let command = OrderCommand::Ship {
            shipment_id: shipment.shipment_id,
            carrier: shipment.carrier,
            tracking_number: shipment.tracking_number,
        };
        self.order_command(order_id, command, metadata).await?;
        // A cancel that landed while the carrier was booking wins: the
        // booking is cancelled too, so the parcel never goes with the money
        // coming back.
        if self.order(order_id).await?.status() == OrderStatus::Cancelled {
            self.carrier.cancel(order_id).await?;
        }
        Ok(())
    }

    /// OrderShipped ⇒ each product's reservation for the order ends.
    pub(super) async fn settle_reservations(
        &self,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> StepResult {
        let order = self.order(order_id).await?;
        for line in order.lines() {
            let ship = ProductCommand::Ship { order_id };
            self.products
                .execute(&line.product_id.to_string(), ship, metadata)
                .await?;
        }
        Ok(())
    }

    /// OrderCancelled ⇒ held stock released, payment refunded.
    pub(super) async fn compensate_cancellation(
        &self,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> StepResult {
        let order = self.order(order_id).await?;
        // A booking made before a crash (or while the cancel landed) goes too.
        self.carrier.cancel(order_id).await?;
        self.release(&order, order_id, metadata).await?;
        self.refund_if_captured(order_id, metadata).await?;
        self.clear_deadlines(order_id).await
    }

    /// OrderReturned ⇒ stock put back, payment refunded.
    pub(super) async fn compensate_return(
        &self,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> StepResult {
        let order = self.order(order_id).await?;
        // The money first: no stock rule may hold up a customer's refund.
        self.refund_if_captured(order_id, metadata).await?;
        for line in order.lines() {
            let restock = ProductCommand::Restock {
                order_id,
                quantity: line.quantity,
            };
            match self
                .products
                .execute(&line.product_id.to_string(), restock, metadata)
                .await
            {
                Ok(_) | Err(CommandError::Duplicate) => {}
                // Stock past its bound cannot come back; trying again would
                // not change that.
                Err(CommandError::Rejected(refusal @ ProductError::Invalid { .. })) => {
                    error!(%order_id, product = %line.product_id, %refusal, "a returned line cannot be restocked");
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(())
    }

    async fn release(
        &self,
        order: &Order,
        order_id: Uuid,
        metadata: &CommandMetadata,
    ) -> StepResult {
        for line in order.lines() {
            let release = ProductCommand::Release { order_id };
            match self
                .products
                .execute(&line.product_id.to_string(), release, metadata)
                .await
            {
                Ok(_) | Err(CommandError::Rejected(ProductError::NotFound)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(())
    }

    async fn refund_if_captured(&self, order_id: Uuid, metadata: &CommandMetadata) -> StepResult {
        let payment = self.payments.load(&order_id.to_string()).await?;
        if payment.state() != PaymentState::Captured {
            return Ok(());
        }
        let refund_id = self
            .gateway
            .refund(payment.payment_id(), payment.amount())
            .await?;
        self.payments
            .execute(
                &order_id.to_string(),
                PaymentCommand::Refund { refund_id },
                metadata,
            )
            .await?;
        Ok(())
    }
}
