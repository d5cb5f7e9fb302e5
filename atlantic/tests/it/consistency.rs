//! Reading your own writes: a command's consistency token, sent back on a
//! read, makes that read see the write; a write the read models cannot show
//! in time answers 503 with `Retry-After`; a token that is not one is refused.

use crate::support;

use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use support::scenario::{address, Api};
use support::{eventually, TestEnv};
use uuid::Uuid;

/// `GET path` on `api`, with the session `token` and the consistency token.
async fn read(api: &Api, path: &str, token: Option<&str>, write: &str) -> reqwest::Response {
    let mut request = api
        .http
        .get(api.url(path))
        .header("Atlantic-Consistency", write);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the query API answers")
}

/// [`read`] as a client does: an answer that carries the token holds the
/// write, or is 503 with `Retry-After` (the read model has not applied it
/// within the wait; a machine running many tests at once can take that
/// long), and is asked again; never an answer without the write.
async fn read_own_write(
    api: &Api,
    path: &str,
    token: Option<&str>,
    write: &str,
) -> reqwest::Response {
    for _ in 0..10 {
        let response = read(api, path, token, write).await;
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            return response;
        }
        assert!(response.headers().contains_key("retry-after"));
    }
    panic!("{path} was still not caught up with {write} after 10 waits");
}

/// The consistency token of a command's answer.
async fn token_of(answer: reqwest::Response) -> String {
    let body: Value = answer.json().await.expect("a JSON answer");
    body["consistencyToken"]
        .as_str()
        .expect("a consistency token")
        .to_string()
}

#[tokio::test]
async fn with_the_token_every_write_is_in_the_very_next_read() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().expect("the query API");
    let seller = app.seller().await;
    let customer = app.customer().await;
    let product = app.product(&seller, 10.0, 1_000_000).await;
    eventually(
        Duration::from_secs(30),
        "the product to be listed",
        || async {
            let found = query
                .http
                .get(query.url(&format!("/products/{product}")))
                .send()
                .await
                .ok()?;
            (found.status() == StatusCode::OK).then_some(())
        },
    )
    .await;
    for round in 0..200 {
        let posted = app
            .post(
                &format!("/products/{product}/comments"),
                Some(&customer.token),
                json!({"text": format!("comment {round}")}),
            )
            .await;
        assert_eq!(posted.status(), StatusCode::CREATED);
        let write = token_of(posted).await;
        let comments: Value = read_own_write(
            &query,
            &format!("/products/{product}/comments"),
            None,
            &write,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(
            comments["items"][0]["text"],
            format!("comment {round}"),
            "round {round}"
        );

        let renamed = app
            .patch(
                &format!("/products/{product}"),
                Some(&seller.token),
                json!({"name": format!("Laptop {round}")}),
            )
            .await;
        assert_eq!(renamed.status(), StatusCode::ACCEPTED);
        let write = token_of(renamed).await;
        let detail: Value = read_own_write(&query, &format!("/products/{product}"), None, &write)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(detail["name"], format!("Laptop {round}"), "round {round}");

        let placed = app
            .post(
                "/orders",
                Some(&customer.token),
                json!({"items": [{"productId": product, "quantity": 1}],
                       "shippingAddress": address(), "payment": {"token": "tok_visa"}}),
            )
            .await;
        assert_eq!(placed.status(), StatusCode::CREATED);
        let body: Value = placed.json().await.unwrap();
        let order = body["id"].as_str().unwrap().to_string();
        let write = body["consistencyToken"].as_str().unwrap().to_string();
        let seen = read_own_write(
            &query,
            &format!("/orders/{order}"),
            Some(&customer.token),
            &write,
        )
        .await;
        assert_eq!(seen.status(), StatusCode::OK, "round {round}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_write_not_shown_in_time_is_503_with_retry_after_and_a_bad_token_422() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let query = app.query.clone().expect("the query API");
    let seller = app.seller().await;
    let product = app.product(&seller, 10.0, 1).await;
    // A version no event of the product reaches.
    let ahead = format!("Product:{product}:1000");
    let answer = read(&query, &format!("/products/{product}"), None, &ahead).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers()["retry-after"], "1");
    assert_eq!(answer.headers()["content-type"], "application/problem+json");
    for bad in [
        "nonsense".to_string(),
        format!("Product:{product}:0"),
        format!("Spaceship:{product}:1"),
        format!("Product:{}:1:2", Uuid::nil()),
    ] {
        let refused = read(&query, &format!("/products/{product}"), None, &bad).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // A write of an aggregate the route's read models do not apply is not
    // waited for, however far ahead it is.
    let unrelated = format!("Order:{product}:1000");
    let answer = read(&query, &format!("/products/{product}"), None, &unrelated).await;
    assert_eq!(answer.status(), StatusCode::OK);
    app.stop().await;
}
