//! `GET /orders/{id}/events`: an order's events as Server-Sent Events, for
//! its customer or an admin. The events so far come from the events table
//! (the record, ahead of any read model), then each new one as NATS carries
//! it; each message's `id` is the event's sequence, so a client that comes
//! back with `Last-Event-ID` misses nothing, and `data` is the published
//! JSON. The stream ends after the order's final event.

use crate::live::{LiveEvent, Slot};
use crate::QueryState;
use atlantic_domain::integration::to_integration_event;
use atlantic_domain::Role;
use atlantic_platform::http::extract::{AuthUser, IdPath};
use atlantic_platform::http::ApiError;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use futures::stream::{self, Stream, StreamExt};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// How often an idle stream says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// The events after which an order changes no more.
const FINAL: [&str; 3] = ["OrderDelivered", "OrderCancelled", "OrderReturned"];

pub fn router() -> Router<QueryState> {
    Router::new().route("/orders/{id}/events", get(events))
}

/// One event as it goes out.
struct Outgoing {
    sequence: i64,
    name: String,
    body: String,
}

impl Outgoing {
    fn is_final(&self) -> bool {
        FINAL.contains(&self.name.as_str())
    }

    fn event(&self) -> Event {
        Event::default()
            .id(self.sequence.to_string())
            .event(self.name.clone())
            .data(self.body.clone())
    }
}

/// The sequence a reconnecting client saw last (0 without the header).
fn last_event_id(headers: &HeaderMap) -> Result<i64, ApiError> {
    match headers.get("last-event-id") {
        None => Ok(0),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|v| *v >= 0)
            .ok_or_else(|| ApiError::invalid_field("Last-Event-ID", "must be an event's sequence")),
    }
}

/// The order's events so far (a handful), published as the relay publishes
/// them.
async fn history(state: &QueryState, order_id: Uuid) -> Result<Vec<Outgoing>, ApiError> {
    let rows: Vec<(String, i64, String, Value, DateTime<Utc>)> = sqlx::query_as(
        "SELECT aggregate_id, sequence, event_version, payload, recorded_at FROM events \
         WHERE aggregate_type = 'Order' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(order_id.to_string())
    .fetch_all(&state.pool)
    .await?;
    rows.into_iter()
        .map(|(id, sequence, version, payload, at)| {
            let published = to_integration_event("Order", &id, &version, payload, at)
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("an order event")))?;
            let body = serde_json::to_string(&published)
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
            Ok(Outgoing {
                sequence,
                name: published.event.name().to_string(),
                body,
            })
        })
        .collect()
}

/// Who placed the order, if it exists.
async fn customer_of(state: &QueryState, order_id: Uuid) -> Result<Option<Uuid>, ApiError> {
    let customer: Option<String> = sqlx::query_scalar(
        "SELECT payload -> 'OrderCreated' ->> 'customerId' FROM events \
         WHERE aggregate_type = 'Order' AND aggregate_id = $1 AND sequence = 1",
    )
    .bind(order_id.to_string())
    .fetch_optional(&state.pool)
    .await?
    .flatten();
    Ok(customer.and_then(|c| Uuid::parse_str(&c).ok()))
}

/// What the live part of a stream holds between two events.
struct Live {
    order_id: Uuid,
    last: i64,
    receiver: broadcast::Receiver<Arc<LiveEvent>>,
    _slot: Slot,
}

/// The order's next live event after `live.last`; none once the feed
/// falls too far behind (the client comes back with `Last-Event-ID`).
async fn next_live(mut live: Live) -> Option<(Outgoing, Live)> {
    loop {
        match live.receiver.recv().await {
            Ok(event) if event.order_id == live.order_id && event.sequence > live.last => {
                live.last = event.sequence;
                let outgoing = Outgoing {
                    sequence: event.sequence,
                    name: event.name.clone(),
                    body: event.body.clone(),
                };
                return Some((outgoing, live));
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// Watch an order's events as they happen (its customer or an admin).
#[utoipa::path(get, path = "/orders/{id}/events", tag = "orders",
    params(("id" = Uuid, Path), ("Last-Event-ID" = Option<i64>, Header, nullable = false, minimum = 0, description = "the last sequence seen")),
    security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream of the order's published events"),
              (status = 404, body = atlantic_platform::http::Problem), (status = 429, body = atlantic_platform::http::Problem)))]
pub async fn events(
    State(state): State<QueryState>,
    user: AuthUser,
    IdPath(order_id): IdPath<Uuid>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let after = last_event_id(&headers)?;
    let customer = customer_of(&state, order_id).await?;
    if customer.is_none()
        || (customer != Some(user.session.user_id) && user.session.role != Role::Admin)
    {
        return Err(ApiError::NotFound(format!("no order {order_id}")));
    }
    let slot = state
        .live
        .open_stream(user.session.user_id)
        .ok_or_else(|| {
            ApiError::TooManyRequests("too many open event streams; close one".into())
        })?;
    // Listen first, then read what is stored: an event committed after the
    // read is published after it too, and one in both is sent once.
    let receiver = state.live.subscribe();
    let history = history(&state, order_id).await?;
    // An order that has ended sends what the client has not seen and
    // closes, also when the client saw the final event already.
    let ended = history.iter().any(Outgoing::is_final);
    let past: Vec<Outgoing> = history
        .into_iter()
        .filter(|event| event.sequence > after)
        .collect();
    let last = past.last().map_or(after, |event| event.sequence);
    let live = Live {
        order_id,
        last,
        receiver,
        _slot: slot,
    };
    let live = stream::unfold((Some(live), ended), |(live, ended)| async move {
        if ended {
            return None;
        }
        let (event, live) = next_live(live?).await?;
        let ended = event.is_final();
        Some((event, (Some(live), ended)))
    });
    let stream = stream::iter(past)
        .chain(live)
        .map(|event| Ok::<_, Infallible>(event.event()));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}
