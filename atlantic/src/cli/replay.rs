//! `atlantic replay`: read models rebuilt from the events table.

use atlantic_platform::db;
use atlantic_platform::redis_connection;

use super::args::{Replay, ReplayName};
use atlantic_projections::analytics::Analytics;
use atlantic_projections::cache::{CacheProjection, ProductCache};
use atlantic_projections::replay;
use atlantic_projections::reviews;
use indicatif::{ProgressBar, ProgressStyle};

pub(super) async fn replay_read_models(args: Replay) -> anyhow::Result<()> {
    db::migrate(&args.connections.database_url).await?;
    // Postgres and Redis only: a replay reads the events table, not NATS.
    let pool = db::connect(&args.connections.database_url, 4).await?;
    let redis = redis_connection::connect(&args.connections.redis_url).await?;
    let prefix = &args.connections.redis_prefix;
    let names = match args.projection {
        ReplayName::All => vec![
            ReplayName::Search,
            ReplayName::Cache,
            ReplayName::OrderViews,
            ReplayName::Reviews,
            ReplayName::Analytics,
        ],
        one => vec![one],
    };
    for name in names {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} {bar:40} {pos}/{len} events, {msg}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!("{name:?}"));
        let progress = |p: replay::Progress| {
            bar.set_length(p.total.max(p.applied));
            bar.set_position(p.applied);
            bar.set_message(format!("{:.0} events/s", p.per_second));
        };
        let url = &args.connections.database_url;
        let summary = match name {
            ReplayName::Search => {
                // The Postgres tables stay the product read model beside Meilisearch.
                let summary =
                    replay::replay_postgres(&pool, url, &replay::SEARCH, args.dry_run, &progress)
                        .await?;
                match args.meili.target() {
                    Some(meili) => {
                        report("Search (Postgres tables)", args.dry_run, summary);
                        bar.reset();
                        bar.set_prefix("Meilisearch");
                        let summary = replay::replay_meili(
                            &pool,
                            &meili.url,
                            meili.key.as_deref(),
                            &meili.index(),
                            args.dry_run,
                            &progress,
                        )
                        .await?;
                        bar.finish();
                        report("Search (Meilisearch)", args.dry_run, summary);
                        continue;
                    }
                    None => summary,
                }
            }
            ReplayName::OrderViews => {
                replay::replay_postgres(&pool, url, &replay::ORDER_VIEWS, args.dry_run, &progress)
                    .await?
            }
            ReplayName::Reviews => {
                let summary =
                    replay::replay_postgres(&pool, url, &replay::REVIEWS, args.dry_run, &progress)
                        .await?;
                if !args.dry_run {
                    let cache = ProductCache::new(redis.clone(), prefix.clone());
                    reviews::refresh_summaries(&pool, &cache).await?;
                }
                summary
            }
            ReplayName::Cache => {
                let cache = ProductCache::new(redis.clone(), prefix.clone());
                let projection = CacheProjection::new(cache);
                replay::replay_in_place(&pool, &projection, &["Product"], args.dry_run, &progress)
                    .await?
            }
            ReplayName::Analytics => {
                let live =
                    Analytics::connect(&args.clickhouse.url, &args.clickhouse.database).await?;
                replay::replay_analytics(&pool, &live, args.dry_run, &progress).await?
            }
            ReplayName::All => continue,
        };
        bar.finish();
        report(&format!("{name:?}"), args.dry_run, summary);
    }
    Ok(())
}

/// Prints what the replay of `what` did.
fn report(what: &str, dry_run: bool, summary: replay::ReplaySummary) {
    let verb = if dry_run { "would replay" } else { "replayed" };
    println!(
        "{what}: {verb} {} events in {:.1} s ({:.0} events/s)",
        summary.events,
        summary.seconds,
        summary.events as f64 / summary.seconds.max(1e-3)
    );
}
