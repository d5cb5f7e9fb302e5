//! `atlantic`: runs, migrates and administers Atlantic. Every flag also reads the
//! environment variable named in its help.

mod cli;
mod telemetry;

use clap::Parser;

/// mimalloc instead of the system allocator: a command allocates and frees
/// many small buffers (HTTP, JSON, rows), and glibc's malloc took about a
/// sixth of the command API's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    telemetry::init();
    cli.run().await
}
