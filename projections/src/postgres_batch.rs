//! The transaction of one batch of a Postgres read model, and the read
//! model's generation.

use sqlx::{PgPool, Postgres, Transaction};

/// Begins the transaction of one batch of Postgres projection `name`, holding
/// the lock of its name in the schema it writes to: a replay holds the live
/// schema's lock while it swaps the tables in, and a rebuild takes its own.
pub async fn begin_batch(
    pool: &PgPool,
    name: &str,
) -> anyhow::Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || '@' || current_schema()))")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Raises the generation of read model `name` in `tx`, the transaction that
/// changes it (`read_model_generations` is never rebuilt, so a rebuild's
/// batches raise the live generation too).
pub async fn next_generation(tx: &mut Transaction<'_, Postgres>, name: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO public.read_model_generations (name, generation) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET generation = read_model_generations.generation + 1",
    )
    .bind(name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The generation of read model `name` (0 before its first batch).
pub async fn generation(pool: &PgPool, name: &str) -> sqlx::Result<i64> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT generation FROM read_model_generations WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or(0, |(generation,)| generation))
}
