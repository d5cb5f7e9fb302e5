//! Rebuilding the analytics from the events table (see [`crate::replay`]).

use super::{Analytics, AnalyticsProjection};
use crate::replay::{pause_key, paused, Position, Progress, ReplaySummary, Run};
use sqlx::PgPool;

/// Events per batch of an analytics rebuild: every ClickHouse INSERT makes a
/// part of each table it writes, so fewer, larger inserts load faster.
const ANALYTICS_PAGE: i64 = 10_000;

/// The aggregates whose events the analytics read.
pub const ANALYTICS_TYPES: &[&str] = &["Order", "Product", "User", "Rating"];

/// Rebuilds the analytics tables that come from the events table in a
/// database of their own, `<live>_replay`, then pauses the live projector,
/// applies the tail and renames the rebuilt tables in. Clicks never reach the
/// events table: their table stays as it is.
pub async fn replay_analytics(
    pool: &PgPool,
    live: &Analytics,
    dry_run: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> anyhow::Result<ReplaySummary> {
    let mut run = Run::start(pool, ANALYTICS_TYPES, progress).await?;
    if dry_run {
        return Ok(run.dry());
    }
    run.page = ANALYTICS_PAGE;
    let name = format!("{}_replay", live.database());
    // What an interrupted replay left behind is started afresh.
    live.drop_beside(&name).await?;
    let rebuilt = live.beside(&name).await?;
    let projection = AnalyticsProjection::new(rebuilt.clone());
    let reached = run.apply_from(&projection, Position::default()).await?;
    paused(pool, &pause_key(super::NAME, live.database()), async {
        run.apply_from(&projection, reached).await?;
        live.replace_event_tables(&rebuilt).await
    })
    .await?;
    // The replaced tables went to the rebuild's database.
    rebuilt.drop_database().await?;
    Ok(run.summary())
}
