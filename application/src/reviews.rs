//! Ratings and comments on products.

use crate::catalogue::listed;
use crate::shop::run;
use crate::{Caller, Outcome, Shop, UseCaseError};
use atlantic_domain::comment::{CommentCommand, CommentText};
use atlantic_domain::rating::{rating_id, RatingCommand, Stars};
use sqlx::PgPool;
use uuid::Uuid;

/// Whether `customer` received `product`: an order of theirs that holds it
/// was delivered (and maybe returned since). Only such a customer may rate it,
/// so no seller can rate their own listings up.
async fn received(pool: &PgPool, customer: Uuid, product: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS ( \
             SELECT 1 FROM events placed \
             JOIN events delivered ON delivered.aggregate_type = 'Order' \
                  AND delivered.aggregate_id = placed.aggregate_id \
                  AND delivered.event_type = 'OrderDelivered' \
             WHERE placed.aggregate_type = 'Order' AND placed.event_type = 'OrderCreated' \
               AND placed.payload -> 'OrderCreated' ->> 'customerId' = $1 \
               AND placed.payload -> 'OrderCreated' -> 'items' @> jsonb_build_array(jsonb_build_object('productId', $2::text)))",
    )
    .bind(customer.to_string())
    .bind(product.to_string())
    .fetch_one(pool)
    .await
}

/// Rates a product the caller received (one rating per customer and product;
/// a second replaces the first).
pub async fn rate_product(shop: &Shop, caller: &Caller, product_id: Uuid, stars: Stars) -> Outcome {
    listed(shop, product_id).await?;
    let user_id = caller.user_id();
    if !received(&shop.pool, user_id, product_id).await? {
        return Err(UseCaseError::Forbidden(
            "only a customer who received this product may rate it".into(),
        ));
    }
    let command = RatingCommand::Rate {
        product_id,
        user_id,
        stars,
    };
    run(
        &shop.buses.ratings,
        rating_id(product_id, user_id),
        command,
        caller,
    )
    .await
}

/// Withdraws the caller's rating of a product.
pub async fn withdraw_rating(shop: &Shop, caller: &Caller, product_id: Uuid) -> Outcome {
    let user_id = caller.user_id();
    let command = RatingCommand::Withdraw {
        product_id,
        user_id,
    };
    run(
        &shop.buses.ratings,
        rating_id(product_id, user_id),
        command,
        caller,
    )
    .await
}

/// Comments on a product for sale; answers the new comment's id.
pub async fn comment_on(
    shop: &Shop,
    caller: &Caller,
    product_id: Uuid,
    text: CommentText,
) -> Outcome {
    listed(shop, product_id).await?;
    let comment_id = Uuid::now_v7();
    let command = CommentCommand::Post {
        product_id,
        author_id: caller.user_id(),
        text,
    };
    run(&shop.buses.comments, comment_id, command, caller).await
}

/// Changes a comment's text (its author or an admin).
pub async fn edit_comment(
    shop: &Shop,
    caller: &Caller,
    comment_id: Uuid,
    text: CommentText,
) -> Outcome {
    let command = CommentCommand::Edit {
        actor: caller.actor.clone(),
        text,
    };
    run(&shop.buses.comments, comment_id, command, caller).await
}

/// Removes a comment (its author or an admin).
pub async fn remove_comment(shop: &Shop, caller: &Caller, comment_id: Uuid) -> Outcome {
    let command = CommentCommand::Remove {
        actor: caller.actor.clone(),
    };
    run(&shop.buses.comments, comment_id, command, caller).await
}
