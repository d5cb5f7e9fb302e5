//! The projector runtime against a read model whose store goes away: its
//! events wait, none is parked, and each is applied once, in order, when the
//! store answers again.

use crate::support;

use atlantic_platform::metrics::Metrics;
use atlantic_platform::streams;
use atlantic_projections::{Envelope, Projection, ProjectorRunner};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{eventually, TestEnv};
use tokio_util::sync::CancellationToken;

/// A read model kept in memory, with a switch that makes its store "down".
#[derive(Default)]
struct Store {
    down: AtomicBool,
    applied: Mutex<Vec<i64>>,
}

struct Recording(Arc<Store>);

#[async_trait::async_trait]
impl Projection for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.test.>".into()]
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        self.reachable().await?;
        let mut applied = self.0.applied.lock().unwrap();
        applied.extend(events.iter().map(|e| e.sequence));
        Ok(())
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        if self.0.down.load(Ordering::SeqCst) {
            anyhow::bail!("the store is down");
        }
        Ok(())
    }
}

fn retries(metrics: &Metrics) -> i64 {
    metrics
        .render()
        .lines()
        .find_map(|line| {
            line.strip_prefix("atlantic_projection_retries_total{projection=\"recording\"} ")
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_outage_delays_events_and_loses_none() {
    let env = TestEnv::new().await;
    let js = env.nats.jetstream().await;
    streams::ensure(&js).await.unwrap();
    // Any published event will do: the recording applies what it is given.
    let body = serde_json::json!({
        "event": "product.deleted", "timestamp": "2026-01-01T00:00:00Z",
        "productId": uuid::Uuid::nil(),
    })
    .to_string();
    for sequence in 1..=10 {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Atlantic-Aggregate-Type", "Test");
        headers.insert("Atlantic-Aggregate-Id", "a");
        headers.insert("Atlantic-Sequence", sequence.to_string().as_str());
        headers.insert("Atlantic-Position", sequence.to_string().as_str());
        js.publish_with_headers("events.test.happened", headers, body.clone().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let store = Arc::new(Store::default());
    store.down.store(true, Ordering::SeqCst);
    let metrics = Metrics::default();
    let runner = ProjectorRunner::new(
        js.clone(),
        env.pool.clone(),
        Arc::new(Recording(store.clone())),
        metrics.clone(),
    );
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let running = tokio::spawn(async move { runner.run(stop).await });

    // Five tries of the first event, then a run from the checkpoint again.
    eventually(
        Duration::from_secs(60),
        "a second round of tries",
        || async { (retries(&metrics) > 4).then_some(()) },
    )
    .await;
    assert!(env.dead_letters().await.is_empty());
    assert!(store.applied.lock().unwrap().is_empty());

    store.down.store(false, Ordering::SeqCst);
    eventually(Duration::from_secs(60), "every event applied", || async {
        (store.applied.lock().unwrap().len() >= 10).then_some(())
    })
    .await;
    assert_eq!(*store.applied.lock().unwrap(), (1..=10).collect::<Vec<_>>());
    assert!(env.dead_letters().await.is_empty());
    shutdown.cancel();
    running.await.unwrap();
}
