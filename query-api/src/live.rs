//! Live order status: one NATS subscription per process to the order events,
//! fanned out to every open event stream of `GET /orders/{id}/events`.

use atlantic_platform::headers;
use atlantic_platform::supervisor::until_shutdown;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Order events held for streams that fall behind; one that falls further
/// is closed (its client comes back with `Last-Event-ID`).
const BUFFER: usize = 4096;
/// Event streams one user may hold open at once.
pub const MAX_STREAMS_PER_USER: usize = 5;

/// One order event as published.
#[derive(Debug)]
pub struct LiveEvent {
    /// The order.
    pub order_id: Uuid,
    /// Its sequence within the order.
    pub sequence: i64,
    /// Its name (`OrderShipped`), the last part of its subject.
    pub name: String,
    /// The published body (the brief's JSON).
    pub body: String,
}

/// The order events of this process's subscription, and who listens.
#[derive(Clone)]
pub struct LiveOrders {
    nats: async_nats::Client,
    sender: broadcast::Sender<Arc<LiveEvent>>,
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// An open stream of a user, counted until dropped.
pub struct Slot {
    user: Uuid,
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(count) = open.get_mut(&self.user) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&self.user);
                }
            }
        }
    }
}

impl LiveOrders {
    /// The feed from `nats` (nothing flows before [`LiveOrders::feed`] runs).
    pub fn new(nats: async_nats::Client) -> Self {
        let (sender, _) = broadcast::channel(BUFFER);
        LiveOrders {
            nats,
            sender,
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Forwards the order events published on NATS to the open streams until
    /// `shutdown`, subscribing again after a failure.
    pub async fn feed(&self, shutdown: CancellationToken) {
        until_shutdown(
            "the live order feed",
            Duration::from_secs(1),
            &shutdown,
            || self.forward(&shutdown),
        )
        .await;
    }

    async fn forward(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let mut subscription = self
            .nats
            .subscribe("events.order.>")
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to the order events: {e}"))?;
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                message = subscription.next() => message,
            };
            let Some(message) = message else {
                anyhow::bail!("the subscription to the order events ended");
            };
            let header = |name: &str| {
                message
                    .headers
                    .as_ref()
                    .and_then(|h| h.get(name))
                    .map(|v| v.as_str().to_string())
            };
            let (Some(order_id), Some(sequence)) = (
                header(headers::AGGREGATE_ID).and_then(|id| Uuid::parse_str(&id).ok()),
                header(headers::SEQUENCE).and_then(|s| s.parse().ok()),
            ) else {
                continue;
            };
            let name = message
                .subject
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            let body = String::from_utf8_lossy(&message.payload).into_owned();
            // No stream open: nobody to tell.
            let _ = self.sender.send(Arc::new(LiveEvent {
                order_id,
                sequence,
                name,
                body,
            }));
        }
    }

    /// The events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }

    /// A slot for one more stream of `user`, unless they hold
    /// [`MAX_STREAMS_PER_USER`] already.
    pub fn open_stream(&self, user: Uuid) -> Option<Slot> {
        let mut open = self.open.lock().ok()?;
        let count = open.entry(user).or_insert(0);
        if *count >= MAX_STREAMS_PER_USER {
            return None;
        }
        *count += 1;
        Some(Slot {
            user,
            open: self.open.clone(),
        })
    }
}
