//! Analytics in ClickHouse equal the event store, also after every event is
//! delivered twice; and every row struct matches its table.

use crate::support;
use atlantic_domain::published::PublishedEvent;

use atlantic_domain::order::OrderStatus;
use atlantic_projections::analytics::{
    Analytics, AnalyticsProjection, ClickRow, ClicksProjection, CustomerRow, InventoryRow,
    OrderLineRow, OrderStatusRow, ProductRow, RatingRow,
};
use atlantic_projections::{Envelope, Projection};
use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;
use support::nats::all_messages;
use support::scenario::{address, id_of, Shopper};
use support::{clickhouse_url, eventually, TestApp, TestEnv};

/// Compares `T`'s fields with the table's columns (what DESCRIBE TABLE lists),
/// then writes `row` to `table` and reads it back: a struct that does not match its
/// table fails here instead of as an opaque CANNOT_READ_ALL_DATA.
async fn round_trip<T>(analytics: &Analytics, table: &str, row: T)
where
    T: clickhouse::Row
        + Serialize
        + DeserializeOwned
        + PartialEq
        + Debug
        + 'static
        + for<'a> clickhouse::Row<Value<'a> = T>,
{
    let described: Vec<String> = analytics
        .client()
        .query(&format!("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '{table}'"))
        .fetch_all::<String>()
        .await
        .unwrap();
    assert_eq!(described, T::COLUMN_NAMES, "columns of {table}");
    let mut insert = analytics.client().insert::<T>(table).await.unwrap();
    insert.write(&row).await.unwrap();
    insert.end().await.unwrap();
    let columns = T::COLUMN_NAMES.join(", ");
    let back = analytics
        .client()
        .query(&format!("SELECT {columns} FROM {table}"))
        .fetch_all::<T>()
        .await
        .unwrap();
    assert_eq!(back, vec![row], "{table}");
}

#[tokio::test]
async fn every_row_struct_matches_its_table() {
    let env = TestEnv::new().await;
    let analytics = Analytics::connect(&clickhouse_url(), &env.clickhouse_database)
        .await
        .unwrap();
    let text = |s: &str| s.to_string();
    round_trip(
        &analytics,
        "clicks",
        ClickRow {
            click_id: text("c"),
            product_id: text("p"),
            kind: text("view"),
            area: text("north"),
            at: 1_700_000_000,
        },
    )
    .await;
    round_trip(
        &analytics,
        "order_lines",
        OrderLineRow {
            order_id: text("o"),
            product_id: text("p"),
            customer_id: text("c"),
            units: 3,
            revenue_cents: -7,
            at: 1_700_000_001,
        },
    )
    .await;
    round_trip(
        &analytics,
        "order_status",
        OrderStatusRow {
            order_id: text("o"),
            status: text("Shipped"),
            version: 5,
            at: 1_700_000_002,
        },
    )
    .await;
    round_trip(
        &analytics,
        "products",
        ProductRow {
            product_id: text("p"),
            name: text("n"),
            category: text("c"),
            brand: text("b"),
            version: 2,
        },
    )
    .await;
    round_trip(
        &analytics,
        "inventory",
        InventoryRow {
            product_id: text("p"),
            inventory: 42,
            version: 3,
            at: 1_700_000_003,
        },
    )
    .await;
    round_trip(
        &analytics,
        "ratings",
        RatingRow {
            rating_id: text("r"),
            product_id: text("p"),
            stars: 4,
            version: 3,
            at: 1_700_000_003,
        },
    )
    .await;
    round_trip(
        &analytics,
        "customers",
        CustomerRow {
            customer_id: text("c"),
            area: text("south"),
            version: 4,
        },
    )
    .await;
}

async fn customer_in(app: &TestApp, region: &str) -> Shopper {
    let customer = app.customer().await;
    let mut home = address();
    home["region"] = json!(region);
    let response = app
        .patch(
            &format!("/users/{}", customer.id),
            Some(&customer.token),
            json!({"address": home}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    customer
}

async fn analytics_get(app: &TestApp, admin: &Shopper, path: &str) -> Value {
    let query = app.query.as_ref().unwrap();
    let response = query
        .http
        .get(query.url(path))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn figures(answer: &Value, key: &str) -> BTreeMap<String, f64> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item[key].as_str().unwrap().to_string(),
                item["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn analytics_equal_the_event_store_even_when_events_arrive_twice() {
    let env = TestEnv::new().await;
    let app = env.spawn_everything(SagaSettings::default()).await;
    let admin = app.admin().await;
    let seller = app.seller().await;
    let products = [
        app.product(&seller, 10.0, 100).await,
        app.product(&seller, 2.5, 100).await,
        app.product(&seller, 99.99, 100).await,
    ];
    let nothing_sold = analytics_get(
        &app,
        &admin,
        "/analytics/top-products?metric=units_sold&limit=100",
    )
    .await;
    assert_eq!(nothing_sold["items"], json!([]), "no sales yet");

    // The third product is of another brand and category.
    let moved = app
        .patch(
            &format!("/products/{}", products[2]),
            Some(&seller.token),
            json!({"brand": "Zenith", "category": "tablets"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::ACCEPTED);
    let north = customer_in(&app, "North").await;
    let south = customer_in(&app, "South").await;

    let mut expected_clicks: BTreeMap<String, f64> = BTreeMap::new();
    let mut expected_clicks_by_area: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..12 {
        let product = products[i % 3];
        let area = if i % 4 == 0 { "North" } else { "South" };
        let kind = ["view", "click", "add_to_cart"][i % 3];
        let response = app
            .post(
                "/clicks",
                None,
                json!({"productId": product, "kind": kind, "area": area}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        *expected_clicks.entry(product.to_string()).or_default() += 1.0;
        *expected_clicks_by_area.entry(area.to_string()).or_default() += 1.0;
    }

    let plans = [
        (&north, vec![(0, 2), (1, 1)], "tok_visa"),
        (&south, vec![(1, 4)], "tok_visa"),
        (&south, vec![(2, 1), (0, 1)], "tok_visa"),
        (&north, vec![(2, 5)], "tok_decline"),
        (&north, vec![(1, 3)], "tok_visa"),
    ];
    let mut orders = Vec::new();
    for (customer, lines, token) in &plans {
        let items: Vec<Value> = lines
            .iter()
            .map(|(p, q)| json!({"productId": products[*p], "quantity": q}))
            .collect();
        let response = app
            .post(
                "/orders",
                Some(&customer.token),
                json!({"items": items, "shippingAddress": address(), "payment": {"token": token}}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        orders.push(id_of(response).await);
    }
    let finals = eventually(Duration::from_secs(60), "every order to finish", || async {
        let mut finals = Vec::new();
        for id in &orders {
            let status = app
                .shop
                .buses
                .orders
                .load(&id.to_string())
                .await
                .ok()?
                .status();
            if !matches!(status, OrderStatus::Shipped | OrderStatus::Cancelled) {
                return None;
            }
            finals.push(status);
        }
        Some(finals)
    })
    .await;

    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    let mut revenue: BTreeMap<String, f64> = BTreeMap::new();
    let mut units_by_area: BTreeMap<String, f64> = BTreeMap::new();
    let mut units_by_brand: BTreeMap<String, f64> = BTreeMap::new();
    let mut revenue_by_category: BTreeMap<String, f64> = BTreeMap::new();
    let price = [1000.0, 250.0, 9999.0];
    for ((customer, lines, _), status) in plans.iter().zip(&finals) {
        if *status != OrderStatus::Shipped {
            continue;
        }
        let area = if customer.id == north.id {
            "North"
        } else {
            "South"
        };
        for (p, q) in lines {
            *units.entry(products[*p].to_string()).or_default() += f64::from(*q);
            *revenue.entry(products[*p].to_string()).or_default() +=
                price[*p] * f64::from(*q) / 100.0;
            *units_by_area.entry(area.to_string()).or_default() += f64::from(*q);
            let (brand, category) = if *p == 2 {
                ("Zenith", "tablets")
            } else {
                ("Acme", "laptops")
            };
            *units_by_brand.entry(brand.to_string()).or_default() += f64::from(*q);
            *revenue_by_category.entry(category.to_string()).or_default() +=
                price[*p] * f64::from(*q) / 100.0;
        }
    }
    assert!(finals.contains(&OrderStatus::Cancelled) && finals.contains(&OrderStatus::Shipped));

    let check = || async {
        let sold = figures(
            &analytics_get(
                &app,
                &admin,
                "/analytics/top-products?metric=units_sold&limit=100",
            )
            .await,
            "productId",
        );
        let earned = figures(
            &analytics_get(
                &app,
                &admin,
                "/analytics/top-products?metric=revenue&limit=100",
            )
            .await,
            "productId",
        );
        let clicked = figures(
            &analytics_get(
                &app,
                &admin,
                "/analytics/top-products?metric=clicks&limit=100",
            )
            .await,
            "productId",
        );
        let by_area = figures(
            &analytics_get(&app, &admin, "/analytics/by-area?metric=units_sold").await,
            "area",
        );
        let clicks_by_area = figures(
            &analytics_get(&app, &admin, "/analytics/by-area?metric=clicks").await,
            "area",
        );
        let by_brand = figures(
            &analytics_get(&app, &admin, "/analytics/by-brand?metric=units_sold").await,
            "brand",
        );
        let by_category = figures(
            &analytics_get(&app, &admin, "/analytics/by-category?metric=revenue").await,
            "category",
        );
        (sold == units
            && earned == revenue
            && by_brand == units_by_brand
            && by_category == revenue_by_category
            && clicked == expected_clicks
            && by_area == units_by_area
            && clicks_by_area == expected_clicks_by_area)
            .then_some(())
    };
    eventually(
        Duration::from_secs(60),
        "analytics to equal the event store",
        check,
    )
    .await;

    // Deliver every event and click once more, as a crash before the ack would.
    let analytics = Analytics::connect(&clickhouse_url(), &env.clickhouse_database)
        .await
        .unwrap();
    let js = env.nats.jetstream().await;
    let events: Vec<Envelope> = all_messages(&js, "ATLANTIC_EVENTS")
        .await
        .iter()
        .map(stream_envelope)
        .collect();
    let clicks: Vec<Envelope> = all_messages(&js, "ATLANTIC_CLICKS")
        .await
        .iter()
        .map(stream_envelope)
        .collect();
    AnalyticsProjection::new(analytics.clone())
        .apply(&events)
        .await
        .unwrap();
    ClicksProjection::new(analytics.clone())
        .apply(&clicks)
        .await
        .unwrap();
    assert!(
        check().await.is_some(),
        "a second delivery changed the figures"
    );

    let sales = analytics_get(&app, &admin, "/analytics/sales?interval=hour").await;
    let sold: f64 = sales["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["unitsSold"].as_f64().unwrap())
        .sum();
    assert_eq!(sold, units.values().sum::<f64>());
    let stock = analytics_get(&app, &admin, "/analytics/inventory?below=100").await;
    let levels: BTreeMap<String, i64> = stock["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["productId"].as_str().unwrap().to_string(),
                i["inventory"].as_i64().unwrap(),
            )
        })
        .collect();
    for product in &products {
        let sold = units.get(&product.to_string()).copied().unwrap_or(0.0) as i64;
        if sold > 0 {
            assert_eq!(
                levels.get(&product.to_string()),
                Some(&(100 - sold)),
                "stock of {product}"
            );
        }
    }
    let stock_by_category = figures(
        &analytics_get(&app, &admin, "/analytics/by-category?metric=inventory").await,
        "category",
    );
    let level = |p: usize| 100.0 - units.get(&products[p].to_string()).unwrap_or(&0.0);
    assert_eq!(
        stock_by_category,
        BTreeMap::from([
            ("laptops".to_string(), level(0) + level(1)),
            ("tablets".to_string(), level(2)),
        ])
    );

    // A later brand change; then the earlier one delivered again, alone.
    let rebranded = app
        .patch(
            &format!("/products/{}", products[2]),
            Some(&seller.token),
            json!({"brand": "Zenith Pro"}),
        )
        .await;
    assert_eq!(rebranded.status(), StatusCode::ACCEPTED);
    let brand_of_third = || async {
        analytics
            .client()
            .query("SELECT brand FROM products FINAL WHERE product_id = ?")
            .bind(products[2].to_string())
            .fetch_one::<String>()
            .await
            .unwrap()
    };
    eventually(Duration::from_secs(30), "the new brand", || async {
        (brand_of_third().await == "Zenith Pro").then_some(())
    })
    .await;
    let earlier: Vec<Envelope> = events
        .iter()
        .filter(|e| {
            e.aggregate_id == products[2].to_string()
                && matches!(e.event(), PublishedEvent::ProductUpdated { brand: Some(brand), .. } if brand == "Zenith")
        })
        .cloned()
        .collect();
    assert_eq!(earlier.len(), 1);
    AnalyticsProjection::new(analytics.clone())
        .apply(&earlier)
        .await
        .unwrap();
    assert_eq!(
        brand_of_third().await,
        "Zenith Pro",
        "an earlier event delivered again changes nothing"
    );
    let customer = app.customer().await;
    let query = app.query.as_ref().unwrap();
    let forbidden = query
        .http
        .get(query.url("/analytics/sales"))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

fn stream_envelope(message: &async_nats::jetstream::message::StreamMessage) -> Envelope {
    let header = |name: &str| {
        message
            .headers
            .get(name)
            .map(|v| v.as_str().to_string())
            .unwrap_or_default()
    };
    Envelope {
        subject: message.subject.to_string(),
        aggregate_type: header("Atlantic-Aggregate-Type"),
        aggregate_id: header("Atlantic-Aggregate-Id"),
        sequence: header("Atlantic-Sequence").parse().unwrap(),
        position: header("Atlantic-Position").parse().unwrap(),
        published: serde_json::from_slice(&message.payload).unwrap(),
    }
}

#[tokio::test]
async fn a_batch_renaming_thousands_of_products_keeps_what_it_did_not_change() {
    let env = TestEnv::new().await;
    let analytics = Analytics::connect(&clickhouse_url(), &env.clickhouse_database)
        .await
        .unwrap();
    let projection = AnalyticsProjection::new(analytics.clone());
    // More products than one ClickHouse query text could name (256 KiB).
    let ids: Vec<String> = (0..8_000)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let event = |id: &str, sequence: i64, body: Value| {
        let subject = if sequence == 1 {
            "events.product.created"
        } else {
            "events.product.updated"
        };
        let mut body = body;
        body["event"] = json!(&subject["events.".len()..]);
        body["timestamp"] = json!("2026-01-01T00:00:00Z");
        body["productId"] = json!(id);
        Envelope {
            subject: subject.into(),
            aggregate_type: "Product".into(),
            aggregate_id: id.into(),
            sequence,
            position: 0,
            published: serde_json::from_value(body).expect("a published event"),
        }
    };
    let created: Vec<Envelope> = ids
        .iter()
        .map(|id| {
            event(
                id,
                1,
                json!({
                    "sellerId": uuid::Uuid::nil(), "name": "Teapot", "description": "a teapot",
                    "category": "kitchen", "brand": "Acme", "price": 10.0,
                    "specifications": {}, "inventory": 1,
                }),
            )
        })
        .collect();
    projection.apply(&created).await.unwrap();
    let renamed: Vec<Envelope> = ids
        .iter()
        .map(|id| event(id, 2, json!({"name": "Kettle"})))
        .collect();
    projection.apply(&renamed).await.unwrap();

    let rows: Vec<(String, String, String, u64)> = analytics
        .client()
        .query("SELECT name, category, brand, count() FROM products FINAL GROUP BY name, category, brand")
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(
        rows,
        [("Kettle".into(), "kitchen".into(), "Acme".into(), 8_000)]
    );
}
