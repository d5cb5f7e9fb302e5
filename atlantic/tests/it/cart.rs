//! Carts: filled and changed through the command API, read with current prices
//! through the query API, checked out into an order.

use crate::support;

use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::scenario::{address, id_of, Shopper};
use support::{eventually, TestApp, TestEnv};
use uuid::Uuid;

async fn put(
    app: &TestApp,
    who: Option<&Shopper>,
    product: Uuid,
    quantity: i64,
) -> reqwest::Response {
    let request = app
        .http
        .put(app.url(&format!("/cart/items/{product}")))
        .json(&json!({"quantity": quantity}));
    let request = match who {
        Some(shopper) => request.bearer_auth(&shopper.token),
        None => request,
    };
    request.send().await.unwrap()
}

async fn cart(app: &TestApp, who: &Shopper) -> Value {
    let query = app.query.as_ref().unwrap();
    let response = query
        .http
        .get(query.url("/cart"))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_cart_fills_shows_current_prices_and_checks_out_into_an_order() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let seller = app.seller().await;
    let laptop = app.product(&seller, 12.5, 10).await;
    let bag = app.product(&seller, 3.0, 10).await;
    let customer = app.customer().await;

    assert_eq!(
        put(&app, Some(&customer), laptop, 1).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        put(&app, Some(&customer), laptop, 2).await.status(),
        StatusCode::OK
    );
    let filled: Value = put(&app, Some(&customer), bag, 4)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filled["items"].as_array().unwrap().len(), 2);

    // Bad input is refused and changes nothing.
    let zero = put(&app, Some(&customer), laptop, 0).await;
    assert_eq!(zero.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(zero.headers()["content-type"], "application/problem+json");
    let unknown = put(&app, Some(&customer), Uuid::new_v4(), 1).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        put(&app, None, laptop, 1).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let removed = app
        .http
        .delete(app.url(&format!("/cart/items/{bag}")))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let left: Value = removed.json().await.unwrap();
    assert_eq!(left["items"], json!([{"productId": laptop, "quantity": 2}]));
    assert_eq!(
        put(&app, Some(&customer), bag, 1).await.status(),
        StatusCode::OK
    );

    // The cart shows the catalogue's price now.
    let repriced = app
        .patch(
            &format!("/products/{laptop}"),
            Some(&seller.token),
            json!({"price": 15.0}),
        )
        .await;
    assert_eq!(repriced.status(), StatusCode::ACCEPTED);
    let shown = eventually(
        Duration::from_secs(30),
        "the new price in the cart",
        || async {
            let shown = cart(&app, &customer).await;
            (shown["total"] == 33.0).then_some(shown)
        },
    )
    .await;
    let laptop_line = shown["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["productId"] == laptop.to_string())
        .unwrap()
        .clone();
    assert_eq!(laptop_line["price"], 15.0);
    assert_eq!(laptop_line["lineTotal"], 30.0);
    assert_eq!(laptop_line["quantity"], 2);

    let checkout = json!({"shippingAddress": address(), "payment": {"token": "tok_visa"}});
    let placed = app
        .post("/cart/checkout", Some(&customer.token), checkout.clone())
        .await;
    assert_eq!(placed.status(), StatusCode::CREATED);
    let order = id_of(placed).await;
    let lines = app
        .shop
        .buses
        .orders
        .load(&order.to_string())
        .await
        .unwrap()
        .lines()
        .to_vec();
    let mut ordered: Vec<(Uuid, u32, String)> = lines
        .iter()
        .map(|l| (l.product_id, l.quantity, l.price.to_string()))
        .collect();
    ordered.sort();
    let mut expected = vec![
        (laptop, 2, "15.00".to_string()),
        (bag, 1, "3.00".to_string()),
    ];
    expected.sort();
    assert_eq!(ordered, expected);

    let emptied = cart(&app, &customer).await;
    assert_eq!(emptied["items"], json!([]));
    assert_eq!(emptied["total"], 0.0);
    let again = app
        .post("/cart/checkout", Some(&customer.token), checkout.clone())
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "the cart is empty");

    // Two checkouts of one cart at once: one order.
    assert_eq!(
        put(&app, Some(&customer), bag, 1).await.status(),
        StatusCode::OK
    );
    let (first, second) = tokio::join!(
        app.post("/cart/checkout", Some(&customer.token), checkout.clone()),
        app.post("/cart/checkout", Some(&customer.token), checkout),
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
}
