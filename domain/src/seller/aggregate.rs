use super::{SellerCommand, SellerError, SellerEvent};
use crate::{Email, Text};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A seller's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seller {
    id: Option<Uuid>,
    owner_id: Option<Uuid>,
    #[serde(default)]
    name: Option<Text<200>>,
    #[serde(default)]
    contact_email: Option<Email>,
    #[serde(default)]
    stock_alert_below: u32,
}

impl Seller {
    /// The seller's name, once created.
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().map(|n| n.as_str())
    }

    /// Where customers (and stock alerts) write.
    pub fn contact_email(&self) -> Option<&Email> {
        self.contact_email.as_ref()
    }

    /// Below how many units of a product the seller is mailed (0: never).
    pub fn stock_alert_below(&self) -> u32 {
        self.stock_alert_below
    }

    /// The user who runs this seller, once it exists.
    pub fn owner_id(&self) -> Option<Uuid> {
        self.owner_id
    }
}

impl Aggregate for Seller {
    const TYPE: &'static str = "Seller";
    type Command = SellerCommand;
    type Event = SellerEvent;
    type Error = SellerError;
    type Services = ();

    async fn handle(
        &mut self,
        command: SellerCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), SellerError> {
        let event = match command {
            SellerCommand::Create {
                seller_id,
                owner_id,
                name,
                contact_email,
            } => {
                if self.id.is_some() {
                    return Err(SellerError::AlreadyExists);
                }
                SellerEvent::SellerCreated {
                    seller_id,
                    user_id: owner_id,
                    name,
                    contact_email,
                }
            }
            SellerCommand::Update {
                actor,
                name,
                contact_email,
                stock_alert_below,
            } => {
                let seller_id = self.id.ok_or(SellerError::NotFound)?;
                if !actor.manages_seller(seller_id) {
                    return Err(SellerError::Forbidden);
                }
                if name.is_none() && contact_email.is_none() && stock_alert_below.is_none() {
                    return Err(SellerError::NothingToUpdate);
                }
                SellerEvent::SellerUpdated {
                    name,
                    contact_email,
                    stock_alert_below,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: SellerEvent) {
        match event {
            SellerEvent::SellerCreated {
                seller_id,
                user_id,
                name,
                contact_email,
            } => {
                self.id = Some(seller_id);
                self.owner_id = Some(user_id);
                self.name = Some(name);
                self.contact_email = Some(contact_email);
            }
            SellerEvent::SellerUpdated {
                name,
                contact_email,
                stock_alert_below,
            } => {
                if name.is_some() {
                    self.name = name;
                }
                if contact_email.is_some() {
                    self.contact_email = contact_email;
                }
                if let Some(units) = stock_alert_below {
                    self.stock_alert_below = units;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, Email, Role, Text};
    use cqrs_es::test::TestFramework;

    const SELLER: Uuid = Uuid::from_u128(5);
    const OWNER: Uuid = Uuid::from_u128(6);

    fn created() -> SellerEvent {
        SellerEvent::SellerCreated {
            seller_id: SELLER,
            user_id: OWNER,
            name: Text::parse("Acme").unwrap(),
            contact_email: Email::parse("shop@acme.io").unwrap(),
        }
    }

    fn rename(actor: Actor) -> SellerCommand {
        SellerCommand::Update {
            actor,
            name: Some(Text::parse("Acme Ltd").unwrap()),
            contact_email: None,
            stock_alert_below: None,
        }
    }

    #[test]
    fn create_once() {
        let create = SellerCommand::Create {
            seller_id: SELLER,
            owner_id: OWNER,
            name: Text::parse("Acme").unwrap(),
            contact_email: Email::parse("shop@acme.io").unwrap(),
        };
        TestFramework::<Seller>::with(())
            .given_no_previous_events()
            .when(create.clone())
            .then_expect_events(vec![created()]);
        TestFramework::<Seller>::with(())
            .given(vec![created()])
            .when(create)
            .then_expect_error(SellerError::AlreadyExists);
    }

    #[test]
    fn only_its_seller_or_an_admin_updates_it() {
        let owner = Actor {
            user_id: OWNER,
            role: Role::Seller,
            seller_id: Some(SELLER),
        };
        let stranger = Actor {
            user_id: Uuid::from_u128(9),
            role: Role::Seller,
            seller_id: Some(Uuid::from_u128(10)),
        };
        let updated = SellerEvent::SellerUpdated {
            name: Some(Text::parse("Acme Ltd").unwrap()),
            contact_email: None,
            stock_alert_below: None,
        };
        TestFramework::<Seller>::with(())
            .given(vec![created()])
            .when(rename(owner.clone()))
            .then_expect_events(vec![updated.clone()]);
        TestFramework::<Seller>::with(())
            .given(vec![created()])
            .when(rename(Actor::system()))
            .then_expect_events(vec![updated]);
        TestFramework::<Seller>::with(())
            .given(vec![created()])
            .when(rename(stranger))
            .then_expect_error(SellerError::Forbidden);
        TestFramework::<Seller>::with(())
            .given_no_previous_events()
            .when(rename(owner))
            .then_expect_error(SellerError::NotFound);
    }
}
