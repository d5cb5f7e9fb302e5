//! An event as a projection sees it: the published body and the headers that
//! place it.

use anyhow::Context;
use async_nats::jetstream;
use atlantic_platform::dead_letters::header_map;
use atlantic_platform::headers;
use chrono::{DateTime, Utc};
use serde_json::Value;
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
    /// The body (the brief's JSON).
    pub body: Value,
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
            body: serde_json::from_slice(payload).context("body is not JSON")?,
        })
    }

    /// The event's name: the subject's last part (`OrderCreated`, `created`).
    pub fn name(&self) -> &str {
        self.subject.rsplit('.').next().unwrap_or_default()
    }

    /// The body's `timestamp`, or now.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.body["timestamp"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now)
    }
}
