use super::CommentText;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
