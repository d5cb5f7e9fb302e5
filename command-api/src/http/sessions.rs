//! `POST /sessions` (sign in), `DELETE /sessions/current` (sign out).

use super::extract::{AuthUser, Body};
use super::AppState;
use atlantic_domain::Role;
use atlantic_platform::http::error::ApiError;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", post(sign_in))
        .route("/sessions/current", delete(sign_out))
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignIn {
    /// Login address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// A new session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    /// The bearer token.
    pub token: String,
    /// The user.
    pub user_id: Uuid,
    /// The user's role.
    #[schema(value_type = String)]
    pub role: Role,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// The id of the user registered with `email`, if any.
pub async fn user_id_by_email(state: &AppState, email: &str) -> Result<Option<Uuid>, ApiError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events \
         WHERE aggregate_type = 'User' AND event_type = 'UserRegistered' \
           AND payload -> 'UserRegistered' ->> 'email' = $1",
    )
    .bind(email)
    .fetch_optional(&state.pool)
    .await?;
    Ok(id.and_then(|id| Uuid::parse_str(&id).ok()))
}

/// Sign in; failures are limited per account and address, and per address.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionCreated), (status = 401, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<SignIn>,
) -> Result<impl IntoResponse, ApiError> {
    let email = body.email.trim().to_lowercase();
    let wrong = || ApiError::Unauthorized("wrong e-mail or password".into());
    if email.len() > 254 {
        return Err(ApiError::invalid_field(
            "email",
            "must be at most 254 bytes",
        ));
    }
    if body.password.chars().count() > super::users::MAX_PASSWORD {
        return Err(ApiError::invalid_field(
            "password",
            format!("must be at most {} characters", super::users::MAX_PASSWORD),
        ));
    }
    let address = peer.ip().to_string();
    if !state.sessions.login_allowed(&email, &address).await? {
        return Err(ApiError::TooManyRequests(
            "too many failed sign-ins; wait a few minutes".into(),
        ));
    }
    let user = match user_id_by_email(&state, &email).await? {
        Some(user_id) => Some((user_id, state.users.load(&user_id.to_string()).await?)),
        None => None,
    };
    // An unknown address costs one verification too, so the answer's time
    // does not tell which addresses have accounts.
    let hash = user
        .as_ref()
        .map(|(_, user)| user.password_hash().to_string());
    let matches = atlantic_platform::passwords::verify_or_spend(body.password, hash).await?;
    let (user_id, user) = match user {
        Some(found) if matches => found,
        _ => {
            state.sessions.login_failed(&email, &address).await?;
            return Err(wrong());
        }
    };
    let (token, session) = state
        .sessions
        .create(user_id, user.role(), user.seller_id())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            token,
            user_id,
            role: session.role,
            expires_at: session.expires_at,
        }),
    ))
}

/// Sign out: the token stops working at once.
#[utoipa::path(delete, path = "/sessions/current", tag = "sessions", security(("bearer" = [])),
    responses((status = 204, description = "signed out"), (status = 401, body = super::Problem)))]
pub async fn sign_out(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<impl IntoResponse, ApiError> {
    state.sessions.revoke(&user.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
