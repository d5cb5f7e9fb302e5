use super::{PaymentCommand, PaymentError, PaymentEvent};
use crate::Money;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a payment is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentState {
    /// Nothing happened yet.
    #[default]
    Pending,
    /// Money was taken.
    Captured,
    /// The gateway said no.
    Declined,
    /// Money was given back.
    Refunded,
}

/// A payment's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    state: PaymentState,
    order_id: Option<Uuid>,
    payment_id: String,
    amount: Money,
}

impl Payment {
    /// Where the payment is.
    pub fn state(&self) -> PaymentState {
        self.state
    }

    /// The gateway's payment id, once captured or declined.
    pub fn payment_id(&self) -> &str {
        &self.payment_id
    }

    /// The amount captured (or refunded).
    pub fn amount(&self) -> Money {
        self.amount
    }

    fn decide(&self, command: PaymentCommand) -> Result<Option<PaymentEvent>, PaymentError> {
        Ok(match (command, self.state) {
            (
                PaymentCommand::Capture {
                    order_id,
                    payment_id,
                    amount,
                },
                PaymentState::Pending,
            ) => Some(PaymentEvent::PaymentCaptured {
                order_id,
                payment_id,
                amount,
            }),
            (PaymentCommand::Capture { .. }, PaymentState::Captured | PaymentState::Refunded) => {
                None
            }
            (
                PaymentCommand::Decline {
                    order_id,
                    payment_id,
                },
                PaymentState::Pending,
            ) => Some(PaymentEvent::PaymentDeclined {
                order_id,
                payment_id,
            }),
            (PaymentCommand::Decline { .. }, PaymentState::Declined) => None,
            (PaymentCommand::Capture { .. }, PaymentState::Declined)
            | (PaymentCommand::Decline { .. }, _) => return Err(PaymentError::AlreadySettled),
            (PaymentCommand::Refund { refund_id }, PaymentState::Captured) => {
                Some(PaymentEvent::PaymentRefunded {
                    order_id: self.order_id.unwrap_or_default(),
                    refund_id,
                    amount: self.amount,
                })
            }
            (PaymentCommand::Refund { .. }, _) => None,
        })
    }
}

impl Aggregate for Payment {
    const TYPE: &'static str = "Payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: PaymentCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), PaymentError> {
        if let Some(event) = self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: PaymentEvent) {
        match event {
            PaymentEvent::PaymentCaptured {
                order_id,
                payment_id,
                amount,
            } => {
                self.state = PaymentState::Captured;
                self.payment_id = payment_id;
                self.order_id = Some(order_id);
                self.amount = amount;
            }
            PaymentEvent::PaymentDeclined {
                order_id,
                payment_id,
            } => {
                self.state = PaymentState::Declined;
                self.payment_id = payment_id;
                self.order_id = Some(order_id);
            }
            PaymentEvent::PaymentRefunded { .. } => self.state = PaymentState::Refunded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    const ORDER: Uuid = Uuid::from_u128(1);

    fn captured() -> PaymentEvent {
        PaymentEvent::PaymentCaptured {
            order_id: ORDER,
            payment_id: "pay_1".into(),
            amount: Money::from_cents(7997).unwrap(),
        }
    }

    fn capture() -> PaymentCommand {
        PaymentCommand::Capture {
            order_id: ORDER,
            payment_id: "pay_1".into(),
            amount: Money::from_cents(7997).unwrap(),
        }
    }

    #[test]
    fn capture_happens_once() {
        TestFramework::<Payment>::with(())
            .given_no_previous_events()
            .when(capture())
            .then_expect_events(vec![captured()]);
        TestFramework::<Payment>::with(())
            .given(vec![captured()])
            .when(capture())
            .then_expect_events(vec![]);
        TestFramework::<Payment>::with(())
            .given(vec![PaymentEvent::PaymentDeclined {
                order_id: ORDER,
                payment_id: "pay_1".into(),
            }])
            .when(capture())
            .then_expect_error(PaymentError::AlreadySettled);
    }

    #[test]
    fn refund_gives_back_the_capture_once() {
        let refunded = PaymentEvent::PaymentRefunded {
            order_id: ORDER,
            refund_id: "re_1".into(),
            amount: Money::from_cents(7997).unwrap(),
        };
        let refund = || PaymentCommand::Refund {
            refund_id: "re_1".into(),
        };
        TestFramework::<Payment>::with(())
            .given(vec![captured()])
            .when(refund())
            .then_expect_events(vec![refunded.clone()]);
        TestFramework::<Payment>::with(())
            .given(vec![captured(), refunded])
            .when(refund())
            .then_expect_events(vec![]);
        TestFramework::<Payment>::with(())
            .given_no_previous_events()
            .when(refund())
            .then_expect_events(vec![]);
    }
}
