//! The payment gateway the saga charges and refunds through, and the sandbox
//! gateway (a provider's test mode) that ships with Atlantic.

use atlantic_domain::Money;
use uuid::Uuid;

/// The gateway's answer to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    /// Approved and captured under this payment id.
    Approved {
        /// The gateway's payment id.
        payment_id: String,
    },
    /// Refused.
    Declined {
        /// The gateway's payment id.
        payment_id: String,
    },
}

/// A gateway that could not answer.
#[derive(Debug, thiserror::Error)]
#[error("payment gateway error: {0}")]
pub struct GatewayError(pub String);

/// Charges and refunds. Both calls must be idempotent per order: the saga
/// repeats them after a crash.
#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Authorises and captures `amount` for `order_id` with the customer's token.
    /// May never answer; the saga's deadline covers that.
    async fn charge(
        &self,
        order_id: Uuid,
        amount: Money,
        token: &str,
    ) -> Result<Charge, GatewayError>;

    /// Refunds the whole of `payment_id`; returns the refund's id.
    async fn refund(&self, payment_id: &str, amount: Money) -> Result<String, GatewayError>;
}

/// The sandbox: approves every token but `tok_decline` (declined) and
/// `tok_timeout` (never answers). Ids derive from the order, so repeated calls
/// give the same answer.
#[derive(Debug, Clone, Default)]
pub struct SandboxPaymentGateway;

#[async_trait::async_trait]
impl PaymentGateway for SandboxPaymentGateway {
    async fn charge(
        &self,
        order_id: Uuid,
        _amount: Money,
        token: &str,
    ) -> Result<Charge, GatewayError> {
        let payment_id = format!("pay_{}", order_id.simple());
        match token {
            "tok_decline" => Ok(Charge::Declined { payment_id }),
            "tok_timeout" => std::future::pending().await,
            _ => Ok(Charge::Approved { payment_id }),
        }
    }

    async fn refund(&self, payment_id: &str, _amount: Money) -> Result<String, GatewayError> {
        Ok(format!("re_{payment_id}"))
    }
}
