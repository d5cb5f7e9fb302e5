//! Ratings and comments: through the command API onto NATS, into the product
//! detail, the comments list and the analytics.

use crate::support;

use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use support::nats::all_messages;
use support::scenario::{id_of, Shopper};
use support::{eventually, TestApp, TestEnv};
use uuid::Uuid;

async fn rate(app: &TestApp, who: &Shopper, product: Uuid, stars: i64) -> StatusCode {
    app.post(
        &format!("/products/{product}/ratings"),
        Some(&who.token),
        json!({"stars": stars}),
    )
    .await
    .status()
}

async fn delete(app: &TestApp, who: &Shopper, path: &str) -> StatusCode {
    app.http
        .delete(app.url(path))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn read(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let query = app.query.as_ref().unwrap();
    let request = query.http.get(query.url(path));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn ratings_reach_the_product_the_stream_and_the_analytics() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let admin = app.admin().await;
    let seller = app.seller().await;
    let product = app.product(&seller, 20.0, 5).await;
    let (ann, bob, carl) = (
        app.customer().await,
        app.customer().await,
        app.customer().await,
    );
    for customer in [&ann, &bob] {
        support::receive(&app, &env.pool, &admin, customer, &[product]).await;
    }

    // Only customers who received it rate it: not its seller, not a stranger.
    assert_eq!(rate(&app, &seller, product, 5).await, StatusCode::FORBIDDEN);
    assert_eq!(rate(&app, &carl, product, 5).await, StatusCode::FORBIDDEN);
    let faked = app
        .patch(
            &format!("/products/{product}"),
            Some(&seller.token),
            json!({"specifications": {"rating": 5}}),
        )
        .await;
    assert_eq!(faked.status(), StatusCode::ACCEPTED);

    // Read (and cached) before any rating: the ratings that follow replace it.
    let detail = format!("/products/{product}");
    let unrated = eventually(Duration::from_secs(30), "the product", || async {
        let query = app.query.as_ref()?;
        let response = query.http.get(query.url(&detail)).send().await.ok()?;
        (response.status() == StatusCode::OK).then_some(())?;
        response.json::<Value>().await.ok()
    })
    .await;
    assert_eq!(unrated["ratingCount"], 0);
    assert_eq!(unrated["ratingAverage"], Value::Null);
    assert_eq!(unrated["rating"], Value::Null, "{unrated}");

    assert_eq!(rate(&app, &ann, product, 4).await, StatusCode::ACCEPTED);
    assert_eq!(rate(&app, &bob, product, 2).await, StatusCode::ACCEPTED);
    assert_eq!(rate(&app, &ann, product, 5).await, StatusCode::ACCEPTED);
    for stars in [0, 6, 300] {
        assert_eq!(
            rate(&app, &ann, product, stars).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{stars} stars"
        );
    }
    assert_eq!(
        rate(&app, &ann, Uuid::new_v4(), 3).await,
        StatusCode::NOT_FOUND
    );
    let anonymous = app
        .post(
            &format!("/products/{product}/ratings"),
            None,
            json!({"stars": 3}),
        )
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let detail = format!("/products/{product}");
    eventually(
        Duration::from_secs(30),
        "two ratings averaging 3.5",
        || async {
            let shown = read(&app, &detail, None).await;
            (shown["ratingCount"] == 2 && shown["ratingAverage"] == 3.5 && shown["rating"] == 3.5)
                .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "search to rank by customers' ratings",
        || async {
            let found = read(&app, "/products/search?q=laptop&sort=rating:desc", None).await;
            let hit = found["hits"]
                .as_array()?
                .iter()
                .find(|hit| hit["id"] == json!(product))?
                .clone();
            (hit["rating"] == 3.5).then_some(())
        },
    )
    .await;

    let mine = format!("/products/{product}/ratings/mine");
    assert_eq!(delete(&app, &bob, &mine).await, StatusCode::ACCEPTED);
    assert_eq!(delete(&app, &bob, &mine).await, StatusCode::NOT_FOUND);
    assert_eq!(
        delete(
            &app,
            &bob,
            &format!("/products/{}/ratings/mine", Uuid::new_v4())
        )
        .await,
        StatusCode::NOT_FOUND
    );
    eventually(Duration::from_secs(30), "one rating of 5", || async {
        let shown = read(&app, &detail, None).await;
        (shown["ratingCount"] == 1 && shown["ratingAverage"] == 5.0).then_some(())
    })
    .await;
    eventually(
        Duration::from_secs(30),
        "the rating in analytics",
        || async {
            let top = read(
                &app,
                "/analytics/top-products?metric=rating",
                Some(&admin.token),
            )
            .await;
            (top["items"] == json!([{"productId": product, "name": "Laptop 14", "value": 5.0}]))
                .then_some(())
        },
    )
    .await;

    let js = env.nats.jetstream().await;
    let published: Vec<Value> = all_messages(&js, "ATLANTIC_EVENTS")
        .await
        .iter()
        .filter(|m| m.subject.starts_with("events.rating."))
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect();
    let names: Vec<&str> = published
        .iter()
        .map(|b| b["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rating.added",
            "rating.added",
            "rating.updated",
            "rating.deleted"
        ]
    );
    let fields: BTreeSet<&str> = published[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "event",
            "timestamp",
            "ratingId",
            "productId",
            "userId",
            "stars"
        ])
    );
    assert_eq!(published[0]["userId"], ann.id.to_string());
}

#[tokio::test]
async fn comments_are_listed_newest_first_and_only_their_author_or_an_admin_changes_them() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let admin = app.admin().await;
    let seller = app.seller().await;
    let product = app.product(&seller, 20.0, 5).await;
    let (ann, bob) = (app.customer().await, app.customer().await);
    let post = |who: &Shopper, text: &str| {
        let (token, body) = (who.token.clone(), json!({"text": text}));
        let app = &app;
        async move {
            app.post(&format!("/products/{product}/comments"), Some(&token), body)
                .await
        }
    };

    let first = post(&ann, "Light and fast").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = id_of(first).await;
    let second = post(&bob, "Too loud").await;
    assert_eq!(second.status(), StatusCode::CREATED);
    let second = id_of(second).await;
    assert_eq!(
        post(&ann, "   ").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let edited = app
        .patch(
            &format!("/comments/{second}"),
            Some(&bob.token),
            json!({"text": "Too loud, but fast"}),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::ACCEPTED);
    let forbidden = app
        .patch(
            &format!("/comments/{second}"),
            Some(&ann.token),
            json!({"text": "Mine now"}),
        )
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    let listed = format!("/products/{product}/comments");
    let shown = eventually(Duration::from_secs(30), "both comments", || async {
        let shown = read(&app, &listed, None).await;
        (shown["total"] == 2 && shown["items"][0]["text"] == "Too loud, but fast").then_some(shown)
    })
    .await;
    assert_eq!(shown["items"][0]["id"], second.to_string());
    assert_eq!(shown["items"][1]["id"], first.to_string());
    assert_eq!(shown["items"][1]["authorId"], ann.id.to_string());

    let path = format!("/comments/{first}");
    assert_eq!(delete(&app, &bob, &path).await, StatusCode::FORBIDDEN);
    assert_eq!(delete(&app, &admin, &path).await, StatusCode::ACCEPTED);
    let gone = app
        .patch(&path, Some(&ann.token), json!({"text": "Back"}))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    eventually(Duration::from_secs(30), "one comment left", || async {
        let shown = read(&app, &listed, None).await;
        (shown["total"] == 1 && shown["items"][0]["id"] == second.to_string()).then_some(())
    })
    .await;
    let paged = read(&app, &format!("{listed}?perPage=1&page=2"), None).await;
    assert_eq!(paged["items"], json!([]));
    let query = app.query.as_ref().unwrap();
    let unknown = query
        .http
        .get(query.url(&format!("/products/{}/comments", Uuid::new_v4())))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
