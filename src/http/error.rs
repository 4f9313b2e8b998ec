//! The one error type of the HTTP edge. Every error leaves as
//! `{"error": CODE, "message": ...}`; 5xx bodies never carry internals, which are logged
//! in the request's span instead.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use product_model::FieldError;
use serde::Serialize;

use crate::pool::PoolError;
use crate::search::InvalidRequest;
use crate::store::WriteError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `INVALID_INPUT`: the message says what to fix.
    #[error("{0}")]
    InvalidInput(String),
    /// 401 `UNAUTHORIZED`: a write without the right bearer token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 403 `FORBIDDEN`: a browser write from an origin that may only read (CORS).
    #[error("{0}")]
    Forbidden(String),
    /// 404 `NOT_FOUND`: an absent product or an unknown route.
    #[error("{0}")]
    NotFound(String),
    /// 405 `METHOD_NOT_ALLOWED`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `CONFLICT`: the write would break a uniqueness rule.
    #[error("{0}")]
    Conflict(String),
    /// 413 `PAYLOAD_TOO_LARGE`: bodies over the route's limit, refused from their
    /// `Content-Length` before they are read.
    #[error(
        "request body is larger than {} bytes ({} for /settings, {} for /products/bulk)",
        super::MAX_BODY_BYTES,
        super::MAX_SETTINGS_BYTES,
        super::MAX_BULK_BYTES
    )]
    PayloadTooLarge,
    /// 429 `RATE_LIMITED`, with `Retry-After`: the client's address or its key is over its
    /// rate limit; nothing was done.
    #[error("too many requests for this {scope}; retry after the Retry-After seconds")]
    RateLimited { scope: &'static str, retry_after: std::time::Duration },
    /// 503 `OVERLOADED`, with `Retry-After`: the search pool is full, or the server is
    /// shutting down.
    #[error("{0}")]
    Overloaded(&'static str),
    /// 503 `DEPENDENCY_UNAVAILABLE`, with `Retry-After`: the database is down or too slow,
    /// so the write was not made. Reads keep working.
    #[error("{0}")]
    DependencyUnavailable(String),
    /// 503 `CATALOG_BEHIND`, with `Retry-After`: the request asked for a catalogue version
    /// this replica has not applied within the wait allowed.
    #[error("this replica has applied catalogue version {applied}; version {wanted} was asked for")]
    CatalogBehind { applied: u64, wanted: u64 },
    /// 408 `REQUEST_TIMEOUT`: the request's body had not all arrived within the request
    /// timeout.
    #[error("the request's body did not arrive within the request timeout")]
    RequestTimeout,
    /// 504 `TIMEOUT`: the request took longer than the configured limit.
    #[error("the request took too long")]
    Timeout,
    /// 500 `INTERNAL_ERROR`: the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    pub error: ErrorCode,
    /// What went wrong, and for `INVALID_INPUT` what to fix.
    #[schema(value_type = String)]
    pub message: &'a str,
}

/// The machine-readable kind of an error; each has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidInput,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    /// 414: written by the connection layer (see `http::server`), never by a handler.
    UriTooLong,
    /// 431: written by the connection layer (see `http::server`), never by a handler.
    HeadersTooLarge,
    RateLimited,
    Overloaded,
    DependencyUnavailable,
    CatalogBehind,
    Timeout,
    InternalError,
}

impl ApiError {
    pub fn product_not_found(id: u64) -> Self {
        Self::NotFound(format!("product with ID {id} not found"))
    }

    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            Self::InvalidInput(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidInput),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            Self::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout),
            Self::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            Self::Overloaded(_) => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Overloaded),
            Self::DependencyUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::DependencyUnavailable)
            }
            Self::CatalogBehind { .. } => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::CatalogBehind),
            Self::Timeout => (StatusCode::GATEWAY_TIMEOUT, ErrorCode::Timeout),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let message = self.to_string();
        let mut response = (status, Json(ErrorBody { error: code, message: &message })).into_response();
        let headers = response.headers_mut();
        match self {
            Self::Overloaded(_) | Self::DependencyUnavailable(_) | Self::CatalogBehind { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::RateLimited { retry_after, .. } => {
                let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Self::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<InvalidRequest> for ApiError {
    fn from(e: InvalidRequest) -> Self {
        Self::InvalidInput(e.0)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::InvalidInput(e.0)
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::SkuTaken { .. } => Self::Conflict(e.to_string()),
            WriteError::NotFound(id) => Self::product_not_found(id),
            WriteError::KeyNotFound(_) => Self::NotFound(e.to_string()),
            WriteError::TooManyKeys => Self::Conflict(e.to_string()),
            WriteError::Unavailable(_) | WriteError::NotAppliedYet(_) => {
                Self::DependencyUnavailable(e.to_string())
            }
            WriteError::Internal(cause) => Self::Internal(cause),
            WriteError::BehindHorizon { .. } => Self::Internal(anyhow::anyhow!(e)),
        }
    }
}

impl From<PoolError> for ApiError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Saturated => Self::Overloaded("too many searches in progress, retry shortly"),
            PoolError::Panicked => Self::Internal(anyhow::anyhow!(e)),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else {
            Self::InvalidInput(format!("could not read the request body: {}", rejection.body_text()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn overloaded_carries_retry_after() {
        let response = ApiError::from(PoolError::Saturated).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "OVERLOADED");
    }

    #[tokio::test]
    async fn internal_errors_do_not_leak_their_cause() {
        let response = ApiError::Internal(anyhow::anyhow!("secret path /etc/x")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("INTERNAL_ERROR"), "{text}");
    }
}
