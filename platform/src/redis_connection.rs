//! The connection to Redis (DragonFly in production) that sessions, carts and
//! the product cache share.

use anyhow::Context;
use redis::aio::ConnectionManager;

/// Connects to the Redis at `url`; the manager reconnects by itself.
pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("bad REDIS_URL")?;
    ConnectionManager::new(client)
        .await
        .context("cannot connect to Redis (REDIS_URL)")
}
