//! `atlantic`: runs, migrates and administers Atlantic. Every flag also reads the
//! environment variable named in its help.

mod cli;
mod telemetry;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    telemetry::init();
    cli.run().await
}
