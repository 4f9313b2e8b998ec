//! The metrics of every request: how many are in flight, a count by method, route and
//! status, and a duration by method and route. Their handles are found in the recorder once
//! per combination and kept here: a labelled key built with every request allocated its
//! labels and hashed them into the registry, three times per answer.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Gauge, Histogram};

use super::method_label;
use crate::observability;

/// The route label of a request no route matched: one label for every unknown path.
const UNMATCHED: &str = "unmatched";

/// The handles of one router's request metrics. Routes are templates and methods and
/// statuses few, so what is kept stays small.
pub struct RequestMetrics {
    in_flight: Gauge,
    routes: RwLock<HashMap<Box<str>, RouteHandles, foldhash::fast::RandomState>>,
}

/// One route's handles, by method (durations) and by method and status (counts).
#[derive(Default)]
struct RouteHandles {
    durations: Vec<(&'static str, Histogram)>,
    counts: Vec<(&'static str, u16, Counter)>,
}

impl RouteHandles {
    /// Records one answer; `false` when a handle it needs is not here yet.
    fn record(&self, method: &'static str, status: u16, took: Duration) -> bool {
        let duration = self.durations.iter().find(|(m, _)| *m == method);
        let count = self.counts.iter().find(|(m, s, _)| *m == method && *s == status);
        let (Some((_, duration)), Some((_, _, count))) = (duration, count) else {
            return false;
        };
        count.increment(1);
        duration.record(took.as_secs_f64());
        true
    }

    /// Finds the handles of `method` and `status` on `route` in the recorder.
    fn add(&mut self, method: &'static str, route: &str, status: u16) {
        if !self.durations.iter().any(|(m, _)| *m == method) {
            let histogram = metrics::histogram!(
                observability::HTTP_DURATION, "method" => method, "route" => route.to_owned()
            );
            self.durations.push((method, histogram));
        }
        if !self.counts.iter().any(|(m, s, _)| *m == method && *s == status) {
            let counter = metrics::counter!(
                observability::HTTP_REQUESTS,
                "method" => method, "route" => route.to_owned(), "status" => status.to_string()
            );
            self.counts.push((method, status, counter));
        }
    }
}

impl RequestMetrics {
    /// Handles from the recorder installed now (none installed: they record nothing).
    pub fn new() -> Self {
        Self { in_flight: metrics::gauge!(observability::HTTP_IN_FLIGHT), routes: RwLock::default() }
    }

    fn record(&self, method: &'static str, route: &str, status: u16, took: Duration) {
        {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            if routes.get(route).is_some_and(|handles| handles.record(method, status, took)) {
                return;
            }
        }
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        let handles = routes.entry(route.into()).or_default();
        handles.add(method, route, status);
        handles.record(method, status, took);
    }
}

/// Counts and times every request by method, route template and status.
pub async fn track(State(metrics): State<Arc<RequestMetrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let in_flight = InFlight::enter(&metrics.in_flight);
    let response = next.run(request).await;
    drop(in_flight);
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    metrics.record(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// One request counted in flight until dropped: answered, or dropped unanswered when the
/// client goes away (hyper then drops the request's future at its `await`).
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn enter(gauge: &'a Gauge) -> Self {
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;
    use metrics_exporter_prometheus::PrometheusBuilder;
    use tower::ServiceExt;

    use super::*;

    /// The value of the in-flight gauge in `text`, if it is exported.
    fn in_flight(text: &str) -> Option<f64> {
        let line = text.lines().find_map(|line| line.strip_prefix(observability::HTTP_IN_FLIGHT));
        line.and_then(|value| value.trim().parse().ok())
    }

    #[tokio::test]
    async fn a_request_leaves_the_requests_in_flight_answered_or_dropped_unanswered() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let metrics = Arc::new(metrics::with_local_recorder(&recorder, RequestMetrics::new));
        let app = Router::new()
            .route("/forever", get(std::future::pending::<&'static str>))
            .route("/now", get(|| async { "answered" }))
            .layer(from_fn_with_state(metrics, track));
        let request = |path: &str| axum::http::Request::get(path).body(Body::empty()).unwrap();

        let answered = app.clone().oneshot(request("/now")).await.unwrap();
        assert_eq!(answered.status(), 200);
        assert_eq!(in_flight(&handle.render()), Some(0.0), "an answered request has left");

        let mut answering = Box::pin(app.oneshot(request("/forever")));
        let waited = tokio::time::timeout(Duration::from_millis(50), answering.as_mut()).await;
        assert!(waited.is_err(), "the handler never answers");
        assert_eq!(in_flight(&handle.render()), Some(1.0));
        // What hyper does when the client goes away mid-request.
        drop(answering);
        assert_eq!(in_flight(&handle.render()), Some(0.0));
    }
}
