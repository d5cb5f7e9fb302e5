//! Reading your own writes. A command answers a consistency token
//! (`<aggregate type>:<id>:<version>`); a read that sends it back in the
//! `Atlantic-Consistency` header waits, at most [`WAIT`], until every read
//! model its route reads that applies that aggregate's events holds that
//! version (`projection_versions`, written by the projector runtime after
//! each batch), then answers; or answers 503 with `Retry-After`. A read
//! without the header does not wait.

use crate::QueryState;
use atlantic_platform::headers;
use atlantic_platform::http::ApiError;
use atlantic_projections::read_models::applies;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The longest a read waits for its read models to catch up.
pub const WAIT: Duration = Duration::from_secs(2);
/// How often it looks.
const POLL: Duration = Duration::from_millis(5);
/// The longest token read (a type, a UUID and a version fit in far less).
const MAX_TOKEN: usize = 128;
/// The aggregate types a token may name.
const AGGREGATE_TYPES: [&str; 7] = [
    "User", "Seller", "Product", "Order", "Payment", "Rating", "Comment",
];

/// A write a read must see: version `version` of aggregate `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    aggregate_type: &'static str,
    id: Uuid,
    version: i64,
}

impl Token {
    /// Reads a token, refusing anything else with 422.
    pub fn parse(text: &str) -> Result<Token, ApiError> {
        let refuse = |why: &str| ApiError::invalid_field(headers::CONSISTENCY, why);
        if text.len() > MAX_TOKEN {
            return Err(refuse("is too long"));
        }
        let mut parts = text.split(':');
        let (Some(kind), Some(id), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refuse("must be `<aggregate type>:<id>:<version>`"));
        };
        let aggregate_type = AGGREGATE_TYPES
            .into_iter()
            .find(|known| *known == kind)
            .ok_or_else(|| refuse("names no aggregate type"))?;
        let id = Uuid::parse_str(id).map_err(|_| refuse("holds no UUID"))?;
        let version = version
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| refuse("holds no version"))?;
        Ok(Token {
            aggregate_type,
            id,
            version,
        })
    }
}

/// Whether each of `projections` that applies the token's aggregate holds its version.
async fn caught_up(pool: &PgPool, token: &Token, projections: &[&str]) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT count(*) = cardinality($1::text[]) FROM projection_versions \
         WHERE projection = ANY($1) AND aggregate_id = $2 AND version >= $3",
    )
    .bind(projections)
    .bind(token.id.to_string())
    .bind(token.version)
    .fetch_one(pool)
    .await
}

/// Waits until `projections` (those of them that apply the token's
/// aggregate) hold the write of `token`, for at most [`WAIT`].
pub async fn wait_for(pool: &PgPool, token: &Token, projections: &[&str]) -> Result<(), ApiError> {
    let mut relevant: Vec<&str> = projections
        .iter()
        .copied()
        .filter(|projection| applies(projection, token.aggregate_type))
        .collect();
    relevant.sort_unstable();
    relevant.dedup();
    if relevant.is_empty() {
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if caught_up(pool, token, &relevant).await? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::Unavailable(
                "the read model has not applied that write yet; ask again".into(),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `routes`, each run once the write of the request's token is in
/// `projections`, the read models they read.
pub fn reading(
    routes: Router<QueryState>,
    state: &QueryState,
    projections: Vec<&'static str>,
) -> Router<QueryState> {
    let projections: Arc<[&'static str]> = projections.into();
    routes.route_layer(middleware::from_fn_with_state(
        state.clone(),
        move |State(state): State<QueryState>, request, next| {
            let projections = projections.clone();
            async move { gate(state, &projections, request, next).await }
        },
    ))
}

/// The middleware of a route that reads `projections`: runs the request once
/// its token's write is there (at once without a token).
async fn gate(state: QueryState, projections: &[&str], request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(headers::CONSISTENCY) else {
        return next.run(request).await;
    };
    let waited = match value.to_str() {
        Ok(text) => match Token::parse(text) {
            Ok(token) => wait_for(&state.pool, &token, projections).await,
            Err(refused) => Err(refused),
        },
        Err(_) => Err(ApiError::invalid_field(
            headers::CONSISTENCY,
            "must be `<aggregate type>:<id>:<version>`",
        )),
    };
    match waited {
        Ok(()) => next.run(request).await,
        Err(error @ ApiError::Unavailable(_)) => {
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_a_type_an_id_and_a_version() {
        let id = Uuid::now_v7();
        let token = Token::parse(&format!("Order:{id}:3")).unwrap();
        assert_eq!(
            token,
            Token {
                aggregate_type: "Order",
                id,
                version: 3
            }
        );
        for bad in [
            String::new(),
            format!("Order:{id}"),
            format!("Order:{id}:0"),
            format!("Order:{id}:-1"),
            format!("Order:{id}:3:4"),
            format!("Nope:{id}:1"),
            "Order:not-a-uuid:1".to_string(),
            format!("Order:{id}:{}", "9".repeat(200)),
        ] {
            assert!(Token::parse(&bad).is_err(), "{bad}");
        }
    }
}
