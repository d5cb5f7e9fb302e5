//! An event as a projection sees it: the published body, decoded, and the headers that
//! place it.

use anyhow::Context;
use async_nats::jetstream;
use atlantic_domain::published::{Published, PublishedEvent};
use atlantic_platform::dead_letters::header_map;
use atlantic_platform::headers;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One published event.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `events.<context>.<name>`.
    pub subject: String,
    /// The aggregate's type (`Order`, `Product`, …).
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The event's sequence within its aggregate (the aggregate's version after it).
    pub sequence: i64,
    /// The event's global position in the event store.
    pub position: i64,
    /// The body, decoded.
    pub published: Published,
}

impl Envelope {
    /// Reads a JetStream message published by the relay.
    pub fn from_message(message: &jetstream::Message) -> anyhow::Result<Self> {
        Envelope::from_parts(
            message.subject.as_str(),
            &header_map(message.headers.as_ref()),
            &message.payload,
        )
    }

    /// Reads a published event from its subject, headers and body (a parked
    /// letter's, say).
    pub fn from_parts(
        subject: &str,
        headers: &BTreeMap<String, String>,
        payload: &[u8],
    ) -> anyhow::Result<Self> {
        let header = |name: &str| -> anyhow::Result<String> {
            headers
                .get(name)
                .cloned()
                .with_context(|| format!("message without {name}"))
        };
        Ok(Envelope {
            subject: subject.to_string(),
            aggregate_type: header(headers::AGGREGATE_TYPE)?,
            aggregate_id: header(headers::AGGREGATE_ID)?,
            sequence: header(headers::SEQUENCE)?
                .parse()
                .context("bad Atlantic-Sequence")?,
            position: header(headers::POSITION)?
                .parse()
                .context("bad Atlantic-Position")?,
            published: serde_json::from_slice(payload)
                .context("the body is not a published event")?,
        })
    }

    /// What happened.
    pub fn event(&self) -> &PublishedEvent {
        &self.published.event
    }

    /// When the event was committed (now, should its timestamp not parse).
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.published.committed_at().unwrap_or_else(Utc::now)
    }
}
