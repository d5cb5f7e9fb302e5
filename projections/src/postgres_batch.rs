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

/// The generations named `names`, in their order (0 before the first
/// batch that raised one), read in one statement. (A list of placeholders
/// rather than an array, whose length the planner cannot know: PostgreSQL
/// then keeps one generic plan instead of planning every call.)
pub async fn generations<const N: usize>(
    pool: &PgPool,
    names: [&str; N],
) -> sqlx::Result<[i64; N]> {
    if N == 0 {
        return Ok([0; N]);
    }
    let placeholders: Vec<String> = (1..=N).map(|n| format!("${n}")).collect();
    let statement = format!(
        "SELECT name, generation FROM read_model_generations WHERE name IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(&statement);
    for name in names {
        query = query.bind(name);
    }
    let rows: Vec<(String, i64)> = query.fetch_all(pool).await?;
    Ok(names.map(|name| {
        rows.iter()
            .find(|(found, _)| found == name)
            .map_or(0, |(_, generation)| *generation)
    }))
}
