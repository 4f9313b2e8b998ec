//! The HTTP edge: the router, its middleware and thin handlers over the catalogue.

mod analytics;
mod auth;
mod cors;
mod error;
mod export;
mod gate;
mod health;
mod keys;
mod openapi;
mod product_json;
mod products;
mod rate_limit;
mod request_metrics;
mod search;
mod server;
mod settings;
mod ui;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::analytics::{Analytics, Suggester};
use crate::catalog::Catalog;
use crate::config::CorsOrigins;
use crate::observability;
use crate::pool::WorkPool;
use crate::replica::Replica;

pub use error::ApiError;
pub use openapi::{ApiDoc, document as openapi_document};
pub use server::serve;

/// Largest request body accepted; a details body is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest bulk upsert body: about 43,000 generated products, which commit and apply in
/// about 3.5 s on a 2-core machine (`benches/bulk.sh`), well within the request timeout
/// even on a machine a few times slower.
pub const MAX_BULK_BYTES: usize = 16 * 1024 * 1024;
/// Largest settings body: a shop's synonym list runs to hundreds of groups.
pub const MAX_SETTINGS_BYTES: usize = 1024 * 1024;

const BULK_ROUTE: &str = "/products/bulk";
const SETTINGS_ROUTE: &str = "/settings";

/// The body limit of the route matched as `route`.
fn body_limit(route: Option<&str>) -> usize {
    match route {
        Some(BULK_ROUTE) => MAX_BULK_BYTES,
        Some(SETTINGS_ROUTE) => MAX_SETTINGS_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

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
    /// `None`: turned off (`--analytics false`).
    analytics: Option<Arc<Analytics>>,
    /// Query suggestions, from the analytics and the catalogue.
    suggester: Arc<Suggester>,
    pool: WorkPool,
    /// The master key, the write token and the page's key.
    credentials: auth::Credentials,
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
    /// Exports in progress.
    exports: export::Exports,
    /// Requests per second per client and per key.
    rate_limits: rate_limit::RateLimits,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        replica: Arc<Replica>,
        analytics: Option<Arc<Analytics>>,
        suggester: Arc<Suggester>,
        pool: WorkPool,
        config: &crate::config::Config,
    ) -> Self {
        Self(Arc::new(Shared {
            replica,
            analytics,
            suggester,
            pool,
            credentials: auth::Credentials::new(
                config.master_key.as_deref(),
                config.write_token.as_deref(),
                config.ui_search_key.as_deref(),
            ),
            draining: Arc::new(AtomicBool::new(false)),
            min_version_wait: config.min_version_wait(),
            // Inside the request timeout, so the answer says what happened rather than 504.
            write_patience: config.request_timeout().saturating_sub(Duration::from_millis(500)),
            cors: config.cors_allow_origin.clone(),
            ui: config.ui_enabled,
            product_json: product_json::ProductJson::default(),
            exports: export::Exports::default(),
            rate_limits: rate_limit::RateLimits::new(config.rate_limit_per_client, config.forwarded_hops),
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

    pub fn analytics(&self) -> Option<&Arc<Analytics>> {
        self.analytics.as_ref()
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
        .route(BULK_ROUTE, post(products::bulk).layer(DefaultBodyLimit::max(MAX_BULK_BYTES)))
        .route(
            "/products/{product_id}",
            get(products::get_product).put(products::put_product).delete(products::delete_product),
        )
        .route("/products/{product_id}/details", post(products::post_details))
        .route("/analytics/queries", get(analytics::queries))
        .route("/analytics/products", get(analytics::products))
        .route("/events", post(analytics::event))
        .route("/suggestions", get(analytics::suggestions))
        .route("/keys", post(keys::create_key).get(keys::list_keys))
        .route("/keys/{key_id}", delete(keys::revoke_key))
        .route(
            SETTINGS_ROUTE,
            get(settings::get_settings)
                .put(settings::put_settings)
                .patch(settings::patch_settings)
                .layer(DefaultBodyLimit::max(MAX_SETTINGS_BYTES)),
        );
    if state.ui {
        routes = routes.merge(ui::routes(state.credentials.page_key()));
    }
    // Last, so every route above gets them: the JSON 404 and 405, the body limit, and the
    // checks every request passes (see `gate`).
    routes = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), gate::admit));
    if let Some(origins) = &state.cors {
        routes = routes.layer(cors::layer(origins));
    }
    with_middleware(routes.with_state(state), request_timeout)
}

/// The middleware every route gets, outermost first: a request id (kept from the client or
/// made), a span and access log carrying it, the id echoed back, metrics (so they see the
/// final status, 504 and 500 included), gzip, the timeout, and last the panic guard, so a
/// panic still gets an id, a log line, a metric and a JSON 500.
pub fn with_middleware(routes: Router, request_timeout: Duration) -> Router {
    routes.layer(
        ServiceBuilder::new()
            .map_request(drop_unfit_request_id)
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|request: &Request| {
                        let id =
                            request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                        tracing::info_span!(
                            "request",
                            method = method_label(request.method()),
                            uri = %BoundedUri(request.uri()),
                            request_id = id
                        )
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(middleware::from_fn_with_state(
                Arc::new(request_metrics::RequestMetrics::new()),
                request_metrics::track,
            ))
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn_with_state(request_timeout, enforce_timeout))
            .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
                ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
            })),
    )
}

/// Longest request id taken from a client: a UUID is 36 characters, a trace id 32 to 55.
const MAX_REQUEST_ID: usize = 64;
/// Longest part of a request's URI written into its log lines.
const MAX_LOGGED_URI: usize = 2_048;

/// Removes a client's request id that is too long or holds characters ids do not have, so
/// one is made instead: the id is echoed back and written into every log line.
fn drop_unfit_request_id(mut request: Request) -> Request {
    let fit = request.headers().get(REQUEST_ID).is_none_or(|id| {
        id.len() <= MAX_REQUEST_ID
            && id.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b))
    });
    if !fit {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// A URI as logged: its first [`MAX_LOGGED_URI`] characters, written only when a log line
/// is.
struct BoundedUri<'a>(&'a axum::http::Uri);

impl std::fmt::Display for BoundedUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(bounded(&self.0.to_string(), MAX_LOGGED_URI))
    }
}

/// The first `max` characters of `text`.
pub(crate) fn bounded(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A method as a label or a log field: the methods HTTP defines for an API, and `other` for
/// whatever else a client makes up, so no client can grow the set of series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Answers a request still unanswered after `limit`: 408 if the handler was still waiting
/// for the rest of its body (the client is too slow), 504 otherwise (we are).
async fn enforce_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let (body, awaited) = if http_body::Body::is_end_stream(&body) {
        (body, None)
    } else {
        let awaited = Arc::new(AtomicBool::new(false));
        (axum::body::Body::new(Arriving { body, awaited: Arc::clone(&awaited) }), Some(awaited))
    };
    match tokio::time::timeout(limit, next.run(Request::from_parts(parts, body))).await {
        Ok(response) => response,
        Err(_) if awaited.is_some_and(|awaited| awaited.load(Ordering::Relaxed)) => {
            ApiError::RequestTimeout.into_response()
        }
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// A request body that says whether it is being waited for: read, and not all arrived.
struct Arriving {
    body: axum::body::Body,
    awaited: Arc<AtomicBool>,
}

impl http_body::Body for Arriving {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        let done = matches!(polled, std::task::Poll::Ready(None)) || self.body.is_end_stream();
        self.awaited.store(!done, Ordering::Relaxed);
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
