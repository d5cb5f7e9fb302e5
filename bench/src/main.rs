//! `atlantic-bench`: measures command throughput and latency of a running
//! command API at several client counts, and pgbench's TPS for a one-row insert
//! transaction on the same database as the ceiling. Prints Markdown.

mod load;
mod pgbench;
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let duration = Duration::from_secs(args.seconds);
    let shop = setup::Shop::create(&args.api, 200).await?;
    match args.phase {
        Phase::Commands => commands(&args, &shop, duration).await,
        Phase::Saga => sagas(&args, &shop, duration).await,
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
