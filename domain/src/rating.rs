//! A customer's rating of a product: one per customer and product (its id is
//! derived from both), 1 to 5 stars, changed or withdrawn at will.

use crate::{DomainError, ErrorKind};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
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

/// The fewest and the most stars.
pub const STARS: std::ops::RangeInclusive<u8> = 1..=5;

/// A rating's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    stars: Option<u8>,
}

impl Rating {
    /// The stars given, while the rating stands.
    pub fn stars(&self) -> Option<u8> {
        self.stars
    }
}

/// What can be asked of a rating.
#[derive(Debug, Clone, PartialEq)]
pub enum RatingCommand {
    /// Give `stars` to `product_id` (again, or for the first time).
    Rate {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: u8,
    },
    /// Take the rating back.
    Withdraw {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
    },
}

/// What happened to a rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum RatingEvent {
    /// A customer rated a product (first time, or after withdrawing).
    RatingAdded {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: u8,
    },
    /// A customer changed a rating.
    RatingUpdated {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
        /// 1 to 5.
        stars: u8,
    },
    /// A customer withdrew a rating.
    RatingDeleted {
        /// The product.
        product_id: Uuid,
        /// The customer.
        user_id: Uuid,
    },
}

impl DomainEvent for RatingEvent {
    fn event_type(&self) -> String {
        match self {
            RatingEvent::RatingAdded { .. } => "RatingAdded",
            RatingEvent::RatingUpdated { .. } => "RatingUpdated",
            RatingEvent::RatingDeleted { .. } => "RatingDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

/// Why a rating command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    /// Stars outside 1 to 5.
    #[error("stars must be 1 to 5")]
    InvalidStars,
    /// Withdraw with no rating standing.
    #[error("no rating to withdraw")]
    NotFound,
}

impl DomainError for RatingError {
    fn kind(&self) -> ErrorKind {
        match self {
            RatingError::InvalidStars => ErrorKind::Invalid,
            RatingError::NotFound => ErrorKind::NotFound,
        }
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
            } => {
                if !STARS.contains(&stars) {
                    return Err(RatingError::InvalidStars);
                }
                match self.stars {
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
                }
            }
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

    fn rate(stars: u8) -> RatingCommand {
        RatingCommand::Rate {
            product_id: PRODUCT,
            user_id: USER,
            stars,
        }
    }

    fn added(stars: u8) -> RatingEvent {
        RatingEvent::RatingAdded {
            product_id: PRODUCT,
            user_id: USER,
            stars,
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
                stars: 2,
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
    fn stars_outside_one_to_five_are_refused() {
        for stars in [0, 6, 255] {
            TestFramework::<Rating>::with(())
                .given_no_previous_events()
                .when(rate(stars))
                .then_expect_error(RatingError::InvalidStars);
        }
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
