//! Mail to customers, at a real SMTP server the test starts: the right mail
//! for each order event and a new account, with the order's real data; none
//! lost and none sent twice outside the crash window when the notifier is
//! killed with SIGKILL; an SMTP server away for 10 s delays mail, loses none.

use crate::support;

use atlantic::system::Components;
use atlantic_sagas::SagaSettings;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::process::Server;
use support::scenario::Shopper;
use support::smtp::{Received, SmtpServer};
use support::{eventually, TestEnv};
use uuid::Uuid;

/// The address `user` registered with.
async fn email_of(env: &TestEnv, user: Uuid) -> String {
    sqlx::query_scalar(
        "SELECT payload -> 'UserRegistered' ->> 'email' FROM events \
         WHERE aggregate_type = 'User' AND aggregate_id = $1",
    )
    .bind(user.to_string())
    .fetch_one(&env.pool)
    .await
    .expect("the user's address")
}

/// The mails of `kind` (the part of the Message-ID before `@`).
fn of_kind<'a>(mails: &'a [Received], kind: &str) -> Vec<&'a Received> {
    let tag = format!(".{kind}@");
    mails
        .iter()
        .filter(|m| m.message_id.contains(&tag))
        .collect()
}

/// The one mail whose subject names `order` and whose kind is `kind`.
fn the<'a>(mails: &'a [Received], kind: &str, order: Uuid) -> &'a Received {
    let found: Vec<_> = of_kind(mails, kind)
        .into_iter()
        .filter(|m| m.subject.contains(&order.to_string()))
        .collect();
    assert_eq!(found.len(), 1, "one {kind} mail of {order}: {mails:#?}");
    found[0]
}

#[tokio::test]
async fn each_order_event_and_a_new_account_get_the_right_mail() {
    let env = TestEnv::new().await;
    let smtp = SmtpServer::start();
    let mut config = env.config();
    config.mail.smtp_url = Some(smtp.url());
    let app = env.spawn_with(config, Components::all()).await;
    let admin = app.admin().await;
    let seller = app.seller().await;
    let customer = app.customer().await;
    let email = email_of(&env, customer.id).await;
    let laptop = app.product(&seller, 12.5, 10).await;
    let scarce = app.product(&seller, 5.0, 1).await;

    let delivered = support::receive(&app, &env.pool, &admin, &customer, &[laptop]).await;
    // Two units of a product with one: paid, then short, then cancelled and refunded.
    let cancelled = app.place_order(&customer, &[(scarce, 2)], "tok_visa").await;

    let mails = eventually(Duration::from_secs(60), "every mail", || async {
        let mails: Vec<Received> = smtp
            .messages()
            .into_iter()
            .filter(|m| m.to == email)
            .collect();
        (mails.len() >= 6).then_some(mails)
    })
    .await;
    assert_eq!(mails.len(), 6, "{mails:#?}");
    let ids: BTreeSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        mails.len(),
        "each mail has a Message-ID of its own"
    );

    let welcome = of_kind(&mails, "welcome");
    assert_eq!(welcome.len(), 1);
    assert!(welcome[0].text.contains(&email), "{}", welcome[0].text);

    let confirmation = the(&mails, "order_created", delivered);
    for expected in ["Laptop 14", "12.50 EUR", "1 Main St", "Lisbon", "1000-001"] {
        assert!(
            confirmation.text.contains(expected),
            "{expected}: {}",
            confirmation.text
        );
    }
    assert!(confirmation.html.contains("Laptop 14"));
    let tracking: String = sqlx::query_scalar(
        "SELECT payload -> 'OrderShipped' ->> 'trackingNumber' FROM events \
         WHERE aggregate_id = $1 AND event_type = 'OrderShipped'",
    )
    .bind(delivered.to_string())
    .fetch_one(&env.pool)
    .await
    .unwrap();
    let shipped = the(&mails, "order_shipped", delivered);
    assert!(shipped.text.contains(&tracking), "{}", shipped.text);
    the(&mails, "order_delivered", delivered);

    let confirmation = the(&mails, "order_created", cancelled);
    assert!(
        confirmation.text.contains("10.00 EUR"),
        "{}",
        confirmation.text
    );
    let cancellation = the(&mails, "order_cancelled", cancelled);
    assert!(
        cancellation.text.contains("We refund 10.00 EUR"),
        "{}",
        cancellation.text
    );
    app.stop().await;
}

#[tokio::test]
async fn kill_9_of_the_notifier_during_200_orders_loses_no_mail_and_repeats_none_outside_the_crash()
{
    const ORDERS: usize = 200;
    const KILLS: usize = 3;
    let env = TestEnv::new().await;
    let smtp = SmtpServer::start();
    let app = env.spawn_shop(SagaSettings::default()).await;
    let seller = app.seller().await;
    let product = app.product(&seller, 2.0, 100_000).await;
    let customers: Vec<Shopper> = futures::future::join_all((0..8).map(|_| app.customer())).await;
    let smtp_url = smtp.url();
    let notify = |env: &TestEnv| {
        Server::run(
            env,
            "notify",
            support::nats::free_port(),
            &[("SMTP_URL", smtp_url.as_str())],
        )
    };
    let mut notifier = notify(&env);

    let lines = [(product, 1)];
    let burst = futures::future::join_all((0..ORDERS).map(|i| {
        let customer = &customers[i % customers.len()];
        app.place_order(customer, &lines, "tok_visa")
    }));
    let killing = async {
        for kill in 0..KILLS {
            eventually(Duration::from_secs(60), "mail to be under way", || async {
                (smtp.messages().len() > 20 * (kill + 1)).then_some(())
            })
            .await;
            notifier.kill_9();
            notifier = notify(&env);
        }
    };
    let (orders, ()) = tokio::join!(burst, killing);

    let confirmations = eventually(Duration::from_secs(120), "every confirmation", || async {
        let mails = smtp.messages();
        let confirmed: BTreeSet<Uuid> = of_kind(&mails, "order_created")
            .iter()
            .filter_map(|m| m.subject.rsplit(' ').next()?.parse().ok())
            .collect();
        orders
            .iter()
            .all(|order| confirmed.contains(order))
            .then(|| of_kind(&mails, "order_created").len())
    })
    .await;
    let mails = smtp.messages();
    let mut sends: BTreeMap<&str, usize> = BTreeMap::new();
    for mail in &mails {
        *sends.entry(mail.message_id.as_str()).or_default() += 1;
    }
    let repeated: usize = sends.values().map(|n| n - 1).sum();
    assert!(
        repeated <= KILLS,
        "at most the mail in flight at each kill is sent again: {repeated} repeats"
    );
    assert!(confirmations >= ORDERS);
    assert!(env.dead_letters().await.is_empty());
    drop(notifier);
    app.stop().await;
}

#[tokio::test]
async fn an_smtp_server_away_for_ten_seconds_delays_mail_and_loses_none() {
    let env = TestEnv::new().await;
    let mut smtp = SmtpServer::start();
    let mut config = env.config();
    config.mail.smtp_url = Some(smtp.url());
    let components = Components {
        command_api: true,
        relay: true,
        notifier: true,
        ..Components::default()
    };
    let app = env.spawn_with(config, components).await;
    smtp.stop();
    let mut customers = Vec::new();
    for _ in 0..5 {
        customers.push(app.customer().await);
    }
    // The outage itself: the server is away this long.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(smtp.messages().is_empty());
    smtp.restart();
    let mut addresses = BTreeSet::new();
    for customer in &customers {
        addresses.insert(email_of(&env, customer.id).await);
    }
    eventually(Duration::from_secs(60), "every welcome", || async {
        let welcomed: BTreeSet<String> = of_kind(&smtp.messages(), "welcome")
            .iter()
            .map(|m| m.to.clone())
            .collect();
        (welcomed == addresses).then_some(())
    })
    .await;
    assert_eq!(of_kind(&smtp.messages(), "welcome").len(), customers.len());
    assert!(env.dead_letters().await.is_empty(), "nothing parked");
    app.stop().await;
}

#[tokio::test]
async fn a_seller_hears_when_stock_falls_below_their_threshold_unless_they_opted_out() {
    let env = TestEnv::new().await;
    let smtp = SmtpServer::start();
    let mut config = env.config();
    config.mail.smtp_url = Some(smtp.url());
    let app = env.spawn_with(config, Components::all()).await;
    let customer = app.customer().await;
    let alerted = app.seller().await;
    let muted = app.seller().await;
    for (seller, mail) in [(&alerted, true), (&muted, false)] {
        let seller_id = atlantic_domain::seller::seller_id_of(seller.id);
        let set = app
            .patch(
                &format!("/sellers/{seller_id}"),
                Some(&seller.token),
                json!({"stockAlertBelow": 3, "contactEmail": format!("{}@shop.example", seller.id.simple())}),
            )
            .await;
        assert_eq!(set.status(), StatusCode::ACCEPTED);
        let mine = app
            .patch(
                &format!("/users/{}", seller.id),
                Some(&seller.token),
                json!({"nonTransactionalMail": mail}),
            )
            .await;
        assert_eq!(mine.status(), StatusCode::ACCEPTED);
    }
    let watched = app.product(&alerted, 1.0, 5).await;
    let quiet = app.product(&muted, 1.0, 5).await;
    // 5 ⇒ 4 ⇒ 2 ⇒ 1 in some order: stock falls below 3 once, so one alert.
    for quantity in [1, 2, 1] {
        app.place_order(
            &customer,
            &[(watched, quantity), (quiet, quantity)],
            "tok_visa",
        )
        .await;
    }
    let alerts = eventually(Duration::from_secs(60), "the stock alert", || async {
        let alerts: Vec<Received> = of_kind(&smtp.messages(), "stock_alert")
            .into_iter()
            .cloned()
            .collect();
        (!alerts.is_empty()).then_some(alerts)
    })
    .await;
    // The orders are done (shipped) before the alerts are counted.
    eventually(Duration::from_secs(60), "the orders shipped", || async {
        let shipped: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OrderShipped'")
                .fetch_one(&env.pool)
                .await
                .ok()?;
        (shipped == 3).then_some(())
    })
    .await;
    eventually(Duration::from_secs(60), "the shipping mails", || async {
        (of_kind(&smtp.messages(), "order_shipped").len() == 3).then_some(())
    })
    .await;
    let alerts_now = of_kind(&smtp.messages(), "stock_alert").len();
    assert_eq!(alerts_now, 1, "{alerts:#?}");
    assert_eq!(
        alerts[0].to,
        format!("{}@shop.example", alerted.id.simple())
    );
    assert!(alerts[0].text.contains("below the 3"), "{}", alerts[0].text);
    assert!(alerts[0].text.contains(&watched.to_string()));

    // One who registers without non-transactional mail gets no welcome.
    let email = format!("{}@example.com", Uuid::now_v7().simple());
    let registered = app
        .post(
            "/users",
            None,
            json!({"email": email, "password": "correct horse battery", "name": "Bo",
                   "nonTransactionalMail": false}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let later = app.customer().await;
    let later_email = email_of(&env, later.id).await;
    eventually(Duration::from_secs(60), "the next welcome", || async {
        of_kind(&smtp.messages(), "welcome")
            .iter()
            .any(|m| m.to == later_email)
            .then_some(())
    })
    .await;
    assert!(
        !of_kind(&smtp.messages(), "welcome")
            .iter()
            .any(|m| m.to == email),
        "no welcome to one who said no"
    );
    app.stop().await;
}
