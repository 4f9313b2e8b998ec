//! A bounded feed: with `--feed-retention-versions`, the change table keeps that many
//! versions, never pruning past what a replica heard from recently still needs; a reader
//! behind the pruned horizon is told so, and a catalogue loads a snapshot in its place.

use std::time::{Duration, Instant};

use product_search::catalog::Catalog;
use product_search::store::{PgSettings, PgStore, WriteError};
use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::helpers::{TestApp, spawn_app_with};

async fn scalar(url: &str, query: &str) -> i64 {
    let mut db = PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar(query).fetch_one(&mut db).await.unwrap()
}

/// The versions the feed holds, and the version it was pruned through.
async fn kept(url: &str) -> (i64, i64) {
    let versions = scalar(url, "SELECT count(DISTINCT version) FROM changes").await;
    (versions, scalar(url, "SELECT pruned_through FROM catalog_head").await)
}

async fn writes(app: &TestApp, count: u64) -> u64 {
    let mut version = 0;
    for i in 0..count {
        let response = app.put_product(1, &json!({"product_id": 1, "name": format!("Lamp {i}")})).await;
        assert_eq!(response.status(), 200);
        version = response.headers()["catalog-version"].to_str().unwrap().parse().unwrap();
    }
    version
}

/// Polls `check` every 100 ms until it holds, for at most 20 s (the upkeep runs every 5 s).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_feed_keeps_its_retention_but_never_prunes_what_a_live_replica_needs() {
    let url = crate::pg::database().await;
    let flags = ["--database-url", &url, "--feed-retention-versions", "5", "--feed-replica-ttl-ms", "8000"];
    let app = spawn_app_with(&flags).await;
    // Another replica, at version 10, that reported a moment ago.
    let mut db = PgConnection::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO replicas (id, applied) VALUES (gen_random_uuid(), 10)")
        .execute(&mut db)
        .await
        .unwrap();
    let head = writes(&app, 30).await;
    assert_eq!(head, 30);

    eventually("pruned up to what the slow replica needs", || async { kept(&url).await == (20, 10) }).await;
    // Silent for longer than the time-to-live, it no longer holds the feed back.
    eventually("pruned to the retention", || async { kept(&url).await == (5, 25) }).await;
    assert_eq!(app.get("/products/1").await.json::<serde_json::Value>().await.unwrap()["name"], "Lamp 29");
}

#[tokio::test]
async fn without_retention_nothing_is_pruned() {
    let url = crate::pg::database().await;
    let app = spawn_app_with(&["--database-url", &url]).await;
    writes(&app, 12).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(kept(&url).await, (12, 0));
}

#[tokio::test]
async fn a_reader_behind_the_horizon_is_told_and_a_snapshot_catches_a_catalogue_up() {
    let url = crate::pg::database().await;
    let app = spawn_app_with(&["--database-url", &url, "--feed-retention-versions", "3"]).await;
    let store = PgStore::connect(&PgSettings {
        url: url.clone(),
        password: None,
        timeout: Duration::from_secs(2),
        pool_size: 2,
    })
    .await
    .unwrap();
    // A catalogue as a replica that stopped at version 0 has it.
    let catalog = Catalog::build(crate::helpers::catalogue()).unwrap();
    let settings = app.client.patch(app.url("/settings")).json(&json!({"partial_match_below": 4})).send();
    assert_eq!(settings.await.unwrap().status(), 200);
    writes(&app, 9).await;
    eventually("pruned", || async { kept(&url).await.1 == 7 }).await;

    match store.changes_since(0).await {
        Err(WriteError::BehindHorizon { applied: 0, horizon: 7 }) => {}
        other => panic!("expected BehindHorizon, got {other:?}"),
    }
    assert_eq!(store.changes_since(7).await.unwrap().len(), 3, "what the feed still holds reads as before");
    catalog.reload(store.snapshot().await.unwrap()).unwrap();
    assert_eq!(catalog.version(), 10);
    assert_eq!(catalog.settings().partial_match_below, 4, "the snapshot carries the settings");
    assert_eq!(catalog.get(1).unwrap().name.as_deref(), Some("Lamp 8"));
    assert_eq!(catalog.len(), crate::helpers::COUNT as usize);
}
