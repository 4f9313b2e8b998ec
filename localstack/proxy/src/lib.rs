//! Forwards API Gateway (REST `{proxy+}` and HTTP) requests to the product-search service:
//! method, path without the stage prefix, query string, headers and body go to
//! `TARGET_URL`; status, headers and body come back. One HTTP client lives for the whole
//! execution environment, so connections are reused across invocations. A target that is
//! down or slow becomes a JSON 502 `BAD_GATEWAY` or 504 `GATEWAY_TIMEOUT`.

use std::time::Duration;

use lambda_http::http::{HeaderMap, HeaderName, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};

/// Headers that describe one hop, not the message, and are never forwarded (RFC 9110 7.6.1),
/// plus those the client library sets itself.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
];

pub struct Proxy {
    client: reqwest::Client,
    target: String,
}

impl Proxy {
    /// A proxy to `target` (e.g. `http://product-search:8080`) that gives up on a request
    /// after `timeout`, below the Lambda function's own timeout so the client gets a 504.
    pub fn new(target: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self { client, target: target.trim_end_matches('/').to_owned() })
    }

    /// Forwards one request and returns the target's answer, or a JSON 502/504.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = std::time::Instant::now();
        let (method, path) = (request.method().clone(), request.raw_http_path().to_owned());
        let response = self.answer(request).await;
        tracing::info!(%method, path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "forwarded");
        response
    }

    async fn answer(&self, request: Request) -> Response<Body> {
        match self.forward(request).await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                tracing::warn!(%error, "target timed out");
                gateway_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "GATEWAY_TIMEOUT",
                    "the service did not answer in time",
                )
            }
            Err(error) => {
                tracing::warn!(%error, "target unreachable");
                gateway_error(StatusCode::BAD_GATEWAY, "BAD_GATEWAY", "the service could not be reached")
            }
        }
    }

    async fn forward(&self, request: Request) -> Result<Response<Body>, reqwest::Error> {
        let url = self.target_url(&request);
        let (parts, body) = request.into_parts();
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        // The service's answer comes back as text: a gzip body would reach API Gateway as
        // base64 that a REST API without binary media types passes on undecoded. Compression
        // belongs to the gateway (`minimum_compression_size`).
        headers.remove(header::ACCEPT_ENCODING);
        let body = match body {
            Body::Empty => Vec::new(),
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bytes) => bytes,
            _ => Vec::new(),
        };
        let answer = self.client.request(parts.method, url).headers(headers).body(body).send().await?;
        let status = answer.status();
        let mut headers = answer.headers().clone();
        strip_hop_by_hop(&mut headers);
        let bytes = answer.bytes().await?.to_vec();
        let body = match String::from_utf8(bytes) {
            Ok(text) if text.is_empty() => Body::Empty,
            Ok(text) => Body::Text(text),
            Err(binary) => Body::Binary(binary.into_bytes()),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// The target URL: the event's own path (API Gateway's stage prefix is not part of it)
    /// and the query string as the client sent it.
    fn target_url(&self, request: &Request) -> String {
        let raw = request.raw_http_path();
        let path = if raw.is_empty() { request.uri().path() } else { raw };
        match request.uri().query() {
            Some(query) if !query.is_empty() => format!("{}{path}?{query}", self.target),
            _ => format!("{}{path}", self.target),
        }
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

fn gateway_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}
