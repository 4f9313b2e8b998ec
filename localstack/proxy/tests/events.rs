//! API Gateway REST (v1) proxy events, as LocalStack and AWS send them, fed through the
//! handler to a real product-search service on a local port.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use lambda_http::Body;
use product_search::config::Config;
use product_search::startup::Application;
use proxy::Proxy;
use serde_json::{Value, json};

async fn spawn_service() -> SocketAddr {
    let args =
        ["product-search", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--count", "300"];
    let app = Application::build(Config::try_parse_from(args).unwrap()).await.unwrap();
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    addr
}

/// A REST API `{proxy+}` event on stage `test`.
fn event(
    method: &str,
    path: &str,
    query: Value,
    headers: Value,
    body: Option<&str>,
    base64: bool,
) -> lambda_http::Request {
    let single = |multi: &Value| -> Value {
        multi.as_object().map_or(Value::Null, |m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_array().unwrap().last().unwrap().clone())).collect()
        })
    };
    let event = json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": single(&headers),
        "multiValueHeaders": headers,
        "queryStringParameters": single(&query),
        "multiValueQueryStringParameters": query,
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": null,
        "requestContext": {
            "accountId": "000000000000",
            "resourceId": "proxy",
            "stage": "test",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "localapi",
            "path": format!("/test{path}")
        },
        "body": body,
        "isBase64Encoded": base64
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
}

fn json_body(response: &lambda_http::Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap(),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn a_get_with_query_strings_and_multi_value_headers_reaches_the_service_without_the_stage() {
    let addr = spawn_service().await;
    let proxy = Proxy::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
    let query = json!({"q": ["the"], "limit": ["3"], "category": ["Books", "Toys"]});
    let headers = json!({"Accept": ["application/json"], "X-Request-Id": ["trace-7"], "X-Tags": ["a", "b"]});

    let response = proxy.handle(event("GET", "/products/search", query, headers, None, false)).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "trace-7");
    let body = json_body(&response);
    assert_eq!(body["limit"], 3);
    let direct: Value =
        reqwest::get(format!("http://{addr}/products/search?q=the&limit=3&category=Books&category=Toys"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(body["total_found"], direct["total_found"], "both categories were forwarded");
    assert!(
        body["products"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["category"] == "Books" || p["category"] == "Toys")
    );
}

#[tokio::test]
async fn the_answer_comes_back_uncompressed_whatever_the_client_accepts() {
    let addr = spawn_service().await;
    let proxy = Proxy::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
    let headers = json!({"Accept-Encoding": ["gzip, deflate"]});

    let response =
        proxy.handle(event("GET", "/products/search", json!({"q": ["the"]}), headers, None, false)).await;

    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-encoding").is_none());
    assert!(matches!(response.body(), Body::Text(_)), "a text body API Gateway passes on as it is");
    assert!(json_body(&response)["total_found"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_post_with_a_json_body_writes_and_the_next_get_sees_it() {
    let addr = spawn_service().await;
    let proxy = Proxy::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
    let details = r#"{"product_id":1,"sku":"PRX-123-ABC","manufacturer":"Acme Corporation","category_id":456,"weight":1250,"some_other_id":789}"#;
    let headers = json!({"Content-Type": ["application/json"]});

    let written =
        proxy.handle(event("POST", "/products/1/details", Value::Null, headers, Some(details), false)).await;

    assert_eq!(written.status(), 204);
    assert!(matches!(written.body(), Body::Empty));
    let read = proxy.handle(event("GET", "/products/1", Value::Null, json!({}), None, false)).await;
    assert_eq!(json_body(&read)["sku"], "PRX-123-ABC");
}

#[tokio::test]
async fn a_base64_body_is_decoded_before_it_is_forwarded() {
    let addr = spawn_service().await;
    let proxy = Proxy::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
    // {"product_id":1,"sku":"ABC-123-XYZ"} in base64: the service answers with its validation message.
    let encoded = "eyJwcm9kdWN0X2lkIjoxLCJza3UiOiJBQkMtMTIzLVhZWiJ9";

    let response =
        proxy.handle(event("POST", "/products/1/details", Value::Null, json!({}), Some(encoded), true)).await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        json_body(&response),
        json!({"error": "INVALID_INPUT", "message": "manufacturer is required"})
    );
}

#[tokio::test]
async fn the_services_errors_pass_through_unchanged() {
    let addr = spawn_service().await;
    let proxy = Proxy::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
    let response = proxy.handle(event("GET", "/products/abc", Value::Null, json!({}), None, false)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        json_body(&response),
        json!({"error": "INVALID_INPUT", "message": "productId must be an integer"})
    );
}

#[tokio::test]
async fn a_target_that_is_down_is_a_json_502() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let proxy = Proxy::new(&format!("http://{free}"), Duration::from_secs(2)).unwrap();
    let response = proxy.handle(event("GET", "/health", Value::Null, json!({}), None, false)).await;
    assert_eq!(response.status(), 502);
    assert_eq!(json_body(&response)["error"], "BAD_GATEWAY");
}

#[tokio::test]
async fn a_target_that_never_answers_is_a_json_504() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    // Accept connections and hold them open without a word.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let proxy = Proxy::new(&format!("http://{addr}"), Duration::from_millis(300)).unwrap();

    let response = proxy.handle(event("GET", "/health", Value::Null, json!({}), None, false)).await;

    assert_eq!(response.status(), 504);
    assert_eq!(json_body(&response)["error"], "GATEWAY_TIMEOUT");
    holder.abort();
}
