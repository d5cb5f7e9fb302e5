//! `POST /sessions` (sign in), `DELETE /sessions/current` (sign out).

use super::extract::{AuthUser, Body};
use super::{caller, AppState};
use atlantic_application::accounts::{self, Credentials};
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
#[schema(example = json!({"email": "ana@example.com", "password": "correct horse battery"}))]
pub struct SignIn {
    /// Login address.
    #[schema(max_length = 254)]
    pub email: String,
    /// Password.
    #[schema(max_length = 1024, pattern = "^[^\\u0000]*$")]
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
    #[schema(value_type = String, example = "customer")]
    pub role: Role,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// Sign in; failures are limited per account and address, and per address.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionCreated), (status = 401, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<SignIn>,
) -> Result<impl IntoResponse, ApiError> {
    let credentials = Credentials {
        email: body.email,
        password: body.password,
        client_address: peer.ip().to_string(),
    };
    let session = accounts::sign_in(&state.shop, credentials).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            token: session.token,
            user_id: session.user_id,
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
    accounts::sign_out(&state.shop, &caller(&user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
