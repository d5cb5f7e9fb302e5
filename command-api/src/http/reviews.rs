//! Ratings and comments: `POST /products/{id}/ratings`,
//! `DELETE /products/{id}/ratings/mine`, `POST /products/{id}/comments`,
//! `PATCH` and `DELETE /comments/{id}`.

use super::extract::{AuthUser, Body, IdPath};
use super::{accepted, caller, AppState};
use atlantic_application::{reviews, Accepted};
use atlantic_domain::comment::CommentText;
use atlantic_domain::rating::Stars;
use atlantic_platform::http::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/ratings", post(rate))
        .route(
            "/products/{id}/ratings/mine",
            axum::routing::delete(withdraw),
        )
        .route("/products/{id}/comments", post(comment))
        .route("/comments/{id}", patch(edit).delete(remove))
}

/// A rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"stars": 4}))]
pub struct RatingBody {
    /// 1 to 5.
    #[schema(value_type = u8, minimum = 1, maximum = 5)]
    pub stars: Stars,
}

/// A comment's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"text": "Boils fast and folds flat."}))]
pub struct CommentBody {
    /// Not blank, at most 2,000 characters.
    #[schema(value_type = String, min_length = 1, max_length = 2000, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub text: CommentText,
}

/// Rate a product, or change one's rating (a customer who received it). The
/// rating's id is the same for one customer and product.
#[utoipa::path(post, path = "/products/{id}/ratings", tag = "reviews", request_body = RatingBody,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn rate(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(product_id): IdPath<Uuid>,
    Body(body): Body<RatingBody>,
) -> Result<impl IntoResponse, ApiError> {
    let rated = reviews::rate_product(&state.shop, &caller(&user), product_id, body.stars).await?;
    Ok(accepted(rated))
}

/// Withdraw one's rating of a product (signed in).
#[utoipa::path(delete, path = "/products/{id}/ratings/mine", tag = "reviews",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 404, body = super::Problem)))]
pub async fn withdraw(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(product_id): IdPath<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let withdrawn = reviews::withdraw_rating(&state.shop, &caller(&user), product_id).await?;
    Ok(accepted(withdrawn))
}

/// Comment on a product (signed in).
#[utoipa::path(post, path = "/products/{id}/comments", tag = "reviews", request_body = CommentBody,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = Accepted), (status = 404, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn comment(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(product_id): IdPath<Uuid>,
    Body(body): Body<CommentBody>,
) -> Result<impl IntoResponse, ApiError> {
    let posted = reviews::comment_on(&state.shop, &caller(&user), product_id, body.text).await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

/// Change a comment's text (its author, admin).
#[utoipa::path(patch, path = "/comments/{id}", tag = "reviews", request_body = CommentBody,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn edit(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<CommentBody>,
) -> Result<impl IntoResponse, ApiError> {
    let edited = reviews::edit_comment(&state.shop, &caller(&user), id, body.text).await?;
    Ok(accepted(edited))
}

/// Delete a comment (its author, admin).
#[utoipa::path(delete, path = "/comments/{id}", tag = "reviews",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let removed = reviews::remove_comment(&state.shop, &caller(&user), id).await?;
    Ok(accepted(removed))
}
