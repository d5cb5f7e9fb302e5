use crate::Money;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happened to a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum PaymentEvent {
    /// Money was taken.
    PaymentCaptured {
        /// The order.
        order_id: Uuid,
        /// The gateway's payment id.
        payment_id: String,
        /// The amount.
        amount: Money,
    },
    /// The gateway said no.
    PaymentDeclined {
        /// The order.
        order_id: Uuid,
        /// The gateway's payment id.
        payment_id: String,
    },
    /// Money was given back.
    PaymentRefunded {
        /// The order.
        order_id: Uuid,
        /// The gateway's refund id.
        refund_id: String,
        /// The amount.
        amount: Money,
    },
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            PaymentEvent::PaymentCaptured { .. } => "PaymentCaptured",
            PaymentEvent::PaymentDeclined { .. } => "PaymentDeclined",
            PaymentEvent::PaymentRefunded { .. } => "PaymentRefunded",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
