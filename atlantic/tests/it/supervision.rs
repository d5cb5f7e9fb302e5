//! The components of `atlantic serve` under supervision: a projector that
//! panics is logged, counted and started again while the rest of the system
//! goes on; a server that cannot run ends the process with an error.

use crate::support;

use atlantic::system::{self, Components};
use atlantic_domain::published::PublishedEvent;
use atlantic_projections::{Envelope, Projection, ProjectorRunner};
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{eventually, TestEnv};
use uuid::Uuid;

/// A read model of product ids whose projection panics on its first batch, as
/// a bug would.
#[derive(Default)]
struct PanicsOnce {
    panicked: AtomicBool,
    products: Mutex<BTreeSet<Uuid>>,
}

struct Buggy(Arc<PanicsOnce>);

#[async_trait::async_trait]
impl Projection for Buggy {
    fn name(&self) -> &'static str {
        "panics-once"
    }

    fn subjects(&self) -> Vec<String> {
        vec!["events.product.>".into()]
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        Ok(())
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        if !self.0.panicked.swap(true, Ordering::SeqCst) {
            panic!("an index out of bounds in the projection");
        }
        let mut products = self.0.products.lock().expect("the products");
        for event in events {
            if let PublishedEvent::ProductCreated { product_id, .. } = event.event() {
                products.insert(*product_id);
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_projector_that_panics_is_started_again_and_the_rest_goes_on() {
    let env = TestEnv::new().await;
    let mut running = system::start(&env.config(), &Components::all())
        .await
        .expect("start the system");
    let store = Arc::new(PanicsOnce::default());
    running.project(ProjectorRunner::new(
        env.nats.jetstream().await,
        env.pool.clone(),
        Arc::new(Buggy(store.clone())),
        atlantic_platform::metrics::Metrics::default(),
    ));
    let command = running.command_api.expect("the command API");
    let query = support::scenario::Api::new(format!(
        "http://{}",
        running.query_api.expect("the query API")
    ));
    let shutdown = running.shutdown();
    let joined = tokio::spawn(running.join());
    let api = support::scenario::Api::new(format!("http://{command}"));

    let seller = api.seller().await;
    let first = api.product(&seller, 5.0, 1).await;
    let second = api.product(&seller, 6.0, 1).await;
    eventually(
        Duration::from_secs(60),
        "the restarted projector to apply both products",
        || async {
            let products = store.products.lock().ok()?.clone();
            (products.contains(&first) && products.contains(&second)).then_some(())
        },
    )
    .await;
    assert!(store.panicked.load(Ordering::SeqCst), "it panicked first");

    // The restart is counted where every component's metrics are, and the
    // other components went on: both products are found.
    let metrics = query.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "atlantic_component_restarts_total{component=\"panics-once\"} 1"),
        "{metrics}"
    );
    eventually(Duration::from_secs(60), "search to find both", || async {
        let found: serde_json::Value = query
            .http
            .get(query.url("/products/search?q=laptop&perPage=50"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let ids: Vec<&str> = found["hits"]
            .as_array()?
            .iter()
            .filter_map(|hit| hit["id"].as_str())
            .collect();
        (ids.contains(&first.to_string().as_str()) && ids.contains(&second.to_string().as_str()))
            .then_some(())
    })
    .await;
    shutdown.cancel();
    joined
        .await
        .expect("the run")
        .expect("a clean stop after a restart");
}

#[tokio::test]
async fn a_server_that_cannot_run_ends_atlantic_serve_with_an_error() {
    let env = TestEnv::new().await;
    // The query API's port is taken.
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_atlantic"))
        .arg("serve")
        .envs(env.child_env())
        .env(
            "COMMAND_API_ADDR",
            format!("127.0.0.1:{}", support::nats::free_port()),
        )
        .env("QUERY_API_ADDR", &addr)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), serve)
        .await
        .expect("atlantic serve ends by itself")
        .expect("run atlantic serve");
    let printed = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(&addr),
        "the error names the port: {printed}"
    );
}
