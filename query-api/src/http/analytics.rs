//! `/analytics/*`: admins only.

use crate::analytics::{self, Dimension, Metric, Window};
use crate::QueryState;
use atlantic_domain::bounds::check_inventory;
use atlantic_domain::Role;
use atlantic_platform::http::extract::AuthUser;
use atlantic_platform::http::ApiError;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

type Answer = Result<Json<Value>, ApiError>;

pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/analytics/top-products", get(top_products))
        .route("/analytics/sales", get(sales))
        .route("/analytics/by-area", get(by_area))
        .route("/analytics/by-category", get(by_category))
        .route("/analytics/by-brand", get(by_brand))
        .route("/analytics/inventory", get(inventory))
}

/// Parameters of `/analytics/top-products`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopProductsParams {
    /// What to rank by.
    #[param(pattern = "^(clicks|units_sold|revenue|rating)$")]
    pub metric: Option<String>,
    /// From (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// To (RFC 3339), exclusive; after `from`.
    pub to: Option<DateTime<Utc>>,
    /// How many products.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Parameters of `/analytics/sales`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SalesParams {
    /// From (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// To (RFC 3339), exclusive; after `from`.
    pub to: Option<DateTime<Utc>>,
    /// One point per `hour` or per `day` (the default).
    #[param(pattern = "^(hour|day)$")]
    pub interval: Option<String>,
    /// Only this category.
    #[param(max_length = 200)]
    pub category: Option<String>,
}

/// Parameters of `/analytics/by-area`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByAreaParams {
    /// What to count.
    #[param(pattern = "^(clicks|units_sold|revenue)$")]
    pub metric: Option<String>,
    /// From (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// To (RFC 3339), exclusive; after `from`.
    pub to: Option<DateTime<Utc>>,
}

/// Parameters of `/analytics/by-category` and `/analytics/by-brand`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByDimensionParams {
    /// What to count (`inventory`: units in stock now).
    #[param(pattern = "^(clicks|units_sold|revenue|inventory)$")]
    pub metric: Option<String>,
    /// From (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// To (RFC 3339), exclusive; after `from`.
    pub to: Option<DateTime<Utc>>,
}

/// Parameters of `/analytics/inventory`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InventoryParams {
    /// Only products with less stock than this.
    #[param(minimum = 0, maximum = 1000000000)]
    pub below: Option<i64>,
}

/// An admin's query string of type `T`.
fn params<T>(user: &AuthUser, params: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    user.require(&[Role::Admin])?;
    params
        .map(|Query(p)| p)
        .map_err(|e| ApiError::invalid_field("query", e.body_text()))
}

fn window(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Window, ApiError> {
    let seconds = |t: DateTime<Utc>| t.timestamp().clamp(0, i64::from(u32::MAX)) as u32;
    let window = Window {
        from: from.map(seconds).unwrap_or(0),
        to: to.map(seconds).unwrap_or(u32::MAX),
    };
    if window.from >= window.to {
        return Err(ApiError::invalid_field("from", "must be before `to`"));
    }
    Ok(window)
}

/// The longest category name, as products have it.
const MAX_CATEGORY: usize = 200;

fn category(category: Option<&str>) -> Result<Option<&str>, ApiError> {
    match category {
        Some(category) if category.chars().count() > MAX_CATEGORY => Err(ApiError::invalid_field(
            "category",
            format!("must be at most {MAX_CATEGORY} characters"),
        )),
        other => Ok(other),
    }
}

/// `clicks`, `units_sold` (the default) or `revenue`.
fn metric(metric: Option<&str>) -> Result<Metric, ApiError> {
    match metric.unwrap_or("units_sold") {
        "clicks" => Ok(Metric::Clicks),
        "units_sold" => Ok(Metric::UnitsSold),
        "revenue" => Ok(Metric::Revenue),
        _ => Err(ApiError::invalid_field(
            "metric",
            "use clicks, units_sold or revenue",
        )),
    }
}

fn shown(metric: Metric, value: i64) -> Value {
    match metric {
        Metric::Revenue | Metric::Rating => json!(value as f64 / 100.0),
        _ => json!(value),
    }
}

fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(10) {
        0 | 101.. => Err(ApiError::invalid_field("limit", "must be 1 to 100")),
        n => Ok(n),
    }
}

/// Products ranked by clicks, units sold, revenue or rating.
#[utoipa::path(get, path = "/analytics/top-products", tag = "analytics", params(TopProductsParams), security(("bearer" = [])),
    responses((status = 200, description = "ranked products"), (status = 403, body = atlantic_platform::http::Problem)))]
pub async fn top_products(
    State(state): State<QueryState>,
    user: AuthUser,
    query: Result<Query<TopProductsParams>, QueryRejection>,
) -> Answer {
    let p = params(&user, query)?;
    let limit = limit(p.limit)?;
    let metric = match p.metric.as_deref() {
        Some("rating") => Metric::Rating,
        other => metric(other)?,
    };
    let window = window(p.from, p.to)?;
    let figures = analytics::top_products(&state.analytics, metric, window, limit).await?;
    let ids: Vec<String> = figures.iter().map(|f| f.key.clone()).collect();
    let names = analytics::names(&state.analytics, &ids).await?;
    let items: Vec<Value> = figures
        .into_iter()
        .map(|f| json!({"productId": f.key, "name": names.get(&f.key), "value": shown(metric, f.value)}))
        .collect();
    Ok(Json(
        json!({"metric": p.metric.as_deref().unwrap_or("units_sold"), "items": items}),
    ))
}

/// Orders, units sold and revenue per hour or day.
#[utoipa::path(get, path = "/analytics/sales", tag = "analytics", params(SalesParams), security(("bearer" = [])),
    responses((status = 200, description = "a time series"), (status = 403, body = atlantic_platform::http::Problem)))]
pub async fn sales(
    State(state): State<QueryState>,
    user: AuthUser,
    query: Result<Query<SalesParams>, QueryRejection>,
) -> Answer {
    let p = params(&user, query)?;
    let daily = match p.interval.as_deref().unwrap_or("day") {
        "day" => true,
        "hour" => false,
        _ => return Err(ApiError::invalid_field("interval", "use hour or day")),
    };
    let window = window(p.from, p.to)?;
    let category = category(p.category.as_deref())?;
    let points = analytics::sales(&state.analytics, daily, window, category).await?;
    let points: Vec<Value> = points
        .into_iter()
        .map(|point| {
            let t = DateTime::<Utc>::from_timestamp(i64::from(point.t), 0).unwrap_or_default();
            json!({"t": t, "orders": point.orders, "unitsSold": point.units, "revenue": point.revenue_cents as f64 / 100.0})
        })
        .collect();
    Ok(Json(
        json!({"interval": if daily { "day" } else { "hour" }, "points": points}),
    ))
}

/// Units sold, clicks or revenue per area.
#[utoipa::path(get, path = "/analytics/by-area", tag = "analytics", params(ByAreaParams), security(("bearer" = [])),
    responses((status = 200, description = "figures per area"), (status = 403, body = atlantic_platform::http::Problem)))]
pub async fn by_area(
    State(state): State<QueryState>,
    user: AuthUser,
    query: Result<Query<ByAreaParams>, QueryRejection>,
) -> Answer {
    let p = params(&user, query)?;
    let metric = metric(p.metric.as_deref())?;
    let figures = analytics::by_area(&state.analytics, metric, window(p.from, p.to)?).await?;
    let items: Vec<Value> = figures
        .into_iter()
        .map(|f| json!({"area": f.key, "value": shown(metric, f.value)}))
        .collect();
    Ok(Json(
        json!({"metric": p.metric.as_deref().unwrap_or("units_sold"), "items": items}),
    ))
}

/// Units sold, clicks, revenue or units in stock per category.
#[utoipa::path(get, path = "/analytics/by-category", tag = "analytics", params(ByDimensionParams), security(("bearer" = [])),
    responses((status = 200, description = "figures per category"), (status = 403, body = atlantic_platform::http::Problem)))]
pub async fn by_category(
    State(state): State<QueryState>,
    user: AuthUser,
    query: Result<Query<ByDimensionParams>, QueryRejection>,
) -> Answer {
    by_dimension(&state, &user, query, Dimension::Category).await
}

/// Units sold, clicks, revenue or units in stock per brand.
#[utoipa::path(get, path = "/analytics/by-brand", tag = "analytics", params(ByDimensionParams), security(("bearer" = [])),
    responses((status = 200, description = "figures per brand"), (status = 403, body = atlantic_platform::http::Problem)))]
pub async fn by_brand(
    State(state): State<QueryState>,
    user: AuthUser,
    query: Result<Query<ByDimensionParams>, QueryRejection>,
) -> Answer {
    by_dimension(&state, &user, query, Dimension::Brand).await
}

async fn by_dimension(
    state: &QueryState,
    user: &AuthUser,
    query: Result<Query<ByDimensionParams>, QueryRejection>,
    dimension: Dimension,
) -> Answer {
    let p = params(user, query)?;
    let metric = match p.metric.as_deref() {
        Some("inventory") => None,
        counted @ (None | Some("clicks" | "units_sold" | "revenue")) => Some(metric(counted)?),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "metric",
                "use clicks, units_sold, revenue or inventory",
            ))
        }
    };
    let window = window(p.from, p.to)?;
    let figures = analytics::by_dimension(&state.analytics, metric, window, dimension).await?;
    let key = dimension.column();
    let items: Vec<Value> = figures
        .into_iter()
        .map(|f| {
            let value = metric.map_or(json!(f.value), |m| shown(m, f.value));
            json!({key: f.key, "value": value})
        })
        .collect();
    Ok(Json(
        json!({"metric": p.metric.as_deref().unwrap_or("units_sold"), "items": items}),
    ))
}

/// Stock per product, below a threshold.
#[utoipa::path(get, path = "/analytics/inventory", tag = "analytics", params(InventoryParams), security(("bearer" = [])),
    responses((status = 200, description = "stock levels"), (status = 403, body = atlantic_platform::http::Problem)))]
pub async fn inventory(
    State(state): State<QueryState>,
    user: AuthUser,
    query: Result<Query<InventoryParams>, QueryRejection>,
) -> Answer {
    let p = params(&user, query)?;
    let below = match p.below {
        None => i64::MAX,
        Some(below) => {
            check_inventory(below).map_err(|message| ApiError::invalid_field("below", message))?
        }
    };
    let rows = analytics::low_stock(&state.analytics, below, 100).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({"productId": r.product_id, "name": r.name, "category": r.category, "inventory": r.inventory}))
        .collect();
    Ok(Json(json!({"items": items})))
}
