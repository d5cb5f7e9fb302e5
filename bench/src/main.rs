//! `atlantic-bench`: measures command throughput and latency of a running
//! command API at several client counts, and pgbench's TPS for a one-row insert
//! transaction on the same database as the ceiling. Prints Markdown.

mod load;
mod pgbench;
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let duration = Duration::from_secs(args.seconds);
    let shop = setup::Shop::create(&args.api, 200).await?;
    println!("| workload | clients | ops/s | p50 ms | p99 ms | pgbench TPS | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for &clients in &args.clients {
        let ceiling = pgbench::one_row_insert_tps(&args.database_url, clients, duration)?;
        for workload in [
            load::Workload::InventoryAdjustment,
            load::Workload::OrderCreation,
        ] {
            let result = load::run(&shop, workload, clients, duration).await?;
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
