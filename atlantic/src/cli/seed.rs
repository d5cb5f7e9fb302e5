//! `atlantic seed`: the catalogue loaded through the command path.

use atlantic::system::Connections;
use atlantic_application::seed::{self, SeedProgress};

use super::args::Seed;
use indicatif::{ProgressBar, ProgressStyle};

pub(super) async fn seed_catalog(args: Seed) -> anyhow::Result<()> {
    let shop = Connections::open(&args.connections.config())
        .await?
        .shop()
        .await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} listings, {per_sec}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = seed::seed_catalog(
        &shop,
        &args.catalog,
        args.inventory,
        |progress| match progress {
            SeedProgress::Total(total) => bar.set_length(total as u64),
            SeedProgress::Done => bar.inc(1),
        },
    )
    .await?;
    bar.finish();
    println!(
        "created {}, already present {}, skipped without a price {}, rejected {}",
        summary.created, summary.already_present, summary.skipped_without_price, summary.rejected
    );
    Ok(())
}
