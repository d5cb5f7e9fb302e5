//! Rebuilding the Meilisearch index from the events table (see [`crate::replay`]).

use super::MeiliProjection;
use crate::replay::{pause_key, paused, Position, Progress, ReplaySummary, Run};
use crate::Projection;
use sqlx::PgPool;

/// Events per batch of a Meilisearch rebuild: each Meilisearch task has a
/// fixed cost, so fewer, larger tasks index faster.
const MEILI_PAGE: i64 = 10_000;

/// Rebuilds the Meilisearch index `index` as `<index>_replay`, then pauses
/// the live projector, applies the tail, swaps the two indexes (one
/// Meilisearch task) and deletes the replaced one.
pub async fn replay_meili(
    pool: &PgPool,
    url: &str,
    api_key: Option<&str>,
    index: &str,
    dry_run: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> anyhow::Result<ReplaySummary> {
    let mut run = Run::start(pool, &["Product", "Rating"], progress).await?;
    if dry_run {
        return Ok(run.dry());
    }
    run.page = MEILI_PAGE;
    let live = MeiliProjection::connect(url, api_key, index).await?;
    let name = format!("{index}_replay");
    // What an interrupted replay left behind is started afresh.
    MeiliProjection::new(url, api_key, &name)?
        .delete_index()
        .await?;
    let rebuilt = MeiliProjection::connect(url, api_key, &name).await?;
    let reached = run.apply_from(&rebuilt, Position::default()).await?;
    paused(pool, &pause_key(live.name(), index), async {
        run.apply_from(&rebuilt, reached).await?;
        live.swap_with(&rebuilt).await
    })
    .await?;
    // After the swap, the rebuild's index holds the replaced documents.
    rebuilt.delete_index().await?;
    Ok(run.summary())
}
