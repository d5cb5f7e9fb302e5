//! The kinds of refusal an aggregate can answer, so the APIs can map any domain
//! error to an HTTP status without knowing each variant.

/// What kind of refusal a domain error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command's values break a rule (422).
    Invalid,
    /// The actor may not do this (403).
    Forbidden,
    /// The aggregate does not exist, or the actor may not know it does (404).
    NotFound,
    /// The aggregate's state does not allow the command now (409).
    Conflict,
}

/// A domain error that knows its kind.
pub trait DomainError: std::error::Error {
    /// The kind of refusal.
    fn kind(&self) -> ErrorKind;

    /// The field of the command at fault, for an invalid value.
    fn field(&self) -> Option<&'static str> {
        None
    }
}
