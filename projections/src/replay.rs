//! Rebuilding a read model from the events table (the record), beside the live
//! one, while traffic flows.
//!
//! Postgres read models are rebuilt in a schema of their own, `replay_<name>`,
//! by the projection's own code (the connection's `search_path` points at the
//! new schema). At the end the replay takes the projection's advisory lock —
//! the live projector holds it for each batch, so it pauses — applies the tail
//! of events that committed meanwhile, and in one transaction drops the live
//! tables and moves the rebuilt ones in. Every row keeps the version of the last
//! event applied to it, so the live consumer, resuming where its durable
//! consumer stopped, skips what the rebuild already holds and applies what it
//! does not: no gap, no double, and no consumer position to move.
//!
//! The product cache is rebuilt in place: its documents are written only when
//! newer, so replaying over live traffic cannot put an older document back.
//!
//! Every phase of a replay runs to a high-water mark taken when the phase
//! starts (the paused phase: when the pause began): the events of every
//! transaction that had begun by then, once those have ended; never "until
//! nothing is left". Whatever begins later is the live projector's, which
//! versions make safe, so a replay ends whatever the write rate.

use crate::analytics::{Analytics, AnalyticsProjection};
use crate::MeiliProjection;
use crate::{Envelope, Projection};
use anyhow::Context;
use atlantic_domain::integration::to_integration_event;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgPool};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// Events read per round trip, and applied per batch.
const PAGE: i64 = 1000;

/// Events per batch of a Meilisearch rebuild: each Meilisearch task has a
/// fixed cost, so fewer, larger tasks index faster.
const MEILI_PAGE: i64 = 10_000;

/// How often a phase looks whether the transactions open at its mark ended.
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// A place in the relay's order: (transaction id, global position).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The inserting transaction.
    pub transaction_id: i64,
    /// The global position.
    pub global_position: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    transaction_id: i64,
    global_position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    payload: Value,
    recorded_at: DateTime<Utc>,
}

/// The high-water mark of now: a transaction id above every transaction that
/// has committed so far (the current snapshot's `xmax`). A phase reads the
/// events of transactions below it, and only those: what begins later is the
/// live projector's.
pub async fn high_water_mark(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            .fetch_one(pool)
            .await?,
    )
}

/// Whether every transaction below `mark` has ended, so no event below it
/// can still commit.
async fn settled(pool: &PgPool, mark: i64) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint >= $1")
            .bind(mark)
            .fetch_one(pool)
            .await?,
    )
}

/// Reads up to `limit` committed events of `aggregate_types` after `after`
/// whose transaction is below `mark`, in the relay's order (only events no
/// open transaction can precede).
pub async fn read_page(
    pool: &PgPool,
    after: Position,
    mark: i64,
    aggregate_types: &[&str],
    limit: i64,
) -> anyhow::Result<(Vec<Envelope>, Position)> {
    let types: Vec<String> = aggregate_types.iter().map(|t| t.to_string()).collect();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT transaction_id::text::bigint AS transaction_id, global_position, aggregate_type, aggregate_id, \
                sequence, payload, recorded_at \
         FROM events \
         WHERE (transaction_id, global_position) > ($1::text::xid8, $2) \
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
           AND transaction_id < $4::text::xid8 \
         ORDER BY transaction_id, global_position LIMIT $3",
    )
    .bind(after.transaction_id.to_string())
    .bind(after.global_position)
    .bind(limit)
    .bind(mark.to_string())
    .fetch_all(pool)
    .await?;
    let mut last = after;
    let mut envelopes = Vec::with_capacity(rows.len());
    for row in rows {
        last = Position {
            transaction_id: row.transaction_id,
            global_position: row.global_position,
        };
        if !types.contains(&row.aggregate_type) {
            continue;
        }
        let published = to_integration_event(
            &row.aggregate_type,
            &row.aggregate_id,
            row.payload,
            row.recorded_at,
        )?;
        envelopes.push(Envelope {
            subject: published.subject,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            position: row.global_position,
            body: published.body,
        });
    }
    Ok((envelopes, last))
}

/// How far a replay got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Events applied so far.
    pub applied: u64,
    /// Events to apply (at the start).
    pub total: u64,
    /// Events per second so far.
    pub per_second: f64,
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplaySummary {
    /// Events applied (or, in a dry run, that would be).
    pub events: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// A replay under way: what it reads and how far it got.
struct Run<'a> {
    pool: &'a PgPool,
    aggregate_types: &'a [&'a str],
    page: i64,
    total: u64,
    applied: u64,
    started: Instant,
    progress: &'a (dyn Fn(Progress) + Sync),
}

impl<'a> Run<'a> {
    /// A replay of the events of `aggregate_types`, counting them first.
    async fn start(
        pool: &'a PgPool,
        aggregate_types: &'a [&'a str],
        progress: &'a (dyn Fn(Progress) + Sync),
    ) -> anyhow::Result<Run<'a>> {
        Ok(Run {
            pool,
            aggregate_types,
            page: PAGE,
            total: count(pool, aggregate_types).await?,
            applied: 0,
            started: Instant::now(),
            progress,
        })
    }

    /// What a dry run reports: the events a replay would apply.
    fn dry(&self) -> ReplaySummary {
        ReplaySummary {
            events: self.total,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }

    /// Applies the events after `from` to `projection`, up to the high-water
    /// mark taken now (waiting for the transactions open now to end, which
    /// later ones cannot prolong); returns where it stopped. The next page is
    /// read while the projection applies the current one.
    async fn apply_from(
        &mut self,
        projection: &dyn Projection,
        from: Position,
    ) -> anyhow::Result<Position> {
        let mark = high_water_mark(self.pool).await?;
        let read = |after| read_page(self.pool, after, mark, self.aggregate_types, self.page);
        let mut at = from;
        let mut page = read(at).await?;
        loop {
            let (events, next) = page;
            if next == at {
                if settled(self.pool, mark).await? {
                    return Ok(at);
                }
                tokio::time::sleep(SETTLE_POLL).await;
                page = read(at).await?;
                continue;
            }
            let apply = async {
                match events.is_empty() {
                    true => Ok(()),
                    false => projection.apply(&events).await,
                }
            };
            let (applied, following) = tokio::join!(apply, read(next));
            applied?;
            self.applied += events.len() as u64;
            at = next;
            page = following?;
            (self.progress)(Progress {
                applied: self.applied,
                total: self.total,
                per_second: self.applied as f64 / self.started.elapsed().as_secs_f64().max(1e-3),
            });
        }
    }

    fn summary(&self) -> ReplaySummary {
        ReplaySummary {
            events: self.applied,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// Events of `aggregate_types` in the store.
pub async fn count(pool: &PgPool, aggregate_types: &[&str]) -> anyhow::Result<u64> {
    let types: Vec<String> = aggregate_types.iter().map(|t| t.to_string()).collect();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = ANY($1)")
        .bind(&types)
        .fetch_one(pool)
        .await?;
    Ok(n as u64)
}

/// A Postgres read model: its tables, the aggregates it reads, and how to make
/// its projection on a given pool.
pub struct PostgresReadModel {
    /// The projection's name (its advisory lock and replay schema).
    pub name: &'static str,
    /// Its tables.
    pub tables: &'static [&'static str],
    /// The aggregates whose events it reads.
    pub aggregate_types: &'static [&'static str],
    /// Makes the projection writing through `pool`.
    pub make: fn(PgPool) -> Arc<dyn Projection>,
}

/// Rebuilds `model` beside the live tables and swaps it in.
pub async fn replay_postgres(
    pool: &PgPool,
    database_url: &str,
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
        .connect(database_url)
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
        tx.commit().await?;
        Ok(())
    })
    .await;
    rebuild_pool.close().await;
    swapped?;
    Ok(run.summary())
}

/// A live projection whose target is not Postgres, made pausable by a replay:
/// each batch holds the Postgres advisory lock `key` shared while it applies;
/// a replay takes it exclusively while it applies the tail and swaps the
/// rebuilt model in.
pub struct Pausable {
    inner: Arc<dyn Projection>,
    pool: PgPool,
    key: String,
}

impl Pausable {
    /// `inner`, pausable through the lock `key` (see [`pause_key`]) in `pool`.
    pub fn new(inner: Arc<dyn Projection>, pool: PgPool, key: String) -> Self {
        Pausable { inner, pool, key }
    }
}

#[async_trait::async_trait]
impl Projection for Pausable {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn stream(&self) -> &'static str {
        self.inner.stream()
    }

    fn subjects(&self) -> Vec<String> {
        self.inner.subjects()
    }

    async fn reachable(&self) -> anyhow::Result<()> {
        crate::runtime::postgres_reachable(&self.pool).await?;
        self.inner.reachable().await
    }

    async fn prepare(&self) -> anyhow::Result<()> {
        self.inner.prepare().await
    }

    async fn apply(&self, events: &[Envelope]) -> anyhow::Result<()> {
        let mut gate = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext($1))")
            .bind(&self.key)
            .execute(&mut *gate)
            .await?;
        self.inner.apply(events).await?;
        gate.commit().await?;
        Ok(())
    }
}

/// The lock that pauses projection `name` writing to `target` (a ClickHouse
/// database, a Meilisearch index).
pub fn pause_key(name: &str, target: &str) -> String {
    format!("{name}@{target}")
}

/// Runs `work` holding the advisory lock `key` exclusively: a live projector
/// holds it for each batch, so it waits until `work` is done.
async fn paused<T>(
    pool: &PgPool,
    key: &str,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    // A connection of its own: closing it (or losing it) releases the lock,
    // whatever happens to `work`.
    let mut lock = pool.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
        .bind(key)
        .execute(&mut lock)
        .await?;
    let outcome = work.await;
    lock.close().await?;
    outcome
}

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
    let name = format!("{}_replay", live.database());
    // What an interrupted replay left behind is started afresh.
    live.drop_beside(&name).await?;
    let rebuilt = live.beside(&name).await?;
    let projection = AnalyticsProjection::new(rebuilt.clone());
    let reached = run.apply_from(&projection, Position::default()).await?;
    paused(pool, &pause_key("analytics", live.database()), async {
        run.apply_from(&projection, reached).await?;
        live.replace_event_tables(&rebuilt).await
    })
    .await?;
    // The replaced tables went to the rebuild's database.
    rebuilt.drop_database().await?;
    Ok(run.summary())
}

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

/// The aggregates whose events the analytics read.
const ANALYTICS_TYPES: &[&str] = &["Order", "Product", "User", "Rating"];

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

fn search_projection(pool: PgPool) -> Arc<dyn Projection> {
    Arc::new(crate::search::SearchProjection::new(pool))
}

fn order_views_projection(pool: PgPool) -> Arc<dyn Projection> {
    Arc::new(crate::order_views::OrderViews::new(pool))
}

/// The search read model of the Postgres adapter.
pub const SEARCH: PostgresReadModel = PostgresReadModel {
    name: "search",
    tables: &["search_products", "search_terms", "search_ratings"],
    aggregate_types: &["Product", "Rating"],
    make: search_projection,
};

fn reviews_projection(pool: PgPool) -> Arc<dyn Projection> {
    Arc::new(crate::reviews::Reviews::new(pool))
}

/// Ratings and comments.
pub const REVIEWS: PostgresReadModel = PostgresReadModel {
    name: "reviews",
    tables: &["product_ratings", "product_comments"],
    aggregate_types: &["Rating", "Comment"],
    make: reviews_projection,
};

/// Order views, user profiles and sellers.
pub const ORDER_VIEWS: PostgresReadModel = PostgresReadModel {
    name: "order-views",
    tables: &[
        "order_views",
        "order_timeline",
        "user_views",
        "seller_views",
    ],
    aggregate_types: &["Order", "User", "Seller"],
    make: order_views_projection,
};
