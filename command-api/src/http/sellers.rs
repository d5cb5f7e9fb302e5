//! `POST /sellers`, `PATCH /sellers/{id}`.

use super::extract::{AuthUser, Body, IdPath};
use super::{accept, Accepted, AppState};
use atlantic_domain::seller::seller_id_of;
use atlantic_domain::seller::{SellerCommand, SellerError};
use atlantic_domain::user::UserCommand;
use atlantic_domain::{Email, Role, Text};
use atlantic_platform::http::error::ApiError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sellers", post(create))
        .route("/sellers/{id}", patch(update))
}

/// A new seller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSeller {
    /// The seller's name.
    #[schema(value_type = String)]
    pub name: Text<200>,
    /// Where to reach the seller.
    #[schema(value_type = String, format = "email")]
    pub contact_email: Email,
    /// The user who will run it (admins only; others run their own).
    pub user_id: Option<Uuid>,
}

/// A seller change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSeller {
    /// New name.
    #[schema(value_type = Option<String>)]
    pub name: Option<Text<200>>,
    /// New contact address.
    #[schema(value_type = Option<String>)]
    pub contact_email: Option<Email>,
}

/// Become a seller (or, as an admin, make another user one).
#[utoipa::path(post, path = "/sellers", tag = "sellers", request_body = CreateSeller, security(("bearer" = [])),
    responses((status = 201, body = Accepted), (status = 403, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    Body(body): Body<CreateSeller>,
) -> Result<impl IntoResponse, ApiError> {
    let owner = match body.user_id {
        Some(other) if other != user.session.user_id => {
            user.require(&[Role::Admin])?;
            other
        }
        _ => user.session.user_id,
    };
    let seller_id = seller_id_of(owner);
    let metadata = user.metadata();
    let created = state
        .sellers
        .execute(
            &seller_id.to_string(),
            SellerCommand::Create {
                seller_id,
                owner_id: owner,
                name: body.name,
                contact_email: body.contact_email,
            },
            &metadata,
        )
        .await;
    let already = matches!(
        created,
        Err(atlantic_platform::bus::CommandError::Rejected(
            SellerError::AlreadyExists
        ))
    );
    if !already {
        created?;
    }
    state
        .users
        .execute(
            &owner.to_string(),
            UserCommand::BecomeSeller { seller_id },
            &metadata,
        )
        .await?;
    if owner == user.session.user_id {
        let role = if user.session.role == Role::Admin {
            Role::Admin
        } else {
            Role::Seller
        };
        state
            .sessions
            .update_role(&user.token, role, Some(seller_id))
            .await?;
    }
    if already {
        return Err(ApiError::Conflict("this user already runs a seller".into()));
    }
    let location = format!("/sellers/{seller_id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(Accepted {
            id: seller_id,
            version: 1,
        }),
    ))
}

/// Change a seller (its owner or an admin).
#[utoipa::path(patch, path = "/sellers/{id}", tag = "sellers", request_body = UpdateSeller,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<UpdateSeller>,
) -> Result<impl IntoResponse, ApiError> {
    let command = SellerCommand::Update {
        actor: user.actor(),
        name: body.name,
        contact_email: body.contact_email,
    };
    accept(&state.sellers, id, command, &user).await
}
