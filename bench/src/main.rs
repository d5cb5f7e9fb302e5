//! `atlantic-bench`: measures command throughput and latency of a running
//! command API at several client counts, and pgbench's TPS for a one-row insert
//! transaction on the same database as the ceiling. Prints Markdown.

mod load;
mod pgbench;
mod read;
mod saga;
mod setup;

use clap::Parser;
use std::time::Duration;

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
    /// Orders per second of the steady-rate saga run.
    #[arg(long, default_value_t = 50)]
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
    let shop = setup::Shop::create(&args.api, 200).await?;
    match args.phase {
        Phase::Commands => commands(&args, &shop, duration).await,
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

async fn reads(args: &Args, duration: Duration) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
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
            "| search ({} adapter) | {clients} | {:.0} | {:.2} | {:.2} |",
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
    let lags = read::update_lag(
        &http,
        &args.api,
        &args.query_api,
        (&args.clickhouse_url, &args.clickhouse_database),
        &args.admin_token,
        &products,
        50,
    )
    .await?;
    println!();
    println!("| product update ➜ visible in | p50 ms | p99 ms |");
    println!("|---|---:|---:|");
    let search = format!("search ({} adapter)", args.search_adapter);
    for (name, lag) in [
        (search.as_str(), &lags.search),
        ("cache", &lags.cache),
        ("analytics", &lags.analytics),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} |",
            ms(load::percentile(lag, 0.5)),
            ms(load::percentile(lag, 0.99))
        );
    }
    Ok(())
}
