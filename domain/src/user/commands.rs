use super::events::Address;
use crate::{Actor, Email, Role, Text};
use uuid::Uuid;

/// What can be asked of a user.
#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    /// Open an account. The password arrives already hashed (argon2id).
    Register {
        /// The new user's id.
        user_id: Uuid,
        /// The login address; unique across users.
        email: Email,
        /// The user's name.
        name: Text<200>,
        /// The argon2id PHC string of the password.
        password_hash: String,
        /// The role the account starts with.
        role: Role,
        /// Whether the user takes mail that is not about an order (the
        /// welcome, stock alerts); order mail always goes.
        non_transactional_mail: bool,
    },
    /// Change the name, the address or the mail the user takes.
    UpdateProfile {
        /// Who asks.
        actor: Actor,
        /// A new name.
        name: Option<Text<200>>,
        /// A new address.
        address: Option<Address>,
        /// Whether the user takes mail that is not about an order.
        non_transactional_mail: Option<bool>,
    },
    /// The user now runs `seller_id` and gets the seller role.
    BecomeSeller {
        /// The seller the user created.
        seller_id: Uuid,
    },
}
