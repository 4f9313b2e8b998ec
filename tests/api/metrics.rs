//! The metrics listener: Prometheus text with our series, labelled by route template, on
//! its own port; and the Grafana dashboard, which may only query series we export.

use std::collections::BTreeSet;

use product_search::observability::SERIES;

use crate::helpers::spawn_app;

/// Series names announced by `# TYPE` lines.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    app.search("q=alpha").await;
    app.get("/products/123456").await;
    app.get("/no/such/thing").await;

    let text = app.metrics().await;

    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/products/search",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/products/{product_id}",status="404"}"#)
    );
    assert!(text.contains(r#"route="unmatched",status="404"}"#));
    assert!(!text.contains("123456"), "raw paths never become labels");
    assert!(text.contains(
        r#"http_request_duration_seconds_bucket{method="GET",route="/products/search",le="0.000025"}"#
    ));
    for name in [
        "search_duration_seconds",
        "search_index_documents",
        "search_index_build_duration_seconds",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "http_requests_in_flight",
    ] {
        assert!(exported(&text).contains(name), "{name} missing");
    }
}

/// The value of `series` (its name and labels, as exported), 0 when it is not exported.
fn value(text: &str, series: &str) -> f64 {
    text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok()).unwrap_or(0.0)
}

#[tokio::test]
async fn every_answer_is_counted_and_timed_once_under_its_labels() {
    let app = spawn_app().await;
    let counted = r#"http_requests_total{method="PATCH",route="/health",status="405"}"#;
    let timed = r#"http_request_duration_seconds_count{method="PATCH",route="/health"}"#;
    let before = app.metrics().await;
    for _ in 0..3 {
        let response = app.client.patch(app.url("/health")).send().await.unwrap();
        assert_eq!(response.status(), 405);
    }
    app.get("/health").await;
    let after = app.metrics().await;
    assert_eq!(value(&after, counted) - value(&before, counted), 3.0, "{after}");
    assert_eq!(value(&after, timed) - value(&before, timed), 3.0, "{after}");
}

#[tokio::test]
async fn methods_a_client_makes_up_share_one_label() {
    let app = spawn_app().await;
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("M{i:04}XYZ").as_bytes()).unwrap();
        let response = app.client.request(method, app.url("/health")).send().await.unwrap();
        assert_eq!(response.status(), 405);
    }
    let text = app.metrics().await;
    assert!(!text.contains("XYZ"), "a made-up method became a label");
    assert!(text.contains(r#"http_requests_total{method="other",route="/health",status="405"}"#), "{text}");
}

#[tokio::test]
async fn metrics_carry_the_feed_and_the_database_after_a_write_through_postgres() {
    let url = crate::pg::database().await;
    let app = crate::helpers::spawn_app_with(&["--database-url", &url]).await;
    let written = app.post_json("/products/1/details", &crate::helpers::details(1, "METRIC-1")).await;
    assert_eq!(written.status(), 204);

    let text = app.metrics().await;

    for name in [
        "catalog_version",
        "catalog_feed_lag_versions",
        "catalog_feed_lag_seconds",
        "catalog_feed_delay_seconds",
        "database_errors_total",
        "database_breaker_open",
    ] {
        assert!(exported(&text).contains(name), "{name} missing");
    }
    assert!(text.contains(r#"database_errors_total{operation="write"}"#), "{text}");
    assert!(text.contains("catalog_feed_delay_seconds_bucket{le="), "a write's delay was recorded");
}

#[tokio::test]
async fn the_api_port_does_not_serve_metrics() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
}

#[tokio::test]
async fn the_grafana_dashboard_queries_only_series_we_export() {
    let app = spawn_app().await;
    app.search("q=alpha").await;
    // A write, so the series only writes record (the feed's delay) are on /metrics too.
    let written = app.post_json("/products/1/details", &crate::helpers::details(1, "GRAFANA-1")).await;
    assert_eq!(written.status(), 204);
    let text = app.metrics().await;
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../infra/grafana/product-search.json")).unwrap();

    let mut used = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            // The analytics panels read PostgreSQL (see the analytics tests), not Prometheus.
            if target["datasource"]["type"] == "grafana-postgresql-datasource" {
                continue;
            }
            used.extend(selectors(target["expr"].as_str().unwrap()));
        }
    }

    assert!(used.len() >= 8, "{used:?}");
    for name in used {
        let series =
            ["_bucket", "_sum", "_count"].iter().fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
        assert!(SERIES.contains(&series), "{name} is not a series we export");
        assert!(exported(&text).contains(series), "{name} is not on /metrics");
    }
}

/// Metric names in a PromQL expression: identifiers directly followed by `{` or `[`.
fn selectors(expr: &str) -> Vec<String> {
    let bytes = expr.as_bytes();
    let mut names = Vec::new();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let ident = b.is_ascii_alphanumeric() || b == b'_' || b == b':';
        match (start, ident) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                if b == b'{' || b == b'[' {
                    names.push(expr[s..i].to_owned());
                }
                start = None;
            }
            _ => {}
        }
    }
    names
}
