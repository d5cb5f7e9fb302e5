//! Data at scale, written straight into the event store: a long history for
//! the benchmark's products and copies of the seeded catalogue, so the
//! benchmark can measure the same paths with a million events and tens of
//! thousands of products in the store without sending every one of them
//! through the API first.
//!
//! The rows are what the command path would have written (the same event
//! types, payloads and metadata), inserted after the relay's checkpoint, so
//! the relay publishes them and every projector applies them as it would
//! live traffic.

use anyhow::{bail, Context};
use std::process::Command;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Runs `sql` with psql and answers its unaligned output.
fn psql(database_url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .args([database_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .context("run psql")?;
    if !output.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_string())
}

/// The products as a SQL array of text ids.
fn id_array(products: &[Uuid]) -> String {
    let ids: Vec<String> = products.iter().map(|id| format!("'{id}'")).collect();
    format!("ARRAY[{}]::text[]", ids.join(","))
}

/// Appends `per_product` inventory adjustments of one unit to each of
/// `products` (just created: one event each), in one statement.
pub fn append_adjustments(
    database_url: &str,
    products: &[Uuid],
    per_product: usize,
) -> anyhow::Result<()> {
    psql(
        database_url,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT 'Product', e.aggregate_id, e.sequence + g, 'InventoryAdjusted', '1', \
                    jsonb_build_object('InventoryAdjusted', jsonb_build_object('delta', 1, \
                        'inventory', (e.payload -> 'ProductCreated' ->> 'inventory')::bigint + g)), \
                    e.metadata \
             FROM events e, generate_series(1, {per_product}) g \
             WHERE e.aggregate_type = 'Product' AND e.aggregate_id = ANY({}) AND e.sequence = 1 \
             ORDER BY e.aggregate_id, g",
            id_array(products)
        ),
    )?;
    Ok(())
}

/// Copies the catalogue's `ProductCreated` events under new ids (and a
/// numbered name) until there are `target` products; answers how many were added.
pub fn copy_catalogue(database_url: &str, target: usize) -> anyhow::Result<usize> {
    let existing = product_count(database_url)?;
    let missing = target.saturating_sub(existing);
    if missing == 0 || existing == 0 {
        return Ok(0);
    }
    let copies = missing.div_ceil(existing);
    psql(
        database_url,
        &format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT 'Product', c.id, 1, 'ProductCreated', c.event_version, \
                    jsonb_set(jsonb_set(c.payload, '{{ProductCreated,productId}}', to_jsonb(c.id)), \
                        '{{ProductCreated,name}}', to_jsonb((c.payload -> 'ProductCreated' ->> 'name') || ' ' || c.copy)), \
                    c.metadata \
             FROM (SELECT gen_random_uuid()::text AS id, k AS copy, e.* \
                   FROM events e, generate_series(1, {copies}) k \
                   WHERE e.event_type = 'ProductCreated' \
                   ORDER BY k, e.global_position LIMIT {missing}) c"
        ),
    )?;
    Ok(missing)
}

/// Events in the store.
pub fn event_count(database_url: &str) -> anyhow::Result<u64> {
    Ok(psql(database_url, "SELECT count(*) FROM events")?.parse()?)
}

/// Runs `sql` every 200 ms until it answers `expected`; how long that took,
/// or `None` when it did not within `limit`.
async fn poll(
    database_url: &str,
    sql: &str,
    expected: &str,
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if psql(database_url, sql)? == expected {
            return Ok(Some(started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(None)
}

/// Waits until every projector that follows `products` has applied version
/// `version` of each; answers how long that took.
pub async fn wait_applied(
    database_url: &str,
    products: &[Uuid],
    version: usize,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let sql = format!(
        "SELECT count(*) FILTER (WHERE version < {version}) FROM projection_versions \
         WHERE aggregate_id = ANY({})",
        id_array(products)
    );
    match poll(database_url, &sql, "0", limit).await? {
        Some(took) => Ok(took),
        None => bail!("the projectors did not apply version {version} within {limit:?}"),
    }
}

/// Vacuums and analyses the events table and flushes the WAL's dirty pages:
/// what autovacuum and the checkpointer would do some time after a bulk
/// insert, done before measuring instead of during it.
pub fn settle(database_url: &str) -> anyhow::Result<()> {
    psql(database_url, "VACUUM ANALYZE events")?;
    psql(database_url, "CHECKPOINT")?;
    Ok(())
}

/// Waits until the relay has published every event the store holds now.
pub async fn wait_published(database_url: &str, limit: Duration) -> anyhow::Result<()> {
    let mark = psql(
        database_url,
        "SELECT coalesce(max(global_position), 0) FROM events",
    )?;
    let sql = format!("SELECT global_position >= {mark} FROM relay_checkpoint");
    match poll(database_url, &sql, "t", limit).await? {
        Some(_) => Ok(()),
        None => bail!("the relay did not publish up to {mark} within {limit:?}"),
    }
}

/// The read models that hold a row per product.
const PRODUCT_PROJECTIONS: [&str; 3] = ["search", "cache", "analytics"];

/// Waits until search, the cache and analytics have applied every one of
/// the store's `products` products; answers how long that took.
pub async fn wait_products_applied(
    database_url: &str,
    products: usize,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let names: Vec<String> = PRODUCT_PROJECTIONS
        .iter()
        .map(|name| format!("'{name}'"))
        .collect();
    let sql = format!(
        "SELECT count(*) FROM (SELECT projection FROM projection_versions \
         WHERE projection IN ({}) GROUP BY projection HAVING count(*) >= {products}) p",
        names.join(",")
    );
    let all = PRODUCT_PROJECTIONS.len().to_string();
    match poll(database_url, &sql, &all, limit).await? {
        Some(took) => Ok(took),
        None => bail!("the read models did not apply {products} products within {limit:?}"),
    }
}

/// Products in the store.
pub fn product_count(database_url: &str) -> anyhow::Result<usize> {
    Ok(psql(
        database_url,
        "SELECT count(*) FROM events WHERE event_type = 'ProductCreated'",
    )?
    .parse()?)
}
