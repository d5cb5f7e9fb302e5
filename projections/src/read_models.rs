//! The list of read models, each once with the live projections it runs,
//! the rebuilds a replay runs, and the stores they write to; `atlantic serve`,
//! `atlantic project`, `atlantic replay` and the tests start them from here.

use crate::analytics::{Analytics, AnalyticsProjection, ClicksProjection};
use crate::cache::{CacheProjection, ProductCache};
use crate::order_views::OrderViews;
use crate::replay::{
    pause_key, replay_in_place, replay_postgres, Pausable, Progress, ReplaySummary,
};
use crate::reviews::Reviews;
use crate::search::SearchProjection;
use crate::{MeiliProjection, Projection};
use anyhow::Context;
use sqlx::PgPool;
use std::sync::Arc;

/// A read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadModel {
    /// Product search: the Postgres tables and, where configured, Meilisearch.
    Search,
    /// Product detail documents in Redis.
    Cache,
    /// Orders, their timelines, user profiles and sellers.
    OrderViews,
    /// Ratings and comments.
    Reviews,
    /// Sales, stock and customers' areas in ClickHouse.
    Analytics,
    /// Clicks in ClickHouse.
    Clicks,
}

/// Where search runs on Meilisearch.
#[derive(Debug, Clone)]
pub struct MeiliIndex {
    /// Meilisearch's URL.
    pub url: String,
    /// Its API key.
    pub key: Option<String>,
    /// The products index.
    pub index: String,
}

/// The stores the live projections write to.
#[derive(Clone)]
pub struct Stores {
    /// Postgres (read models, checkpoints, pause locks).
    pub pool: PgPool,
    /// The product cache in Redis.
    pub cache: ProductCache,
    /// ClickHouse, for the read models that need it.
    pub analytics: Option<Analytics>,
    /// Meilisearch, when search runs on it.
    pub meili: Option<MeiliIndex>,
}

impl ReadModel {
    /// Every read model.
    pub const ALL: [ReadModel; 6] = [
        ReadModel::Search,
        ReadModel::Cache,
        ReadModel::OrderViews,
        ReadModel::Reviews,
        ReadModel::Analytics,
        ReadModel::Clicks,
    ];

    /// Its name on the command line and in logs.
    pub fn name(self) -> &'static str {
        match self {
            ReadModel::Search => "search",
            ReadModel::Cache => "cache",
            ReadModel::OrderViews => "order-views",
            ReadModel::Reviews => "reviews",
            ReadModel::Analytics => "analytics",
            ReadModel::Clicks => "clicks",
        }
    }

    /// What it holds, in a line.
    pub fn about(self) -> &'static str {
        match self {
            ReadModel::Search => "Product search (and the Meilisearch index, when configured)",
            ReadModel::Cache => "Product detail documents in Redis",
            ReadModel::OrderViews => "Orders, their timelines, user profiles and sellers",
            ReadModel::Reviews => "Ratings and comments",
            ReadModel::Analytics => "Sales, stock and customers' areas in ClickHouse",
            ReadModel::Clicks => "Clicks in ClickHouse",
        }
    }

    /// Whether its projections write to ClickHouse.
    pub fn needs_analytics(self) -> bool {
        matches!(self, ReadModel::Analytics | ReadModel::Clicks)
    }

    /// Its live projections. Search keeps the Postgres tables (product
    /// detail reads through them) and, with Meilisearch, its index beside.
    pub fn projections(self, stores: &Stores) -> anyhow::Result<Vec<Arc<dyn Projection>>> {
        let pool = || stores.pool.clone();
        let analytics = || {
            stores
                .analytics
                .clone()
                .context("analytics needs ClickHouse")
        };
        Ok(match self {
            ReadModel::Search => {
                let mut search: Vec<Arc<dyn Projection>> =
                    vec![Arc::new(SearchProjection::new(pool()))];
                if let Some(meili) = &stores.meili {
                    let projection =
                        MeiliProjection::new(&meili.url, meili.key.as_deref(), &meili.index)?;
                    let key = pause_key(projection.name(), &meili.index);
                    search.push(Arc::new(Pausable::new(Arc::new(projection), pool(), key)));
                }
                search
            }
            ReadModel::Cache => vec![Arc::new(CacheProjection::new(stores.cache.clone()))],
            ReadModel::OrderViews => vec![Arc::new(OrderViews::new(pool()))],
            ReadModel::Reviews => vec![Arc::new(Reviews::with_cache(pool(), stores.cache.clone()))],
            ReadModel::Analytics => {
                let analytics = analytics()?;
                let key = pause_key(crate::analytics::NAME, analytics.database());
                let projection = Arc::new(AnalyticsProjection::new(analytics));
                vec![Arc::new(Pausable::new(projection, pool(), key))]
            }
            ReadModel::Clicks => vec![Arc::new(ClicksProjection::new(analytics()?))],
        })
    }
}

/// One rebuild of a replay (see [`crate::replay`]): each read model runs one
/// per store it writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// The Postgres search tables, in a schema of their own, swapped in.
    SearchTables,
    /// The Meilisearch index, as a second index, swapped in.
    SearchIndex,
    /// The Redis product documents, in place (writes are newer-only).
    Cache,
    /// The order, user and seller views, in a schema of their own.
    OrderViews,
    /// Ratings and comments, in a schema of their own; then the rating
    /// summaries in the cache.
    Reviews,
    /// The ClickHouse tables the events table feeds, in a database of their own.
    Analytics,
}

/// Whether live projection `projection` applies events of `aggregate_type`:
/// what a read that waits for its own write looks at.
pub fn applies(projection: &str, aggregate_type: &str) -> bool {
    let applied: &[&str] = match projection {
        crate::search::NAME | crate::search_meili::NAME => crate::search::REPLAY.aggregate_types,
        crate::cache::NAME => crate::cache::AGGREGATE_TYPES,
        crate::order_views::NAME => crate::order_views::REPLAY.aggregate_types,
        crate::reviews::NAME => crate::reviews::REPLAY.aggregate_types,
        crate::analytics::NAME => crate::analytics::replay::ANALYTICS_TYPES,
        _ => &[],
    };
    applied.contains(&aggregate_type)
}

impl ReadModel {
    /// What a replay of this read model rebuilds with `stores`. Clicks never
    /// reach the events table: there is nothing to rebuild them from.
    pub fn rebuilds(self, stores: &Stores) -> Vec<Rebuild> {
        match self {
            ReadModel::Search if stores.meili.is_some() => {
                vec![Rebuild::SearchTables, Rebuild::SearchIndex]
            }
            ReadModel::Search => vec![Rebuild::SearchTables],
            ReadModel::Cache => vec![Rebuild::Cache],
            ReadModel::OrderViews => vec![Rebuild::OrderViews],
            ReadModel::Reviews => vec![Rebuild::Reviews],
            ReadModel::Analytics => vec![Rebuild::Analytics],
            ReadModel::Clicks => Vec::new(),
        }
    }
}

impl Rebuild {
    /// What it rebuilds, for a report.
    pub fn target(self) -> &'static str {
        match self {
            Rebuild::SearchTables => "search (Postgres tables)",
            Rebuild::SearchIndex => "search (Meilisearch)",
            Rebuild::Cache => "cache",
            Rebuild::OrderViews => "order views",
            Rebuild::Reviews => "reviews",
            Rebuild::Analytics => "analytics",
        }
    }

    /// Runs it to the mark taken at its start (`dry_run`: only counts the
    /// events it would apply), reporting `progress`.
    pub async fn run(
        self,
        stores: &Stores,
        dry_run: bool,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> anyhow::Result<ReplaySummary> {
        let pool = &stores.pool;
        match self {
            Rebuild::SearchTables => {
                replay_postgres(pool, &crate::search::REPLAY, dry_run, progress).await
            }
            Rebuild::SearchIndex => {
                let meili = stores.meili.as_ref().context("search has no Meilisearch")?;
                crate::search_meili::replay::replay_meili(
                    pool,
                    &meili.url,
                    meili.key.as_deref(),
                    &meili.index,
                    dry_run,
                    progress,
                )
                .await
            }
            Rebuild::Cache => {
                let projection = CacheProjection::new(stores.cache.clone());
                let types = crate::cache::AGGREGATE_TYPES;
                replay_in_place(pool, &projection, types, dry_run, progress).await
            }
            Rebuild::OrderViews => {
                replay_postgres(pool, &crate::order_views::REPLAY, dry_run, progress).await
            }
            Rebuild::Reviews => {
                let summary =
                    replay_postgres(pool, &crate::reviews::REPLAY, dry_run, progress).await?;
                if !dry_run {
                    crate::reviews::refresh_summaries(pool, &stores.cache).await?;
                }
                Ok(summary)
            }
            Rebuild::Analytics => {
                let analytics = stores
                    .analytics
                    .as_ref()
                    .context("analytics needs ClickHouse")?;
                crate::analytics::replay::replay_analytics(pool, analytics, dry_run, progress).await
            }
        }
    }
}
