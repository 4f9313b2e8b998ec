//! The HTTP edge: the router, its middleware and thin handlers over the catalogue.

mod cors;
mod error;
mod health;
mod openapi;
mod product_json;
mod products;
mod search;
mod ui;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::catalog::Catalog;
use crate::config::CorsOrigins;
use crate::observability;
use crate::pool::WorkPool;
use crate::replica::Replica;

pub use error::ApiError;
pub use openapi::{ApiDoc, document as openapi_document};

/// Largest request body accepted; a details body is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest bulk upsert body: about 30,000 generated products.
pub const MAX_BULK_BYTES: usize = 32 * 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// On every response: the feed version this replica had applied when it began answering
/// (on a write, the write's own version). The answer reflects at least that version.
pub const CATALOG_VERSION: HeaderName = HeaderName::from_static("catalog-version");
/// On a request: answer only once this version is applied (read your writes through any
/// load balancer).
pub const MIN_CATALOG_VERSION: HeaderName = HeaderName::from_static("min-catalog-version");

/// What every handler can reach. Each request clones it into every layer that takes it,
/// so it is one shared allocation: one count to change per clone, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state behind [`AppState`]'s one `Arc`: its fields need no `Arc` of their own unless
/// they are handed out.
pub struct Shared {
    replica: Arc<Replica>,
    pool: WorkPool,
    write_token: Option<String>,
    draining: Arc<AtomicBool>,
    /// How long a request with `min-catalog-version` may wait for that version.
    min_version_wait: Duration,
    /// How long a committed write may wait to be applied here before it is answered.
    write_patience: Duration,
    /// Browser origins allowed to call the API; `None`: no CORS.
    cors: Option<CorsOrigins>,
    /// Whether `/` serves the search page.
    ui: bool,
    /// The JSON of products searches returned.
    product_json: product_json::ProductJson,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(replica: Arc<Replica>, pool: WorkPool, config: &crate::config::Config) -> Self {
        Self(Arc::new(Shared {
            replica,
            pool,
            write_token: config.write_token.clone(),
            draining: Arc::new(AtomicBool::new(false)),
            min_version_wait: config.min_version_wait(),
            // Inside the request timeout, so the answer says what happened rather than 504.
            write_patience: config.request_timeout().saturating_sub(Duration::from_millis(500)),
            cors: config.cors_allow_origin.clone(),
            ui: config.ui_enabled,
            product_json: product_json::ProductJson::default(),
        }))
    }

    /// Set once a graceful shutdown begins; /health then answers 503.
    pub fn draining(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.draining)
    }

    pub fn replica(&self) -> &Arc<Replica> {
        &self.replica
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        self.replica.catalog()
    }
}

/// The metrics listener's router: `GET /metrics` only.
pub fn metrics_router(handle: metrics_exporter_prometheus::PrometheusHandle) -> Router {
    Router::new()
        .route("/metrics", get(move || async move { observability::render(&handle) }))
        .fallback(not_found)
}

/// The only place routes are assembled; the server and the tests both call it.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let mut routes = Router::new()
        .route("/health", get(health::health))
        .route("/openapi.json", get(openapi::serve))
        .route("/products/search", get(search::search))
        .route("/products/export", get(products::export))
        .route("/products/bulk", post(products::bulk).layer(DefaultBodyLimit::max(MAX_BULK_BYTES)))
        .route(
            "/products/{product_id}",
            get(products::get_product).put(products::put_product).delete(products::delete_product),
        )
        .route("/products/{product_id}/details", post(products::post_details))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), catalog_version))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    if state.ui {
        routes = routes.merge(ui::routes());
    }
    if let Some(origins) = &state.cors {
        routes = routes
            .layer(middleware::from_fn_with_state(origins.clone(), cors::guard_writes))
            .layer(cors::layer(origins));
    }
    with_middleware(routes.with_state(state), request_timeout)
}

/// Holds a request with `min-catalog-version: N` until this replica has applied N (503
/// `CATALOG_BEHIND` past the allowed wait), and stamps `catalog-version` on every response.
async fn catalog_version(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(value) = request.headers().get(&MIN_CATALOG_VERSION) {
        let Some(wanted) = value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) else {
            return ApiError::InvalidInput("min-catalog-version must be a non-negative integer".into())
                .into_response();
        };
        if !state.replica.wait_for_version(wanted, state.min_version_wait).await {
            let applied = state.catalog().version();
            let mut response = ApiError::CatalogBehind { applied, wanted }.into_response();
            response.headers_mut().insert(CATALOG_VERSION, HeaderValue::from(applied));
            return response;
        }
    }
    let applied = state.catalog().version();
    let mut response = next.run(request).await;
    response.headers_mut().entry(CATALOG_VERSION).or_insert(HeaderValue::from(applied));
    response
}

/// The middleware every route gets, outermost first: a request id (kept from the client or
/// made), a span and access log carrying it, the id echoed back, metrics (so they see the
/// final status, 504 and 500 included), gzip, the timeout, and last the panic guard, so a
/// panic still gets an id, a log line, a metric and a JSON 500.
pub fn with_middleware(routes: Router, request_timeout: Duration) -> Router {
    routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &Request| {
                        let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                        tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = id)
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(middleware::from_fn(track_metrics))
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn_with_state(request_timeout, enforce_timeout))
            .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
                ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
            })),
    )
}

/// Counts and times every request by method, route template and status.
async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    // Templates keep the label set bounded; unknown paths share one label.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let in_flight = metrics::gauge!(observability::HTTP_IN_FLIGHT);
    in_flight.increment(1.0);
    let response = next.run(request).await;
    in_flight.decrement(1.0);
    let status = response.status().as_u16().to_string();
    metrics::counter!(observability::HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(observability::HTTP_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn enforce_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
