//! The transaction of one batch of a Postgres read model.

use sqlx::PgPool;

/// Begins the transaction of one batch of Postgres projection `name`, holding
/// the lock of its name in the schema it writes to: a replay holds the live
/// schema's lock while it swaps the tables in, and a rebuild takes its own.
pub async fn begin_batch(
    pool: &PgPool,
    name: &str,
) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || '@' || current_schema()))")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
