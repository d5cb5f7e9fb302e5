//! Sessions and login rate limits in Redis (DragonFly in production).
//!
//! A session is stored under the SHA-256 of its bearer token, so a leaked
//! key space does not leak usable tokens. Revocation deletes the key: it takes
//! effect on the very next request.

use atlantic_domain::{Actor, Role};
use chrono::{DateTime, Utc};
use rand::RngCore;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use uuid::Uuid;

/// A signed-in user's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The user.
    pub user_id: Uuid,
    /// The user's role when the session was made (updated when it changes).
    pub role: Role,
    /// The seller the user runs, if any.
    pub seller_id: Option<Uuid>,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// The actor the session's commands run as.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user_id,
            role: self.role,
            seller_id: self.seller_id,
        }
    }
}

/// The limits on what one client may do, each counted in Redis over a
/// window. Sign-in counts *failures*, per account and address together and
/// per address, so a third party cannot lock an owner out: the right
/// password from another address still works.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Failed sign-ins per account from one address, per `window`.
    pub per_account: u32,
    /// Failed sign-ins per client address, per `window`.
    pub per_address: u32,
    /// The sign-in and registration window.
    pub window: Duration,
    /// Registrations per client address, per `window`.
    pub registrations_per_address: u32,
    /// Clicks tracked per client address, per [`CLICK_WINDOW`].
    pub clicks_per_address: u32,
}

/// The window clicks are counted in.
pub const CLICK_WINDOW: Duration = Duration::from_secs(60);

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_account: 10,
            per_address: 100,
            window: Duration::from_secs(300),
            registrations_per_address: 20,
            clicks_per_address: 600,
        }
    }
}

/// Sessions and rate-limit counters under one key prefix.
#[derive(Clone)]
pub struct SessionStore {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
    limits: RateLimits,
}

/// One client's action to count against a limit.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// A registration from an address.
    Registration {
        /// The client's address.
        address: &'a str,
    },
    /// A click tracked from an address.
    Click {
        /// The client's address.
        address: &'a str,
    },
}

impl SessionStore {
    /// A store on `redis` whose keys all start with `prefix`.
    pub fn new(
        redis: ConnectionManager,
        prefix: String,
        ttl: Duration,
        limits: RateLimits,
    ) -> Self {
        SessionStore {
            redis,
            prefix,
            ttl,
            limits,
        }
    }

    fn key(&self, token: &str) -> String {
        format!(
            "{}session:{}",
            self.prefix,
            hex::encode(Sha256::digest(token.as_bytes()))
        )
    }

    /// Opens a session; returns its bearer token and the session.
    pub async fn create(
        &self,
        user_id: Uuid,
        role: Role,
        seller_id: Option<Uuid>,
    ) -> redis::RedisResult<(String, Session)> {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let session = Session {
            user_id,
            role,
            seller_id,
            expires_at: Utc::now() + self.ttl,
        };
        self.store(&token, &session).await?;
        Ok((token, session))
    }

    async fn store(&self, token: &str, session: &Session) -> redis::RedisResult<()> {
        let json = serde_json::to_string(session).map_err(|e| {
            redis::RedisError::from((redis::ErrorKind::TypeError, "session", e.to_string()))
        })?;
        let ttl = (session.expires_at - Utc::now()).num_seconds().max(1) as u64;
        self.redis.clone().set_ex(self.key(token), json, ttl).await
    }

    /// The live session of `token`, if any.
    pub async fn get(&self, token: &str) -> redis::RedisResult<Option<Session>> {
        let json: Option<String> = self.redis.clone().get(self.key(token)).await?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Updates a live session's role and seller (after the user became a seller).
    pub async fn update_role(
        &self,
        token: &str,
        role: Role,
        seller_id: Option<Uuid>,
    ) -> redis::RedisResult<()> {
        if let Some(mut session) = self.get(token).await? {
            session.role = role;
            session.seller_id = seller_id;
            self.store(token, &session).await?;
        }
        Ok(())
    }

    /// Ends the session of `token` at once.
    pub async fn revoke(&self, token: &str) -> redis::RedisResult<()> {
        self.redis.clone().del(self.key(token)).await
    }

    /// Whether `account` may try to sign in from `address`: neither has
    /// failed too often in the current window.
    pub async fn login_allowed(&self, account: &str, address: &str) -> redis::RedisResult<bool> {
        let (pair, from_address) = self.failure_keys(account, address);
        let counts: Vec<Option<u32>> = self.redis.clone().mget(&[pair, from_address]).await?;
        let count = |i: usize| counts.get(i).copied().flatten().unwrap_or(0);
        Ok(count(0) < self.limits.per_account && count(1) < self.limits.per_address)
    }

    /// Counts a failed sign-in to `account` from `address`.
    pub async fn login_failed(&self, account: &str, address: &str) -> redis::RedisResult<()> {
        let (pair, from_address) = self.failure_keys(account, address);
        let window = self.limits.window.as_secs() as i64;
        redis::pipe()
            .atomic()
            .incr(&pair, 1)
            .ignore()
            .expire(&pair, window)
            .ignore()
            .incr(&from_address, 1)
            .ignore()
            .expire(&from_address, window)
            .ignore()
            .query_async::<()>(&mut self.redis.clone())
            .await
    }

    fn failure_keys(&self, account: &str, address: &str) -> (String, String) {
        let account = hex::encode(Sha256::digest(account.as_bytes()));
        (
            format!("{}login-failures:{account}:{address}", self.prefix),
            format!("{}login-failures:address:{address}", self.prefix),
        )
    }

    /// Counts `attempt`; false when it is over its limit for the current window.
    pub async fn allow(&self, attempt: Attempt<'_>) -> redis::RedisResult<bool> {
        let (name, limit, window) = match attempt {
            Attempt::Registration { address } => (
                format!("registrations:{address}"),
                self.limits.registrations_per_address,
                self.limits.window,
            ),
            Attempt::Click { address } => (
                format!("clicks:{address}"),
                self.limits.clicks_per_address,
                CLICK_WINDOW,
            ),
        };
        let key = format!("{}{}", self.prefix, name);
        let mut redis = self.redis.clone();
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, window.as_secs() as i64)
            .ignore()
            .query_async(&mut redis)
            .await?;
        Ok(count <= limit)
    }

    /// The Redis connection, for other users of the same server.
    pub fn connection(&self) -> ConnectionManager {
        self.redis.clone()
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        redis::cmd("PING")
            .query_async::<String>(&mut self.redis.clone())
            .await
            .is_ok()
    }
}
