//! Reading the events table (the record) in the relay's order, up to a mark.

use crate::Envelope;
use atlantic_domain::integration::to_integration_event;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

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
    event_version: String,
    payload: Option<Value>,
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
pub(super) async fn settled(pool: &PgPool, mark: i64) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint >= $1")
            .bind(mark)
            .fetch_one(pool)
            .await?,
    )
}

/// A page of a replay: the committed events after a position (`$1` its
/// transaction id, `$2` its global position) of transactions below the mark
/// `$4`, the next `$3` of them in the relay's order scanned, of which only
/// those of the aggregate types `$5` come back, with their payload, and the
/// last one scanned, without (where it marks how far the page went). A
/// replay of a read model whose types are few among the store's events reads
/// a wide window of the index without sending it all. (A filter on the type
/// in the scan would let the planner trade the index's order for a sort.)
/// The `ORDER BY`s name the table's columns, as the relay's read does (see
/// `atlantic_relay::NEXT_BATCH`): the output's `transaction_id` is a cast no
/// index holds; the window and the final order follow the index's, so
/// nothing is sorted.
pub const PAGE_QUERY: &str =
    "SELECT page.transaction_id::text::bigint AS transaction_id, global_position, aggregate_type, \
        aggregate_id, sequence, event_version, payload, recorded_at \
     FROM (\
         SELECT scanned.*, lead(scanned.global_position) \
                OVER (ORDER BY scanned.transaction_id, scanned.global_position) IS NULL AS last_scanned \
         FROM (\
             SELECT transaction_id, global_position, aggregate_type, aggregate_id, sequence, event_version, \
                 CASE WHEN aggregate_type = ANY($5) THEN payload END AS payload, recorded_at \
             FROM events \
             WHERE (transaction_id, global_position) > ($1::text::xid8, $2) \
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
               AND transaction_id < $4::text::xid8 \
             ORDER BY events.transaction_id, events.global_position LIMIT $3\
         ) scanned\
     ) page \
     WHERE page.payload IS NOT NULL OR page.last_scanned \
     ORDER BY page.transaction_id, page.global_position";

/// Scans up to `scan` committed events after `after` whose transaction is
/// below `mark`, in the relay's order (only events no open transaction can
/// precede); returns those of `aggregate_types` and the position of the last
/// event scanned, of whatever type.
pub async fn read_page(
    pool: &PgPool,
    after: Position,
    mark: i64,
    aggregate_types: &[&str],
    scan: i64,
) -> anyhow::Result<(Vec<Envelope>, Position)> {
    let types: Vec<String> = aggregate_types.iter().map(|t| t.to_string()).collect();
    let rows: Vec<Row> = sqlx::query_as(PAGE_QUERY)
        .bind(after.transaction_id.to_string())
        .bind(after.global_position)
        .bind(scan)
        .bind(mark.to_string())
        .bind(&types)
        .fetch_all(pool)
        .await?;
    let mut last = after;
    let mut envelopes = Vec::with_capacity(rows.len());
    for row in rows {
        last = Position {
            transaction_id: row.transaction_id,
            global_position: row.global_position,
        };
        // Only the types asked for carry their payload.
        let Some(payload) = row.payload else {
            continue;
        };
        let published = to_integration_event(
            &row.aggregate_type,
            &row.aggregate_id,
            &row.event_version,
            payload,
            row.recorded_at,
        )?;
        envelopes.push(Envelope {
            subject: published.subject(),
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            position: row.global_position,
            published,
        });
    }
    Ok((envelopes, last))
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
