//! Postgres wiring: the pool, database creation and the migrations.

use anyhow::Context;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};
use std::time::Duration;

/// The Postgres migrations in `migrations/postgres`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations/postgres");

/// Opens a pool of at most `max_connections` to `url`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A broken connection fails its query and is dropped; pinging before
        // every acquire would add a round trip to each of a command's queries.
        .test_before_acquire(false)
        .connect(url)
        .await
        .with_context(|| "cannot connect to Postgres (DATABASE_URL)")
}

/// Creates the database named in `url` if it does not exist, then applies every
/// migration not yet applied.
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    if !Postgres::database_exists(url)
        .await
        .context("cannot reach Postgres (DATABASE_URL)")?
    {
        Postgres::create_database(url)
            .await
            .context("cannot create the database")?;
    }
    let pool = connect(url, 2).await?;
    MIGRATOR
        .run(&pool)
        .await
        .context("cannot apply the migrations")?;
    pool.close().await;
    Ok(())
}
