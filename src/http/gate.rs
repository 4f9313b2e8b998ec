//! What every request to a route passes before its handler, in this order, so that what
//! refuses cheaply refuses first and nothing is done for a request that will be refused:
//!
//! 1. a body announced over the route's limit (413, before it is read);
//! 2. a browser's write from another site (403; see [`super::cors`]);
//! 3. the client's rate limit (429; see [`super::rate_limit`]);
//! 4. the wait for `min-catalog-version` (503 `CATALOG_BEHIND` past the allowed wait), before
//!    the key, so a key made or revoked at that version counts;
//! 5. the key and the action the route needs (401, 403; see [`super::auth`]);
//! 6. the key's own rate limit (429).
//!
//! Every answer then carries `catalog-version`: the version applied when the handler began
//! (a write's own version, which its handler sets), or, for a refusal, when it was refused.
//! One middleware rather than six: each layer of its own cost an allocation per request.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, CATALOG_VERSION, MIN_CATALOG_VERSION, auth, body_limit, cors};

/// The highest version the feed can reach: versions are PostgreSQL `bigint`s.
const MAX_VERSION: u64 = i64::MAX as u64;

pub async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let (mut response, applied) = match checks(&state, &mut request).await {
        Ok(()) => {
            let applied = state.catalog().version();
            (next.run(request).await, applied)
        }
        Err(refusal) => (refusal.into_response(), state.catalog().version()),
    };
    response.headers_mut().entry(CATALOG_VERSION).or_insert(HeaderValue::from(applied));
    response
}

async fn checks(state: &AppState, request: &mut Request) -> Result<(), ApiError> {
    refuse_oversized_body(request)?;
    cors::check_origin(state.cors.as_ref(), request)?;
    state.rate_limits.check_client(request)?;
    if let Some(wanted) = min_version(request)? {
        wait_for_version(state, wanted).await?;
    }
    auth::check(state, request)?;
    state.rate_limits.check_key(request)
}

/// 413 when `Content-Length` announces a body over the route's limit.
fn refuse_oversized_body(request: &Request) -> Result<(), ApiError> {
    let limit = body_limit(request.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(ApiError::PayloadTooLarge),
        _ => Ok(()),
    }
}

/// The request's `min-catalog-version`, if it has one.
fn min_version(request: &Request) -> Result<Option<u64>, ApiError> {
    let Some(value) = request.headers().get(&MIN_CATALOG_VERSION) else {
        return Ok(None);
    };
    match value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(wanted) if wanted <= MAX_VERSION => Ok(Some(wanted)),
        _ => Err(ApiError::InvalidInput(format!(
            "min-catalog-version must be an integer from 0 to {MAX_VERSION}"
        ))),
    }
}

/// Holds a request until this replica has applied version `wanted`.
async fn wait_for_version(state: &AppState, wanted: u64) -> Result<(), ApiError> {
    if state.replica().wait_for_version(wanted, state.min_version_wait).await {
        Ok(())
    } else {
        Err(ApiError::CatalogBehind { applied: state.catalog().version(), wanted })
    }
}
