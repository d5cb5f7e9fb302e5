//! The relay publishes every committed event exactly once, in order, through
//! late commits and kill -9.

use crate::support;

use async_nats::header::NATS_MESSAGE_ID;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::nats::{all_messages, free_port, message_count};
use support::plans::{plan, Planning};
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

/// The aggregate ids, in stream order, of the messages of `aggregate`.
async fn sequences_of(js: &async_nats::jetstream::Context, aggregate: &str) -> Vec<String> {
    all_messages(js, STREAM)
        .await
        .into_iter()
        .filter(|m| {
            m.headers
                .get("Atlantic-Aggregate-Id")
                .is_some_and(|v| v.as_str() == aggregate)
        })
        .filter_map(|m| {
            m.headers
                .get("Atlantic-Sequence")
                .map(|v| v.as_str().to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_row_that_cannot_be_published_is_parked_and_holds_only_its_own_aggregate() {
    let env = TestEnv::new().await;
    let app = env.spawn_app(true).await;
    let seller = app.seller().await;
    let js = env.nats.jetstream().await;
    let broken = Uuid::now_v7().to_string();
    let insert = |sequence: i64, payload: serde_json::Value| {
        let pool = env.pool.clone();
        let broken = broken.clone();
        async move {
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                 VALUES ('Product', $1, $2, 'ProductCreated', '1', $3, '{}')",
            )
            .bind(broken)
            .bind(sequence)
            .bind(payload)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    insert(1, json!({"ProductCreated": {"bogus": true}})).await;
    insert(
        2,
        json!({"InventoryAdjusted": {"delta": 4, "inventory": 4}}),
    )
    .await;
    let other = app.product(&seller, 3.0, 1).await.to_string();

    eventually(
        Duration::from_secs(30),
        "the later product on NATS",
        || async { (sequences_of(&js, &other).await == ["1"]).then_some(()) },
    )
    .await;
    let parked = eventually(Duration::from_secs(10), "both rows parked", || async {
        let letters = env.dead_letters().await;
        (letters.len() == 2).then_some(letters)
    })
    .await;
    assert!(parked.iter().all(|l| l.consumer == "relay"
        && l.aggregate.as_deref() == Some(format!("Product:{broken}").as_str())));
    assert!(
        parked[0].error.contains("does not parse"),
        "{}",
        parked[0].error
    );
    assert!(!parked[0].held && parked[1].held);
    assert_eq!(parked[1].sequence, Some(2));
    let raw: serde_json::Value = serde_json::from_slice(&parked[0].payload).unwrap();
    assert_eq!(raw["payload"], json!({"ProductCreated": {"bogus": true}}));
    assert!(sequences_of(&js, &broken).await.is_empty());
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("atlantic_dead_letters{consumer=\"relay\"} 2"),
        "{metrics}"
    );

    // Later events of the broken aggregate wait behind it; others flow.
    insert(
        3,
        json!({"InventoryAdjusted": {"delta": 1, "inventory": 5}}),
    )
    .await;
    let third = app.product(&seller, 4.0, 1).await.to_string();
    eventually(
        Duration::from_secs(30),
        "the third product on NATS",
        || async { (sequences_of(&js, &third).await == ["1"]).then_some(()) },
    )
    .await;
    eventually(Duration::from_secs(10), "the third row held", || async {
        (env.dead_letters().await.len() == 3).then_some(())
    })
    .await;

    sqlx::query("UPDATE events SET payload = $2 WHERE aggregate_id = $1 AND sequence = 1")
        .bind(&broken)
        .bind(json!({"ProductCreated": {
            "productId": broken, "sellerId": Uuid::now_v7(), "name": "Repaired", "description": "Fixed by hand",
            "category": "tools", "brand": "Acme", "price": 5.0, "specifications": {}, "inventory": 0
        }}))
        .execute(&env.pool)
        .await
        .unwrap();
    let retry = std::process::Command::new(env!("CARGO_BIN_EXE_atlantic"))
        .args(["dead-letters", "retry", "--consumer", "relay"])
        .envs(env.child_env())
        .output()
        .expect("run atlantic dead-letters retry");
    assert!(retry.status.success(), "{retry:?}");
    assert_eq!(String::from_utf8_lossy(&retry.stdout).trim(), "3 due now");
    eventually(
        Duration::from_secs(30),
        "the repaired aggregate on NATS",
        || async { (sequences_of(&js, &broken).await == ["1", "2", "3"]).then_some(()) },
    )
    .await;
    // Each letter goes once its row is published, just after it.
    eventually(Duration::from_secs(10), "the letters gone", || async {
        env.dead_letters().await.is_empty().then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn the_relay_and_replays_read_a_large_backlog_by_the_index_not_by_sorting_it() {
    let env = TestEnv::new().await;
    // A backlog of 50,000 events of one transaction, as a bulk import leaves it.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT 'Backlog', 'b' || g, 1, 'Imported', '1', '{}', '{}' FROM generate_series(1, 50000) g",
    )
    .execute(&env.pool)
    .await
    .expect("the backlog");
    sqlx::query("ANALYZE events")
        .execute(&env.pool)
        .await
        .expect("analyze");
    let mark: i64 =
        sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            .fetch_one(&env.pool)
            .await
            .expect("a mark");
    for (reader, sql, params) in [
        (
            "relay",
            atlantic_relay::NEXT_BATCH,
            "'0', 0, 500".to_string(),
        ),
        (
            "replay",
            atlantic_projections::replay::PAGE_QUERY,
            format!("'0', 0, 1000, '{mark}', '{{Backlog}}'"),
        ),
    ] {
        let plan = plan(&env.pool, sql, &params, Planning::Custom)
            .await
            .to_string();
        assert!(
            plan.contains("\"Index Scan\"") && !plan.contains("\"Sort\""),
            "the {reader} reads its next rows by the index: {plan}"
        );
    }
}
