//! `POST /products`, `PATCH /products/{id}`, `POST /products/{id}/inventory`,
//! `DELETE /products/{id}`.

use super::extract::{AuthUser, Body, IdPath};
use super::{accepted, caller, AppState};
use atlantic_application::catalogue::{self, NewProduct, StockChange};
use atlantic_application::Accepted;
use atlantic_domain::product::{ProductChanges, ProductDetails};
use atlantic_domain::{Money, Text};
use atlantic_platform::http::error::ApiError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products", post(create))
        .route(
            "/products/{id}",
            axum::routing::patch(update).delete(remove),
        )
        .route("/products/{id}/inventory", post(inventory))
}

/// A new listing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "Travel kettle 0.8 l", "description": "Folding silicone kettle with a dual-voltage base.", "category": "kitchen", "brand": "Harbour", "price": 39.9, "specifications": {"watts": 600, "colour": "grey"}, "inventory": 25}))]
pub struct CreateProduct {
    /// Title.
    #[schema(value_type = String, min_length = 1, max_length = 500, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub name: Text<500>,
    /// Description.
    #[schema(value_type = String, min_length = 1, max_length = 20000, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub description: Text<20000>,
    /// Category, e.g. `laptops`.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub category: Text<200>,
    /// Brand.
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub brand: Text<200>,
    /// Unit price, exact to the cent.
    #[schema(value_type = f64, minimum = 0, maximum = 1000000, multiple_of = 0.01)]
    pub price: Money,
    /// Any further facts.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub specifications: Map<String, Value>,
    /// Units in stock.
    #[schema(maximum = 1000000000)]
    pub inventory: u32,
    /// The seller (admins only; a seller lists under their own).
    pub seller_id: Option<Uuid>,
}

/// A change of details; inventory changes through `/inventory`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"price": 34.5, "description": "Folding silicone kettle, now with a travel pouch."}))]
pub struct UpdateProduct {
    /// Title.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 500, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub name: Option<Text<500>>,
    /// Description.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 20000, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub description: Option<Text<20000>>,
    /// Category.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub category: Option<Text<200>>,
    /// Brand.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
    pub brand: Option<Text<200>>,
    /// Unit price.
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1000000, multiple_of = 0.01)]
    pub price: Option<Money>,
    /// Specifications (replaced whole).
    #[schema(value_type = Option<Object>)]
    pub specifications: Option<Map<String, Value>>,
}

/// Either a signed change of stock or an absolute count.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"adjust": -2}))]
pub struct ChangeInventory {
    /// Units to add (positive) or remove (negative).
    #[schema(minimum = -1000000000, maximum = 1000000000, nullable = false)]
    pub adjust: Option<i64>,
    /// The new count.
    #[schema(maximum = 1000000000, nullable = false)]
    pub set: Option<u32>,
}

/// List a product (a seller, or an admin naming the seller).
#[utoipa::path(post, path = "/products", tag = "products", request_body = CreateProduct, security(("bearer" = [])),
    responses((status = 201, body = Accepted), (status = 403, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    Body(body): Body<CreateProduct>,
) -> Result<impl IntoResponse, ApiError> {
    let product = NewProduct {
        product_id: Uuid::now_v7(),
        seller_id: body.seller_id,
        details: ProductDetails {
            name: body.name,
            description: body.description,
            category: body.category,
            brand: body.brand,
            price: body.price,
            specifications: body.specifications,
        },
        inventory: body.inventory,
        catalogue_rating: None,
    };
    let listed = catalogue::list_product(&state.shop, &caller(&user), product).await?;
    let product_id = listed.id;
    let location = format!("/products/{product_id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(listed),
    ))
}

/// Change a product's details (its seller or an admin).
#[utoipa::path(patch, path = "/products/{id}", tag = "products", request_body = UpdateProduct,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<UpdateProduct>,
) -> Result<impl IntoResponse, ApiError> {
    let changes = ProductChanges {
        name: body.name,
        description: body.description,
        category: body.category,
        brand: body.brand,
        price: body.price,
        specifications: body.specifications,
    };
    let updated = catalogue::update_product(&state.shop, &caller(&user), id, changes).await?;
    Ok(accepted(updated))
}

/// Adjust or set the stock (its seller or an admin).
#[utoipa::path(post, path = "/products/{id}/inventory", tag = "products", request_body = ChangeInventory,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 409, body = super::Problem), (status = 422, body = super::Problem)))]
pub async fn inventory(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
    Body(body): Body<ChangeInventory>,
) -> Result<impl IntoResponse, ApiError> {
    let change = match (body.adjust, body.set) {
        (Some(delta), None) => StockChange::Adjust(delta),
        (None, Some(inventory)) => StockChange::Set(inventory),
        _ => {
            return Err(ApiError::invalid_field(
                "adjust",
                "give exactly one of `adjust` and `set`",
            ))
        }
    };
    let changed = catalogue::change_stock(&state.shop, &caller(&user), id, change).await?;
    Ok(accepted(changed))
}

/// Take a product off the catalogue (its seller or an admin).
#[utoipa::path(delete, path = "/products/{id}", tag = "products",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 202, body = Accepted), (status = 403, body = super::Problem), (status = 404, body = super::Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    IdPath(id): IdPath<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let delisted = catalogue::delist_product(&state.shop, &caller(&user), id).await?;
    Ok(accepted(delisted))
}
