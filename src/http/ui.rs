//! The search page at `/`: one HTML page, its script and its style sheet, compiled into the
//! binary (no CDN, nothing fetched at run time but the API itself). `--ui false` leaves
//! these routes out.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

const PAGE: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/search.js");
const STYLE: &str = include_str!("ui/search.css");

/// The page may load only its own script and style and call only this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The page's routes; `search_key` is written into the page for its searches to send.
pub fn routes(search_key: Option<&str>) -> Router<AppState> {
    let page = Bytes::from(match search_key {
        Some(key) => PAGE.replace(KEY_SLOT, &format!("content=\"{}\"", html_attribute(key))),
        None => PAGE.to_owned(),
    });
    Router::new()
        .route("/", get(move || async move { asset(page, "text/html; charset=utf-8") }))
        .route("/assets/search.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/assets/search.css", get(|| async { asset(STYLE, "text/css; charset=utf-8") }))
}

/// Where the page's key goes: the `content` of `<meta name="search-key">`.
const KEY_SLOT: &str = "content=\"\"";

/// `text` safe inside a double-quoted HTML attribute.
fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

fn asset(body: impl Into<Bytes>, content_type: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin")),
        ],
        body.into(),
    )
}
