//! Rate limits per client address and per key: 429 with `Retry-After` past the limit, before
//! any work; health checks never limited; every client and key with a bucket of its own.

use reqwest::RequestBuilder;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app_with};

/// Sends `request()` until one is refused; how many were allowed first (at most `tries`).
async fn allowed_before_refusal(tries: usize, request: impl Fn() -> RequestBuilder) -> usize {
    for sent in 0..tries {
        let response = request().send().await.unwrap();
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "RATE_LIMITED", "{body}");
            return sent;
        }
        assert_eq!(response.status(), 200);
    }
    tries
}

fn get(app: &TestApp, path: &str) -> RequestBuilder {
    app.client.get(app.url(path))
}

#[tokio::test]
async fn a_client_over_its_limit_gets_429_and_health_checks_are_never_limited() {
    let app = spawn_app_with(&["--rate-limit-per-client", "5"]).await;
    let allowed = allowed_before_refusal(20, || get(&app, "/products/1")).await;
    assert!((5..10).contains(&allowed), "{allowed} requests were allowed at 5 per second");
    let refused = get(&app, "/products/search?q=lamp").send().await.unwrap();
    assert_error(
        refused,
        429,
        "RATE_LIMITED",
        "too many requests for this client; retry after the Retry-After seconds",
    )
    .await;
    for _ in 0..20 {
        assert_eq!(get(&app, "/health").send().await.unwrap().status(), 200);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(get(&app, "/products/1").send().await.unwrap().status(), 200, "the bucket refilled");
}

#[tokio::test]
async fn behind_a_proxy_each_forwarded_address_has_a_limit_of_its_own() {
    let app = spawn_app_with(&["--rate-limit-per-client", "3", "--forwarded-hops", "1"]).await;
    let from = |address: &'static str| {
        let app = &app;
        move || get(app, "/products/1").header("x-forwarded-for", format!("198.51.100.1, {address}"))
    };
    let first = allowed_before_refusal(20, from("10.0.0.1")).await;
    assert!((3..8).contains(&first), "{first}");
    assert_eq!(from("10.0.0.2")().send().await.unwrap().status(), 200, "another client is not affected");
    assert_eq!(from("10.0.0.1")().send().await.unwrap().status(), 429);
}

#[tokio::test]
async fn a_key_over_its_own_rate_limit_gets_429_and_other_keys_do_not() {
    let master = "rate-limit-master";
    let app = spawn_app_with(&["--master-key", master]).await;
    let made = app
        .client
        .post(app.url("/keys"))
        .bearer_auth(master)
        .json(&json!({"actions": ["search"], "rate_limit": 3}))
        .send()
        .await
        .unwrap();
    let key = made.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned();
    let allowed = allowed_before_refusal(20, || get(&app, "/products/1").bearer_auth(&key)).await;
    assert!((3..8).contains(&allowed), "{allowed}");
    let refused = get(&app, "/products/1").bearer_auth(&key).send().await.unwrap();
    assert_error(
        refused,
        429,
        "RATE_LIMITED",
        "too many requests for this key; retry after the Retry-After seconds",
    )
    .await;
    assert_eq!(get(&app, "/products/1").bearer_auth(master).send().await.unwrap().status(), 200);
}
