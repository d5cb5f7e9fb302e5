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

/// Login attempts allowed per account, and per client address, per window.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts per account.
    pub per_account: u32,
    /// Attempts per client address.
    pub per_address: u32,
    /// The window.
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account: 10,
            per_address: 100,
            window: Duration::from_secs(300),
        }
    }
}

/// Sessions and rate-limit counters under one key prefix.
#[derive(Clone)]
pub struct SessionStore {
    redis: ConnectionManager,
    prefix: String,
    ttl: Duration,
    limits: LoginLimits,
}

impl SessionStore {
    /// A store on `redis` whose keys all start with `prefix`.
    pub fn new(
        redis: ConnectionManager,
        prefix: String,
        ttl: Duration,
        limits: LoginLimits,
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

    /// Counts a login attempt for `account` from `address`; false when either is
    /// over its limit for the current window.
    pub async fn allow_login(&self, account: &str, address: &str) -> redis::RedisResult<bool> {
        let account_ok = self
            .count(&format!("login:account:{account}"), self.limits.per_account)
            .await?;
        let address_ok = self
            .count(&format!("login:address:{address}"), self.limits.per_address)
            .await?;
        Ok(account_ok && address_ok)
    }

    async fn count(&self, name: &str, limit: u32) -> redis::RedisResult<bool> {
        let key = format!("{}{}", self.prefix, name);
        let mut redis = self.redis.clone();
        let (count,): (u32,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, self.limits.window.as_secs() as i64)
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
