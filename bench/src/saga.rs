//! Orders through the whole saga: how long from `POST /orders` until
//! InventoryReserved and OrderShipped are on NATS, at a steady rate and at
//! saturation.

use crate::load::place_order_request;
use crate::setup::Shop;
use anyhow::Context;
use futures::StreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Latencies of one run.
pub struct SagaMeasured {
    pub orders: usize,
    pub orders_per_second: f64,
    pub reserved_p50: Duration,
    pub reserved_p99: Duration,
    pub shipped_p50: Duration,
    pub shipped_p99: Duration,
}

#[derive(Default)]
struct Timeline {
    posted: HashMap<String, Instant>,
    reserved: HashMap<String, Instant>,
    shipped: HashMap<String, Instant>,
}

/// How the orders arrive.
#[derive(Debug, Clone, Copy)]
pub enum Arrival {
    /// One order every `1 / rate` seconds.
    Steady { per_second: u32 },
    /// `clients` clients, each ordering as fast as answers come.
    Saturated { clients: usize },
}

pub async fn run(
    shop: &Shop,
    nats_url: &str,
    arrival: Arrival,
    duration: Duration,
) -> anyhow::Result<SagaMeasured> {
    let client = async_nats::connect(nats_url)
        .await
        .context("connect to NATS")?;
    let mut events = client.subscribe("events.order.>").await?;
    let timeline = Arc::new(Mutex::new(Timeline::default()));
    let watcher = {
        let timeline = timeline.clone();
        tokio::spawn(async move {
            while let Some(message) = events.next().await {
                let at = Instant::now();
                let Ok(body) = serde_json::from_slice::<Value>(&message.payload) else {
                    continue;
                };
                let Some(order) = body["orderId"].as_str().map(str::to_string) else {
                    continue;
                };
                let mut timeline = timeline.lock().unwrap_or_else(|e| e.into_inner());
                match message.subject.as_str() {
                    "events.order.InventoryReserved" => timeline.reserved.insert(order, at),
                    "events.order.OrderShipped" => timeline.shipped.insert(order, at),
                    _ => None,
                };
            }
        })
    };

    let started = Instant::now();
    let place = |client: usize| {
        let timeline = timeline.clone();
        let request = place_order_request(shop, client);
        async move {
            let sent = Instant::now();
            let response = request.send().await.ok()?;
            let body: Value = response.json().await.ok()?;
            let id = body["id"].as_str()?.to_string();
            timeline
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .posted
                .insert(id, sent);
            Some(())
        }
    };
    match arrival {
        Arrival::Steady { per_second } => {
            let mut ticker =
                tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(per_second)));
            let mut in_flight = Vec::new();
            let mut n = 0;
            while started.elapsed() < duration {
                ticker.tick().await;
                in_flight.push(tokio::spawn(place(n)));
                n += 1;
            }
            for task in in_flight {
                let _ = task.await;
            }
        }
        Arrival::Saturated { clients } => {
            let workers = (0..clients).map(|client| {
                let place = &place;
                async move {
                    while started.elapsed() < duration {
                        place(client).await;
                    }
                }
            });
            futures::future::join_all(workers).await;
        }
    }

    let total = timeline
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .posted
        .len();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = timeline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shipped
            .len();
        if done >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watcher.abort();
    let timeline = timeline.lock().unwrap_or_else(|e| e.into_inner());
    let latencies = |to: &HashMap<String, Instant>| {
        let mut all: Vec<Duration> = timeline
            .posted
            .iter()
            .filter_map(|(id, sent)| to.get(id).map(|at| at.duration_since(*sent)))
            .collect();
        all.sort();
        all
    };
    let reserved = latencies(&timeline.reserved);
    let shipped = latencies(&timeline.shipped);
    anyhow::ensure!(!shipped.is_empty(), "no order shipped");
    let last_shipped = timeline.shipped.values().max().copied().unwrap_or(started);
    let at = crate::load::percentile;
    Ok(SagaMeasured {
        orders: shipped.len(),
        orders_per_second: shipped.len() as f64
            / last_shipped.duration_since(started).as_secs_f64(),
        reserved_p50: at(&reserved, 0.5),
        reserved_p99: at(&reserved, 0.99),
        shipped_p50: at(&shipped, 0.5),
        shipped_p99: at(&shipped, 0.99),
    })
}
