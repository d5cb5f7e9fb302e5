//! Closed-loop load: `clients` tasks each send one command after another.

use crate::setup::Shop;
use anyhow::ensure;
use futures::future::join_all;
use futures::stream::{FuturesUnordered, StreamExt};
use rand::Rng;
use serde_json::json;
use std::time::{Duration, Instant};

/// What the clients send.
#[derive(Debug, Clone, Copy)]
pub enum Workload {
    /// `POST /products/{id}/inventory {"adjust": 1}` on random products.
    InventoryAdjustment,
    /// `POST /orders` with two random lines.
    OrderCreation,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::InventoryAdjustment => "inventory adjustment",
            Workload::OrderCreation => "order creation",
        }
    }
}

/// `POST /orders` of two random products by customer number `client`.
pub fn place_order_request(shop: &Shop, client: usize) -> reqwest::RequestBuilder {
    let (a, b) = {
        let mut rng = rand::thread_rng();
        (
            rng.gen_range(0..shop.products.len()),
            rng.gen_range(0..shop.products.len()),
        )
    };
    let second = if a == b {
        (b + 1) % shop.products.len()
    } else {
        b
    };
    shop.http
        .post(format!("{}/orders", shop.api))
        .bearer_auth(&shop.customer_tokens[client % shop.customer_tokens.len()])
        .json(&json!({
            "items": [{"productId": shop.products[a], "quantity": 1},
                      {"productId": shop.products[second], "quantity": 2}],
            "shippingAddress": {"line1": "1 Main St", "city": "Lisbon", "region": "Lisboa",
                                "country": "PT", "postalCode": "1000"},
            "payment": {"token": "tok_visa"},
        }))
}

/// Throughput and latency of one measurement.
pub struct Measured {
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

pub async fn run(
    shop: &Shop,
    workload: Workload,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let tasks = (0..clients).map(|client| async move {
        let mut latencies = Vec::new();
        let mut failures = 0usize;
        while started.elapsed() < duration {
            let product = rand::thread_rng().gen_range(0..shop.products.len());
            let request = match workload {
                Workload::InventoryAdjustment => shop
                    .http
                    .post(format!(
                        "{}/products/{}/inventory",
                        shop.api, shop.products[product]
                    ))
                    .bearer_auth(&shop.seller_token)
                    .json(&json!({"adjust": 1})),
                Workload::OrderCreation => place_order_request(shop, client),
            };
            let sent = Instant::now();
            match request.send().await {
                Ok(response) if response.status().is_success() => latencies.push(sent.elapsed()),
                _ => failures += 1,
            }
        }
        (latencies, failures)
    });
    let results = join_all(tasks).await;
    let elapsed = started.elapsed();
    let failures: usize = results.iter().map(|r| r.1).sum();
    let latencies: Vec<Duration> = results.into_iter().flat_map(|r| r.0).collect();
    ensure!(
        failures == 0,
        "{failures} {} commands failed",
        workload.name()
    );
    ensure!(!latencies.is_empty(), "no command completed");
    Ok(Measured::from_latencies(latencies, elapsed))
}

impl Measured {
    /// The mean of two measurements of the same workload, figure by figure.
    pub fn mean(a: &Measured, b: &Measured) -> Measured {
        Measured {
            per_second: (a.per_second + b.per_second) / 2.0,
            p50: (a.p50 + b.p50) / 2,
            p99: (a.p99 + b.p99) / 2,
        }
    }

    /// Throughput and percentiles of `latencies` gathered over `elapsed`.
    pub fn from_latencies(mut latencies: Vec<Duration>, elapsed: Duration) -> Measured {
        latencies.sort();
        Measured {
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
        }
    }
}

/// The `q` quantile of sorted `latencies` (zero when empty).
pub fn percentile(latencies: &[Duration], q: f64) -> Duration {
    if latencies.is_empty() {
        return Duration::ZERO;
    }
    latencies[((latencies.len() - 1) as f64 * q) as usize]
}

/// What an open-loop load achieved.
pub struct Steady {
    /// Commands answered with success per second.
    pub per_second: f64,
    /// Commands that failed or were refused.
    pub failed: usize,
}

/// Open-loop load: `per_second` inventory adjustments on random products,
/// each sent on its tick whether or not the earlier ones were answered,
/// until `until` completes.
pub async fn steady_adjustments(
    shop: &Shop,
    per_second: u32,
    until: impl std::future::Future<Output = ()>,
) -> Steady {
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(per_second)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = FuturesUnordered::new();
    let (mut answered, mut failed) = (0usize, 0usize);
    let mut count = |result: Result<reqwest::Response, reqwest::Error>| match result {
        Ok(response) if response.status().is_success() => answered += 1,
        _ => failed += 1,
    };
    let started = Instant::now();
    tokio::pin!(until);
    loop {
        tokio::select! {
            () = &mut until => break,
            _ = ticks.tick() => {
                let product = rand::thread_rng().gen_range(0..shop.products.len());
                in_flight.push(
                    shop.http
                        .post(format!("{}/products/{}/inventory", shop.api, shop.products[product]))
                        .bearer_auth(&shop.seller_token)
                        .json(&json!({"adjust": 1}))
                        .send(),
                );
            }
            Some(result) = in_flight.next() => count(result),
        }
    }
    let elapsed = started.elapsed();
    while let Some(result) = in_flight.next().await {
        count(result);
    }
    Steady {
        per_second: answered as f64 / elapsed.as_secs_f64(),
        failed,
    }
}
