//! Who calls a use case.

use crate::UseCaseError;
use atlantic_domain::actor::check_role;
use atlantic_domain::{Actor, Role};
use atlantic_platform::metadata::CommandMetadata;
use atlantic_platform::sessions::Session;
use uuid::Uuid;

/// The one a use case acts for: a signed-in user, or the system itself.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who the commands run as.
    pub actor: Actor,
    /// The caller's session token, when signed in (a role change updates it).
    pub session_token: Option<String>,
    /// What every command of this call carries.
    pub metadata: CommandMetadata,
}

impl Caller {
    /// A signed-in user, in the request `request_id`.
    pub fn signed_in(session: &Session, token: String, request_id: Uuid) -> Self {
        Caller {
            actor: session.actor(),
            session_token: Some(token),
            metadata: CommandMetadata::for_request(request_id, Some(session.user_id)),
        }
    }

    /// The system itself (the seeder, the command line): allowed what an admin is.
    pub fn system() -> Self {
        Caller {
            actor: Actor::system(),
            session_token: None,
            metadata: CommandMetadata::system(),
        }
    }

    /// The caller's user id.
    pub fn user_id(&self) -> Uuid {
        self.actor.user_id
    }

    /// Refuses a caller whose role is none of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), UseCaseError> {
        check_role(self.actor.role, roles).map_err(UseCaseError::Forbidden)
    }
}
