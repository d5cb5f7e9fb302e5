//! A customer's comment on a product: posted, edited or deleted by its author
//! (or an admin).

use crate::{Actor, DomainError, ErrorKind, Text};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A comment's text: not blank, at most 2,000 characters.
pub type CommentText = Text<2000>;

/// A comment's current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    product_id: Option<Uuid>,
    author_id: Option<Uuid>,
    deleted: bool,
}

/// What can be asked of a comment.
#[derive(Debug, Clone, PartialEq)]
pub enum CommentCommand {
    /// Post a new comment.
    Post {
        /// The product.
        product_id: Uuid,
        /// Who writes it.
        author_id: Uuid,
        /// What it says.
        text: CommentText,
    },
    /// Change the text.
    Edit {
        /// Who asks.
        actor: Actor,
        /// The new text.
        text: CommentText,
    },
    /// Delete it.
    Remove {
        /// Who asks.
        actor: Actor,
    },
}

/// What happened to a comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all_fields = "camelCase")]
pub enum CommentEvent {
    /// A comment was posted.
    CommentCreated {
        /// The product.
        product_id: Uuid,
        /// Who wrote it.
        author_id: Uuid,
        /// What it says.
        text: CommentText,
    },
    /// Its text changed.
    CommentUpdated {
        /// The product.
        product_id: Uuid,
        /// The new text.
        text: CommentText,
    },
    /// It was deleted.
    CommentDeleted {
        /// The product.
        product_id: Uuid,
    },
}

impl DomainEvent for CommentEvent {
    fn event_type(&self) -> String {
        match self {
            CommentEvent::CommentCreated { .. } => "CommentCreated",
            CommentEvent::CommentUpdated { .. } => "CommentUpdated",
            CommentEvent::CommentDeleted { .. } => "CommentDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

/// Why a comment command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    /// Post on an id that exists.
    #[error("the comment already exists")]
    AlreadyExists,
    /// No comment, or a deleted one.
    #[error("no such comment")]
    NotFound,
    /// Someone else's comment.
    #[error("only its author or an admin may change a comment")]
    Forbidden,
}

impl DomainError for CommentError {
    fn kind(&self) -> ErrorKind {
        match self {
            CommentError::AlreadyExists => ErrorKind::Conflict,
            CommentError::NotFound => ErrorKind::NotFound,
            CommentError::Forbidden => ErrorKind::Forbidden,
        }
    }
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
    use crate::Role;
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
