//! The JetStream streams of the event contract.

use anyhow::Context;
use async_nats::jetstream::{self, stream};
use std::time::Duration;

/// Stream of every domain event, subjects `events.>`. It keeps every event:
/// a projector reads it from its start.
pub const EVENTS_STREAM: &str = "ATLANTIC_EVENTS";
/// Stream of click tracking, subjects `clicks.>`.
pub const CLICKS_STREAM: &str = "ATLANTIC_CLICKS";
/// How long JetStream remembers a `Nats-Msg-Id` to drop a republished duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long clicks stay in their stream (ClickHouse keeps them after that).
pub const CLICKS_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most bytes of clicks the stream holds; the oldest go first.
pub const CLICKS_MAX_BYTES: i64 = 1024 * 1024 * 1024;
/// The largest click message.
pub const CLICKS_MAX_MESSAGE: i32 = 4096;

/// Connects to NATS (retrying until it answers) and creates the streams.
pub async fn connect(url: &str) -> anyhow::Result<async_nats::Client> {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))?;
    ensure(&jetstream::new(client.clone())).await?;
    Ok(client)
}

/// Creates the streams, or brings an existing one's limits up to date.
pub async fn ensure(js: &jetstream::Context) -> anyhow::Result<()> {
    let base = |name: &str, subjects: &str| stream::Config {
        name: name.to_string(),
        subjects: vec![subjects.to_string()],
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    };
    let clicks = stream::Config {
        max_age: CLICKS_MAX_AGE,
        max_bytes: CLICKS_MAX_BYTES,
        max_message_size: CLICKS_MAX_MESSAGE,
        discard: stream::DiscardPolicy::Old,
        ..base(CLICKS_STREAM, "clicks.>")
    };
    for config in [base(EVENTS_STREAM, "events.>"), clicks] {
        let name = config.name.clone();
        js.create_or_update_stream(config)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create stream {name}: {e}"))?;
    }
    Ok(())
}
