//! GET /health, and its part in a graceful shutdown.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{COUNT, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_reports_ok_the_product_count_the_version_and_no_database() {
    let app = spawn_app().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok", "products": COUNT, "catalog_version": 0, "database": "none", "index_rebuild": null})
    );
}

#[tokio::test]
async fn health_turns_503_once_shutdown_begins_then_the_server_stops() {
    let mut app = spawn_app_with(&["--shutdown-delay-ms", "1500"]).await;
    let server = app.begin_shutdown();

    let mut status = 200;
    for _ in 0..50 {
        status = app.get("/health").await.status().as_u16();
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 503);
    let body: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(body["error"], "OVERLOADED");
    // Other routes still answer while the load balancer catches up.
    assert_eq!(app.get("/products/1").await.status(), 200);

    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops cleanly: {stopped:?}");
}
