//! Browser access from other origins (`--cors-allow-origin`): preflights answered, the
//! headers the API reads allowed, those it sets exposed. Origins named in the list may read
//! and write; `*` may only read, and a browser write from an origin not named (a form or
//! `fetch` on another site) is refused before it reaches a handler.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{ApiError, CATALOG_VERSION, MIN_CATALOG_VERSION, REQUEST_ID};
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
                .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::POST, Method::DELETE])
                .allow_headers(headers)
        }
    }
}

/// Refuses (403 `FORBIDDEN`) a write whose `Origin` is neither this server's own nor one the
/// list names. Requests without `Origin` (curl, other services) are not browsers' and pass.
pub async fn guard_writes(State(origins): State<CorsOrigins>, request: Request, next: Next) -> Response {
    let method = request.method();
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return next.run(request).await;
    };
    let origin = origin.to_ascii_lowercase();
    let named = matches!(&origins, CorsOrigins::List(list) if list.contains(&origin));
    let same_site = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).is_some_and(|host| {
        origin.split_once("://").is_some_and(|(_, authority)| authority == host.to_ascii_lowercase())
    });
    if named || same_site {
        return next.run(request).await;
    }
    ApiError::Forbidden(format!("the origin {origin} may not write to this API")).into_response()
}
