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

mod pause;
mod postgres;
mod store;

pub(crate) use pause::paused;
pub use pause::{pause_key, Pausable};
pub use postgres::{replay_in_place, replay_postgres, PostgresReadModel};
pub use store::{count, high_water_mark, read_page, Position, PAGE_QUERY};

use crate::Projection;
use sqlx::PgPool;
use std::time::Instant;
use store::settled;

/// Events of the read model applied per batch (about: a page holds what one
/// scan of the index found).
const PAGE: i64 = 1000;

/// Events a page scans at most, however few of them are the read model's.
const MAX_SCAN: i64 = 16_000;

/// How often a phase looks whether the transactions open at its mark ended.
const SETTLE_POLL: std::time::Duration = std::time::Duration::from_millis(20);

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
pub(crate) struct Run<'a> {
    pool: &'a PgPool,
    aggregate_types: &'a [&'a str],
    pub(crate) page: i64,
    total: u64,
    applied: u64,
    started: Instant,
    progress: &'a (dyn Fn(Progress) + Sync),
}

impl<'a> Run<'a> {
    /// A replay of the events of `aggregate_types`, counting them first.
    pub(crate) async fn start(
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
    pub(crate) fn dry(&self) -> ReplaySummary {
        ReplaySummary {
            events: self.total,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }

    /// Applies the events after `from` to `projection`, up to the high-water
    /// mark taken now (waiting for the transactions open now to end, which
    /// later ones cannot prolong); returns where it stopped. The next page is
    /// read while the projection applies the current one.
    pub(crate) async fn apply_from(
        &mut self,
        projection: &dyn Projection,
        from: Position,
    ) -> anyhow::Result<Position> {
        let mark = high_water_mark(self.pool).await?;
        let read = |after, scan| read_page(self.pool, after, mark, self.aggregate_types, scan);
        let mut scan = self.page;
        let mut at = from;
        let mut page = read(at, scan).await?;
        loop {
            let (events, next) = page;
            if next == at {
                if settled(self.pool, mark).await? {
                    return Ok(at);
                }
                tokio::time::sleep(SETTLE_POLL).await;
                page = read(at, scan).await?;
                continue;
            }
            scan = next_scan(self.page, scan, events.len());
            let apply = async {
                match events.is_empty() {
                    true => Ok(()),
                    false => projection.apply(&events).await,
                }
            };
            let (applied, following) = tokio::join!(apply, read(next, scan));
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

    /// What the replay did so far.
    pub(crate) fn summary(&self) -> ReplaySummary {
        ReplaySummary {
            events: self.applied,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// How many events the page after one that found `found` of the read
/// model's among `scanned` scans: as many as should find `page` again, from
/// `page` up to [`MAX_SCAN`].
fn next_scan(page: i64, scanned: i64, found: usize) -> i64 {
    let found = i64::try_from(found).unwrap_or(i64::MAX).max(1);
    (scanned.saturating_mul(page) / found).clamp(page, MAX_SCAN.max(page))
}

#[cfg(test)]
mod tests {
    use super::{next_scan, MAX_SCAN, PAGE};

    #[test]
    fn a_page_scans_as_far_as_a_batch_of_the_read_models_events_takes() {
        assert_eq!(next_scan(PAGE, PAGE, 1000), PAGE);
        assert_eq!(next_scan(PAGE, PAGE, 800), 1250);
        assert_eq!(next_scan(PAGE, 2000, 100), 16_000);
        assert_eq!(next_scan(PAGE, PAGE, 0), MAX_SCAN);
        assert_eq!(next_scan(PAGE, MAX_SCAN, MAX_SCAN as usize), PAGE);
        assert_eq!(next_scan(20_000, 20_000, 1), 20_000);
    }
}
