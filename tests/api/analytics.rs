//! Search analytics over HTTP: searches counted by their normalised query, clicks and
//! conversions on their results, the reports, and the same across replicas on PostgreSQL:
//! counts that add up exactly, an outage that loses only its own batch, retention, and the
//! last batch flushed at shutdown.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::helpers::{TestApp, assert_error_mentions, spawn_app, spawn_app_with};
use crate::pg::{self, PgServer};

/// Flushes every 50 ms, so a test waits little for its counts.
const FAST: [&str; 2] = ["--analytics-flush-ms", "50"];

async fn report(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/analytics/queries?{query}")).await;
    assert_eq!(response.status(), 200, "report {query}");
    response.json().await.unwrap()
}

/// The row of `query` in the report `kind`, or `Null`.
async fn row(app: &TestApp, kind: &str, query: &str) -> Value {
    let report = report(app, &format!("kind={kind}&limit=1000")).await;
    report["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["query"] == query)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Waits (at most 20 s) until the report `kind` shows `query` with `field` at `value`.
async fn wait_for(app: &TestApp, kind: &str, query: &str, field: &str, value: u64) -> Value {
    let started = Instant::now();
    loop {
        let row = row(app, kind, query).await;
        if row[field] == value {
            return row;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{query:?} never had {field} {value}: {row}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn query_id(app: &TestApp, search: &str) -> (String, u64) {
    let answer = app.search(search).await;
    let id = answer["query_id"].as_str().unwrap_or_else(|| panic!("{search} has a query_id")).to_owned();
    (id, answer["products"][0]["product_id"].as_u64().unwrap())
}

#[tokio::test]
async fn searches_are_counted_once_per_normalised_query_with_what_they_found() {
    let app = spawn_app_with(&FAST).await;
    let lamps = app.search("q=lamp").await["total_found"].as_u64().unwrap();
    assert!(lamps > 1);
    for q in ["LAMP", "  lamp!! ", "lamp&offset=1", "lamp&category=nowhere"] {
        app.search(&format!("q={q}")).await;
    }
    for _ in 0..2 {
        app.search("q=Zzqxv%20Qwyj").await;
    }
    let private = app.search("q=jane.doe%40example.com").await;
    assert!(private.get("query_id").is_none(), "a query that looks like an email address is not recorded");
    let browsing = app.search("category=lighting").await;
    assert!(browsing.get("query_id").is_none(), "a search without words has no query");

    // The page after the first is the same search; a filtered-out search found nothing.
    let lamp = wait_for(&app, "top", "lamp", "searches", 4).await;
    assert_eq!(lamp["no_result_searches"], 1);
    assert_eq!(lamp["results"], lamps * 3 / 4, "products found, on average");
    assert_eq!((lamp["clicks"].clone(), lamp["click_through_rate"].clone()), (json!(0), json!(0.0)));
    let nothing = wait_for(&app, "no_results", "zzqxv qwyj", "no_result_searches", 2).await;
    assert_eq!(nothing["searches"], 2);
    let top = report(&app, "kind=top").await;
    let queries: Vec<&str> =
        top["queries"].as_array().unwrap().iter().map(|r| r["query"].as_str().unwrap()).collect();
    assert_eq!(queries, ["lamp", "zzqxv qwyj"], "most searched first; nothing else was recorded");
    assert!(row(&app, "no_results", "lamp").await["no_result_searches"] == 1);
    assert!(app.metric("search_no_results_total").await >= 3.0, "first pages that found nothing are counted");
}

#[tokio::test]
async fn clicks_and_conversions_count_against_the_search_that_led_to_them() {
    let app = spawn_app_with(&FAST).await;
    let (id, first) = query_id(&app, "q=Lamp").await;
    app.search("q=desk").await;
    let click = json!({"type": "click", "query_id": id, "product_id": first, "position": 3});
    for body in [click.clone(), click, json!({"type": "conversion", "query_id": id, "product_id": first})] {
        let response = app.post_json("/events", &body).await;
        assert_eq!(response.status(), 202);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": "accepted"}));
    }
    let lamp = wait_for(&app, "top", "lamp", "clicks", 2).await;
    assert_eq!(lamp["conversions"], 1);
    assert_eq!(lamp["click_through_rate"], 2.0);
    assert_eq!(lamp["average_click_position"], 3.0);
    wait_for(&app, "no_clicks", "desk", "searches", 1).await;
    assert!(row(&app, "no_clicks", "lamp").await.is_null(), "lamp's results were clicked");
    let products: Value = app.get("/analytics/products").await.json().await.unwrap();
    assert_eq!(products["products"], json!([{"product_id": first, "clicks": 2, "conversions": 1}]));
}

#[tokio::test]
async fn a_bad_event_is_a_named_400_and_counts_nothing() {
    let app = spawn_app_with(&FAST).await;
    let (id, first) = query_id(&app, "q=lamp").await;
    let bad = [
        (json!({"type": "view", "query_id": id, "product_id": first, "position": 1}), "type"),
        (json!({"type": "click", "query_id": "1.bm9wZQ", "product_id": first, "position": 1}), "query_id"),
        (json!({"type": "click", "query_id": "x", "product_id": first, "position": 1}), "query_id"),
        (json!({"type": "click", "query_id": id, "product_id": 0, "position": 1}), "product_id"),
        (
            json!({"type": "click", "query_id": id, "product_id": 999_999, "position": 1}),
            "not in the catalogue",
        ),
        (json!({"type": "click", "query_id": id, "product_id": first}), "position is required"),
        (json!({"type": "click", "query_id": id, "product_id": first, "position": 0}), "position"),
        (json!({"type": "click", "query_id": "1.bGFtcA", "product_id": first, "position": 1}), "older than"),
        (json!({"type": "click", "query_id": "ffffff.bGFtcA", "product_id": first, "position": 1}), "future"),
    ];
    for (body, named) in bad {
        assert_error_mentions(app.post_json("/events", &body).await, 400, "INVALID_INPUT", named).await;
    }
    assert_error_mentions(app.post_raw("/events", "{").await, 400, "INVALID_INPUT", "Invalid JSON").await;
    // A good event after them: once it shows, nothing before it was counted.
    let good = json!({"type": "click", "query_id": id, "product_id": first, "position": 1});
    assert_eq!(app.post_json("/events", &good).await.status(), 202);
    let lamp = wait_for(&app, "top", "lamp", "clicks", 1).await;
    assert_eq!(lamp["conversions"], 0);
    let products: Value = app.get("/analytics/products").await.json().await.unwrap();
    assert_eq!(products["products"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn report_parameters_are_checked_and_hours_are_whole() {
    let app = spawn_app_with(&FAST).await;
    for (query, named) in [
        ("kind=bottom", "kind"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from must be before to"),
    ] {
        let response = app.get(&format!("/analytics/queries?{query}")).await;
        assert_error_mentions(response, 400, "INVALID_INPUT", named).await;
    }
    let answer =
        report(&app, "kind=no_results&from=2026-12-01T10:30:00%2B01:00&to=2026-12-01T12:00:01Z").await;
    assert_eq!(
        answer,
        json!({"kind": "no_results", "from": "2026-12-01T09:00:00Z", "to": "2026-12-01T13:00:00Z", "queries": []})
    );
}

#[tokio::test]
async fn reports_need_the_write_token_and_events_do_not() {
    let app = spawn_app_with(&["--write-token", "s3cret", "--analytics-flush-ms", "50"]).await;
    assert_error_mentions(app.get("/analytics/queries").await, 401, "UNAUTHORIZED", "token").await;
    assert_error_mentions(app.get("/analytics/products").await, 401, "UNAUTHORIZED", "token").await;
    let (id, first) = query_id(&app, "q=lamp").await;
    let event = json!({"type": "click", "query_id": id, "product_id": first, "position": 1});
    assert_eq!(app.post_json("/events", &event).await.status(), 202);
    let authorised =
        app.client.get(app.url("/analytics/queries")).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(authorised.status(), 200);
}

#[tokio::test]
async fn with_analytics_off_searches_carry_no_query_id_and_the_routes_say_so() {
    let app = spawn_app_with(&["--analytics", "false"]).await;
    assert!(app.search("q=lamp").await.get("query_id").is_none());
    for response in [
        app.get("/analytics/queries").await,
        app.get("/analytics/products").await,
        app.post_json("/events", &json!({})).await,
    ] {
        assert_error_mentions(response, 404, "NOT_FOUND", "--analytics false").await;
    }
}

async fn replica(url: &str, extra: &[&str]) -> TestApp {
    let mut flags = vec!["--database-url", url, "--database-timeout-ms", "500"];
    flags.extend_from_slice(extra);
    spawn_app_with(&flags).await
}

/// The searches of `query` the database holds, summed over every hour.
async fn stored_searches(url: &str, query: &str) -> i64 {
    let mut db = PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar("SELECT COALESCE(SUM(searches), 0)::int8 FROM search_queries WHERE query = $1")
        .bind(query)
        .fetch_one(&mut db)
        .await
        .unwrap()
}

async fn wait_for_stored(url: &str, query: &str, searches: i64) {
    let started = Instant::now();
    loop {
        let stored = stored_searches(url, query).await;
        if stored == searches {
            return;
        }
        assert!(stored < searches, "{query:?}: {stored} searches stored, more than the {searches} made");
        assert!(started.elapsed() < Duration::from_secs(20), "{query:?}: {stored} of {searches} stored");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `n` searches for lamp, written two ways.
async fn searches(app: &TestApp, n: usize) {
    for i in 0..n {
        let q = if i % 2 == 0 { "lamp" } else { "LAMP" };
        app.search(&format!("q={q}")).await;
    }
}

#[tokio::test]
async fn analytics_and_suggestions_from_two_replicas_add_up_exactly_in_the_database() {
    let url = pg::database().await;
    let flags = ["--analytics-flush-ms", "100", "--suggestions-refresh-ms", "100"];
    let (a, b) = tokio::join!(replica(&url, &flags), replica(&url, &flags));
    tokio::join!(searches(&a, 40), searches(&b, 35), searches(&a, 25));
    wait_for_stored(&url, "lamp", 100).await;
    let (id, first) = query_id(&b, "q=lamp").await;
    let click = json!({"type": "click", "query_id": id, "product_id": first, "position": 1});
    assert_eq!(a.post_json("/events", &click).await.status(), 202, "a click may reach any replica");
    for app in [&a, &b] {
        let lamp = wait_for(app, "top", "lamp", "searches", 101).await;
        let lamp = if lamp["clicks"] == 1 { lamp } else { wait_for(app, "top", "lamp", "clicks", 1).await };
        assert_eq!((lamp["searches"].clone(), lamp["clicks"].clone()), (json!(101), json!(1)));
        // Suggestions count every replica's searches too.
        wait_for_history(app, "la", &[("lamp", 101)]).await;
    }
}

#[tokio::test]
async fn a_database_outage_during_a_flush_loses_that_batch_only_and_no_search() {
    let server = PgServer::start();
    let url = server.create_database().await;
    let app = replica(&url, &["--analytics-flush-ms", "200"]).await;
    for _ in 0..5 {
        app.search("q=lamp").await;
    }
    wait_for_stored(&url, "lamp", 5).await;

    server.pause();
    for _ in 0..7 {
        // `search` asserts every answer is a 200.
        app.search("q=lamp").await;
    }
    // Past the next flush (200 ms) and its failure (the 500 ms timeout), with room to spare.
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.resume();

    let started = Instant::now();
    let mut after = 0;
    while after < 11 {
        if app.get("/products/search?q=lamp").await.status() == 200 {
            after += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }
    wait_for_stored(&url, "lamp", 5 + 11).await;
    // Another flush or two: the lost batch does not come back.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(stored_searches(&url, "lamp").await, 16);
}

#[tokio::test]
async fn retention_deletes_the_hours_that_are_due_and_nothing_else() {
    let url = pg::database().await;
    // Migrates the database; its own first prune finds nothing.
    let first = replica(&url, &[]).await;
    let mut db = PgConnection::connect(&url).await.unwrap();
    let now: i64 = sqlx::query_scalar("SELECT (extract(epoch FROM now()) / 3600)::int8")
        .fetch_one(&mut db)
        .await
        .unwrap();
    // 90 days are 2,160 hours: the hours before now - 2,160 are due.
    for (query, age) in [("due", 2_163), ("due", 2_162), ("kept", 2_158), ("kept", 0)] {
        let hour = now - age;
        sqlx::query("INSERT INTO search_queries VALUES (to_timestamp($1 * 3600.0), $2, 1, 0, 1, 0, 0, 0)")
            .bind(hour)
            .bind(query)
            .execute(&mut db)
            .await
            .unwrap();
        sqlx::query("INSERT INTO search_product_events VALUES (to_timestamp($1 * 3600.0), $2, 1, 0)")
            .bind(hour)
            .bind(age + 1)
            .execute(&mut db)
            .await
            .unwrap();
    }
    drop(first);
    // A replica prunes on its first flush.
    let _second = replica(&url, &["--analytics-flush-ms", "50", "--analytics-retention-days", "90"]).await;
    let started = Instant::now();
    loop {
        let left: Vec<(String, i64)> = sqlx::query_as(
            "SELECT query, (extract(epoch FROM hour) / 3600)::int8 FROM search_queries ORDER BY hour",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        if left.iter().all(|(query, _)| query == "kept") {
            assert_eq!(left, vec![("kept".to_owned(), now - 2_158), ("kept".to_owned(), now)]);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "never pruned: {left:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let products: Vec<i64> =
        sqlx::query_scalar("SELECT product_id FROM search_product_events ORDER BY product_id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(products, vec![1, 2_159]);
}

#[tokio::test]
async fn the_last_batch_is_flushed_at_shutdown() {
    let url = pg::database().await;
    // A flush interval no test waits for: only the shutdown flushes.
    let mut app = replica(&url, &["--analytics-flush-ms", "3600000"]).await;
    for _ in 0..3 {
        app.search("q=lamp").await;
    }
    assert_eq!(stored_searches(&url, "lamp").await, 0);
    app.begin_shutdown().await.unwrap().unwrap();
    assert_eq!(stored_searches(&url, "lamp").await, 3);
}

#[tokio::test]
async fn the_grafana_analytics_panels_read_the_analytics_tables() {
    let url = pg::database().await;
    let app = replica(&url, &FAST).await;
    for q in ["lamp", "lamp", "zzqxv"] {
        app.search(&format!("q={q}")).await;
    }
    wait_for_stored(&url, "lamp", 2).await;
    wait_for_stored(&url, "zzqxv", 1).await;
    let dashboard: Value =
        serde_json::from_str(include_str!("../../infra/grafana/product-search.json")).unwrap();
    let mut db = PgConnection::connect(&url).await.unwrap();
    let mut read = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let Some(sql) = target["rawSql"].as_str() else { continue };
            // Grafana's time macro, over the last day.
            let sql = sql.replace("$__timeFilter(hour)", "hour > now() - interval '1 day'");
            let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT query FROM ({sql}) AS panel"))
                .fetch_all(&mut db)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", panel["title"]));
            read.push(rows.into_iter().map(|(query,)| query).collect::<Vec<_>>());
        }
    }
    assert_eq!(read, vec![vec!["lamp", "zzqxv"], vec!["zzqxv"]]);
}

async fn suggestions(app: &TestApp, typed: &str) -> Vec<(String, u64, String)> {
    let response = app.get(&format!("/suggestions?q={typed}&limit=20")).await;
    assert_eq!(response.status(), 200, "suggestions for {typed}");
    let answer: Value = response.json().await.unwrap();
    answer["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["query"].as_str().unwrap().to_owned(),
                s["searches"].as_u64().unwrap(),
                s["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The past queries among the suggestions for `typed`.
async fn history(app: &TestApp, typed: &str) -> Vec<(String, u64)> {
    suggestions(app, typed).await.into_iter().filter(|s| s.2 == "history").map(|s| (s.0, s.1)).collect()
}

/// Waits (at most 20 s) until the past queries suggested for `typed` are `expected`.
async fn wait_for_history(app: &TestApp, typed: &str, expected: &[(&str, u64)]) {
    let expected: Vec<(String, u64)> = expected.iter().map(|(q, n)| ((*q).to_owned(), *n)).collect();
    let started = Instant::now();
    loop {
        let found = history(app, typed).await;
        if found == expected {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{typed}: {found:?}, not {expected:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn suggestions_are_popular_queries_that_found_products_never_rare_or_fruitless_ones() {
    let app = spawn_app_with(&[
        "--analytics-flush-ms",
        "50",
        "--suggestions-refresh-ms",
        "50",
        "--suggestions-min-searches",
        "2",
    ])
    .await;
    let searched = [("desk%20lamp", 3), ("Desk", 2), ("desk%20zzqxv&matching=all", 4), ("desk%20chair", 1)];
    for (q, times) in searched {
        for _ in 0..times {
            app.search(&format!("q={q}")).await;
        }
    }
    // "desk zzqxv" found nothing; "desk chair" was searched once, under the minimum of two.
    wait_for_history(&app, "de", &[("desk lamp", 3), ("desk", 2)]).await;
    wait_for_history(&app, "DESK%20L", &[("desk lamp", 3)]).await;
    // A typo (two letters swapped) in what was typed.
    assert_eq!(history(&app, "desk%20lmap").await, [("desk lamp".to_owned(), 3)]);
    for (query, _, _) in suggestions(&app, "desk").await {
        assert!(query != "desk zzqxv" && query != "desk chair", "{query} is suggested");
    }
    // Another search that finds nothing takes a query out, on the next refresh.
    app.search("q=desk&category=nowhere").await;
    wait_for_history(&app, "de", &[("desk lamp", 3)]).await;
}

#[tokio::test]
async fn without_history_suggestions_come_from_the_catalogue() {
    let app = spawn_app().await;
    let catalogue = crate::helpers::catalogue();
    let category = product_search::analytics::normalise(catalogue[0].category.as_deref().unwrap()).unwrap();
    let typed = &category[..3];
    let started = Instant::now();
    let found = loop {
        let found = suggestions(&app, typed).await;
        if !found.is_empty() {
            break found;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no suggestion for {typed}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(found.iter().all(|(query, searches, source)| query.starts_with(typed)
        && *searches == 0
        && source == "catalogue"));
    assert!(found.iter().any(|(query, _, _)| *query == category), "{category} is among {found:?}");
}

#[tokio::test]
async fn suggestion_parameters_are_checked() {
    let app = spawn_app().await;
    for (query, named) in [("", "q is required"), ("q=a&limit=0", "limit"), ("q=a&limit=21", "limit")] {
        assert_error_mentions(app.get(&format!("/suggestions?{query}")).await, 400, "INVALID_INPUT", named)
            .await;
    }
    let long = "a".repeat(257);
    assert_error_mentions(
        app.get(&format!("/suggestions?q={long}")).await,
        400,
        "INVALID_INPUT",
        "q must be",
    )
    .await;
    assert!(suggestions(&app, "%20!!").await.is_empty());
}

#[tokio::test]
async fn a_query_that_found_nothing_is_reported_and_a_synonym_makes_the_next_one_find_products() {
    let app = spawn_app_with(&FAST).await;
    assert_eq!(app.search("q=luminaire").await["total_found"], 0);
    let reported = wait_for(&app, "no_results", "luminaire", "no_result_searches", 1).await;
    assert_eq!(reported["searches"], 1);
    let response = app
        .client
        .patch(app.url("/settings"))
        .json(&json!({"synonyms": [["luminaire", "lamp"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let lamps = app.search("q=lamp").await["total_found"].as_u64().unwrap();
    assert_eq!(app.search("q=luminaire").await["total_found"], lamps, "the next search finds the lamps");
    let row = wait_for(&app, "top", "luminaire", "searches", 2).await;
    assert_eq!(row["no_result_searches"], 1, "the second search found products");
}
