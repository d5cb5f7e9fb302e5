use crate::{Actor, Text};
use uuid::Uuid;

/// A comment's text: not blank, at most 2,000 characters.
pub type CommentText = Text<2000>;

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
