//! What every black-box test needs: its own database, NATS server and Redis key
//! prefix, the app started on port 0, and small HTTP helpers.

pub mod meili;
pub mod nats;
pub mod plans;
pub mod process;
pub mod scenario;
pub mod smtp;

use atlantic::system::{self, ClickHouse, Components, Config, Meili};
use atlantic_application::accounts::{self, Registration};
use atlantic_application::Shop;
use atlantic_notifier::MailSettings;
use atlantic_platform::db;
use atlantic_platform::dead_letters::{DeadLetters, Letter, Selection};
use atlantic_platform::metadata::CommandMetadata;
use atlantic_platform::metrics::Metrics;
use atlantic_platform::sessions::RateLimits;
use atlantic_sagas::SagaSettings;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The Postgres server tests create their databases on.
pub fn postgres_server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The ClickHouse server tests use (each with its own database).
pub fn clickhouse_url() -> String {
    std::env::var("TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8123".into())
}

/// The Redis server tests use (each under its own prefix).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A test's private world: a fresh database (migrated), a NATS server of its
/// own, and a Redis key prefix. Dropping it removes all three.
pub struct TestEnv {
    pub database_name: String,
    pub database_url: String,
    pub nats: nats::NatsServer,
    pub redis_prefix: String,
    pub clickhouse_database: String,
    pub pool: sqlx::PgPool,
    /// A Meilisearch of the test's own, when asked for and its binary is found:
    /// search then runs on it (the Postgres tables are kept beside it).
    pub meili: Option<meili::MeiliServer>,
}

impl TestEnv {
    pub async fn new() -> Self {
        let id = Uuid::now_v7().simple().to_string();
        let database_name = format!("atlantic_test_{id}");
        let database_url = format!("{}/{database_name}", postgres_server());
        db::migrate(&database_url)
            .await
            .expect("migrate the test database");
        let pool = db::connect(&database_url, 10)
            .await
            .expect("connect to the test database");
        TestEnv {
            database_name: database_name.clone(),
            database_url,
            nats: nats::NatsServer::start(),
            redis_prefix: format!("test:{id}:"),
            clickhouse_database: database_name.clone(),
            pool,
            meili: None,
        }
    }

    /// [`TestEnv::new`] with a Meilisearch of its own where the binary is
    /// found (`test` names what is skipped where it is not).
    pub async fn with_meili(test: &str) -> Self {
        let mut env = TestEnv::new().await;
        env.meili = meili::MeiliServer::start(test);
        env
    }

    /// The products index on this test's Meilisearch.
    pub fn meili_index(&self) -> String {
        format!("{}_products", self.database_name)
    }

    /// The system's configuration for this test's world (APIs on port 0).
    pub fn config(&self) -> Config {
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        Config {
            database_url: self.database_url.clone(),
            max_connections: 10,
            nats_url: self.nats.url(),
            redis_url: redis_url(),
            redis_prefix: self.redis_prefix.clone(),
            clickhouse: ClickHouse {
                url: clickhouse_url(),
                database: self.clickhouse_database.clone(),
            },
            meili: self.meili.as_ref().map(|meili| Meili {
                url: meili.url(),
                key: Some(meili.key().to_string()),
                index_prefix: format!("{}_", self.database_name),
            }),
            command_api_addr: any_port,
            query_api_addr: any_port,
            session_ttl: Duration::from_secs(3600),
            rate_limits: RateLimits::default(),
            saga: SagaSettings::default(),
            mail: MailSettings {
                smtp_url: None,
                mail_dir: self.mail_dir(),
                from: "Atlantic <orders@atlantic.example>".into(),
                shop: "Atlantic".into(),
            },
        }
    }

    /// Where this test's mail goes without an SMTP server.
    pub fn mail_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}_mail", self.database_name))
    }

    /// Starts the command API (and the relay) in this process.
    pub async fn spawn_app(&self, relay: bool) -> TestApp {
        let components = Components {
            command_api: true,
            relay,
            ..Components::default()
        };
        self.spawn_with(self.config(), components).await
    }

    /// Starts the command API, the relay and the order saga in this process.
    pub async fn spawn_shop(&self, saga: SagaSettings) -> TestApp {
        let components = Components {
            command_api: true,
            relay: true,
            saga: true,
            ..Components::default()
        };
        self.spawn_with(
            Config {
                saga,
                ..self.config()
            },
            components,
        )
        .await
    }

    /// Starts everything (as `atlantic serve` does) in this process.
    pub async fn spawn_everything(&self, saga: SagaSettings) -> TestApp {
        self.spawn_with(
            Config {
                saga,
                ..self.config()
            },
            Components::all(),
        )
        .await
    }

    /// Starts `components` with `config` through the composition root.
    pub async fn spawn_with(&self, config: Config, components: Components) -> TestApp {
        let running = system::start(&config, &components)
            .await
            .expect("start the system");
        let addr = running.command_api.expect("the command API is bound");
        let shop = running.shop.clone().expect("the write side");
        let query = running
            .query_api
            .map(|addr| scenario::Api::new(format!("http://{addr}")));
        let shutdown = running.shutdown();
        TestApp {
            addr,
            shop,
            query,
            api: scenario::Api::new(format!("http://{addr}")),
            shutdown,
            handle: Some(tokio::spawn(running.join())),
        }
    }

    /// Environment for a child `atlantic` process pointed at this test's world.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        let meili = self.meili.iter().flat_map(|meili| {
            [
                ("MEILI_URL", meili.url()),
                ("MEILI_MASTER_KEY", meili.key().to_string()),
                ("MEILI_INDEX_PREFIX", format!("{}_", self.database_name)),
            ]
        });
        let mut env = vec![
            ("DATABASE_URL", self.database_url.clone()),
            ("NATS_URL", self.nats.url()),
            ("REDIS_URL", redis_url()),
            ("REDIS_KEY_PREFIX", self.redis_prefix.clone()),
            ("DATABASE_MAX_CONNECTIONS", "10".into()),
            ("RUST_LOG", "warn".into()),
            ("CLICKHOUSE_URL", clickhouse_url()),
            ("CLICKHOUSE_DATABASE", self.clickhouse_database.clone()),
            ("MAIL_DIR", self.mail_dir().display().to_string()),
        ];
        env.extend(meili);
        env
    }

    /// Every parked dead letter, oldest first.
    pub async fn dead_letters(&self) -> Vec<Letter> {
        DeadLetters::new(self.pool.clone(), Metrics::default())
            .list(Selection::All)
            .await
            .expect("list the dead letters")
    }

    /// Runs `atlantic payments audit` against this test's world; whether it
    /// found every order's money in agreement (exit 0), and what it printed.
    pub async fn payments_audit(&self) -> (bool, String) {
        self.cli(&["payments", "audit"]).await
    }

    /// Runs `atlantic <args>` against this test's world; whether it exited 0,
    /// and what it printed.
    pub async fn cli(&self, args: &[&str]) -> (bool, String) {
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_atlantic"))
            .args(args)
            .envs(self.child_env())
            .output()
            .await
            .unwrap_or_else(|e| panic!("run atlantic {args:?}: {e}"));
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        (run.status.success(), printed)
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .expect("count events")
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.mail_dir());
        let _ = Command::new("psql")
            .args([
                &format!("{}/postgres", postgres_server()),
                "-q",
                "-c",
                &format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.database_name
                ),
            ])
            .output();
        // The database of an analytics replay that a failed test left too.
        for database in [
            self.clickhouse_database.clone(),
            format!("{}_replay", self.clickhouse_database),
        ] {
            let _ = Command::new("curl")
                .args([
                    "-sf",
                    "--max-time",
                    "10",
                    &clickhouse_url(),
                    "--data-binary",
                ])
                .arg(format!("DROP DATABASE IF EXISTS {database}"))
                .output();
        }
        if let Ok(client) = redis::Client::open(redis_url()) {
            if let Ok(mut conn) = client.get_connection() {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{}*", self.redis_prefix))
                    .query(&mut conn)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
                }
            }
        }
    }
}

/// The write side running in this test's process.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The write side the API runs on.
    pub shop: Shop,
    pub api: scenario::Api,
    /// The query API, when the read side runs.
    pub query: Option<scenario::Api>,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl std::ops::Deref for TestApp {
    type Target = scenario::Api;

    fn deref(&self) -> &scenario::Api {
        &self.api
    }
}

impl TestApp {
    /// Registers an admin (as `atlantic user create` does) and signs in.
    pub async fn admin(&self) -> scenario::Shopper {
        let email = format!("admin-{}@example.com", Uuid::now_v7().simple());
        let registration = Registration {
            email: atlantic_domain::Email::parse(&email).expect("an e-mail"),
            password: "correct horse battery".into(),
            name: atlantic_domain::Text::parse("Admin").expect("a name"),
            role: atlantic_domain::Role::Admin,
            non_transactional_mail: true,
        };
        let created = accounts::register(&self.shop, registration, &CommandMetadata::system())
            .await
            .expect("register an admin");
        self.sign_in(created.id, &email).await
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Orders one unit of each of `products` for `customer`, waits until the
/// carrier has the order, and records its delivery as `admin`: from then on
/// the customer has received them (and may rate them). Returns the order.
pub async fn receive(
    api: &scenario::Api,
    pool: &sqlx::PgPool,
    admin: &scenario::Shopper,
    customer: &scenario::Shopper,
    products: &[Uuid],
) -> Uuid {
    let items: Vec<serde_json::Value> = products
        .iter()
        .map(|product| serde_json::json!({"productId": product, "quantity": 1}))
        .collect();
    let placed = api
        .post(
            "/orders",
            Some(&customer.token),
            serde_json::json!({"items": items, "shippingAddress": scenario::address(), "payment": {"token": "tok_visa"}}),
        )
        .await;
    assert_eq!(placed.status(), reqwest::StatusCode::CREATED);
    let order = scenario::id_of(placed).await;
    eventually(Duration::from_secs(60), "the order to ship", || async {
        let shipped: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = 'Order' \
                            AND aggregate_id = $1 AND event_type = 'OrderShipped')",
        )
        .bind(order.to_string())
        .fetch_one(pool)
        .await
        .ok()?;
        shipped.then_some(())
    })
    .await;
    let delivered = api
        .post(
            &format!("/orders/{order}/delivery"),
            Some(&admin.token),
            serde_json::json!({"deliveryStatus": "DELIVERED"}),
        )
        .await;
    assert_eq!(delivered.status(), reqwest::StatusCode::ACCEPTED);
    order
}

/// An admin made with `atlantic user create` (for a system run as a child
/// process), signed in through `api`.
pub async fn admin_by_cli(env: &TestEnv, api: &scenario::Api) -> scenario::Shopper {
    let email = format!("admin-{}@example.com", Uuid::now_v7().simple());
    let created = Command::new(env!("CARGO_BIN_EXE_atlantic"))
        .args([
            "user", "create", "--email", &email, "--name", "Admin", "--role", "admin",
        ])
        .env("ATLANTIC_USER_PASSWORD", "correct horse battery")
        .envs(env.child_env())
        .output()
        .expect("run atlantic user create");
    assert!(created.status.success(), "{created:?}");
    let id = String::from_utf8_lossy(&created.stdout)
        .trim()
        .parse()
        .expect("the new user's id");
    api.sign_in(id, &email).await
}

/// Polls `check` every 20 ms until it returns `Some`, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
