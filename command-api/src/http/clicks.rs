//! `POST /clicks`: click tracking, straight to NATS (stream `ATLANTIC_CLICKS`),
//! never the event store.

use super::extract::{Body, RequestId};
use super::AppState;
use async_nats::HeaderMap;
use atlantic_domain::published::{Published, PublishedEvent};
use atlantic_domain::Text;
use atlantic_platform::headers;
use atlantic_platform::http::error::ApiError;
use atlantic_platform::sessions::Attempt;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new().route("/clicks", post(track))
}

/// What the shopper did.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClickKind {
    /// Saw the product.
    View,
    /// Clicked it.
    Click,
    /// Put it in the cart.
    AddToCart,
}

impl ClickKind {
    fn as_str(self) -> &'static str {
        match self {
            ClickKind::View => "view",
            ClickKind::Click => "click",
            ClickKind::AddToCart => "add_to_cart",
        }
    }
}

/// A click.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"productId": "0190b5a3-7c4e-7d2a-9f1e-2b3c4d5e6f70", "kind": "view", "area": "search-results", "sessionId": "s-20261201-0001"}))]
pub struct TrackClick {
    /// The product.
    pub product_id: Uuid,
    /// What happened.
    pub kind: ClickKind,
    /// Where the shopper is (region).
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub area: Option<Text<100>>,
    /// The shopper's browsing session.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub session_id: Option<Text<100>>,
}

/// Track a click (anyone; limited per client address); answers once
/// JetStream stored it.
#[utoipa::path(post, path = "/clicks", tag = "analytics", request_body = TrackClick,
    responses((status = 202, description = "stored"), (status = 422, body = super::Problem), (status = 429, body = super::Problem)))]
pub async fn track(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RequestId(request_id): RequestId,
    Body(body): Body<TrackClick>,
) -> Result<impl IntoResponse, ApiError> {
    let address = peer.ip().to_string();
    if !state
        .shop
        .sessions
        .allow(Attempt::Click { address: &address })
        .await?
    {
        return Err(ApiError::TooManyRequests(
            "too many clicks from this address; slow down".into(),
        ));
    }
    let click_id = Uuid::now_v7();
    let click = Published {
        timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        event: PublishedEvent::ClickTracked {
            click_id,
            product_id: body.product_id,
            kind: body.kind.as_str().to_string(),
            area: body
                .area
                .as_ref()
                .map_or("unknown", |area| area.as_str())
                .to_string(),
            session_id: body.session_id.as_ref().map(|s| s.as_str().to_string()),
        },
    };
    let payload = serde_json::to_vec(&click)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("encode the click")))?;
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", format!("Click:{click_id}").as_str());
    headers.insert(headers::AGGREGATE_TYPE, "Click");
    headers.insert(headers::AGGREGATE_ID, click_id.to_string().as_str());
    headers.insert(headers::SEQUENCE, "1");
    headers.insert(headers::POSITION, "0");
    headers.insert(headers::CORRELATION_ID, request_id.to_string().as_str());
    let js = async_nats::jetstream::new(state.nats.clone());
    js.publish_with_headers(click.subject(), headers, payload.into())
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot publish the click: {e}")))?
        .await
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("JetStream did not store the click: {e}"))
        })?;
    Ok((StatusCode::ACCEPTED, Json(json!({"id": click_id}))))
}
