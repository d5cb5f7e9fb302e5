//! `POST /users`, `PATCH /users/{id}`.

use super::extract::{AuthUser, Body, IdPath, RequestId};
use super::{accept, Accepted, AppState};
use atlantic_domain::user::{Address, UserCommand};
use atlantic_domain::{Email, Role, Text};
use atlantic_platform::http::error::ApiError;
use atlantic_platform::metadata::CommandMetadata;
use atlantic_platform::passwords;
use atlantic_platform::sessions::Attempt;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use utoipa::ToSchema;
use uuid::Uuid;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// Longest password accepted (argon2 works on any length; this bounds the work).
pub const MAX_PASSWORD: usize = 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(register))
        .route("/users/{id}", patch(update_profile))
}

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterUser {
    /// Login address (unique).
    #[schema(value_type = String, format = "email")]
    pub email: Email,
    /// At least 10 characters.
    pub password: String,
    /// Display name.
    #[schema(value_type = String)]
    pub name: Text<200>,
}

/// A profile change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfile {
    /// New name.
    #[schema(value_type = Option<String>)]
    pub name: Option<Text<200>>,
    /// New address.
    #[schema(value_type = Option<Object>)]
    pub address: Option<Address>,
}

/// Checks a password's length in characters.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        Err(ApiError::invalid_field(
            "password",
            format!("must be at least {MIN_PASSWORD} characters"),
        ))
    } else if length > MAX_PASSWORD {
        Err(ApiError::invalid_field(
            "password",
            format!("must be at most {MAX_PASSWORD} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Registers a user with `role`; answers the new user's id and version.
pub async fn register_user(
    state: &AppState,
    email: Email,
    password: String,
    name: Text<200>,
    role: Role,
    metadata: &CommandMetadata,
) -> Result<Accepted, ApiError> {
    check_password(&password)?;
    let password_hash = passwords::hash(password).await?;
    let user_id = Uuid::now_v7();
    let command = UserCommand::Register {
        user_id,
        email,
        name,
        password_hash,
        role,
    };
    let committed = state
        .users
        .execute(&user_id.to_string(), command, metadata)
        .await
        .map_err(|error| match error {
            atlantic_platform::bus::CommandError::Duplicate => {
                ApiError::Conflict("an account with this e-mail already exists".into())
            }
            other => other.into(),
        })?;
    Ok(Accepted {
        id: user_id,
        version: committed.version,
    })
}

/// Open an account (role customer); limited per client address.
#[utoipa::path(post, path = "/users", tag = "users", request_body = RegisterUser,
    responses((status = 201, body = Accepted), (status = 409, body = super::Problem), (status = 422, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RequestId(request_id): RequestId,
    Body(body): Body<RegisterUser>,
) -> Result<impl IntoResponse, ApiError> {
    let address = peer.ip().to_string();
    if !state
        .sessions
        .allow(Attempt::Registration { address: &address })
        .await?
    {
        return Err(ApiError::TooManyRequests(
            "too many registrations from this address; wait a few minutes".into(),
        ));
    }
    let metadata = CommandMetadata::for_request(request_id, None);
    let accepted = register_user(
        &state,
        body.email,
        body.password,
        body.name,
        Role::Customer,
        &metadata,
    )
    .await?;
    let location = format!("/users/{}", accepted.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(accepted),
    ))
}

/// Change a profile (the user or an admin).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UpdateProfile,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn update_profile(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<UpdateProfile>,
) -> Result<impl IntoResponse, ApiError> {
    let command = UserCommand::UpdateProfile {
        actor: user.actor(),
        name: body.name,
        address: body.address,
    };
    accept(&state.users, id, command, &user).await
}
