use crate::Money;
use uuid::Uuid;

/// What can be asked of a payment.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    /// The gateway approved and captured `amount`. Idempotent.
    Capture {
        /// The order paid for.
        order_id: Uuid,
        /// The gateway's payment id.
        payment_id: String,
        /// The amount captured.
        amount: Money,
    },
    /// The gateway declined. Idempotent.
    Decline {
        /// The order.
        order_id: Uuid,
        /// The gateway's payment id.
        payment_id: String,
    },
    /// Give the whole captured amount back. Idempotent; nothing to do when
    /// nothing was captured.
    Refund {
        /// The gateway's refund id.
        refund_id: String,
    },
}
