use super::{Address, UserCommand, UserError, UserEvent};
use crate::{Email, Role, Text};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user's current state, rebuilt from its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    id: Uuid,
    registered: bool,
    email: Option<Email>,
    name: Option<Text<200>>,
    role: Option<Role>,
    password_hash: String,
    address: Option<Address>,
    seller_id: Option<Uuid>,
    non_transactional_mail: Option<bool>,
}

impl User {
    /// Whether the account exists.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The role (customer before registration).
    pub fn role(&self) -> Role {
        self.role.unwrap_or(Role::Customer)
    }

    /// The argon2id PHC string of the password.
    pub fn password_hash(&self) -> &str {
        &self.password_hash
    }

    /// The seller this user runs.
    pub fn seller_id(&self) -> Option<Uuid> {
        self.seller_id
    }

    /// The user's name, once registered.
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().map(|n| n.as_str())
    }

    /// Whether the user takes mail that is not about an order (yes unless
    /// they said no).
    pub fn takes_non_transactional_mail(&self) -> bool {
        self.non_transactional_mail.unwrap_or(true)
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "User";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UserCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UserError> {
        let event = match command {
            UserCommand::Register {
                user_id,
                email,
                name,
                password_hash,
                role,
                non_transactional_mail,
            } => {
                if self.registered {
                    return Err(UserError::AlreadyRegistered);
                }
                UserEvent::UserRegistered {
                    user_id,
                    email,
                    name,
                    role,
                    password_hash,
                    non_transactional_mail: Some(non_transactional_mail),
                }
            }
            UserCommand::UpdateProfile {
                actor,
                name,
                address,
                non_transactional_mail,
            } => {
                if !self.registered {
                    return Err(UserError::NotFound);
                }
                if name.is_none() && address.is_none() && non_transactional_mail.is_none() {
                    return Err(UserError::NothingToUpdate);
                }
                if !actor.is_user_or_admin(self.id) {
                    return Err(UserError::Forbidden);
                }
                UserEvent::UserUpdated {
                    name,
                    address,
                    non_transactional_mail,
                }
            }
            UserCommand::BecomeSeller { seller_id } => {
                if !self.registered {
                    return Err(UserError::NotFound);
                }
                match self.seller_id {
                    Some(existing) if existing == seller_id => return Ok(()),
                    Some(_) => return Err(UserError::AlreadySeller),
                    None => UserEvent::UserBecameSeller { seller_id },
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserRegistered {
                user_id,
                email,
                name,
                role,
                password_hash,
                non_transactional_mail,
            } => {
                self.id = user_id;
                self.registered = true;
                self.email = Some(email);
                self.name = Some(name);
                self.role = Some(role);
                self.password_hash = password_hash;
                self.non_transactional_mail = non_transactional_mail;
            }
            UserEvent::UserUpdated {
                name,
                address,
                non_transactional_mail,
            } => {
                if name.is_some() {
                    self.name = name;
                }
                if address.is_some() {
                    self.address = address;
                }
                if non_transactional_mail.is_some() {
                    self.non_transactional_mail = non_transactional_mail;
                }
            }
            UserEvent::UserBecameSeller { seller_id } => {
                self.seller_id = Some(seller_id);
                if self.role != Some(Role::Admin) {
                    self.role = Some(Role::Seller);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Actor;
    use cqrs_es::test::TestFramework;

    fn id() -> Uuid {
        Uuid::from_u128(7)
    }

    fn registered() -> UserEvent {
        UserEvent::UserRegistered {
            user_id: id(),
            email: Email::parse("ann@example.com").unwrap(),
            name: Text::parse("Ann").unwrap(),
            role: Role::Customer,
            password_hash: "$argon2id$hash".into(),
            non_transactional_mail: Some(true),
        }
    }

    fn actor(user_id: Uuid, role: Role) -> Actor {
        Actor {
            user_id,
            role,
            seller_id: None,
        }
    }

    #[test]
    fn register_opens_an_account_once() {
        let register = UserCommand::Register {
            user_id: id(),
            email: Email::parse("Ann@Example.com").unwrap(),
            name: Text::parse("Ann").unwrap(),
            password_hash: "$argon2id$hash".into(),
            role: Role::Customer,
            non_transactional_mail: true,
        };
        TestFramework::<User>::with(())
            .given_no_previous_events()
            .when(register.clone())
            .then_expect_events(vec![registered()]);
        TestFramework::<User>::with(())
            .given(vec![registered()])
            .when(register)
            .then_expect_error(UserError::AlreadyRegistered);
    }

    #[test]
    fn profile_changes_only_by_the_user_or_an_admin() {
        let update = |who: Actor| UserCommand::UpdateProfile {
            actor: who,
            name: Some(Text::parse("Ann B").unwrap()),
            address: None,
            non_transactional_mail: None,
        };
        let expected = UserEvent::UserUpdated {
            name: Some(Text::parse("Ann B").unwrap()),
            address: None,
            non_transactional_mail: None,
        };
        TestFramework::<User>::with(())
            .given(vec![registered()])
            .when(update(actor(id(), Role::Customer)))
            .then_expect_events(vec![expected.clone()]);
        TestFramework::<User>::with(())
            .given(vec![registered()])
            .when(update(actor(Uuid::from_u128(1), Role::Admin)))
            .then_expect_events(vec![expected]);
        TestFramework::<User>::with(())
            .given(vec![registered()])
            .when(update(actor(Uuid::from_u128(8), Role::Customer)))
            .then_expect_error(UserError::Forbidden);
        TestFramework::<User>::with(())
            .given_no_previous_events()
            .when(update(actor(id(), Role::Customer)))
            .then_expect_error(UserError::NotFound);
        TestFramework::<User>::with(())
            .given(vec![registered()])
            .when(UserCommand::UpdateProfile {
                actor: actor(id(), Role::Customer),
                name: None,
                address: None,
                non_transactional_mail: None,
            })
            .then_expect_error(UserError::NothingToUpdate);
    }

    #[test]
    fn becoming_a_seller_grants_the_role_once() {
        let seller = Uuid::from_u128(99);
        let became = UserEvent::UserBecameSeller { seller_id: seller };
        TestFramework::<User>::with(())
            .given(vec![registered()])
            .when(UserCommand::BecomeSeller { seller_id: seller })
            .then_expect_events(vec![became.clone()]);
        TestFramework::<User>::with(())
            .given(vec![registered(), became.clone()])
            .when(UserCommand::BecomeSeller { seller_id: seller })
            .then_expect_events(vec![]);
        TestFramework::<User>::with(())
            .given(vec![registered(), became])
            .when(UserCommand::BecomeSeller {
                seller_id: Uuid::from_u128(100),
            })
            .then_expect_error(UserError::AlreadySeller);
        let mut user = User::default();
        user.apply(registered());
        user.apply(UserEvent::UserBecameSeller { seller_id: seller });
        assert_eq!(user.role(), Role::Seller);
        assert_eq!(user.seller_id(), Some(seller));
    }
}
