//! The error contract at the edge: unknown routes and methods, timeouts and panics.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_are_json_404s() {
    let app = spawn_app().await;
    assert_error(app.get("/nope").await, 404, "NOT_FOUND", "no such route").await;
    assert_error(app.get("/products/1/details/extra").await, 404, "NOT_FOUND", "no such route").await;
}

#[tokio::test]
async fn wrong_methods_are_json_405s() {
    let app = spawn_app().await;
    let response = app.client.patch(app.url("/products/1")).send().await.unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(["GET", "PUT", "DELETE"].iter().all(|m| allow.contains(m)), "{allow}");
    assert_error(response, 405, "METHOD_NOT_ALLOWED", "method not allowed").await;
    let response = app.client.get(app.url("/products/1/details")).send().await.unwrap();
    assert_error(response, 405, "METHOD_NOT_ALLOWED", "method not allowed").await;
    let response = app.client.get(app.url("/products/bulk")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_error(response, 405, "METHOD_NOT_ALLOWED", "method not allowed").await;
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_json_504() {
    let app = spawn_app_with(&["--request-timeout-ms", "200"]).await;
    // Promise a body and never send it: the handler waits past the limit.
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"POST /products/1/details HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();

    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&response).contains("}") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buf[..n]);
        }
    })
    .await;

    assert!(read.is_ok(), "no answer within 10 s");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 504"), "{text}");
    assert!(text.contains(r#"{"error":"TIMEOUT","message":"the request took too long"}"#), "{text}");
}

#[tokio::test]
async fn a_panic_becomes_a_json_500_without_internals() {
    async fn boom() -> &'static str {
        panic!("secret detail")
    }
    let routes = Router::new().route("/boom", get(boom));
    let app = product_search::http::with_middleware(routes, Duration::from_secs(5));

    let response = app.oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();

    assert_eq!(response.status(), 500);
    assert!(response.headers().contains_key("x-request-id"));
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json, serde_json::json!({"error": "INTERNAL_ERROR", "message": "internal error"}));
}
