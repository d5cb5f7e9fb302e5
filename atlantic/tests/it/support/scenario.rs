//! A shop's usual first steps over HTTP: users, a seller, products.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub id: Uuid,
    pub token: String,
}

/// An HTTP client of one command API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        Api {
            base,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the API answers")
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut request = self.http.patch(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the API answers")
    }

    /// The process's metrics, in the Prometheus text format.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("the metrics")
            .text()
            .await
            .expect("the metrics' text")
    }

    /// Signs in user `id` registered as `email` with the tests' password.
    pub async fn sign_in(&self, id: Uuid, email: &str) -> Shopper {
        let response = self
            .post(
                "/sessions",
                None,
                json!({"email": email, "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let session: Value = response.json().await.expect("a session");
        Shopper {
            id,
            token: session["token"].as_str().expect("a token").to_string(),
        }
    }

    /// Registers and signs in a customer.
    pub async fn customer(&self) -> Shopper {
        let email = format!("{}@example.com", Uuid::now_v7().simple());
        let response = self
            .post(
                "/users",
                None,
                json!({"email": email, "password": "correct horse battery", "name": "Ann"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = id_of(response).await;
        self.sign_in(id, &email).await
    }

    /// A customer who became a seller.
    pub async fn seller(&self) -> Shopper {
        self.seller_with_id().await.0
    }

    /// A customer who became a seller, and the seller's id.
    pub async fn seller_with_id(&self) -> (Shopper, Uuid) {
        let shopper = self.customer().await;
        let response = self
            .post(
                "/sellers",
                Some(&shopper.token),
                json!({"name": "Acme", "contactEmail": "shop@acme.io"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = id_of(response).await;
        (shopper, id)
    }

    /// Places an order of `lines` paid with `token`; its id.
    pub async fn place_order(
        &self,
        customer: &Shopper,
        lines: &[(Uuid, u32)],
        token: &str,
    ) -> Uuid {
        let items: Vec<Value> = lines
            .iter()
            .map(|(product, quantity)| json!({"productId": product, "quantity": quantity}))
            .collect();
        let placed = self
            .post(
                "/orders",
                Some(&customer.token),
                json!({"items": items, "shippingAddress": address(), "payment": {"token": token}}),
            )
            .await;
        assert_eq!(placed.status(), StatusCode::CREATED);
        id_of(placed).await
    }

    /// Lists a product; returns its id.
    pub async fn product(&self, seller: &Shopper, price: f64, inventory: u32) -> Uuid {
        let response = self
            .post(
                "/products",
                Some(&seller.token),
                json!({
                    "name": "Laptop 14",
                    "description": "A light laptop",
                    "category": "laptops",
                    "brand": "Acme",
                    "price": price,
                    "specifications": {"ram": "16GB"},
                    "inventory": inventory,
                }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        id_of(response).await
    }
}

pub fn address() -> Value {
    json!({"line1": "1 Main St", "city": "Lisbon", "region": "Lisboa", "country": "PT", "postalCode": "1000-001"})
}

pub async fn id_of(response: reqwest::Response) -> Uuid {
    let body: Value = response.json().await.expect("a JSON body");
    body["id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .expect("an id")
}
