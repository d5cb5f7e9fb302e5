//! Shopping carts in Redis/DragonFly: one hash per user (`<prefix>cart:<user>`,
//! product id ⇒ quantity), kept 30 days after its last change. A cart is not
//! an event-sourced aggregate: nothing happens to the shop until checkout
//! places an order.

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use std::collections::BTreeMap;
use uuid::Uuid;

/// How long an untouched cart lives.
const TTL_SECONDS: i64 = 30 * 24 * 3600;

/// Carts under one key prefix.
#[derive(Clone)]
pub struct CartStore {
    redis: ConnectionManager,
    prefix: String,
}

impl CartStore {
    /// Carts on `redis` whose keys start with `prefix`.
    pub fn new(redis: ConnectionManager, prefix: String) -> Self {
        CartStore { redis, prefix }
    }

    fn key(&self, user: Uuid) -> String {
        format!("{}cart:{user}", self.prefix)
    }

    /// Sets the quantity of `product` in `user`'s cart.
    pub async fn set(&self, user: Uuid, product: Uuid, quantity: u32) -> redis::RedisResult<()> {
        let key = self.key(user);
        redis::pipe()
            .atomic()
            .hset(&key, product.to_string(), quantity)
            .expire(&key, TTL_SECONDS)
            .query_async(&mut self.redis.clone())
            .await
    }

    /// Takes `product` out of `user`'s cart.
    pub async fn remove(&self, user: Uuid, product: Uuid) -> redis::RedisResult<()> {
        self.redis
            .clone()
            .hdel(self.key(user), product.to_string())
            .await
    }

    /// What is in `user`'s cart, by product.
    pub async fn items(&self, user: Uuid) -> redis::RedisResult<BTreeMap<Uuid, u32>> {
        let fields: BTreeMap<String, u32> = self.redis.clone().hgetall(self.key(user)).await?;
        Ok(fields
            .into_iter()
            .filter_map(|(product, quantity)| Some((Uuid::parse_str(&product).ok()?, quantity)))
            .collect())
    }

    /// Empties `user`'s cart.
    pub async fn clear(&self, user: Uuid) -> redis::RedisResult<()> {
        self.redis.clone().del(self.key(user)).await
    }
}
