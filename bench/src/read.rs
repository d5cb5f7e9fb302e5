//! The read side: search and product-detail throughput and latency on the
//! seeded catalogue, and how long a product update takes to become visible in
//! search, the cache and analytics.

use crate::load::Measured;
use futures::future::join_all;
use rand::seq::SliceRandom;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Queries a shopper might type, typos included.
const QUERIES: [&str; 10] = [
    "q=laptop",
    "q=lapotp",
    "q=baby%20shoes",
    "q=samsung&sort=price:asc",
    "q=rocker",
    "q=gaming%20laptop&minPrice=50000",
    "q=backpack&inStock=true",
    "category=electronics%20%3E%20mobile&sort=price:desc",
    "q=toys&page=2",
    "q=cotton%20romper",
];

/// Closed-loop GETs of `paths` by `clients` clients for `duration`.
pub async fn gets(
    http: &reqwest::Client,
    base: &str,
    paths: &[String],
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    gets_of(
        http,
        base,
        |i| paths[i % paths.len()].clone(),
        clients,
        duration,
    )
    .await
}

/// Closed-loop GETs by `clients` clients for `duration`, the `i`th of all
/// of `path(i)`.
pub async fn gets_of(
    http: &reqwest::Client,
    base: &str,
    path: impl Fn(usize) -> String + Sync,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let path = &path;
    let tasks = (0..clients).map(|client| async move {
        let mut latencies = Vec::new();
        let mut i = client;
        while started.elapsed() < duration {
            let path = path(i);
            let sent = Instant::now();
            let ok = http
                .get(format!("{base}{path}"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            anyhow::ensure!(ok, "GET {path} failed");
            latencies.push(sent.elapsed());
            i += clients;
        }
        Ok(latencies)
    });
    let mut all = Vec::new();
    for result in join_all(tasks).await {
        all.extend(result?);
    }
    Ok(Measured::from_latencies(all, started.elapsed()))
}

/// Search paths.
pub fn search_paths() -> Vec<String> {
    QUERIES
        .iter()
        .map(|q| format!("/products/search?{q}"))
        .collect()
}

/// The search paths again, each asked once: the `i`th with a price limit
/// of its own, a cent below the last one, above every product's price (so
/// the same hits as without it), so no answer can be given from memory.
pub fn unrepeated_search_path(i: usize) -> String {
    let limit = 1_000_000.0 - i as f64 / 100.0;
    format!(
        "/products/search?{}&maxPrice={limit:.2}",
        QUERIES[i % QUERIES.len()]
    )
}

/// Product ids found by a few searches.
pub async fn some_products(http: &reqwest::Client, query_api: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for q in ["laptop", "baby", "mobile", "shoes"] {
        let page: Value = http
            .get(format!("{query_api}/products/search?q={q}&perPage=100"))
            .send()
            .await?
            .json()
            .await?;
        ids.extend(
            page["hits"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h["id"].as_str().map(str::to_string)),
        );
    }
    ids.shuffle(&mut rand::thread_rng());
    anyhow::ensure!(!ids.is_empty(), "the catalogue is not seeded");
    Ok(ids)
}

/// Commit ➜ visible lags of one read model, in order.
pub struct Lags {
    pub search: Vec<Duration>,
    pub cache: Vec<Duration>,
    pub analytics: Vec<Duration>,
    /// Updates that did not show in a read model within [`WAIT`].
    pub missed: usize,
}

/// How long an update is waited for in each read model.
pub const WAIT: Duration = Duration::from_secs(30);

/// How long one update-lag measurement may go on starting renames (a read
/// model far behind makes each round wait up to [`WAIT`]).
const BUDGET: Duration = Duration::from_secs(90);

/// The JSON body of a GET of `url`.
async fn get_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http.get(url).send().await?.json().await?)
}

/// How long after `committed` `shows` first answered true, asking every
/// 2 ms; `None` when it did not within [`WAIT`].
async fn visible_after<F, Fut>(committed: Instant, mut shows: F) -> anyhow::Result<Option<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    while committed.elapsed() < WAIT {
        if shows().await? {
            return Ok(Some(committed.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(None)
}

/// Renames `rounds` products (as `admin_token`; fewer when [`BUDGET`] runs
/// out) and measures, for each, the time from the command's answer to the
/// new name showing in each read model.
pub async fn update_lag(
    http: &reqwest::Client,
    command_api: &str,
    query_api: &str,
    clickhouse: (&str, &str),
    admin_token: &str,
    products: &[String],
    rounds: usize,
) -> anyhow::Result<Lags> {
    let mut lags = Lags {
        search: Vec::new(),
        cache: Vec::new(),
        analytics: Vec::new(),
        missed: 0,
    };
    let started = Instant::now();
    for (round, product) in products.iter().cycle().take(rounds).enumerate() {
        if started.elapsed() > BUDGET {
            break;
        }
        let word = format!("zq{round}x{}", rand::random::<u32>());
        let response = http
            .patch(format!("{command_api}/products/{product}"))
            .bearer_auth(admin_token)
            .json(&json!({"name": format!("Renamed {word}")}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "rename failed: {}",
            response.status()
        );
        let committed = Instant::now();
        // Each read model is asked by a loop of its own, so a slow answer of
        // one (ClickHouse's `FINAL`) does not delay noticing another.
        let search_page = || async {
            let page = get_json(http, &format!("{query_api}/products/search?q={word}")).await?;
            Ok(page["total"].as_u64() == Some(1))
        };
        let cached = || async {
            let doc = get_json(http, &format!("{query_api}/products/{product}")).await?;
            Ok(doc["name"].as_str().is_some_and(|n| n.contains(&word)))
        };
        let analysed = || async {
            let sql = format!(
                "SELECT name FROM `{}`.products FINAL WHERE product_id = '{product}'",
                clickhouse.1
            );
            let name = http
                .post(clickhouse.0)
                .body(sql)
                .send()
                .await?
                .text()
                .await?;
            Ok(name.contains(&word))
        };
        let (search, cache, analytics) = tokio::join!(
            visible_after(committed, search_page),
            visible_after(committed, cached),
            visible_after(committed, analysed),
        );
        let (search, cache, analytics) = (search?, cache?, analytics?);
        // One that never arrived counts as the whole wait, and is counted.
        for (lag, arrived) in [
            (&mut lags.search, search),
            (&mut lags.cache, cache),
            (&mut lags.analytics, analytics),
        ] {
            lag.push(arrived.unwrap_or(WAIT));
            lags.missed += usize::from(arrived.is_none());
        }
    }
    for lag in [&mut lags.search, &mut lags.cache, &mut lags.analytics] {
        lag.sort();
    }
    Ok(lags)
}
