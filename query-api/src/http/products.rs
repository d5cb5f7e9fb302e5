//! `GET /products/search`, `GET /products/{id}`.

use super::paging;
use crate::search::{SearchQuery, SearchResults, Sort, Unavailable};
use crate::QueryState;
use atlantic_domain::bounds::MAX_UNIT_PRICE_CENTS;
use atlantic_platform::http::extract::IdPath;
use atlantic_platform::http::ApiError;
use atlantic_projections::reviews::rating_summary;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::Row;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/products/search", get(search))
        .route("/products/{id}", get(detail))
}

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchParams {
    /// Free text (at most 200 characters); typos are tolerated.
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub q: Option<String>,
    /// Exact category (at most 200 characters).
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub category: Option<String>,
    /// Exact brand (at most 200 characters).
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub brand: Option<String>,
    /// Lowest price (0 to 1,000,000).
    #[param(minimum = 0, maximum = 1000000)]
    pub min_price: Option<f64>,
    /// Highest price (0 to 1,000,000).
    #[param(minimum = 0, maximum = 1000000)]
    pub max_price: Option<f64>,
    /// Only products in stock (true) or out of stock (false).
    pub in_stock: Option<bool>,
    /// `price:asc`, `price:desc`, `rating:asc`, `rating:desc` or `relevance`.
    #[param(pattern = "^(price:asc|price:desc|rating:asc|rating:desc|relevance)$")]
    pub sort: Option<String>,
    /// 1-based page (page × perPage at most 10,000).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// Hits per page (at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// The longest free text, category or brand a search takes, in characters.
const MAX_SEARCH_TEXT: usize = 200;

/// A price filter in cents: 0 to the dearest unit price a product may have.
fn cents(field: &str, value: Option<f64>) -> Result<Option<i64>, ApiError> {
    let dearest = MAX_UNIT_PRICE_CENTS as f64 / 100.0;
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && (0.0..=dearest).contains(&v) => {
            Ok(Some((v * 100.0).round() as i64))
        }
        Some(_) => Err(ApiError::invalid_field(
            field,
            format!("must be an amount from 0 to {dearest}"),
        )),
    }
}

/// `value` when it is at most [`MAX_SEARCH_TEXT`] characters.
fn bounded(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(text) if text.chars().count() > MAX_SEARCH_TEXT => Err(ApiError::invalid_field(
            field,
            format!("must be at most {MAX_SEARCH_TEXT} characters"),
        )),
        other => Ok(other),
    }
}

/// Search the catalogue.
#[utoipa::path(get, path = "/products/search", tag = "products", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 422, body = atlantic_platform::http::Problem), (status = 503, description = "the search engine does not answer", body = atlantic_platform::http::Problem)))]
pub async fn search(
    State(state): State<QueryState>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let (page, per_page) = paging(params.page, params.per_page)?;
    let sort = match params.sort.as_deref() {
        None => Sort::Relevance,
        Some(value) => Sort::parse(value).ok_or_else(|| {
            ApiError::invalid_field(
                "sort",
                "use price:asc, price:desc, rating:asc, rating:desc or relevance",
            )
        })?,
    };
    let query = SearchQuery {
        text: bounded("q", params.q)?.unwrap_or_default(),
        category: bounded("category", params.category)?,
        brand: bounded("brand", params.brand)?,
        min_price_cents: cents("minPrice", params.min_price)?,
        max_price_cents: cents("maxPrice", params.max_price)?,
        in_stock: params.in_stock,
        sort,
        page,
        per_page,
    };
    match state.search.search(&query).await {
        Ok(results) => Ok(Json(results)),
        Err(error) => match error.downcast::<Unavailable>() {
            Ok(unavailable) => Err(ApiError::Unavailable(unavailable.to_string())),
            Err(error) => Err(error.into()),
        },
    }
}

/// A product's details with its customers' rating average and count, both
/// from the cache; its `rating` is that average, or the catalogue's rating
/// it was imported with (`catalogueRating`) while no customer has rated it (a miss reads the read models and fills the cache).
#[utoipa::path(get, path = "/products/{id}", tag = "products", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the product"), (status = 404, body = atlantic_platform::http::Problem)))]
pub async fn detail(
    State(state): State<QueryState>,
    IdPath(id): IdPath<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let key = id.to_string();
    let (cached, rating) = state
        .cache
        .get_with_rating(&key)
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("product cache")))?;
    let document = match cached {
        Some(document) => {
            state
                .metrics
                .add("atlantic_product_cache_total", "outcome=\"hit\"", 1);
            document
        }
        None => {
            state
                .metrics
                .add("atlantic_product_cache_total", "outcome=\"miss\"", 1);
            let Some(document) = from_read_model(&state, id).await? else {
                return Err(ApiError::NotFound("no such product".into()));
            };
            state
                .cache
                .put_if_newer(&key, &document)
                .await
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("product cache")))?;
            document
        }
    };
    if document["deleted"] == Value::Bool(true) {
        return Err(ApiError::NotFound("no such product".into()));
    }
    let rating = match rating {
        Some(rating) => rating,
        None => {
            let summary = rating_summary(&state.pool, id).await?;
            state
                .cache
                .put_rating(&key, &summary, true)
                .await
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("product cache")))?;
            summary
        }
    };
    let mut document = document;
    if let Some(fields) = document.as_object_mut() {
        fields.remove("version");
        let rated = rating["count"].as_i64().is_some_and(|count| count > 0);
        let shown = if rated {
            rating["average"].clone()
        } else {
            fields
                .get("catalogueRating")
                .cloned()
                .unwrap_or(Value::Null)
        };
        fields.insert("rating".into(), shown);
        fields.insert("ratingAverage".into(), rating["average"].clone());
        fields.insert("ratingCount".into(), rating["count"].clone());
    }
    Ok(Json(document))
}

async fn from_read_model(state: &QueryState, id: Uuid) -> Result<Option<Value>, ApiError> {
    let row = sqlx::query(
        "SELECT name, description, category, brand, price::float8 AS price, specifications, seller_id, \
                inventory, catalogue_rating::float8 AS catalogue_rating, version FROM search_products WHERE product_id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    Ok(row.map(|row| {
        let inventory: i64 = row.get("inventory");
        json!({
            "id": id,
            "name": row.get::<String, _>("name"),
            "description": row.get::<String, _>("description"),
            "category": row.get::<String, _>("category"),
            "brand": row.get::<String, _>("brand"),
            "price": row.get::<f64, _>("price"),
            "specifications": row.get::<Value, _>("specifications"),
            "sellerId": row.get::<Uuid, _>("seller_id"),
            "inventory": inventory,
            "inStock": inventory > 0,
            "catalogueRating": row.get::<Option<f64>, _>("catalogue_rating"),
            "version": row.get::<i64, _>("version"),
        })
    }))
}
