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

/// KEYS[1] the cart; ARGV product, quantity, most products, TTL. Sets the
/// quantity unless the product is new and the cart is full; 1 when it did.
const SET_WITHIN_LIMIT: &str = r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
";

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

    /// Sets the quantity of `product` in `user`'s cart, unless that would
    /// make the cart hold more than `max_lines` products; whether it did.
    pub async fn set(
        &self,
        user: Uuid,
        product: Uuid,
        quantity: u32,
        max_lines: usize,
    ) -> redis::RedisResult<bool> {
        let written: i64 = redis::Script::new(SET_WITHIN_LIMIT)
            .key(self.key(user))
            .arg(product.to_string())
            .arg(quantity)
            .arg(max_lines)
            .arg(TTL_SECONDS)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(written == 1)
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
        Ok(parse(fields))
    }

    /// Empties `user`'s cart and answers what it held, in one step: two
    /// checkouts of one cart cannot both get its lines.
    pub async fn take(&self, user: Uuid) -> redis::RedisResult<BTreeMap<Uuid, u32>> {
        let key = self.key(user);
        let (fields, _): (BTreeMap<String, u32>, i64) = redis::pipe()
            .atomic()
            .hgetall(&key)
            .del(&key)
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(parse(fields))
    }

    /// Puts `lines` back into `user`'s cart (after a checkout that failed),
    /// keeping any quantity set since.
    pub async fn restore(&self, user: Uuid, lines: &BTreeMap<Uuid, u32>) -> redis::RedisResult<()> {
        let key = self.key(user);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (product, quantity) in lines {
            pipe.hset_nx(&key, product.to_string(), *quantity);
        }
        pipe.expire(&key, TTL_SECONDS)
            .query_async(&mut self.redis.clone())
            .await
    }
}

fn parse(fields: BTreeMap<String, u32>) -> BTreeMap<Uuid, u32> {
    fields
        .into_iter()
        .filter_map(|(product, quantity)| Some((Uuid::parse_str(&product).ok()?, quantity)))
        .collect()
}
