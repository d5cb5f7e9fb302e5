//! The payment gateway the saga charges and refunds through, and the sandbox
//! gateway (a provider's test mode) that ships with Atlantic.

use atlantic_domain::Money;
use sqlx::PgPool;
use std::time::Duration;
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

/// What the gateway holds for an order: its charge, and whether it was
/// refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRecord {
    /// The charge.
    pub charge: Charge,
    /// Whether the money went back.
    pub refunded: bool,
}

impl ChargeRecord {
    /// Whether the gateway keeps money for the order.
    pub fn keeps_money(&self) -> bool {
        matches!(self.charge, Charge::Approved { .. }) && !self.refunded
    }
}

/// A gateway that could not answer.
#[derive(Debug, thiserror::Error)]
#[error("payment gateway error: {0}")]
pub struct GatewayError(pub String);

/// Charges and refunds. Every call is idempotent per order: the saga repeats
/// them after a crash, and asks again by order id when an answer was lost.
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

    /// What the gateway did for `order_id`, if anything: how a charge whose
    /// answer was lost is reconciled, and what an audit compares.
    async fn charge_of(&self, order_id: Uuid) -> Result<Option<ChargeRecord>, GatewayError>;

    /// Refunds the whole of `payment_id`; returns the refund's id.
    async fn refund(&self, payment_id: &str, amount: Money) -> Result<String, GatewayError>;
}

/// How long the sandbox takes to answer a charge with `tok_slow`.
pub const SLOW_ANSWER: Duration = Duration::from_secs(4);
/// How long the sandbox refuses to refund a charge made with `tok_refund_later`.
pub const REFUND_OUTAGE: Duration = Duration::from_secs(10);

/// The sandbox: approves every token but `tok_decline` (declined) and
/// `tok_timeout` (never answers, and takes nothing); `tok_slow` takes the
/// money at once but answers only after [`SLOW_ANSWER`]; a charge with
/// `tok_refund_later` cannot be refunded for [`REFUND_OUTAGE`] (as if the
/// provider's refunds were down). It keeps its ledger
/// in Postgres (`sandbox_charges`), like a provider's dashboard: one charge
/// per order, so repeated calls give the same answer, and its refund.
#[derive(Debug, Clone)]
pub struct SandboxPaymentGateway {
    pool: PgPool,
}

impl SandboxPaymentGateway {
    /// A sandbox gateway with its ledger in `pool`.
    pub fn new(pool: PgPool) -> Self {
        SandboxPaymentGateway { pool }
    }
}

fn ledger_error(error: sqlx::Error) -> GatewayError {
    GatewayError(format!("the gateway's ledger: {error}"))
}

fn answer(payment_id: String, approved: bool) -> Charge {
    if approved {
        Charge::Approved { payment_id }
    } else {
        Charge::Declined { payment_id }
    }
}

#[async_trait::async_trait]
impl PaymentGateway for SandboxPaymentGateway {
    async fn charge(
        &self,
        order_id: Uuid,
        amount: Money,
        token: &str,
    ) -> Result<Charge, GatewayError> {
        if token == "tok_timeout" {
            return std::future::pending().await;
        }
        let (payment_id, approved): (String, bool) = sqlx::query_as(
            "INSERT INTO sandbox_charges (order_id, payment_id, amount_cents, approved, refundable_at) \
             VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second') \
             ON CONFLICT (order_id) DO UPDATE SET order_id = excluded.order_id \
             RETURNING payment_id, approved",
        )
        .bind(order_id)
        .bind(format!("pay_{}", order_id.simple()))
        .bind(amount.cents())
        .bind(token != "tok_decline")
        .bind(if token == "tok_refund_later" {
            REFUND_OUTAGE.as_secs_f64()
        } else {
            0.0
        })
        .fetch_one(&self.pool)
        .await
        .map_err(ledger_error)?;
        if token == "tok_slow" {
            tokio::time::sleep(SLOW_ANSWER).await;
        }
        Ok(answer(payment_id, approved))
    }

    async fn charge_of(&self, order_id: Uuid) -> Result<Option<ChargeRecord>, GatewayError> {
        let charge: Option<(String, bool, bool)> = sqlx::query_as(
            "SELECT payment_id, approved, refund_id IS NOT NULL FROM sandbox_charges WHERE order_id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(ledger_error)?;
        Ok(charge.map(|(payment_id, approved, refunded)| ChargeRecord {
            charge: answer(payment_id, approved),
            refunded,
        }))
    }

    async fn refund(&self, payment_id: &str, _amount: Money) -> Result<String, GatewayError> {
        let refund_id = format!("re_{payment_id}");
        let refunded = sqlx::query(
            "UPDATE sandbox_charges SET refund_id = $2, refunded_at = coalesce(refunded_at, now()) \
             WHERE payment_id = $1 AND approved AND refundable_at <= now()",
        )
        .bind(payment_id)
        .bind(&refund_id)
        .execute(&self.pool)
        .await
        .map_err(ledger_error)?
        .rows_affected();
        if refunded == 0 {
            return Err(GatewayError(format!(
                "no approved charge {payment_id} can be refunded now"
            )));
        }
        Ok(refund_id)
    }
}
