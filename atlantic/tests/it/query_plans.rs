//! The statements run for every command, order and batch read their tables
//! by key, on a young store and on a grown one.
//!
//! sqlx prepares every statement, and PostgreSQL keeps a prepared
//! statement's generic plan until the table is analysed again. A plan made
//! on a young store (no statistics, a few pages) that joined by hash or
//! scanned a whole table stayed in use while the store grew: in the saga
//! benchmark the bus's catch-up read every event of the aggregate's type on
//! each call, the order views' status update the whole `order_views` table.
//! A statement kept prepared must therefore read by key in its generic plan
//! from the start; one planned for each execution (`persistent(false)`) must
//! read by key once its table has grown, analysed or not.

use crate::support::plans::{plan, reads_of, Planning};
use crate::support::TestEnv;

/// A statement, arguments for it, and the table it must read by key: the key
/// column named in the index condition of every read of the table (of an
/// index scan, or the recheck of a bitmap scan).
struct Statement {
    what: &'static str,
    sql: String,
    params: String,
    table: &'static str,
    key: &'static str,
    /// Whether it is kept prepared (its generic plan then matters).
    prepared: bool,
    /// Whether it must run on its generic plan once PostgreSQL has weighed
    /// it: a statement of every command or mail, not of a batch.
    generic: bool,
}

fn statements() -> Vec<Statement> {
    let order = uuid::Uuid::now_v7();
    vec![
        Statement {
            what: "the command bus's catch-up",
            sql: atlantic_platform::event_store::events_after_each(2),
            params: format!("'Order', '{order}', 1, 'b', 2"),
            table: "events",
            key: "aggregate_id",
            prepared: true,
            generic: true,
        },
        Statement {
            what: "the notifier's product names",
            sql: atlantic_notifier::product_names(2),
            params: "'a', 'b'".to_string(),
            table: "events",
            key: "aggregate_id",
            prepared: true,
            generic: true,
        },
        Statement {
            what: "the order views' last statuses",
            sql: atlantic_projections::order_views::LAST_STATUSES.to_string(),
            params: format!("'{{{order}}}', '{{Paid}}', '{{2026-12-03T00:00:00Z}}', '{{2}}'"),
            table: "order_views",
            key: "order_id",
            prepared: true,
            generic: false,
        },
        Statement {
            what: "the search read model's product updates",
            sql: atlantic_projections::search::UPDATES.to_string(),
            params: format!(
                "'{{{order}}}', '{{x}}', '{{NULL}}', '{{NULL}}', '{{NULL}}', '{{1.00}}', '{{NULL}}', '{{3}}', '{{2}}'"
            ),
            table: "search_products",
            key: "product_id",
            prepared: false,
            generic: false,
        },
    ]
}

/// Checks the plans of the statements that must read by key on `store`:
/// on a young one, those kept prepared; on a grown one, all.
async fn assert_read_by_key(env: &TestEnv, store: &str, young: bool) {
    for statement in statements() {
        let plannings: &[Planning] = match (statement.prepared, young) {
            (true, _) => &[Planning::Custom, Planning::Generic],
            (false, false) => &[Planning::Custom],
            (false, true) => &[],
        };
        for &planning in plannings {
            let plan = plan(&env.pool, &statement.sql, &statement.params, planning).await;
            let reads = reads_of(&plan, statement.table);
            assert!(
                !reads.is_empty()
                    && reads.iter().all(|(node, condition)| {
                        node != "Seq Scan" && condition.contains(statement.key)
                    }),
                "on {store}, {} reads {} by {} ({planning:?} plan): {plan}",
                statement.what,
                statement.table,
                statement.key
            );
        }
    }
}

#[tokio::test]
async fn the_hot_statements_read_by_key_on_a_young_store_and_a_grown_one() {
    let env = TestEnv::new().await;
    assert_read_by_key(&env, "a young store", true).await;

    // 30,000 order events of 3,000 orders, their views and 3,000 products.
    sqlx::raw_sql(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT 'Order', 'o' || o, s, 'Placed', '1', '{}', '{}' \
         FROM generate_series(1, 3000) o, generate_series(1, 10) s; \
         INSERT INTO order_views (order_id, customer_id, status, items, total_price, created_at, updated_at, version) \
         SELECT gen_random_uuid(), gen_random_uuid(), 'Created', '[]', 1, now(), now(), 1 \
         FROM generate_series(1, 3000); \
         INSERT INTO search_products (product_id, seller_id, name, description, category, brand, price, \
                                      specifications, inventory, version) \
         SELECT gen_random_uuid(), gen_random_uuid(), 'Product ' || g, 'A product of the catalogue', \
                'toys', 'Brand', 10, '{}', 5, 1 \
         FROM generate_series(1, 3000) g",
    )
    .execute(&env.pool)
    .await
    .expect("a grown store");
    assert_read_by_key(&env, "a grown store never analysed", false).await;

    sqlx::raw_sql("ANALYZE events; ANALYZE order_views; ANALYZE search_products")
        .execute(&env.pool)
        .await
        .expect("analyse");
    assert_read_by_key(&env, "a grown store", false).await;
}

/// How many generic and custom plans PostgreSQL made for `sql` run `runs`
/// times with `params` on one connection, prepared as sqlx prepares it
/// (`plan_cache_mode` as configured).
async fn plans_made(pool: &sqlx::PgPool, sql: &str, params: &str, runs: usize) -> (i64, i64) {
    let mut connection = pool.acquire().await.expect("a connection");
    sqlx::raw_sql(&format!("PREPARE planned AS {sql}"))
        .execute(&mut *connection)
        .await
        .expect("prepare");
    for _ in 0..runs {
        sqlx::raw_sql(&format!("EXECUTE planned({params})"))
            .execute(&mut *connection)
            .await
            .expect("execute");
    }
    let made: (i64, i64) = sqlx::query_as(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'planned'",
    )
    .fetch_one(&mut *connection)
    .await
    .expect("the statement's plans");
    sqlx::raw_sql("DEALLOCATE planned")
        .execute(&mut *connection)
        .await
        .expect("deallocate");
    made
}

#[tokio::test]
async fn the_statements_of_every_command_and_mail_are_planned_a_few_times_not_on_every_call() {
    let env = TestEnv::new().await;
    sqlx::raw_sql(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT 'Order', 'o' || o, s, 'Placed', '1', '{}', '{}' \
         FROM generate_series(1, 300) o, generate_series(1, 10) s; \
         ANALYZE events",
    )
    .execute(&env.pool)
    .await
    .expect("a store");
    // PostgreSQL plans the first five runs for their arguments, then weighs
    // its generic plan against them.
    for statement in statements().into_iter().filter(|s| s.generic) {
        let (generic, custom) = plans_made(&env.pool, &statement.sql, &statement.params, 20).await;
        assert!(
            custom <= 5 && generic >= 1,
            "{} was planned {custom} times for its arguments in 20 runs ({generic} generic plans)",
            statement.what
        );
    }
}
