//! The order saga: a durable JetStream pull consumer of `events.order.>` that
//! sends each order's next command into the write side.
//!
//! Messages are handed to a fixed set of workers by order id, so one order's
//! events are handled one at a time and in order while different orders run in
//! parallel. Every step first reads the order and does nothing unless the
//! order is exactly where that step starts, and every command it sends is
//! idempotent, so a redelivered or duplicated message changes nothing. A step
//! that fails is retried with backoff and, after `max_deliveries`, parked as a
//! dead letter with its error (unless the event store does not answer: an
//! outage is waited out, not parked), and driven again on a long backoff.

mod deadlines;
mod steps;

use anyhow::Context;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use atlantic_domain::order::Order;
use atlantic_domain::payment::Payment;
use atlantic_domain::product::Product;
use atlantic_domain::published::{Published, PublishedEvent};
use atlantic_platform::bus::CommandBus;
use atlantic_platform::buses::Buses;
use atlantic_platform::dead_letters::{self, header_map, DeadLetters, NewLetter, REDRIVE_INTERVAL};
use atlantic_platform::headers;
use atlantic_platform::metadata::CommandMetadata;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::streams::EVENTS_STREAM;
use atlantic_platform::supervisor::until_shutdown;
use futures::StreamExt;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};
use uuid::Uuid;

use crate::carrier::CarrierGateway;
use crate::payment_gateway::PaymentGateway;

/// The durable consumer's name, and the saga's among the consumers that park
/// dead letters.
pub const CONSUMER: &str = "order-saga";

/// How the saga behaves.
#[derive(Debug, Clone)]
pub struct SagaSettings {
    /// How long an order waits for the payment gateway before it is cancelled.
    pub payment_timeout: Duration,
    /// Deliveries of one message before it goes to the dead-letter subject.
    pub max_deliveries: i64,
    /// Orders handled in parallel.
    pub workers: usize,
    /// How often due deadlines are looked for.
    pub deadline_poll: Duration,
    /// How long a delivered message may stay unacknowledged (its handler
    /// crashed) before JetStream delivers it again.
    pub ack_wait: Duration,
    /// The first wait before a parked step (a refund whose gateway is down,
    /// say) is tried again; it doubles up to an hour.
    pub redrive_wait: Duration,
}

impl Default for SagaSettings {
    fn default() -> Self {
        SagaSettings {
            payment_timeout: Duration::from_secs(30),
            max_deliveries: 5,
            workers: 32,
            deadline_poll: Duration::from_millis(200),
            ack_wait: Duration::from_secs(30),
            redrive_wait: dead_letters::FIRST_WAIT,
        }
    }
}

/// The order saga's dependencies.
pub struct OrderSaga {
    inner: Arc<Saga>,
}

struct Saga {
    pool: PgPool,
    js: jetstream::Context,
    orders: Arc<CommandBus<Order>>,
    products: Arc<CommandBus<Product>>,
    payments: Arc<CommandBus<Payment>>,
    gateway: Arc<dyn PaymentGateway>,
    carrier: Arc<dyn CarrierGateway>,
    settings: SagaSettings,
    metrics: Metrics,
    dead_letters: DeadLetters,
}

/// Why a step failed (it will be retried).
type StepResult = anyhow::Result<()>;

impl OrderSaga {
    /// A saga over the event store in `pool` through the process's `buses`,
    /// consuming from `js`.
    pub fn new(
        pool: PgPool,
        buses: &Buses,
        js: jetstream::Context,
        gateway: Arc<dyn PaymentGateway>,
        carrier: Arc<dyn CarrierGateway>,
        settings: SagaSettings,
        metrics: Metrics,
    ) -> Self {
        OrderSaga {
            inner: Arc::new(Saga {
                orders: buses.orders.clone(),
                products: buses.products.clone(),
                payments: buses.payments.clone(),
                dead_letters: DeadLetters::new(pool.clone(), metrics.clone())
                    .with_first_wait(settings.redrive_wait),
                pool,
                js,
                gateway,
                carrier,
                settings,
                metrics,
            }),
        }
    }

    /// Runs until `shutdown`: consumes, watches deadlines, and resumes payments
    /// that were waiting when the process last stopped. Failures of the
    /// consumer restart it after a pause. The deadline watcher and the
    /// redriver are tasks of this run: they end with it, even when it panics.
    pub async fn run(&self, shutdown: CancellationToken) {
        let saga = self.inner.clone();
        saga.resume_pending_payments().await;
        let mut helpers = JoinSet::new();
        helpers.spawn(saga.clone().watch_deadlines(shutdown.clone()));
        helpers.spawn(saga.clone().redrive(shutdown.clone()));
        until_shutdown(
            "order saga consumer",
            Duration::from_secs(1),
            &shutdown,
            || saga.clone().consume(&shutdown),
        )
        .await;
        while helpers.join_next().await.is_some() {}
    }
}

impl Saga {
    async fn consume(self: Arc<Self>, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let stream = self
            .js
            .get_stream(EVENTS_STREAM)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open stream: {e}"))?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                CONSUMER,
                pull::Config {
                    durable_name: Some(CONSUMER.to_string()),
                    filter_subject: "events.order.>".to_string(),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: self.settings.ack_wait,
                    max_ack_pending: 10_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot create consumer: {e}"))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("cannot pull: {e}"))?;

        let mut senders = Vec::with_capacity(self.settings.workers);
        let mut workers = Vec::with_capacity(self.settings.workers);
        for _ in 0..self.settings.workers.max(1) {
            let (sender, receiver) = mpsc::channel::<jetstream::Message>(256);
            senders.push(sender);
            workers.push(tokio::spawn(self.clone().work(receiver)));
        }
        let outcome = loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => break Ok(()),
                next = messages.next() => next,
            };
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(e)) => break Err(anyhow::anyhow!("pull failed: {e}")),
                None => break Err(anyhow::anyhow!("the consumer's message stream ended")),
            };
            let worker = worker_for(&message, senders.len());
            if senders[worker].send(message).await.is_err() {
                break Err(anyhow::anyhow!("a saga worker stopped"));
            }
        };
        drop(senders);
        for worker in workers {
            let _ = worker.await;
        }
        outcome
    }

    async fn work(self: Arc<Self>, mut receiver: mpsc::Receiver<jetstream::Message>) {
        while let Some(message) = receiver.recv().await {
            self.settle(message).await;
        }
    }

    /// Handles one message and acks it, naks it for a retry, or parks it.
    async fn settle(self: &Arc<Self>, message: jetstream::Message) {
        let headers = header_map(message.headers.as_ref());
        let outcome = self
            .handle(message.subject.as_str(), &headers, &message.payload)
            .await;
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        let ack = match outcome {
            Ok(()) => {
                self.metrics
                    .add("atlantic_saga_messages_total", "outcome=\"handled\"", 1);
                message.ack().await
            }
            Err(error)
                if delivered >= self.settings.max_deliveries && self.store_answers().await =>
            {
                self.metrics.add(
                    "atlantic_saga_messages_total",
                    "outcome=\"dead_lettered\"",
                    1,
                );
                let letter =
                    NewLetter::of_message(CONSUMER.to_string(), &message, &error, delivered);
                if let Err(e) = self.dead_letters.park(letter).await {
                    error!(
                        error = format!("{e:#}"),
                        "cannot park the message; it will be redelivered"
                    );
                    return;
                }
                message.ack_with(AckKind::Term).await
            }
            Err(error) => {
                warn!(error = format!("{error:#}"), subject = %message.subject, delivered, "saga step failed; retrying");
                self.metrics
                    .add("atlantic_saga_messages_total", "outcome=\"retried\"", 1);
                let delay = Duration::from_millis(100 * 2u64.pow(delivered.clamp(0, 6) as u32));
                message.ack_with(AckKind::Nak(Some(delay))).await
            }
        };
        if let Err(e) = ack {
            warn!(error = %e, "cannot acknowledge; the message will be redelivered");
        }
    }

    /// Whether the event store answers: a step that fails while it does not
    /// is waited for, never parked.
    async fn store_answers(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Drives parked messages again when they are due, until `shutdown`.
    async fn redrive(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(REDRIVE_INTERVAL) => {}
            }
            if let Err(error) = self.redrive_due().await {
                warn!(
                    error = format!("{error:#}"),
                    "cannot drive the saga's dead letters again"
                );
            }
        }
    }

    async fn redrive_due(self: &Arc<Self>) -> anyhow::Result<()> {
        for letter in self.dead_letters.due(CONSUMER, 100).await? {
            match self
                .handle(&letter.subject, &letter.headers, &letter.payload)
                .await
            {
                Ok(()) => self.dead_letters.resolved(&letter).await?,
                Err(error) => self.dead_letters.failed_again(&letter, &error).await?,
            }
        }
        Ok(())
    }

    async fn handle(
        self: &Arc<Self>,
        subject: &str,
        headers: &BTreeMap<String, String>,
        payload: &[u8],
    ) -> StepResult {
        let header = |name: &str| headers.get(name).and_then(|v| Uuid::parse_str(v).ok());
        let order_id = header(headers::AGGREGATE_ID)
            .ok_or_else(|| anyhow::anyhow!("message without Atlantic-Aggregate-Id"))?;
        let event_id = header(headers::EVENT_ID).unwrap_or_else(Uuid::now_v7);
        let metadata = CommandMetadata {
            correlation_id: header(headers::CORRELATION_ID).unwrap_or(event_id),
            causation_id: event_id,
            user_id: None,
            request_id: None,
        };
        let published: Published = serde_json::from_slice(payload)
            .with_context(|| format!("the body of {subject} is not a published event"))?;
        match published.event {
            PublishedEvent::OrderCreated { .. } => self.validate(order_id, &metadata).await,
            PublishedEvent::OrderValidated {
                is_valid,
                validation_errors,
                ..
            } => {
                self.request_payment(order_id, is_valid, &validation_errors, &metadata)
                    .await
            }
            PublishedEvent::PaymentProcessed { .. } => {
                self.reserve_inventory(order_id, &metadata).await
            }
            PublishedEvent::InventoryReserved { .. } => self.ship(order_id, &metadata).await,
            PublishedEvent::OrderShipped { .. } => {
                self.settle_reservations(order_id, &metadata).await
            }
            PublishedEvent::OrderCancelled { .. } => {
                self.compensate_cancellation(order_id, &metadata).await
            }
            PublishedEvent::OrderReturned { .. } => {
                self.compensate_return(order_id, &metadata).await
            }
            _ => Ok(()),
        }
    }
}

/// The worker for a message: by order id, so one order's events stay in order.
fn worker_for(message: &jetstream::Message, workers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    message
        .headers
        .as_ref()
        .and_then(|h| h.get(headers::AGGREGATE_ID))
        .map(|v| v.as_str().to_string())
        .hash(&mut hasher);
    (hasher.finish() as usize) % workers
}
