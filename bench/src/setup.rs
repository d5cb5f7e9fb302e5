//! The shop the benchmark works on: a seller, products, customers.

use anyhow::{ensure, Context};
use serde_json::{json, Value};
use uuid::Uuid;

/// Who and what the load uses.
#[derive(Clone)]
pub struct Shop {
    pub api: String,
    pub http: reqwest::Client,
    pub seller_token: String,
    pub customer_tokens: Vec<String>,
    pub products: Vec<Uuid>,
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = http.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    ensure!(
        response.status().is_success(),
        "POST {url}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

async fn signed_in(http: &reqwest::Client, api: &str) -> anyhow::Result<String> {
    let email = format!("bench-{}@example.com", Uuid::now_v7().simple());
    let password = "benchmark password";
    post(
        http,
        format!("{api}/users"),
        None,
        json!({"email": email, "password": password, "name": "Bench"}),
    )
    .await?;
    let session = post(
        http,
        format!("{api}/sessions"),
        None,
        json!({"email": email, "password": password}),
    )
    .await?;
    session["token"]
        .as_str()
        .map(str::to_string)
        .context("no token")
}

impl Shop {
    /// Creates a seller with `products` products and 16 customers.
    pub async fn create(api: &str, products: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::new();
        let seller_token = signed_in(&http, api).await?;
        post(
            &http,
            format!("{api}/sellers"),
            Some(&seller_token),
            json!({"name": "Bench", "contactEmail": "bench@example.com"}),
        )
        .await?;
        let ids = list_products(&http, api, &seller_token, products).await?;
        let mut customer_tokens = Vec::new();
        for _ in 0..16 {
            customer_tokens.push(signed_in(&http, api).await?);
        }
        Ok(Shop {
            api: api.to_string(),
            http,
            seller_token,
            customer_tokens,
            products: ids,
        })
    }

    /// The seller lists `count` more products; answers the shop on those alone.
    pub async fn with_new_products(&self, count: usize) -> anyhow::Result<Shop> {
        let products = list_products(&self.http, &self.api, &self.seller_token, count).await?;
        Ok(Shop {
            products,
            ..self.clone()
        })
    }
}

/// Lists `count` products as the seller of `seller_token`; answers their ids.
async fn list_products(
    http: &reqwest::Client,
    api: &str,
    seller_token: &str,
    count: usize,
) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let created = post(
            http,
            format!("{api}/products"),
            Some(seller_token),
            json!({"name": format!("Product {i}"), "description": "d", "category": "bench", "brand": "Bench",
                   "price": 9.99, "specifications": {}, "inventory": 1_000_000}),
        )
        .await?;
        ids.push(
            created["id"]
                .as_str()
                .and_then(|id| Uuid::parse_str(id).ok())
                .context("no id")?,
        );
    }
    Ok(ids)
}

/// One inventory adjustment of a unit on `product`, as its seller.
pub async fn adjust(shop: &Shop, product: Uuid) -> anyhow::Result<()> {
    post(
        &shop.http,
        format!("{}/products/{product}/inventory", shop.api),
        Some(&shop.seller_token),
        json!({"adjust": 1}),
    )
    .await?;
    Ok(())
}
