//! Rebuilding a Postgres read model in a schema of its own and swapping it
//! in; and replaying into a store whose writes are newer-only, in place.

use super::Progress;
use super::{paused, Position, ReplaySummary, Run};
use crate::Projection;
use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};
use std::sync::Arc;

/// A Postgres read model: its tables, the aggregates it reads, and how to make
/// its projection on a given pool.
pub struct PostgresReadModel {
    /// The projection's name (its advisory lock and replay schema).
    pub name: &'static str,
    /// Its tables.
    pub tables: &'static [&'static str],
    /// The generations a swap raises: the read model's name, and any other
    /// its batches raise.
    pub generations: &'static [&'static str],
    /// The aggregates whose events it reads.
    pub aggregate_types: &'static [&'static str],
    /// Makes the projection writing through `pool`.
    pub make: fn(PgPool) -> Arc<dyn Projection>,
}

/// Rebuilds `model` beside the live tables and swaps it in.
pub async fn replay_postgres(
    pool: &PgPool,
    model: &PostgresReadModel,
    dry_run: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> anyhow::Result<ReplaySummary> {
    let mut run = Run::start(pool, model.aggregate_types, progress).await?;
    if dry_run {
        return Ok(run.dry());
    }
    let schema = format!("replay_{}", model.name.replace('-', "_"));
    pool.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
        .await?;
    pool.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await?;
    for table in model.tables {
        pool.execute(
            format!("CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)").as_str(),
        )
        .await?;
    }
    let search_path = format!("SET search_path TO {schema}, public");
    let rebuild_pool = PgPoolOptions::new()
        .max_connections(2)
        .after_connect(move |conn, _| {
            let search_path = search_path.clone();
            Box::pin(async move {
                conn.execute(search_path.as_str()).await?;
                Ok(())
            })
        })
        .connect_with((*pool.connect_options()).clone())
        .await
        .context("cannot connect for the rebuild")?;
    let projection = (model.make)(rebuild_pool.clone());
    let reached = run
        .apply_from(projection.as_ref(), Position::default())
        .await?;

    // Pause the live projector, catch up, swap.
    let swapped = paused(pool, &format!("{}@public", model.name), async {
        run.apply_from(projection.as_ref(), reached).await?;
        let mut tx = pool.begin().await?;
        for table in model.tables {
            tx.execute(format!("DROP TABLE public.{table}").as_str())
                .await?;
            tx.execute(format!("ALTER TABLE {schema}.{table} SET SCHEMA public").as_str())
                .await?;
        }
        tx.execute(format!("DROP SCHEMA {schema}").as_str()).await?;
        for generation in model.generations {
            crate::postgres_batch::next_generation(&mut tx, generation).await?;
        }
        tx.commit().await?;
        Ok(())
    })
    .await;
    rebuild_pool.close().await;
    swapped?;
    Ok(run.summary())
}

/// Replays product events into the cache in place (writes are newer-only).
pub async fn replay_in_place(
    pool: &PgPool,
    projection: &dyn Projection,
    aggregate_types: &[&str],
    dry_run: bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> anyhow::Result<ReplaySummary> {
    let mut run = Run::start(pool, aggregate_types, progress).await?;
    if dry_run {
        return Ok(run.dry());
    }
    run.apply_from(projection, Position::default()).await?;
    Ok(run.summary())
}
