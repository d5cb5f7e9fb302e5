//! The JetStream streams of the event contract.

use async_nats::jetstream::{self, stream};
use std::time::Duration;

/// Stream of every domain event, subjects `events.>`.
pub const EVENTS_STREAM: &str = "ATLANTIC_EVENTS";
/// Stream of click tracking, subjects `clicks.>`.
pub const CLICKS_STREAM: &str = "ATLANTIC_CLICKS";
/// Stream of messages consumers gave up on, subjects `deadletter.>`.
pub const DEAD_LETTER_STREAM: &str = "ATLANTIC_DEADLETTER";
/// How long JetStream remembers a `Nats-Msg-Id` to drop a republished duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Creates the streams if they do not exist yet.
pub async fn ensure(js: &jetstream::Context) -> anyhow::Result<()> {
    for (name, subjects) in [
        (EVENTS_STREAM, "events.>"),
        (CLICKS_STREAM, "clicks.>"),
        (DEAD_LETTER_STREAM, "deadletter.>"),
    ] {
        js.get_or_create_stream(stream::Config {
            name: name.to_string(),
            subjects: vec![subjects.to_string()],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot create stream {name}: {e}"))?;
    }
    Ok(())
}
