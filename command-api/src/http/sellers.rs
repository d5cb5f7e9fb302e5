//! `POST /sellers`, `PATCH /sellers/{id}`.

use super::extract::{AuthUser, Body, IdPath};
use super::{accepted, caller, AppState};
use atlantic_application::sellers::{self, NewSeller, SellerChanges};
use atlantic_application::Accepted;
use atlantic_domain::{Email, Text};
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
#[schema(example = json!({"name": "Harbour Electronics", "contactEmail": "sales@harbour.example"}))]
pub struct CreateSeller {
    /// The seller's name.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub name: Text<200>,
    /// Where to reach the seller.
    #[schema(value_type = String, format = "email", max_length = 254)]
    pub contact_email: Email,
    /// The user who will run it (admins only; others run their own).
    pub user_id: Option<Uuid>,
}

/// A seller change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"contactEmail": "orders@harbour.example", "stockAlertBelow": 5}))]
pub struct UpdateSeller {
    /// New name.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub name: Option<Text<200>>,
    /// New contact address.
    #[schema(value_type = Option<String>, format = "email", max_length = 254)]
    pub contact_email: Option<Email>,
    /// Mail the seller when a product's stock falls below this many units
    /// (0 to 1,000,000,000; 0: never).
    #[serde(
        default,
        deserialize_with = "atlantic_domain::bounds::optional_stock_alert"
    )]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub stock_alert_below: Option<u32>,
}

/// Become a seller (or, as an admin, make another user one).
#[utoipa::path(post, path = "/sellers", tag = "sellers", request_body = CreateSeller, security(("bearer" = [])),
    responses((status = 201, body = Accepted), (status = 403, body = super::Problem), (status = 409, body = super::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    Body(body): Body<CreateSeller>,
) -> Result<impl IntoResponse, ApiError> {
    let seller = NewSeller {
        name: body.name,
        contact_email: body.contact_email,
        owner: body.user_id,
    };
    let created = sellers::become_seller(&state.shop, &caller(&user), seller).await?;
    let seller_id = created.id;
    let location = format!("/sellers/{seller_id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
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
    let changes = SellerChanges {
        name: body.name,
        contact_email: body.contact_email,
        stock_alert_below: body.stock_alert_below,
    };
    let updated = sellers::update_seller(&state.shop, &caller(&user), id, changes).await?;
    Ok(accepted(updated))
}
