//! The projector runtime: a durable pull consumer per projection, batches,
//! explicit acks, retries with backoff, dead letters, and lag in `/metrics`.

use crate::Envelope;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use atlantic_command_api::metrics::Metrics;
use atlantic_command_api::streams::EVENTS_STREAM;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

/// Events in one batch at most.
const BATCH: usize = 500;

/// A read model fed by events.
#[async_trait::async_trait]
pub trait Projection: Send + Sync + 'static {
    /// The name (durable consumer `projection-<name>`, metrics label).
    fn name(&self) -> &'static str;

    /// The stream it consumes.
    fn stream(&self) -> &'static str {
        EVENTS_STREAM
    }

    /// The subjects it consumes.
    fn subjects(&self) -> Vec<String>;

    /// Applies a batch in stream order. Must be idempotent: a batch may be
    /// delivered again after a crash.
    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()>;
}

/// Runs one projection until shutdown.
pub struct ProjectorRunner {
    js: jetstream::Context,
    projection: Arc<dyn Projection>,
    metrics: Metrics,
    max_deliveries: i64,
}

impl ProjectorRunner {
    /// A runner of `projection` on the events stream of `js`.
    pub fn new(js: jetstream::Context, projection: Arc<dyn Projection>, metrics: Metrics) -> Self {
        ProjectorRunner {
            js,
            projection,
            metrics,
            max_deliveries: 5,
        }
    }

    /// Consumes until `shutdown`, finishing the batch in hand; restarts the
    /// consumer after failures.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(error) = self.consume(&shutdown).await {
                warn!(
                    projection = self.projection.name(),
                    error = format!("{error:#}"),
                    "projector failed; restarting"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    async fn consume(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let name = format!("projection-{}", self.projection.name());
        let subjects = self.projection.subjects();
        // NATS before 2.10 ignores `filter_subjects`; one subject goes in the
        // filter every version knows, several are filtered here.
        let (filter_subject, filter_subjects) = match subjects.as_slice() {
            [one] => (one.clone(), Vec::new()),
            _ => (String::new(), Vec::new()),
        };
        let stream = self
            .js
            .get_stream(self.projection.stream())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open stream: {e}"))?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                &name,
                pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject,
                    filter_subjects,
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    max_ack_pending: 20_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot create consumer {name}: {e}"))?;
        let label = format!("projection=\"{}\"", self.projection.name());
        while !shutdown.is_cancelled() {
            let mut batch = consumer
                .fetch()
                .max_messages(BATCH)
                .expires(Duration::from_millis(500))
                .messages()
                .await
                .map_err(|e| anyhow::anyhow!("fetch failed: {e}"))?;
            let mut messages = Vec::new();
            while let Some(message) = batch.next().await {
                messages.push(message.map_err(|e| anyhow::anyhow!("fetch failed: {e}"))?);
            }
            let (mine, others): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| {
                subjects
                    .iter()
                    .any(|s| subject_matches(s, m.subject.as_str()))
            });
            for other in others {
                if let Err(e) = other.ack().await {
                    warn!(error = %e, "cannot acknowledge a message of another subject");
                }
            }
            if !mine.is_empty() {
                self.settle(mine).await;
            }
            let mut info = consumer.clone();
            if let Ok(info) = info.info().await {
                self.metrics.set(
                    "atlantic_projection_lag_events",
                    &label,
                    info.num_pending as i64,
                );
            }
        }
        Ok(())
    }

    /// Applies a batch; when it fails, applies its events one by one so only
    /// the failing ones are retried or parked.
    async fn settle(&self, messages: Vec<jetstream::Message>) {
        let label = format!("projection=\"{}\"", self.projection.name());
        let envelopes: Vec<Option<Envelope>> = messages
            .iter()
            .map(|m| Envelope::from_message(m).ok())
            .collect();
        let all: Option<Vec<Envelope>> = envelopes.iter().cloned().collect();
        if let Some(all) = all {
            if self.projection.apply(&all).await.is_ok() {
                for message in &messages {
                    if let Err(e) = message.ack().await {
                        warn!(error = %e, "cannot acknowledge; the event will be applied again");
                    }
                }
                self.metrics.add(
                    "atlantic_projection_events_total",
                    &label,
                    messages.len() as i64,
                );
                return;
            }
        }
        for (message, envelope) in messages.iter().zip(envelopes) {
            let outcome = match &envelope {
                Some(envelope) => self.projection.apply(std::slice::from_ref(envelope)).await,
                None => Err(anyhow::anyhow!("the message is not a published event")),
            };
            let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
            let ack = match outcome {
                Ok(()) => {
                    self.metrics
                        .add("atlantic_projection_events_total", &label, 1);
                    message.ack().await
                }
                Err(error) if delivered >= self.max_deliveries || envelope.is_none() => {
                    error!(
                        projection = self.projection.name(),
                        error = format!("{error:#}"),
                        "parking an event"
                    );
                    let subject = format!("deadletter.projection-{}", self.projection.name());
                    let mut headers = message.headers.clone().unwrap_or_default();
                    headers.insert(
                        "Atlantic-Error",
                        format!("{error:#}").replace(['\r', '\n'], " ").as_str(),
                    );
                    let parked = match self
                        .js
                        .publish_with_headers(subject, headers, message.payload.clone())
                        .await
                    {
                        Ok(ack) => ack.await.is_ok(),
                        Err(_) => false,
                    };
                    if !parked {
                        continue;
                    }
                    self.metrics
                        .add("atlantic_projection_dead_letters_total", &label, 1);
                    message.ack_with(AckKind::Term).await
                }
                Err(error) => {
                    warn!(
                        projection = self.projection.name(),
                        error = format!("{error:#}"),
                        "projection failed; retrying"
                    );
                    self.metrics
                        .add("atlantic_projection_retries_total", &label, 1);
                    let delay = Duration::from_millis(100 * 2u64.pow(delivered.clamp(0, 6) as u32));
                    message.ack_with(AckKind::Nak(Some(delay))).await
                }
            };
            if let Err(e) = ack {
                warn!(error = %e, "cannot acknowledge; the event will be applied again");
            }
        }
    }
}

/// Whether `subject` matches the NATS subject `pattern` (`*` one token, `>` the rest).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut tokens = subject.split('.');
    for part in pattern.split('.') {
        match (part, tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (expected, Some(token)) if expected == token => {}
            _ => return false,
        }
    }
    tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn subjects_match_like_nats() {
        assert!(subject_matches(
            "events.product.>",
            "events.product.created"
        ));
        assert!(!subject_matches(
            "events.product.>",
            "events.seller.created"
        ));
        assert!(!subject_matches("events.product.>", "events.product"));
        assert!(subject_matches("events.*.created", "events.user.created"));
        assert!(subject_matches("clicks.>", "clicks.tracked"));
        assert!(!subject_matches(
            "events.order.OrderCreated",
            "events.order.OrderCreated.x"
        ));
    }
}
