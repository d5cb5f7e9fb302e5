use super::{RatingCommand, RatingError, RatingEvent, Stars};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Namespace of rating ids (UUID v5 over `{product_id}:{user_id}`).
const RATING_ID_NAMESPACE: Uuid = Uuid::from_u128(0x3f0e_91a2_5b7c_4d8e_9f10_2a3b_4c5d_6e7f);

/// The id of `user_id`'s rating of `product_id`.
pub fn rating_id(product_id: Uuid, user_id: Uuid) -> Uuid {
    Uuid::new_v5(
        &RATING_ID_NAMESPACE,
        format!("{product_id}:{user_id}").as_bytes(),
    )
}

/// A rating's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    stars: Option<Stars>,
}

impl Rating {
    /// The stars given, while the rating stands.
    pub fn stars(&self) -> Option<Stars> {
        self.stars
    }
}

impl Aggregate for Rating {
    const TYPE: &'static str = "Rating";
    type Command = RatingCommand;
    type Event = RatingEvent;
    type Error = RatingError;
    type Services = ();

    async fn handle(
        &mut self,
        command: RatingCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), RatingError> {
        let event = match command {
            RatingCommand::Rate {
                product_id,
                user_id,
                stars,
            } => match self.stars {
                Some(given) if given == stars => return Ok(()),
                Some(_) => RatingEvent::RatingUpdated {
                    product_id,
                    user_id,
                    stars,
                },
                None => RatingEvent::RatingAdded {
                    product_id,
                    user_id,
                    stars,
                },
            },
            RatingCommand::Withdraw {
                product_id,
                user_id,
            } => {
                if self.stars.is_none() {
                    return Err(RatingError::NotFound);
                }
                RatingEvent::RatingDeleted {
                    product_id,
                    user_id,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: RatingEvent) {
        self.stars = match event {
            RatingEvent::RatingAdded { stars, .. } | RatingEvent::RatingUpdated { stars, .. } => {
                Some(stars)
            }
            RatingEvent::RatingDeleted { .. } => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    const PRODUCT: Uuid = Uuid::from_u128(1);
    const USER: Uuid = Uuid::from_u128(2);

    fn stars(value: i64) -> Stars {
        Stars::parse(value).unwrap()
    }

    fn rate(value: i64) -> RatingCommand {
        RatingCommand::Rate {
            product_id: PRODUCT,
            user_id: USER,
            stars: stars(value),
        }
    }

    fn added(value: i64) -> RatingEvent {
        RatingEvent::RatingAdded {
            product_id: PRODUCT,
            user_id: USER,
            stars: stars(value),
        }
    }

    fn deleted() -> RatingEvent {
        RatingEvent::RatingDeleted {
            product_id: PRODUCT,
            user_id: USER,
        }
    }

    #[test]
    fn a_first_rating_is_added_and_a_new_one_updates_it() {
        TestFramework::<Rating>::with(())
            .given_no_previous_events()
            .when(rate(4))
            .then_expect_events(vec![added(4)]);
        TestFramework::<Rating>::with(())
            .given(vec![added(4)])
            .when(rate(2))
            .then_expect_events(vec![RatingEvent::RatingUpdated {
                product_id: PRODUCT,
                user_id: USER,
                stars: stars(2),
            }]);
        TestFramework::<Rating>::with(())
            .given(vec![added(4)])
            .when(rate(4))
            .then_expect_events(vec![]);
        TestFramework::<Rating>::with(())
            .given(vec![added(4), deleted()])
            .when(rate(5))
            .then_expect_events(vec![added(5)]);
    }

    #[test]
    fn only_a_standing_rating_is_withdrawn() {
        let withdraw = RatingCommand::Withdraw {
            product_id: PRODUCT,
            user_id: USER,
        };
        TestFramework::<Rating>::with(())
            .given(vec![added(3)])
            .when(withdraw.clone())
            .then_expect_events(vec![deleted()]);
        TestFramework::<Rating>::with(())
            .given(vec![added(3), deleted()])
            .when(withdraw)
            .then_expect_error(RatingError::NotFound);
    }

    #[test]
    fn the_id_is_one_per_customer_and_product() {
        assert_eq!(rating_id(PRODUCT, USER), rating_id(PRODUCT, USER));
        assert_ne!(rating_id(PRODUCT, USER), rating_id(USER, PRODUCT));
    }
}
