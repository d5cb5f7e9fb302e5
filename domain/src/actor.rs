//! Who sends a command, so that aggregates can decide what that person may do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A user's role. A seller and an admin can also shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A shopper.
    Customer,
    /// A shopper who also lists products.
    Seller,
    /// Runs the shop.
    Admin,
}

impl Role {
    /// The role's name as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Seller => "seller",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "customer" => Ok(Role::Customer),
            "seller" => Ok(Role::Seller),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}`")),
        }
    }
}

/// Refuses `role` unless it is one of `roles`, saying which are needed.
pub fn check_role(role: Role, roles: &[Role]) -> Result<(), String> {
    if roles.contains(&role) {
        Ok(())
    } else {
        Err(format!(
            "this needs the role {}",
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ))
    }
}

/// The signed-in user on whose behalf a command runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// The seller the user runs, if any.
    pub seller_id: Option<Uuid>,
}

impl Actor {
    /// The system itself (the order saga, the seeder): allowed what an admin is.
    pub fn system() -> Self {
        Actor {
            user_id: Uuid::nil(),
            role: Role::Admin,
            seller_id: None,
        }
    }

    /// Whether this actor is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this actor may manage what belongs to `seller_id`.
    pub fn manages_seller(&self, seller_id: Uuid) -> bool {
        self.is_admin() || self.seller_id == Some(seller_id)
    }

    /// Whether this actor is `user_id` or an admin.
    pub fn is_user_or_admin(&self, user_id: Uuid) -> bool {
        self.is_admin() || self.user_id == user_id
    }
}
