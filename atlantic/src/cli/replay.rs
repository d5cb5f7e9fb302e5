//! `atlantic replay`: read models rebuilt from the events table, each
//! rebuild the read-model list names.

use super::args::Replay;
use atlantic::system::Connections;
use atlantic_projections::replay::{Progress, ReplaySummary};
use indicatif::{ProgressBar, ProgressStyle};

pub(super) async fn replay_read_models(args: Replay) -> anyhow::Result<()> {
    let models = args.projection.read_models();
    let analytics = models.iter().any(|model| model.needs_analytics());
    // Postgres and Redis (and ClickHouse for analytics): a replay reads the
    // events table, not NATS.
    let connections = Connections::open(&args.config()).await?;
    let stores = connections.stores(analytics).await?;
    for model in models {
        let rebuilds = model.rebuilds(&stores);
        if rebuilds.is_empty() {
            println!("{}: nothing to replay", model.name());
        }
        for rebuild in rebuilds {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>24} {bar:40} {pos}/{len} events, {msg}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(rebuild.target());
            let progress = |p: Progress| {
                bar.set_length(p.total.max(p.applied));
                bar.set_position(p.applied);
                bar.set_message(format!("{:.0} events/s", p.per_second));
            };
            let summary = rebuild.run(&stores, args.dry_run, &progress).await?;
            bar.finish();
            report(rebuild.target(), args.dry_run, summary);
        }
    }
    Ok(())
}

/// Prints what the replay of `what` did.
fn report(what: &str, dry_run: bool, summary: ReplaySummary) {
    let verb = if dry_run { "would replay" } else { "replayed" };
    println!(
        "{what}: {verb} {} events in {:.1} s ({:.0} events/s)",
        summary.events,
        summary.seconds,
        summary.events as f64 / summary.seconds.max(1e-3)
    );
}
