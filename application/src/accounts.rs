//! Accounts: register, sign in and out, change a profile.

use crate::shop::run;
use crate::{Accepted, Caller, Outcome, Shop, UseCaseError};
use atlantic_domain::user::{Address, User, UserCommand};
use atlantic_domain::{Email, Role, Text};
use atlantic_platform::bus::CommandError;
use atlantic_platform::metadata::CommandMetadata;
use atlantic_platform::passwords;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use uuid::Uuid;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// Longest password accepted (argon2 works on any length; this bounds the work).
pub const MAX_PASSWORD: usize = 1024;
/// Longest e-mail address looked up at sign-in, in bytes.
pub const MAX_EMAIL: usize = 254;

/// A new account.
#[derive(Debug)]
pub struct Registration {
    /// Login address (unique).
    pub email: Email,
    /// At least [`MIN_PASSWORD`] characters.
    pub password: String,
    /// Display name.
    pub name: Text<200>,
    /// Customer from the API; the command line may make admins.
    pub role: Role,
    /// Whether the user takes mail that is not about an order.
    pub non_transactional_mail: bool,
}

/// A sign-in attempt.
#[derive(Debug)]
pub struct Credentials {
    /// The login address as typed.
    pub email: String,
    /// The password as typed.
    pub password: String,
    /// The client's network address (failed attempts are limited per address).
    pub client_address: String,
}

/// A new session.
#[derive(Debug)]
pub struct SignedIn {
    /// The bearer token.
    pub token: String,
    /// The user.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// Checks a password's length in characters.
pub fn check_password(password: &str) -> Result<(), UseCaseError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        Err(UseCaseError::invalid_field(
            "password",
            format!("must be at least {MIN_PASSWORD} characters"),
        ))
    } else if length > MAX_PASSWORD {
        Err(UseCaseError::invalid_field(
            "password",
            format!("must be at most {MAX_PASSWORD} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Opens an account; answers the new user's id and version.
pub async fn register(
    shop: &Shop,
    registration: Registration,
    metadata: &CommandMetadata,
) -> Outcome {
    check_password(&registration.password)?;
    let password_hash = passwords::hash(registration.password).await?;
    let user_id = Uuid::now_v7();
    let command = UserCommand::Register {
        user_id,
        email: registration.email,
        name: registration.name,
        password_hash,
        role: registration.role,
        non_transactional_mail: registration.non_transactional_mail,
    };
    let committed = shop
        .buses
        .users
        .execute(&user_id.to_string(), command, metadata)
        .await
        .map_err(|error| match error {
            CommandError::Duplicate => {
                UseCaseError::Conflict("an account with this e-mail already exists".into())
            }
            other => other.into(),
        })?;
    Ok(Accepted::new(User::TYPE, user_id, committed.version))
}

/// The user registered with `email` (lower-case), if any.
async fn user_id_by_email(shop: &Shop, email: &str) -> Result<Option<Uuid>, UseCaseError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events \
         WHERE aggregate_type = 'User' AND event_type = 'UserRegistered' \
           AND payload -> 'UserRegistered' ->> 'email' = $1",
    )
    .bind(email)
    .fetch_optional(&shop.pool)
    .await?;
    Ok(id.and_then(|id| Uuid::parse_str(&id).ok()))
}

/// Signs in with an e-mail and password; failed attempts are limited per
/// address and per client.
pub async fn sign_in(shop: &Shop, credentials: Credentials) -> Outcome<SignedIn> {
    let email = credentials.email.trim().to_lowercase();
    let wrong = || UseCaseError::Unauthorized("wrong e-mail or password".into());
    if email.len() > MAX_EMAIL {
        return Err(UseCaseError::invalid_field(
            "email",
            format!("must be at most {MAX_EMAIL} bytes"),
        ));
    }
    if credentials.password.chars().count() > MAX_PASSWORD {
        return Err(UseCaseError::invalid_field(
            "password",
            format!("must be at most {MAX_PASSWORD} characters"),
        ));
    }
    let address = credentials.client_address;
    if !shop.sessions.login_allowed(&email, &address).await? {
        return Err(UseCaseError::TooManyRequests(
            "too many failed sign-ins; wait a few minutes".into(),
        ));
    }
    let user = match user_id_by_email(shop, &email).await? {
        Some(user_id) => Some((user_id, shop.buses.users.load(&user_id.to_string()).await?)),
        None => None,
    };
    // An unknown address costs one verification too, so the answer's time
    // does not tell which addresses have accounts.
    let hash = user
        .as_ref()
        .map(|(_, user)| user.password_hash().to_string());
    let matches = passwords::verify_or_spend(credentials.password, hash).await?;
    let (user_id, user) = match user {
        Some(found) if matches => found,
        _ => {
            shop.sessions.login_failed(&email, &address).await?;
            return Err(wrong());
        }
    };
    let (token, session) = shop
        .sessions
        .create(user_id, user.role(), user.seller_id())
        .await?;
    Ok(SignedIn {
        token,
        user_id,
        role: session.role,
        expires_at: session.expires_at,
    })
}

/// Ends the caller's session.
pub async fn sign_out(shop: &Shop, caller: &Caller) -> Outcome<()> {
    if let Some(token) = &caller.session_token {
        shop.sessions.revoke(token).await?;
    }
    Ok(())
}

/// A profile change: what is given is changed.
#[derive(Debug)]
pub struct ProfileChanges {
    /// New name.
    pub name: Option<Text<200>>,
    /// New address.
    pub address: Option<Address>,
    /// Whether the user takes mail that is not about an order.
    pub non_transactional_mail: Option<bool>,
}

/// Changes user `user_id`'s profile (the user or an admin).
pub async fn update_profile(
    shop: &Shop,
    caller: &Caller,
    user_id: Uuid,
    changes: ProfileChanges,
) -> Outcome {
    let command = UserCommand::UpdateProfile {
        actor: caller.actor.clone(),
        name: changes.name,
        address: changes.address,
        non_transactional_mail: changes.non_transactional_mail,
    };
    run(&shop.buses.users, user_id, command, caller).await
}
