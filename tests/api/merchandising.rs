//! Merchandising rules over HTTP: pins, hides and boosts checked against the search's own
//! order without rules (whose matching set the oracle confirms), facets and totals over
//! what is shown, time windows that open without a write, refusals, and rules reaching
//! another replica in feed order.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use product_model::Product;
use product_search::search::Filters;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{TestApp, assert_error_mentions, catalogue, spawn_app, spawn_app_with};
use crate::oracle::Oracle;
use crate::pg;

async fn patch(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client.patch(app.url("/settings")).json(body).send().await.unwrap()
}

async fn set_rules(app: &TestApp, rules: Value) {
    let response = patch(app, &json!({ "rules": rules })).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Every result of `query` (at most 1,000) in the order the service gives, and the rules
/// that applied.
async fn ranking(app: &TestApp, query: &str) -> (Vec<u64>, u64, Value) {
    let mut ids = Vec::new();
    loop {
        let page = app.search(&format!("{query}&limit=100&offset={}", ids.len())).await;
        let found: Vec<u64> =
            page["products"].as_array().unwrap().iter().map(|p| p["product_id"].as_u64().unwrap()).collect();
        ids.extend(&found);
        let total = page["total_found"].as_u64().unwrap();
        if found.len() < 100 || ids.len() as u64 >= total {
            return (ids, total, page["rules_applied"].clone());
        }
    }
}

fn product(products: &[Product], id: u64) -> &Product {
    products.iter().find(|p| p.product_id == id).unwrap()
}

/// `natural` without `out`, boosted products first (each part in order), pins placed.
fn expected(natural: &[u64], out: &[u64], boosted: &dyn Fn(u64) -> bool, pins: &[(u64, usize)]) -> Vec<u64> {
    let kept: Vec<u64> = natural.iter().copied().filter(|id| !out.contains(id)).collect();
    let (mut order, rest): (Vec<u64>, Vec<u64>) = kept.into_iter().partition(|id| boosted(*id));
    order.extend(rest);
    for &(id, position) in pins {
        order.insert((position - 1).min(order.len()), id);
    }
    order
}

#[tokio::test]
async fn pins_hides_and_boosts_reshape_the_page_and_totals_and_facets_follow_what_is_shown() {
    let app = spawn_app().await;
    let products = catalogue();
    let oracle = Oracle::new(products.clone());
    for (query, sort) in [("q=desk", None), ("q=steel&sort=price_asc", Some("price")), ("q=organic", None)] {
        let word = query.split('&').next().unwrap().trim_start_matches("q=");
        set_rules(&app, json!([])).await;
        let (natural, total, applied) = ranking(&app, query).await;
        assert_eq!(applied, json!([]));
        let matching = oracle.matches(word, &Filters::default(), true);
        assert_eq!(natural.iter().copied().collect::<BTreeSet<u64>>(), matching, "{query}: the oracle's set");
        assert!(natural.len() >= 8, "{query} should find a few products");

        // Hide the first two; pin a product that does not match at 1 and the sixth at 3;
        // boost the well rated.
        let outsider = products.iter().find(|p| !matching.contains(&p.product_id)).unwrap().product_id;
        let (hidden, sixth) = (vec![natural[0], natural[1]], natural[5]);
        set_rules(
            &app,
            json!([
                {"id": "hide-top", "query": word, "hide": hidden},
                {"id": "pins", "query": word, "pin": [{"product_id": outsider, "position": 1}, {"product_id": sixth, "position": 3}]},
                {"id": "rated", "query": format!("{word} extra"), "match": "contains", "boost": "rating >= 4"},
                {"id": "boost", "query": word, "match": "contains", "boost": "rating >= 4"},
            ]),
        )
        .await;
        let rated = |id: u64| product(&products, id).rating.is_some_and(|r| r >= 4.0);
        let want = expected(&natural, &[hidden[0], hidden[1], sixth], &rated, &[(outsider, 1), (sixth, 3)]);
        let (shown, shown_total, applied) = ranking(&app, query).await;
        assert_eq!(applied, json!(["hide-top", "pins", "boost"]), "{query}");
        assert_eq!(shown_total, total - 2 + 1, "{query}: two hidden, one pinned from outside");
        assert_eq!(shown, want, "{query} {sort:?}");
        // Pages are slices of the same order.
        for offset in [0, 2, 5] {
            let page = app.search(&format!("{query}&limit=3&offset={offset}")).await;
            let ids: Vec<u64> = page["products"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["product_id"].as_u64().unwrap())
                .collect();
            assert_eq!(ids, want[offset..(offset + 3).min(want.len())], "{query} offset {offset}");
        }
        // Facets count what is shown.
        let faceted = app.search(&format!("{query}&facets=category&limit=1")).await;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for id in &want {
            *counts.entry(product(&products, *id).category.as_deref().unwrap().to_owned()).or_default() += 1;
        }
        let facet: BTreeMap<String, u64> =
            serde_json::from_value(faceted["facets"]["category"].clone()).unwrap();
        assert_eq!(facet, counts, "{query}: the category facet");
    }
}

#[tokio::test]
async fn a_pin_the_filters_exclude_is_not_shown_and_a_hidden_product_is_never_counted() {
    let app = spawn_app().await;
    let products = catalogue();
    let out_of_stock = products.iter().find(|p| p.in_stock == Some(false)).unwrap().product_id;
    let (natural, total, _) = ranking(&app, "q=lamp&in_stock=true").await;
    set_rules(
        &app,
        json!([{"id": "r", "query": "lamp", "pin": [{"product_id": out_of_stock, "position": 1}], "hide": [natural[0]]}]),
    )
    .await;
    let (shown, shown_total, applied) = ranking(&app, "q=lamp&in_stock=true").await;
    assert_eq!(applied, json!(["r"]));
    assert_eq!((shown.clone(), shown_total), (natural[1..].to_vec(), total - 1));
    let (all, _, _) = ranking(&app, "q=lamp").await;
    assert_eq!(all[0], out_of_stock, "without the stock filter the pin shows");
    assert!(!all.contains(&natural[0]));
    let browsing = app.search("category=nowhere&q=lamp").await;
    assert_eq!(browsing["total_found"], 0, "a pin obeys every filter");
}

/// Seconds from setting the rules to the opening of a window: room for a slow machine to set
/// them and search once before it opens.
const OPENS_IN: i64 = 5;

#[tokio::test]
async fn a_rule_applies_inside_its_time_window_only_and_opens_without_a_write() {
    let app = spawn_app().await;
    let (natural, _, _) = ranking(&app, "q=lamp").await;
    let at = |seconds: i64| {
        (OffsetDateTime::now_utc() + time::Duration::seconds(seconds)).format(&Rfc3339).unwrap()
    };
    let set = Instant::now();
    set_rules(
        &app,
        json!([
            {"id": "past", "query": "lamp", "hide": [natural[0]], "until": at(-60)},
            {"id": "soon", "query": "lamp", "hide": [natural[1]], "from": at(OPENS_IN), "until": at(3_600)},
        ]),
    )
    .await;
    let (before, _, applied) = ranking(&app, "q=lamp").await;
    assert_eq!(
        (before, applied),
        (natural.clone(), json!([])),
        "asked {:?} after setting the rules, the window opening {OPENS_IN} s after",
        set.elapsed()
    );
    let started = Instant::now();
    loop {
        let (now, _, applied) = ranking(&app, "q=lamp").await;
        if applied == json!(["soon"]) {
            assert!(!now.contains(&natural[1]) && now.contains(&natural[0]));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(OPENS_IN as u64 + 10), "the window never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn bad_rules_are_named_400s_and_change_nothing() {
    let app = spawn_app().await;
    let before: Value = app.get("/settings").await.json().await.unwrap();
    for (rules, named) in [
        (json!([{"id": "a", "query": "lamp", "hide": [99_999]}]), "names product 99999"),
        (
            json!([{"id": "a", "query": "lamp", "pin": [{"product_id": 99_999, "position": 1}]}]),
            "not in the catalogue",
        ),
        (json!([{"id": "a", "query": "lamp"}]), "rules[0]: a rule needs something to do"),
        (json!([{"id": "a", "hide": [1]}]), "rules[0]: a rule needs a query or a filter"),
        (json!([{"id": "a", "query": "lamp", "boost": "price <"}]), "rules[0].boost"),
        (json!({"id": "a"}), "rules must be a list"),
    ] {
        assert_error_mentions(patch(&app, &json!({ "rules": rules })).await, 400, "INVALID_INPUT", named)
            .await;
    }
    let after: Value = app.get("/settings").await.json().await.unwrap();
    assert_eq!(before, after);
    assert_eq!(after["rules"], json!([]));
}

#[tokio::test]
async fn rules_set_on_one_replica_apply_on_the_other_in_feed_order() {
    let url = pg::database().await;
    let flags = ["--database-url", url.as_str(), "--feed-poll-ms", "200"];
    let (a, b) = tokio::join!(spawn_app_with(&flags), spawn_app_with(&flags));
    let (natural, _, _) = ranking(&b, "q=lamp").await;
    let response =
        patch(&a, &json!({"rules": [{"id": "hide", "query": "lamp", "hide": [natural[0]]}]})).await;
    assert_eq!(response.status(), 200);
    let version = response.headers()["catalog-version"].to_str().unwrap().to_owned();
    let read = b
        .client
        .get(b.url("/products/search?q=lamp&limit=100"))
        .header("min-catalog-version", &version)
        .send()
        .await
        .unwrap();
    let answer: Value = read.json().await.unwrap();
    assert_eq!(answer["rules_applied"], json!(["hide"]));
    let ids: Vec<u64> =
        answer["products"].as_array().unwrap().iter().map(|p| p["product_id"].as_u64().unwrap()).collect();
    assert_eq!(ids[..], natural[1..ids.len() + 1]);
    // A product deleted after the rule named it is simply not shown.
    let deleted = a.client.delete(a.url(&format!("/products/{}", natural[0]))).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let restarted = spawn_app_with(&flags).await;
    assert_eq!(ranking(&restarted, "q=lamp").await.2, json!(["hide"]), "the rules outlive a restart");
}
