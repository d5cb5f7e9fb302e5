//! The relay publishes every committed event exactly once, in order, through
//! late commits and kill -9.

mod support;

use async_nats::header::NATS_MESSAGE_ID;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::nats::{all_messages, free_port, message_count};
use support::process::{wait_healthy, Server};
use support::scenario::Api;
use support::{eventually, TestEnv};
use uuid::Uuid;

const STREAM: &str = "ATLANTIC_EVENTS";

#[tokio::test]
async fn an_event_that_commits_late_under_a_lower_position_is_still_published() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(true).await;
    let seller = app.seller().await;
    let js = env.nats.jetstream().await;
    let count = || {
        let js = js.clone();
        async move { message_count(&js, STREAM).await }
    };
    eventually(Duration::from_secs(10), "the first 3 events", || async {
        (count().await == 3).then_some(())
    })
    .await;

    let mut late = env.pool.begin().await.unwrap();
    let late_position: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('Product', $1, 1, 'ProductDeleted', '1', '{\"ProductDeleted\": {}}', '{}') RETURNING global_position",
    )
    .bind(Uuid::now_v7().to_string())
    .fetch_one(&mut *late)
    .await
    .unwrap();
    app.product(&seller, 1.0, 1).await;
    let later_position: i64 = sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert!(later_position > late_position);

    // While the lower position is uncommitted, publishing the higher one would
    // move the checkpoint past it; the relay must hold back.
    for _ in 0..15 {
        assert_eq!(
            count().await,
            3,
            "published past an uncommitted lower position"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    late.commit().await.unwrap();

    let messages = eventually(Duration::from_secs(10), "all 5 events", || async {
        let messages = all_messages(&js, STREAM).await;
        (messages.len() == 5).then_some(messages)
    })
    .await;
    let positions: Vec<i64> = messages
        .iter()
        .map(|m| {
            m.headers
                .get("Atlantic-Position")
                .unwrap()
                .as_str()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(&positions[3..], &[late_position, later_position]);
}

#[tokio::test]
async fn kill_9_during_2000_commands_loses_nothing_and_publishes_nothing_twice() {
    let env = TestEnv::new().await;
    let port = free_port();
    let api = Api::new(format!("http://127.0.0.1:{port}"));
    let mut server = Server::start(&env, port, &[]);
    wait_healthy(&api).await;
    let seller = api.seller().await;
    let mut products = Vec::new();
    for _ in 0..10 {
        products.push(api.product(&seller, 2.5, 100).await);
    }

    const COMMANDS: usize = 2000;
    const WORKERS: usize = 16;
    let done = Arc::new(AtomicUsize::new(0));
    let workers = (0..WORKERS).map(|worker| {
        let api = api.clone();
        let token = seller.token.clone();
        let products = products.clone();
        let done = done.clone();
        async move {
            for i in (worker..COMMANDS).step_by(WORKERS) {
                let path = format!("/products/{}/inventory", products[i % products.len()]);
                // A killed server drops requests; send again until one is answered.
                loop {
                    let sent = api
                        .http
                        .post(api.url(&path))
                        .bearer_auth(&token)
                        .json(&json!({"adjust": 1}))
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == StatusCode::ACCEPTED => break,
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let load = tokio::spawn(join_all(workers));

    for milestone in [300, 700, 1100, 1500] {
        eventually(Duration::from_secs(120), "commands to progress", || async {
            (done.load(Ordering::SeqCst) >= milestone).then_some(())
        })
        .await;
        server.kill_9();
        server = Server::start(&env, port, &[]);
        wait_healthy(&api).await;
    }
    load.await.unwrap();

    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, global_position FROM events ORDER BY global_position",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    assert!(rows.len() > COMMANDS);
    let js = env.nats.jetstream().await;
    eventually(
        Duration::from_secs(60),
        "every event on the stream",
        || async {
            let published = message_count(&js, STREAM).await;
            assert!(
                published as usize <= rows.len(),
                "more messages than events"
            );
            (published as usize == rows.len()).then_some(())
        },
    )
    .await;
    let messages = all_messages(&js, STREAM).await;
    assert_eq!(messages.len(), rows.len());

    let expected: HashSet<String> = rows
        .iter()
        .map(|(t, id, seq, _)| format!("{t}:{id}:{seq}"))
        .collect();
    let published: Vec<String> = messages
        .iter()
        .map(|m| m.headers.get(NATS_MESSAGE_ID).unwrap().as_str().to_string())
        .collect();
    let unique: HashSet<String> = published.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        published.len(),
        "a message was published twice"
    );
    assert_eq!(
        unique, expected,
        "the stream holds exactly the events table"
    );

    let mut last_sequence: HashMap<String, i64> = HashMap::new();
    for message in &messages {
        let aggregate = message
            .headers
            .get("Atlantic-Aggregate-Id")
            .unwrap()
            .as_str()
            .to_string();
        let sequence: i64 = message
            .headers
            .get("Atlantic-Sequence")
            .unwrap()
            .as_str()
            .parse()
            .unwrap();
        let previous = last_sequence
            .insert(aggregate.clone(), sequence)
            .unwrap_or(0);
        assert_eq!(sequence, previous + 1, "aggregate {aggregate} out of order");
    }
}
