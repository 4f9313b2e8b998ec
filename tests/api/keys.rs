//! API keys: made, listed and revoked with the master key or an admin key; once any exists,
//! every search and write needs a key with the right action, on every replica of a database.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with};

const MASTER: &str = "master-key-for-tests";

async fn call(app: &TestApp, method: Method, path: &str, key: Option<&str>, body: Option<Value>) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// Makes a key with `actions` using `admin`; its id, its secret and the write's version.
async fn make_key(app: &TestApp, admin: &str, actions: &[&str]) -> (String, String, u64) {
    let response = call(app, Method::POST, "/keys", Some(admin), Some(json!({"actions": actions}))).await;
    assert_eq!(response.status(), 201);
    let version = response.headers()["catalog-version"].to_str().unwrap().parse().unwrap();
    let body: Value = response.json().await.unwrap();
    (body["id"].as_str().unwrap().to_owned(), body["key"].as_str().unwrap().to_owned(), version)
}

fn renamed(id: u64) -> Value {
    json!({"product_id": id, "name": "Renamed"})
}

#[tokio::test]
async fn with_a_master_key_every_search_and_write_needs_a_key_with_its_action() {
    let app = spawn_app_with(&["--master-key", MASTER]).await;
    assert_eq!(app.get("/health").await.status(), 200, "load balancers send no key");
    assert_error(
        app.get("/products/search?q=lamp").await,
        401,
        "UNAUTHORIZED",
        "a valid bearer token is required",
    )
    .await;
    assert_eq!(app.get("/products/1").await.status(), 401);
    let search = call(&app, Method::GET, "/products/search?q=lamp", Some(MASTER), None).await;
    assert_eq!(search.status(), 200);

    let (_, searcher, _) = make_key(&app, MASTER, &["search"]).await;
    let (_, writer, _) = make_key(&app, MASTER, &["write"]).await;
    assert_eq!(call(&app, Method::GET, "/products/search?q=lamp", Some(&searcher), None).await.status(), 200);
    let refused = call(&app, Method::PUT, "/products/1", Some(&searcher), Some(renamed(1))).await;
    assert_error(refused, 403, "FORBIDDEN", "this key does not have the write action").await;
    let refused = call(&app, Method::GET, "/products/search?q=lamp", Some(&writer), None).await;
    assert_error(refused, 403, "FORBIDDEN", "this key does not have the search action").await;
    assert_eq!(call(&app, Method::PUT, "/products/1", Some(&writer), Some(renamed(1))).await.status(), 200);
    let refused = call(&app, Method::POST, "/keys", Some(&writer), Some(json!({"actions": ["admin"]}))).await;
    assert_error(refused, 403, "FORBIDDEN", "this key does not have the admin action").await;
    let refused = call(&app, Method::GET, "/products/search?q=lamp", Some("made-up"), None).await;
    assert_error(refused, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
}

#[tokio::test]
async fn keys_are_listed_without_secrets_and_a_revoked_key_is_refused_at_once() {
    let app = spawn_app_with(&["--master-key", MASTER]).await;
    let (id, secret, _) = make_key(&app, MASTER, &["search", "write"]).await;
    let made = call(
        &app,
        Method::POST,
        "/keys",
        Some(MASTER),
        Some(json!({"actions": ["search"], "description": "shop front", "rate_limit": 20})),
    )
    .await;
    let made: Value = made.json().await.unwrap();
    assert_eq!(made["actions"], json!(["search"]));
    assert_eq!((made["description"].clone(), made["rate_limit"].clone()), (json!("shop front"), json!(20)));

    let listed: Value = call(&app, Method::GET, "/keys", Some(MASTER), None).await.json().await.unwrap();
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["id"], id.as_str());
    assert_eq!(keys[0]["actions"], json!(["search", "write"]));
    let text = listed.to_string();
    assert!(!text.contains(&secret) && !text.contains("hash") && keys.iter().all(|k| k.get("key").is_none()));

    let revoked = call(&app, Method::DELETE, &format!("/keys/{id}"), Some(MASTER), None).await;
    assert_eq!(revoked.status(), 204);
    let refused = call(&app, Method::GET, "/products/search?q=lamp", Some(&secret), None).await;
    assert_error(refused, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    let again = call(&app, Method::DELETE, &format!("/keys/{id}"), Some(MASTER), None).await;
    assert_error(again, 404, "NOT_FOUND", &format!("no key has the id {id}")).await;
}

#[tokio::test]
async fn a_bad_key_request_is_a_400_naming_the_field_and_makes_no_key() {
    let app = spawn_app_with(&["--master-key", MASTER]).await;
    let cases = [
        (json!({}), "actions is required: a list of search, write and admin"),
        (json!({"actions": ["everything"]}), "actions must hold only search, write and admin"),
        (
            json!({"actions": ["search"], "rate_limit": -1}),
            "rate_limit must be an integer from 1 to 100000 (requests per second)",
        ),
        (
            json!({"actions": ["search"], "owner": "me"}),
            "owner is not a key field (actions, description, rate_limit)",
        ),
    ];
    for (body, message) in cases {
        let response = call(&app, Method::POST, "/keys", Some(MASTER), Some(body)).await;
        assert_error(response, 400, "INVALID_INPUT", message).await;
    }
    let listed: Value = call(&app, Method::GET, "/keys", Some(MASTER), None).await.json().await.unwrap();
    assert_eq!(listed["keys"], json!([]));
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["catalog_version"], 0);
}

#[tokio::test]
async fn without_a_master_key_or_any_key_no_one_may_manage_keys_and_searches_stay_open() {
    let app = spawn_app().await;
    assert_eq!(app.get("/products/search?q=lamp").await.status(), 200);
    let response = call(&app, Method::POST, "/keys", None, Some(json!({"actions": ["admin"]}))).await;
    assert_error(response, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    assert_eq!(call(&app, Method::GET, "/keys", Some("anything"), None).await.status(), 401);
}

#[tokio::test]
async fn the_search_page_carries_a_search_only_key_derived_from_the_master_key() {
    let app = spawn_app_with(&["--master-key", MASTER]).await;
    let page = app.get("/").await.text().await.unwrap();
    let start = page.find(r#"<meta name="search-key" content=""#).expect("the page has its key") + 33;
    let key = &page[start..start + page[start..].find('"').unwrap()];
    assert_eq!(key.len(), 64);
    assert!(!page.contains(MASTER), "the master key is never on the page");
    assert_eq!(call(&app, Method::GET, "/products/search?q=lamp", Some(key), None).await.status(), 200);
    let refused = call(&app, Method::PUT, "/products/1", Some(key), Some(renamed(1))).await;
    assert_eq!(refused.status(), 403);
    let own = spawn_app_with(&["--master-key", MASTER, "--ui-search-key", "page-key"]).await;
    assert!(
        own.get("/").await.text().await.unwrap().contains(r#"<meta name="search-key" content="page-key">"#)
    );
}

#[tokio::test]
async fn a_replica_without_flags_enforces_the_keys_of_its_database_and_learns_of_revocations() {
    let url = crate::pg::database().await;
    let with_master = spawn_app_with(&["--database-url", &url, "--master-key", MASTER]).await;
    let (id, writer, made_at) = make_key(&with_master, MASTER, &["write"]).await;
    let bare = spawn_app_with(&["--database-url", &url]).await;

    let refused = bare.put_product(1, &renamed(1)).await;
    assert_error(refused, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    let at_version = |version: u64| {
        let request = bare.client.put(bare.url("/products/1")).bearer_auth(&writer).json(&renamed(1));
        request.header("min-catalog-version", version.to_string())
    };
    assert_eq!(at_version(made_at).send().await.unwrap().status(), 200);
    assert_eq!(bare.get("/products/search?q=lamp").await.status(), 401, "searches need a key too");

    let revoked = call(&with_master, Method::DELETE, &format!("/keys/{id}"), Some(MASTER), None).await;
    let version: u64 = revoked.headers()["catalog-version"].to_str().unwrap().parse().unwrap();
    let refused = at_version(version).send().await.unwrap();
    assert_eq!(refused.status(), 401, "the revocation reached the other replica");
}
