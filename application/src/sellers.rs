//! Sellers: a user opens one, its owner or an admin changes it.

use crate::shop::run;
use crate::{Accepted, Caller, Outcome, Shop, UseCaseError};
use atlantic_domain::seller::{seller_id_of, Seller, SellerCommand, SellerError};
use atlantic_domain::user::UserCommand;
use atlantic_domain::{Email, Role, Text};
use atlantic_platform::bus::CommandError;
use cqrs_es::Aggregate;
use uuid::Uuid;

/// A new seller.
#[derive(Debug)]
pub struct NewSeller {
    /// The seller's name.
    pub name: Text<200>,
    /// Where customers write.
    pub contact_email: Email,
    /// The user who runs it: the caller when `None`; another user only for an admin.
    pub owner: Option<Uuid>,
}

/// A seller change: what is given is changed.
#[derive(Debug)]
pub struct SellerChanges {
    /// New name.
    pub name: Option<Text<200>>,
    /// New contact address.
    pub contact_email: Option<Email>,
    /// Below how many units of a product the seller is mailed (0: never).
    pub stock_alert_below: Option<u32>,
}

/// Opens the seller of a user (its id derives from the user's), makes the
/// user a seller and, when the user is the caller, updates the caller's
/// session. A user runs one seller: a second answers a conflict, after making
/// sure the user's role and session say seller (so a retry after a crash
/// between the two commands completes the first).
pub async fn become_seller(shop: &Shop, caller: &Caller, seller: NewSeller) -> Outcome {
    let owner = match seller.owner {
        Some(other) if other != caller.user_id() => {
            caller.require(&[Role::Admin])?;
            other
        }
        _ => caller.user_id(),
    };
    let seller_id = seller_id_of(owner);
    let created = shop
        .buses
        .sellers
        .execute(
            &seller_id.to_string(),
            SellerCommand::Create {
                seller_id,
                owner_id: owner,
                name: seller.name,
                contact_email: seller.contact_email,
            },
            &caller.metadata,
        )
        .await;
    let already = matches!(
        created,
        Err(CommandError::Rejected(SellerError::AlreadyExists))
    );
    if !already {
        created?;
    }
    shop.buses
        .users
        .execute(
            &owner.to_string(),
            UserCommand::BecomeSeller { seller_id },
            &caller.metadata,
        )
        .await?;
    if let (true, Some(token)) = (owner == caller.user_id(), &caller.session_token) {
        let role = if caller.actor.role == Role::Admin {
            Role::Admin
        } else {
            Role::Seller
        };
        shop.sessions
            .update_role(token, role, Some(seller_id))
            .await?;
    }
    if already {
        return Err(UseCaseError::Conflict(
            "this user already runs a seller".into(),
        ));
    }
    Ok(Accepted::new(Seller::TYPE, seller_id, 1))
}

/// Changes seller `seller_id` (its owner or an admin).
pub async fn update_seller(
    shop: &Shop,
    caller: &Caller,
    seller_id: Uuid,
    changes: SellerChanges,
) -> Outcome {
    let command = SellerCommand::Update {
        actor: caller.actor.clone(),
        name: changes.name,
        contact_email: changes.contact_email,
        stock_alert_below: changes.stock_alert_below,
    };
    run(&shop.buses.sellers, seller_id, command, caller).await
}
