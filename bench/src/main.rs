//! `atlantic-bench`: measures command throughput and latency of a running
//! command API at several client counts, and pgbench's TPS for a one-row insert
//! transaction on the same database as the ceiling. Prints Markdown.

mod history;
mod load;
mod pgbench;
mod read;
mod saga;
mod setup;

use clap::Parser;
use std::time::{Duration, Instant};

/// Benchmark a running Atlantic command API.
#[derive(Parser)]
struct Args {
    /// The command API under test.
    #[arg(long, env = "BENCH_API", default_value = "http://127.0.0.1:18080")]
    api: String,
    /// The database the API writes to (pgbench runs on it too).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Client counts to measure at.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    clients: Vec<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The NATS server the API publishes to (for the saga's latencies).
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Orders per second of the steady-rate saga run (the target's rate).
    #[arg(long, default_value_t = 100)]
    steady_rate: u32,
    /// The query API (read phase).
    #[arg(
        long,
        env = "BENCH_QUERY_API",
        default_value = "http://127.0.0.1:18081"
    )]
    query_api: String,
    /// ClickHouse's HTTP interface and database (read phase).
    #[arg(long, env = "CLICKHOUSE_URL", default_value = "http://127.0.0.1:8123")]
    clickhouse_url: String,
    /// The ClickHouse database (read phase).
    #[arg(long, env = "CLICKHOUSE_DATABASE", default_value = "atlantic")]
    clickhouse_database: String,
    /// An admin's bearer token (read phase: renames products).
    #[arg(long, env = "BENCH_ADMIN_TOKEN", default_value = "")]
    admin_token: String,
    /// The search adapter the query API runs on (read phase; a label).
    #[arg(long, default_value = "Postgres")]
    search_adapter: String,
    /// Clients of the saturated saga run.
    #[arg(long, default_value_t = 32)]
    saturation_clients: usize,
    /// Products the benchmark's seller lists for the command load.
    #[arg(long, default_value_t = 200)]
    products: usize,
    /// Read phase: first measure the commands too, as the commands phase does.
    #[arg(long)]
    with_commands: bool,
    /// Read phase: inventory adjustments appended to each of the benchmark's
    /// products before measuring (a long history per aggregate); one command
    /// on each follows, which writes the snapshot when the history ends one
    /// short of a multiple of 100.
    #[arg(long, default_value_t = 0)]
    history: usize,
    /// Commands phase: events each product of the history comparison holds
    /// (0: no comparison).
    #[arg(long, default_value_t = 10_000)]
    long_history: usize,
    /// Commands phase: products on each side of the history comparison.
    #[arg(long, default_value_t = 32)]
    history_products: usize,
    /// Read phase: copies of the seeded catalogue added until the store holds
    /// this many products (0: the catalogue as seeded).
    #[arg(long, default_value_t = 0)]
    catalogue_size: usize,
    /// Read phase: inventory adjustments per second sent while the update
    /// lag is measured a second time (0: no second measurement).
    #[arg(long, default_value_t = 1000)]
    lag_load: u32,
    /// What to measure: `commands` (needs the command API and the relay),
    /// `saga` (needs the saga running too).
    #[arg(long, value_enum)]
    phase: Phase,
}

/// A part of the benchmark.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// Command throughput and latency against pgbench.
    Commands,
    /// Orders through the whole saga.
    Saga,
    /// Search, product detail and update lag on the seeded catalogue.
    Read,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let duration = Duration::from_secs(args.seconds);
    if args.phase == Phase::Read {
        return reads(&args, duration).await;
    }
    let shop = setup::Shop::create(&args.api, args.products).await?;
    match args.phase {
        Phase::Commands => {
            commands(&args, &shop, duration).await?;
            history_comparison(&args, &shop, duration).await
        }
        Phase::Saga => sagas(&args, &shop, duration).await,
        Phase::Read => Ok(()),
    }
}

async fn commands(args: &Args, shop: &setup::Shop, duration: Duration) -> anyhow::Result<()> {
    println!("| workload | clients | ops/s | p50 ms | p99 ms | pgbench TPS | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for &clients in &args.clients {
        let ceiling = pgbench::one_row_insert_tps(&args.database_url, clients, duration)?;
        for workload in [
            load::Workload::InventoryAdjustment,
            load::Workload::OrderCreation,
        ] {
            let result = load::run(shop, workload, clients, duration).await?;
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} |",
                workload.name(),
                clients,
                result.per_second,
                result.p50.as_secs_f64() * 1000.0,
                result.p99.as_secs_f64() * 1000.0,
                ceiling,
                result.per_second / ceiling,
            );
        }
    }
    Ok(())
}

/// The same adjustments on products just listed and on products whose
/// history holds `--long-history` events, alternately at each client count,
/// in one store: what an aggregate's history costs a command, apart from
/// what the size of the store costs it.
async fn history_comparison(
    args: &Args,
    shop: &setup::Shop,
    duration: Duration,
) -> anyhow::Result<()> {
    if args.long_history < 3 {
        return Ok(());
    }
    let fresh = shop.with_new_products(args.history_products).await?;
    let long = shop.with_new_products(args.history_products).await?;
    // Listed (1) + appended + one command through the API, which loads the
    // whole history once and writes the snapshot the store would hold.
    history::append_adjustments(&args.database_url, &long.products, args.long_history - 2)?;
    for &product in &long.products {
        setup::adjust(&long, product).await?;
    }
    history::wait_published(&args.database_url, Duration::from_secs(600)).await?;
    history::settle(&args.database_url)?;
    println!();
    println!(
        "| inventory adjustment on {} products | clients | ops/s | p50 ms | p99 ms | against fresh (ops/s, p99) |",
        args.history_products
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for &clients in &args.clients {
        // In the order fresh, long, long, fresh, each side's figures the
        // mean of its two runs: a drift of the host over the four runs
        // weighs on both sides alike.
        let workload = load::Workload::InventoryAdjustment;
        let mut runs = Vec::new();
        for shop in [&fresh, &long, &long, &fresh] {
            runs.push(load::run(shop, workload, clients, duration).await?);
        }
        let short = load::Measured::mean(&runs[0], &runs[3]);
        let with_history = load::Measured::mean(&runs[1], &runs[2]);
        for (label, m) in [
            ("just listed", &short),
            (
                &*format!("{} events each", args.long_history),
                &with_history,
            ),
        ] {
            println!(
                "| {label} | {clients} | {:.0} | {:.2} | {:.2} | {:.2} × / {:.2} × |",
                m.per_second,
                ms(m.p50),
                ms(m.p99),
                m.per_second / short.per_second,
                m.p99.as_secs_f64() / short.p99.as_secs_f64(),
            );
        }
    }
    Ok(())
}

async fn sagas(args: &Args, shop: &setup::Shop, duration: Duration) -> anyhow::Result<()> {
    println!("| saga run | orders shipped | orders/s | POST ➜ InventoryReserved p50 / p99 ms | POST ➜ OrderShipped p50 / p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for (label, arrival) in [
        (
            format!("steady {} orders/s", args.steady_rate),
            saga::Arrival::Steady {
                per_second: args.steady_rate,
            },
        ),
        (
            format!("saturation, {} clients", args.saturation_clients),
            saga::Arrival::Saturated {
                clients: args.saturation_clients,
            },
        ),
    ] {
        let m = saga::run(shop, &args.nats_url, arrival, duration).await?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| {label} | {} | {:.0} | {:.1} / {:.1} | {:.1} / {:.1} |",
            m.orders,
            m.orders_per_second,
            ms(m.reserved_p50),
            ms(m.reserved_p99),
            ms(m.shipped_p50),
            ms(m.shipped_p99),
        );
    }
    Ok(())
}

/// Grows the store as `--catalogue-size` and `--history` ask, and reports
/// how long the relay and the projectors took to apply the new events.
async fn grow(args: &Args, shop: &setup::Shop) -> anyhow::Result<()> {
    let limit = Duration::from_secs(3600);
    if args.catalogue_size > 0 {
        let started = Instant::now();
        let added = history::copy_catalogue(&args.database_url, args.catalogue_size)?;
        let products = history::product_count(&args.database_url)?;
        history::wait_products_applied(&args.database_url, products, limit).await?;
        let took = started.elapsed().as_secs_f64();
        println!(
            "catalogue: {added} copies of seeded products written to the store; search, cache and analytics \
             held all {products} products {took:.1} s later ({:.0} products/s)",
            added as f64 / took
        );
    }
    if args.history > 0 {
        let started = Instant::now();
        history::append_adjustments(&args.database_url, &shop.products, args.history)?;
        let written = started.elapsed().as_secs_f64();
        history::wait_applied(&args.database_url, &shop.products, args.history + 1, limit).await?;
        let took = started.elapsed().as_secs_f64();
        // One command on each product through the API: it loads the whole
        // history once and, when its sequence reaches a multiple of the
        // snapshot size, writes the snapshot the store would hold by now.
        for &product in &shop.products {
            setup::adjust(shop, product).await?;
        }
        history::wait_applied(&args.database_url, &shop.products, args.history + 2, limit).await?;
        let events = args.history * shop.products.len();
        println!(
            "history: {events} inventory adjustments ({} per product) written to the store in {written:.1} s; \
             relay and projectors applied them {took:.1} s after the start ({:.0} events/s)",
            args.history,
            events as f64 / took
        );
    }
    println!(
        "store: {} events, {} products",
        history::event_count(&args.database_url)?,
        history::product_count(&args.database_url)?
    );
    println!();
    Ok(())
}

async fn reads(args: &Args, duration: Duration) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let shop = setup::Shop::create(&args.api, args.products).await?;
    grow(args, &shop).await?;
    println!("| read | clients | requests/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    let products = read::some_products(&http, &args.query_api).await?;
    let details: Vec<String> = products
        .iter()
        .map(|id| format!("/products/{id}"))
        .collect();
    for clients in [1, 8] {
        let m = read::gets(
            &http,
            &args.query_api,
            &read::search_paths(),
            clients,
            duration,
        )
        .await?;
        println!(
            "| search ({} adapter), {} queries asked again and again | {clients} | {:.0} | {:.2} | {:.2} |",
            args.search_adapter,
            read::search_paths().len(),
            m.per_second,
            ms(m.p50),
            ms(m.p99)
        );
        let m = read::gets_of(
            &http,
            &args.query_api,
            read::unrepeated_search_path,
            clients,
            duration,
        )
        .await?;
        println!(
            "| search ({} adapter), every query asked once | {clients} | {:.0} | {:.2} | {:.2} |",
            args.search_adapter,
            m.per_second,
            ms(m.p50),
            ms(m.p99)
        );
        let m = read::gets(&http, &args.query_api, &details, clients, duration).await?;
        println!(
            "| product detail (cache) | {clients} | {:.0} | {:.2} | {:.2} |",
            m.per_second,
            ms(m.p50),
            ms(m.p99)
        );
    }
    let update_lag = |rounds| {
        read::update_lag(
            &http,
            &args.api,
            &args.query_api,
            (&args.clickhouse_url, &args.clickhouse_database),
            &args.admin_token,
            &products,
            rounds,
        )
    };
    let idle = update_lag(50).await?;
    println!();
    println!("| product update ➜ visible in | load | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|");
    print_lags(&args.search_adapter, "none", &idle);
    if args.lag_load > 0 {
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let measured = async {
            let lags = update_lag(100).await;
            drop(done);
            lags
        };
        let load = load::steady_adjustments(&shop, args.lag_load, async {
            let _ = finished.await;
        });
        let (lags, steady) = tokio::join!(measured, load);
        print_lags(
            &args.search_adapter,
            &format!(
                "{} adjustments/s asked, {:.0}/s answered, {} failed",
                args.lag_load, steady.per_second, steady.failed
            ),
            &lags?,
        );
    }
    // Last: the orders these commands place keep the saga busy for a while.
    if args.with_commands {
        println!();
        commands(args, &shop, duration).await?;
    }
    Ok(())
}

/// One row per read model of the update-lag table.
fn print_lags(search_adapter: &str, load: &str, lags: &read::Lags) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let load = format!("{load}; {} renames", lags.search.len());
    let load = match lags.missed {
        0 => load,
        missed => format!(
            "{load}; {missed} arrivals not seen within {:?}, counted as that",
            read::WAIT
        ),
    };
    let search = format!("search ({search_adapter} adapter)");
    for (name, lag) in [
        (search.as_str(), &lags.search),
        ("cache", &lags.cache),
        ("analytics", &lags.analytics),
    ] {
        println!(
            "| {name} | {load} | {:.1} | {:.1} |",
            ms(load::percentile(lag, 0.5)),
            ms(load::percentile(lag, 0.99))
        );
    }
}
