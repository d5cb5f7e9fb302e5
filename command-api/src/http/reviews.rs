//! Ratings and comments: `POST /products/{id}/ratings`,
//! `DELETE /products/{id}/ratings/mine`, `POST /products/{id}/comments`,
//! `PATCH` and `DELETE /comments/{id}`.

use super::extract::{AuthUser, Body, IdPath};
use super::{accept, Accepted, AppState};
use crate::purchases;
use atlantic_domain::comment::{CommentCommand, CommentText};
use atlantic_domain::rating::{rating_id, RatingCommand, Stars};
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
pub struct RatingBody {
    /// 1 to 5.
    #[schema(value_type = u8, minimum = 1, maximum = 5)]
    pub stars: Stars,
}

/// A comment's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentBody {
    /// Not blank, at most 2,000 characters.
    #[schema(value_type = String)]
    pub text: CommentText,
}

/// 404 unless `product_id` is listed.
async fn listed(state: &AppState, product_id: Uuid) -> Result<(), ApiError> {
    let product = state.products.load(&product_id.to_string()).await?;
    if product.is_listed() {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no product {product_id}")))
    }
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
    listed(&state, product_id).await?;
    let user_id = user.session.user_id;
    if !purchases::received(&state.pool, user_id, product_id).await? {
        return Err(ApiError::Forbidden(
            "only a customer who received this product may rate it".into(),
        ));
    }
    let command = RatingCommand::Rate {
        product_id,
        user_id,
        stars: body.stars,
    };
    accept(
        &state.ratings,
        rating_id(product_id, user_id),
        command,
        &user,
    )
    .await
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
    let user_id = user.session.user_id;
    let command = RatingCommand::Withdraw {
        product_id,
        user_id,
    };
    accept(
        &state.ratings,
        rating_id(product_id, user_id),
        command,
        &user,
    )
    .await
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
    listed(&state, product_id).await?;
    let comment_id = Uuid::now_v7();
    let command = CommentCommand::Post {
        product_id,
        author_id: user.session.user_id,
        text: body.text,
    };
    let committed = state
        .comments
        .execute(&comment_id.to_string(), command, &user.metadata())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Accepted {
            id: comment_id,
            version: committed.version,
        }),
    ))
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
    let command = CommentCommand::Edit {
        actor: user.actor(),
        text: body.text,
    };
    accept(&state.comments, id, command, &user).await
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
    let command = CommentCommand::Remove {
        actor: user.actor(),
    };
    accept(&state.comments, id, command, &user).await
}
