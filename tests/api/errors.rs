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
    // The search page's routes too, with the version every answer carries.
    for path in ["/", "/assets/search.js"] {
        let response = app.client.post(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["catalog-version"], "0", "{path}");
        assert_error(response, 405, "METHOD_NOT_ALLOWED", "method not allowed").await;
    }
}

/// Sends `head` as written and returns the answer's head and body, read until the server
/// closes or a whole JSON body has come.
async fn raw(app: &crate::helpers::TestApp, head: &str) -> String {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&response).ends_with('}') {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn a_body_announced_over_the_limit_is_413_before_it_is_sent_or_the_token_checked() {
    // A server that waited for the body would answer 504 after 30 s; the read gives up at 10.
    let app = spawn_app_with(&["--request-timeout-ms", "30000", "--write-token", "s3cret"]).await;
    for (path, length) in [("/products/1/details", 65 * 1024), ("/products/bulk", 17 * 1024 * 1024)] {
        let text =
            raw(&app, &format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n\r\n")).await;
        assert!(text.starts_with("HTTP/1.1 413"), "{path}: {text}");
        assert!(text.contains(r#""error":"PAYLOAD_TOO_LARGE""#), "{path}: {text}");
    }
}

#[tokio::test]
async fn requests_the_http_library_refuses_get_the_contracts_json_too() {
    let app = spawn_app().await;
    let cases = [
        (
            format!("GET /health HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(70_000)),
            "431",
            "HEADERS_TOO_LARGE",
        ),
        ("GET /health HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n".to_owned(), "400", "INVALID_INPUT"),
        ("NOT AN HTTP REQUEST\r\n\r\n".to_owned(), "400", "INVALID_INPUT"),
    ];
    for (request, status, code) in cases {
        let answer = raw(&app, &request).await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with(&format!("HTTP/1.1 {status}")), "{head}");
        assert!(
            head.contains("content-type: application/json") && head.contains("catalog-version: 0"),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{answer}"));
        assert_eq!(json["error"], code, "{json}");
        assert!(json["message"].is_string(), "{json}");
    }
}

#[tokio::test]
async fn a_trickled_head_is_cut_off_while_an_idle_connection_stays_open() {
    let app = spawn_app().await;
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    let first = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    idle.write_all(first.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    assert!(idle.read(&mut buf).await.unwrap() > 0);
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n").await.unwrap();

    tokio::time::sleep(Duration::from_secs(6)).await;

    // The head never finished within its five seconds: the server closed the connection.
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf)).await.expect("closed");
    assert!(matches!(closed, Ok(0) | Err(_)), "the trickled head was answered: {closed:?}");
    // The idle keep-alive connection still serves its next request.
    idle.write_all(first.as_bytes()).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_request_id_is_echoed_only_when_it_looks_like_one() {
    let app = spawn_app().await;
    let echoed =
        app.client.get(app.url("/health")).header("x-request-id", "trace-42.a:b").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-42.a:b");
    for unfit in ["x".repeat(65), "a b".to_owned(), "<script>".to_owned()] {
        let response =
            app.client.get(app.url("/health")).header("x-request-id", &unfit).send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, unfit);
        assert!(uuid_like(id), "a fresh id is made instead of {unfit:?}: {id}");
    }
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test]
async fn a_body_that_does_not_arrive_within_the_timeout_is_a_json_408() {
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
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let body = r#"{"error":"REQUEST_TIMEOUT","message":"the request's body did not arrive within the request timeout"}"#;
    assert!(text.contains(body), "{text}");
}

#[tokio::test]
async fn a_handler_over_the_timeout_is_a_json_504() {
    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }
    let routes = Router::new().route("/slow", axum::routing::post(slow));
    let app = product_search::http::with_middleware(routes, Duration::from_millis(100));

    let request = Request::post("/slow").body(Body::from("a body that has all arrived")).unwrap();
    let response = app.oneshot(request).await.unwrap();

    assert_eq!(response.status(), 504);
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json, serde_json::json!({"error": "TIMEOUT", "message": "the request took too long"}));
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
