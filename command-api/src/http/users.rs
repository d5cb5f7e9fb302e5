//! `POST /users`, `PATCH /users/{id}`.

use super::extract::{AuthUser, Body, IdPath, RequestId};
use super::{accepted, caller, AppState};
use atlantic_application::accounts::{self, ProfileChanges, Registration};
use atlantic_application::Accepted;
use atlantic_domain::user::Address;
use atlantic_domain::{Email, Role, Text};
use atlantic_platform::http::error::ApiError;
use atlantic_platform::metadata::CommandMetadata;
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(register))
        .route("/users/{id}", patch(update_profile))
}

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "password": "correct horse battery", "name": "Ana Costa", "nonTransactionalMail": true}))]
pub struct RegisterUser {
    /// Login address (unique).
    #[schema(value_type = String, format = "email", max_length = 254)]
    pub email: Email,
    /// 10 to 1,024 characters.
    #[schema(min_length = 10, max_length = 1024, pattern = "^[^\\u0000]*$")]
    pub password: String,
    /// Display name.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub name: Text<200>,
    /// Whether to take mail that is not about an order (the welcome, stock
    /// alerts); yes when absent. Order mail always goes.
    pub non_transactional_mail: Option<bool>,
}

/// A profile change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Ana Costa", "address": {"line1": "12 Harbour Street", "city": "Lisbon", "region": "Lisboa", "country": "PT", "postalCode": "1100-001"}}))]
pub struct UpdateProfile {
    /// New name.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub name: Option<Text<200>>,
    /// New address.
    #[schema(value_type = Option<super::PostalAddress>)]
    pub address: Option<Address>,
    /// Whether to take mail that is not about an order.
    pub non_transactional_mail: Option<bool>,
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
        .shop
        .sessions
        .allow(Attempt::Registration { address: &address })
        .await?
    {
        return Err(ApiError::TooManyRequests(
            "too many registrations from this address; wait a few minutes".into(),
        ));
    }
    let metadata = CommandMetadata::for_request(request_id, None);
    let registration = Registration {
        email: body.email,
        password: body.password,
        name: body.name,
        role: Role::Customer,
        non_transactional_mail: body.non_transactional_mail.unwrap_or(true),
    };
    let accepted = accounts::register(&state.shop, registration, &metadata).await?;
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
    let changes = ProfileChanges {
        name: body.name,
        address: body.address,
        non_transactional_mail: body.non_transactional_mail,
    };
    let updated = accounts::update_profile(&state.shop, &caller(&user), id, changes).await?;
    Ok(accepted(updated))
}
