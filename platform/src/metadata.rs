//! The metadata every event carries: who caused it and why.

use std::collections::HashMap;
use uuid::Uuid;

/// Correlation, causation, user and request ids, stored with each event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMetadata {
    /// The whole conversation (an HTTP request and everything that follows it).
    pub correlation_id: Uuid,
    /// The request or event that directly caused this command.
    pub causation_id: Uuid,
    /// The user on whose behalf the command runs, if any.
    pub user_id: Option<Uuid>,
    /// The HTTP request id, if the command came from HTTP.
    pub request_id: Option<Uuid>,
}

impl CommandMetadata {
    /// Metadata for a command caused directly by HTTP request `request_id`.
    pub fn for_request(request_id: Uuid, user_id: Option<Uuid>) -> Self {
        CommandMetadata {
            correlation_id: request_id,
            causation_id: request_id,
            user_id,
            request_id: Some(request_id),
        }
    }

    /// Metadata for a command the system sends by itself (seeding, the CLI).
    pub fn system() -> Self {
        let id = Uuid::now_v7();
        CommandMetadata {
            correlation_id: id,
            causation_id: id,
            user_id: None,
            request_id: None,
        }
    }

    /// The map stored in the events table's `metadata` column.
    pub fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("correlationId".to_string(), self.correlation_id.to_string()),
            ("causationId".to_string(), self.causation_id.to_string()),
        ]);
        if let Some(user) = self.user_id {
            map.insert("userId".into(), user.to_string());
        }
        if let Some(request) = self.request_id {
            map.insert("requestId".into(), request.to_string());
        }
        map
    }
}
