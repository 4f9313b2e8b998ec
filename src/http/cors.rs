//! Browser access from other origins (`--cors-allow-origin`): preflights answered, the
//! headers the API reads allowed, those it sets exposed. Origins named in the list may read
//! and write; `*` may only read, and a browser write from an origin not named (a form or
//! `fetch` on another site) is refused before it reaches a handler.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{ApiError, CATALOG_VERSION, MIN_CATALOG_VERSION, REQUEST_ID, bounded};
use crate::config::CorsOrigins;

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

pub fn layer(origins: &CorsOrigins) -> CorsLayer {
    let read = [Method::GET, Method::HEAD];
    let read_headers = [header::CONTENT_TYPE, MIN_CATALOG_VERSION, REQUEST_ID];
    let layer = CorsLayer::new()
        .expose_headers([CATALOG_VERSION, REQUEST_ID, header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE);
    match origins {
        CorsOrigins::Any => {
            layer.allow_origin(AllowOrigin::any()).allow_methods(read).allow_headers(read_headers)
        }
        CorsOrigins::List(list) => {
            let values = list.iter().filter_map(|origin| HeaderValue::from_str(origin).ok());
            let mut headers: Vec<HeaderName> = read_headers.to_vec();
            headers.push(header::AUTHORIZATION);
            layer
                .allow_origin(AllowOrigin::list(values))
                .allow_methods([
                    Method::GET,
                    Method::HEAD,
                    Method::PUT,
                    Method::PATCH,
                    Method::POST,
                    Method::DELETE,
                ])
                .allow_headers(headers)
        }
    }
}

/// Refuses (403 `FORBIDDEN`) a browser's write from another site whose origin the list does
/// not name. A browser says where a request comes from: `Sec-Fetch-Site` (every current
/// browser) and `Origin` (every browser, on every cross-origin write). Requests with neither
/// (curl, other services) are not a browser's and pass.
pub fn check_origin(origins: Option<&CorsOrigins>, request: &Request) -> Result<(), ApiError> {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let headers = request.headers();
    let origin =
        headers.get(header::ORIGIN).map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
    let named = origin
        .as_ref()
        .is_some_and(|origin| matches!(origins, Some(CorsOrigins::List(list)) if list.contains(origin)));
    let fetch_site = headers.get(SEC_FETCH_SITE).map(|v| v.as_bytes().to_ascii_lowercase());
    let allowed = match fetch_site.as_deref() {
        // The browser vouches for the site: this page's own, or no page at all (typed).
        Some(b"same-origin" | b"none") => true,
        Some(_) => named,
        None => match &origin {
            None => true,
            Some(origin) => named || is_own(origin, headers.get(header::HOST)),
        },
    };
    if allowed {
        return Ok(());
    }
    Err(ApiError::Forbidden(match origin {
        Some(origin) => {
            format!("the origin {} may not write to this API", bounded(&origin, MAX_ECHOED_ORIGIN))
        }
        None => "a request from another site may not write to this API".to_owned(),
    }))
}

/// `Sec-Fetch-Site`: the browser's word on whether a request comes from the page's own site.
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
/// Longest origin named in an error message.
const MAX_ECHOED_ORIGIN: usize = 200;

/// Whether `origin` is this server's own: its authority is the request's `Host`.
fn is_own(origin: &str, host: Option<&HeaderValue>) -> bool {
    let Some(host) = host.and_then(|v| v.to_str().ok()) else { return false };
    origin.split_once("://").is_some_and(|(_, authority)| authority == host.to_ascii_lowercase())
}
