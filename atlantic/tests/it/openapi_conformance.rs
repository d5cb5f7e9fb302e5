//! Both `/openapi.json` documents tell the truth: schemathesis, a third-party
//! API fuzzer, generates requests from each document, signed in as a customer
//! and as a seller, and finds no server error, no request that breaks the
//! document and is accepted, no answer that breaks its documented schema, and
//! no operation that mostly rejected the data its document allows. An admin
//! runs it too, for the operations only admins may use.

use crate::support;

use atlantic::system::Components;
use atlantic_platform::sessions::RateLimits;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use support::scenario::{id_of, Api, Shopper};
use support::{TestApp, TestEnv};
use uuid::Uuid;

/// The checks the documents must pass.
const CHECKS: &str = "not_a_server_error,negative_data_rejection,response_schema_conformance";

/// Generated cases per operation and phase.
const CASES: &str = "20";

/// What a run's path parameters name: real things the caller may touch.
struct Fixtures {
    user: Uuid,
    seller: Uuid,
    product: Uuid,
    order: Uuid,
    /// An order already cancelled, so that its event stream ends at once.
    finished_order: Uuid,
    comment: Uuid,
    /// Whether a product's seller is named in its listing (an admin's).
    names_seller: bool,
}

impl Fixtures {
    /// The configuration of a run against `document`: a fixed id per path it
    /// has (and the seller of an admin's listings), and the warning that an operation mostly rejected its generated
    /// data fails the run.
    fn config(&self, document: &Value) -> String {
        let ids = [
            ("/users/{id}", self.user),
            ("/sellers/{id}", self.seller),
            ("/products/{id}", self.product),
            ("/products/{id}/inventory", self.product),
            ("/products/{id}/comments", self.product),
            ("/products/{id}/ratings", self.product),
            ("/products/{id}/ratings/mine", self.product),
            ("/cart/items/{id}", self.product),
            ("/orders/{id}/cancel", self.order),
            ("/orders/{id}/delivery", self.order),
            ("/orders/{id}/return", self.order),
            ("/comments/{id}", self.comment),
            // Reads of an order that has ended, whose event stream ends too.
            ("/orders/{id}", self.finished_order),
            ("/orders/{id}/events", self.finished_order),
        ];
        let mut config = String::from("[warnings]\nfail-on = [\"validation_mismatch\"]\n");
        for (path, id) in ids {
            if document["paths"].get(path).is_some() {
                config.push_str(&format!(
                    "\n[[operations]]\ninclude-path = \"{path}\"\nparameters = {{ \"path.id\" = \"{id}\" }}\n"
                ));
            }
        }
        if self.names_seller && document["paths"].get("/products").is_some() {
            // The documented example lists under the caller's own seller,
            // which an admin does not have.
            config.push_str(&format!(
                "\n[[operations]]\ninclude-path = \"/products\"\nparameters = {{ \"body.sellerId\" = \"{}\" }}\nphases.examples.enabled = false\n",
                self.seller
            ));
        }
        config
    }
}

/// Comments on `product` as `who`; returns the comment's id.
async fn comment(app: &TestApp, who: &Shopper, product: Uuid) -> Uuid {
    let posted = app
        .post(
            &format!("/products/{product}/comments"),
            Some(&who.token),
            json!({"text": "Sturdy and light."}),
        )
        .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    id_of(posted).await
}

/// `api`'s OpenAPI document.
async fn document(api: &Api) -> Value {
    api.http
        .get(api.url("/openapi.json"))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("a JSON document")
}

/// How many operations `document` lists.
fn operations(document: &Value) -> usize {
    document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |methods| methods.len()))
        .sum()
}

/// The query API's analytics paths.
async fn analytics(query: &Api) -> Vec<String> {
    let document = document(query).await;
    let paths = document["paths"].as_object().expect("paths");
    paths
        .keys()
        .filter(|path| path.starts_with("/analytics/"))
        .cloned()
        .collect()
}

/// Runs schemathesis against `api`'s document as `who`, with the ids of
/// `fixtures`, in `dir`; fails the test on any failure or failing warning,
/// and unless every operation but `excluded` was tested.
async fn fuzz(api: &Api, who: &Shopper, fixtures: &Fixtures, dir: &Path, excluded: &[String]) {
    let document = document(api).await;
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, fixtures.config(&document)).expect("write the configuration");
    let mut command = tokio::process::Command::new("schemathesis");
    command
        .current_dir(dir)
        .arg("--config-file")
        .arg(&config)
        .args(["--no-color", "run", &api.url("/openapi.json")])
        .args([
            "--checks",
            CHECKS,
            "--max-examples",
            CASES,
            "--seed",
            "20261201",
        ])
        .args(["--generation-database", "none", "--workers", "1"])
        .args(["--header", &format!("Authorization: Bearer {}", who.token)]);
    for path in excluded {
        command.args(["--exclude-path", path]);
    }
    let output = command
        .output()
        .await
        .expect("schemathesis runs (`make test-tools` installs it)");
    let report = String::from_utf8_lossy(&output.stdout);
    println!("schemathesis on {} as {}:\n{report}", api.base, who.id);
    assert!(
        output.status.success(),
        "schemathesis found problems in {}:\n{report}\n{}",
        api.base,
        String::from_utf8_lossy(&output.stderr)
    );
    let tested = operations(&document) - excluded.len();
    assert!(
        report.contains(&format!("Tested: {tested}")),
        "schemathesis did not test all {tested} operations of {}:\n{report}",
        api.base
    );
}

#[tokio::test]
async fn schemathesis_finds_nothing_wrong_in_either_document_for_customer_seller_or_admin() {
    let env = TestEnv::new().await;
    // The fuzzer registers and signs in hundreds of times from one address.
    let generous = RateLimits {
        per_account: 100_000,
        per_address: 100_000,
        registrations_per_address: 100_000,
        clicks_per_address: 100_000,
        ..RateLimits::default()
    };
    let config = atlantic::system::Config {
        rate_limits: generous,
        ..env.config()
    };
    let app = env.spawn_with(config, Components::all()).await;
    let query = app.query.clone().expect("the query API");
    let (seller, shop) = app.seller_with_id().await;
    let customer = app.customer().await;

    let admin = app.admin().await;
    let mut runs = Vec::new();
    for who in [&customer, &seller, &admin] {
        let product = app.product(&seller, 25.0, 1_000).await;
        let order = app.place_order(who, &[(product, 1)], "tok_visa").await;
        // The newest order (first in `GET /me/orders`) has ended.
        let finished_order = app.place_order(who, &[(product, 1)], "tok_visa").await;
        let cancelled = app
            .post(
                &format!("/orders/{finished_order}/cancel"),
                Some(&who.token),
                json!({"reason": "changed my mind"}),
            )
            .await;
        assert_eq!(cancelled.status(), StatusCode::ACCEPTED);
        let fixtures = Fixtures {
            user: who.id,
            seller: shop,
            product,
            order,
            finished_order,
            comment: comment(&app, who, product).await,
            names_seller: who.id == admin.id,
        };
        let dir = tempfile::tempdir().expect("a directory");
        // Analytics are for admins: the others see only 403 there.
        let admin_only = if who.id == admin.id {
            Vec::new()
        } else {
            analytics(&query).await
        };
        runs.push((who, fixtures, dir, admin_only));
    }

    let command = app.api.clone();
    let fuzzing = runs.iter().map(|(who, fixtures, dir, admin_only)| {
        let (command, query) = (&command, &query);
        async move {
            fuzz(query, who, fixtures, dir.path(), admin_only).await;
            // Signing out would end the session the run is signed in with.
            let sign_out = ["/sessions/current".to_string()];
            fuzz(command, who, fixtures, dir.path(), &sign_out).await;
        }
    });
    futures::future::join_all(fuzzing).await;
}
