use super::{CommentCommand, CommentError, CommentEvent};
use crate::Actor;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A comment's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    product_id: Option<Uuid>,
    author_id: Option<Uuid>,
    deleted: bool,
}

impl Comment {
    /// The product of a standing comment that `actor` may change.
    fn changeable_by(&self, actor: &Actor) -> Result<Uuid, CommentError> {
        let (Some(product_id), Some(author_id), false) =
            (self.product_id, self.author_id, self.deleted)
        else {
            return Err(CommentError::NotFound);
        };
        if !actor.is_user_or_admin(author_id) {
            return Err(CommentError::Forbidden);
        }
        Ok(product_id)
    }
}

impl Aggregate for Comment {
    const TYPE: &'static str = "Comment";
    type Command = CommentCommand;
    type Event = CommentEvent;
    type Error = CommentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CommentCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CommentError> {
        let event = match command {
            CommentCommand::Post {
                product_id,
                author_id,
                text,
            } => {
                if self.product_id.is_some() {
                    return Err(CommentError::AlreadyExists);
                }
                CommentEvent::CommentCreated {
                    product_id,
                    author_id,
                    text,
                }
            }
            CommentCommand::Edit { actor, text } => CommentEvent::CommentUpdated {
                product_id: self.changeable_by(&actor)?,
                text,
            },
            CommentCommand::Remove { actor } => CommentEvent::CommentDeleted {
                product_id: self.changeable_by(&actor)?,
            },
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: CommentEvent) {
        match event {
            CommentEvent::CommentCreated {
                product_id,
                author_id,
                ..
            } => {
                self.product_id = Some(product_id);
                self.author_id = Some(author_id);
            }
            CommentEvent::CommentUpdated { .. } => {}
            CommentEvent::CommentDeleted { .. } => self.deleted = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::CommentText;
    use crate::{Role, Text};
    use cqrs_es::test::TestFramework;

    const PRODUCT: Uuid = Uuid::from_u128(1);
    const AUTHOR: Uuid = Uuid::from_u128(2);

    fn text(value: &str) -> CommentText {
        Text::parse(value).unwrap()
    }

    fn created() -> CommentEvent {
        CommentEvent::CommentCreated {
            product_id: PRODUCT,
            author_id: AUTHOR,
            text: text("Light and fast"),
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
    fn a_comment_is_posted_once() {
        let post = CommentCommand::Post {
            product_id: PRODUCT,
            author_id: AUTHOR,
            text: text("Light and fast"),
        };
        TestFramework::<Comment>::with(())
            .given_no_previous_events()
            .when(post.clone())
            .then_expect_events(vec![created()]);
        TestFramework::<Comment>::with(())
            .given(vec![created()])
            .when(post)
            .then_expect_error(CommentError::AlreadyExists);
    }

    #[test]
    fn its_author_or_an_admin_edits_and_deletes_it() {
        let edit = |who| CommentCommand::Edit {
            actor: who,
            text: text("Light, fast, loud"),
        };
        TestFramework::<Comment>::with(())
            .given(vec![created()])
            .when(edit(actor(AUTHOR, Role::Customer)))
            .then_expect_events(vec![CommentEvent::CommentUpdated {
                product_id: PRODUCT,
                text: text("Light, fast, loud"),
            }]);
        TestFramework::<Comment>::with(())
            .given(vec![created()])
            .when(edit(actor(Uuid::from_u128(9), Role::Customer)))
            .then_expect_error(CommentError::Forbidden);
        TestFramework::<Comment>::with(())
            .given(vec![created()])
            .when(CommentCommand::Remove {
                actor: actor(Uuid::from_u128(9), Role::Admin),
            })
            .then_expect_events(vec![CommentEvent::CommentDeleted {
                product_id: PRODUCT,
            }]);
        TestFramework::<Comment>::with(())
            .given(vec![
                created(),
                CommentEvent::CommentDeleted {
                    product_id: PRODUCT,
                },
            ])
            .when(edit(actor(AUTHOR, Role::Customer)))
            .then_expect_error(CommentError::NotFound);
        TestFramework::<Comment>::with(())
            .given_no_previous_events()
            .when(CommentCommand::Remove {
                actor: actor(AUTHOR, Role::Customer),
            })
            .then_expect_error(CommentError::NotFound);
    }
}
