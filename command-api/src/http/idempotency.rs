//! `Idempotency-Key` on POST: the same key and body within 24 hours gets the
//! first answer again and writes nothing twice.
//!
//! The key is claimed in Postgres before the handler runs, so two concurrent
//! requests with one key cannot both execute; the second is told to retry (409).
//! The claim, the handler and the recording of its answer run in a task of
//! their own, so a client that drops the connection cannot stop any of them
//! half-way. Answers
//! below 500 are kept; a 5xx releases the key so the client can retry, and so
//! does a claim left unanswered for 30 seconds (its process died). What the
//! claim's request created is found again then: a creating handler derives
//! the new aggregate's id from the key ([`IdempotentId`]), so a request run
//! again finds the order it placed instead of placing a second.
//!
//! `POST /sessions` is never recorded: its answer is a live bearer token,
//! which no table keeps in clear. Keys older than 24 hours are purged when the
//! API starts and every [`PURGE_INTERVAL`].

use super::{AppState, BODY_LIMIT};
use atlantic_platform::http::error::ApiError;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

const HEADER: &str = "idempotency-key";

/// How often expired keys are purged.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Namespace of ids derived from idempotency keys.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x1d3e_7a0c_5b2f_4c61_9e84_3f0a_6d2b_71c5);

/// The id a creating command takes when its request carries an
/// `Idempotency-Key`: a UUID v5 of the key and its scope (the caller and the
/// path), the same on every retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotentId(pub Uuid);

/// Deletes the keys older than 24 hours; returns how many.
pub async fn purge_expired(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// The middleware.
pub async fn replay_or_record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST
        || !request.headers().contains_key(HEADER)
        || request.uri().path() == "/sessions"
    {
        return next.run(request).await;
    }
    match tokio::spawn(handle(state, request, next)).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(error) => {
            ApiError::Internal(anyhow::Error::new(error).context("a keyed request")).into_response()
        }
    }
}

async fn handle(state: AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    let key = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible characters".into())
        })?
        .to_string();
    // The caller is the signed-in user, whatever session they use now, so a
    // retry after signing in again is still the same request.
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let token = std::str::from_utf8(&authorization)
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let principal = match token {
        Some(token) => match state.shop.sessions.get(token).await? {
            Some(session) => format!("user:{}", session.user_id).into_bytes(),
            None => authorization,
        },
        None => authorization,
    };
    let scope = hex::encode(
        Sha256::new()
            .chain_update(&principal)
            .chain_update(b"\0")
            .chain_update(request.uri().path().as_bytes())
            .finalize(),
    );
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let request_hash = hex::encode(Sha256::digest(&bytes));

    sqlx::query(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 \
           AND (created_at < now() - interval '24 hours' \
                OR (status IS NULL AND created_at < now() - interval '30 seconds'))",
    )
    .bind(&scope)
    .bind(&key)
    .execute(&state.shop.pool)
    .await?;
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(&scope)
    .bind(&key)
    .bind(&request_hash)
    .execute(&state.shop.pool)
    .await?
    .rows_affected()
        == 1;

    if !claimed {
        return replay(&state, &scope, &key, &request_hash).await;
    }

    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(IdempotentId(Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{scope}:{key}").as_bytes(),
    )));
    let response = next.run(request).await;
    let status = response.status();
    if status.is_server_error() {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(&scope)
            .bind(&key)
            .execute(&state.shop.pool)
            .await?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot read the response: {e}")))?;
    let location = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, location = $4, body = $5 WHERE scope = $1 AND key = $2",
    )
    .bind(&scope)
    .bind(&key)
    .bind(i16::try_from(status.as_u16()).unwrap_or(500))
    .bind(location)
    .bind(body.to_vec())
    .execute(&state.shop.pool)
    .await?;
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// A claimed key's row: the first request's hash and, once answered, its answer.
#[derive(sqlx::FromRow)]
struct StoredAnswer {
    request_hash: String,
    status: Option<i16>,
    location: Option<String>,
    body: Option<Vec<u8>>,
}

async fn replay(
    state: &AppState,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Response, ApiError> {
    let row: Option<StoredAnswer> = sqlx::query_as(
        "SELECT request_hash, status, location, body FROM idempotency_keys WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(&state.shop.pool)
    .await?;
    let Some(StoredAnswer {
        request_hash: stored_hash,
        status,
        location,
        body,
    }) = row
    else {
        return Err(ApiError::Conflict(
            "the request with this Idempotency-Key just failed; retry".into(),
        ));
    };
    if stored_hash != request_hash {
        return Err(ApiError::Invalid {
            detail: "this Idempotency-Key was used with a different body".into(),
            errors: [(
                "Idempotency-Key".to_string(),
                "reused with a different body".to_string(),
            )]
            .into(),
        });
    }
    let Some(status) = status else {
        return Err(ApiError::Conflict(
            "a request with this Idempotency-Key is in progress".into(),
        ));
    };
    let body = body.unwrap_or_default();
    let content_type = if body.first() == Some(&b'{') && status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    Ok(response)
}
