//! Several replicas on one PostgreSQL database: seeding once, reading each other's writes,
//! racing for a SKU, commits out of start order, restarts, the database going away, and
//! search that still equals a brute-force scan of the database after mixed writes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use product_model::Product;
use product_search::search::Filters;
use product_search::store::{PgSettings, PgStore};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::helpers::{COUNT, TestApp, assert_error_mentions, catalogue, details, spawn_app_with};
use crate::oracle::{Oracle, queries};
use crate::pg::{self, PgServer};

async fn replica(url: &str, extra: &[&str]) -> TestApp {
    let mut flags = vec!["--database-url", url, "--feed-poll-ms", "200"];
    flags.extend_from_slice(extra);
    spawn_app_with(&flags).await
}

fn version_of(response: &reqwest::Response) -> u64 {
    response.headers()["catalog-version"].to_str().unwrap().parse().unwrap()
}

async fn get_at(app: &TestApp, path: &str, version: u64) -> reqwest::Response {
    app.client.get(app.url(path)).header("min-catalog-version", version.to_string()).send().await.unwrap()
}

async fn health(app: &TestApp) -> Value {
    app.get("/health").await.json().await.unwrap()
}

/// Polls `check` every 20 ms until it holds, for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn blocker_watch(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

/// The products as the database holds them, by id.
async fn database_products(url: &str) -> Vec<Product> {
    let mut db = PgConnection::connect(url).await.unwrap();
    let docs: Vec<String> = sqlx::query_scalar("SELECT doc::text FROM products ORDER BY product_id")
        .fetch_all(&mut db)
        .await
        .unwrap();
    docs.iter().map(|d| serde_json::from_str(d).unwrap()).collect()
}

#[tokio::test]
async fn replicas_starting_together_migrate_and_seed_the_database_once() {
    let url = pg::database().await;
    let (a, b, c) = tokio::join!(replica(&url, &[]), replica(&url, &[]), replica(&url, &[]));
    for app in [&a, &b, &c] {
        let health = health(app).await;
        assert_eq!(health["products"], COUNT);
        assert_eq!((health["catalog_version"].clone(), health["database"].clone()), (json!(0), json!("ok")));
    }
    assert_eq!(database_products(&url).await, catalogue());
    drop((a, b, c));
    // A database that holds products is never seeded again, whatever the flags say.
    let other = replica(&url, &["--count", "10", "--seed", "99"]).await;
    assert_eq!(health(&other).await["products"], COUNT);
}

#[tokio::test]
async fn a_snapshot_holds_every_stored_product_once_however_many_batches_it_is_read_in() {
    let url = pg::database().await;
    let settings = PgSettings { url, password: None, timeout: Duration::from_secs(5), pool_size: 2 };
    let store = PgStore::connect(&settings).await.unwrap();
    // Two whole batches of the snapshot's reading and part of a third.
    let products: Vec<Arc<Product>> = data_gen::generate(3, 20_001).into_iter().map(Arc::new).collect();
    let stored = products.clone();
    assert!(store.seed_if_empty(move || Ok(stored)).await.unwrap());
    let mut read = store.snapshot().await.unwrap().products;
    read.sort_by_key(|product| product.product_id);
    assert_eq!(read.len(), products.len());
    assert!(read.iter().zip(&products).all(|(read, stored)| read == stored));
}

#[tokio::test]
async fn a_write_on_one_replica_is_read_on_the_other_with_min_catalog_version_and_converges_without() {
    let url = pg::database().await;
    let (a, b) = tokio::join!(replica(&url, &[]), replica(&url, &[]));
    for round in 0..20u64 {
        let (writer, reader) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let id = 1 + round % 7;
        let sku = format!("RYW-{round}");
        let written = writer.post_json(&format!("/products/{id}/details"), &details(id, &sku)).await;
        assert_eq!(written.status(), 204);
        let read = get_at(reader, &format!("/products/{id}"), version_of(&written)).await;
        assert_eq!(read.status(), 200);
        assert!(version_of(&read) >= version_of(&written));
        assert_eq!(read.json::<Value>().await.unwrap()["sku"], sku, "round {round}: never the old value");
    }
    let written = a.post_json("/products/42/details", &details(42, "CONVERGE-1")).await;
    assert_eq!(written.status(), 204);
    eventually(Duration::from_secs(5), "replica B converges without the header", || async {
        b.get("/products/42").await.json::<Value>().await.unwrap()["sku"] == "CONVERGE-1"
    })
    .await;
    assert_eq!(health(&b).await["catalog_version"], 21);
}

#[tokio::test]
async fn put_delete_and_bulk_on_one_replica_reach_get_search_and_totals_on_the_other() {
    let url = pg::database().await;
    let (a, b) = tokio::join!(replica(&url, &[]), replica(&url, &[]));
    let armchair = json!({"product_id": 3, "name": "Wombat Velvet Armchair", "sku": "WOMBAT-1",
                          "attributes": {"color": "moss", "seat_height_cm": 44, "legs": ["oak", "steel"]}});
    let put = a.client.put(a.url("/products/3")).json(&armchair).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let deleted = a.client.delete(a.url("/products/4")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let lines = [
        json!({"product_id": COUNT + 1, "name": "Wombat Bulk Stool", "sku": "WOMBAT-2"}),
        json!({"product_id": 5, "name": "Wombat Bulk Lamp", "sku": "WOMBAT-3", "attributes": {"watts": [40, 60]}}),
    ];
    let bulk = a
        .client
        .post(a.url("/products/bulk"))
        .body(format!("{}\n{}\n", lines[0], lines[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.status(), 200);
    let version = version_of(&bulk);
    assert_eq!(version, 3);

    let search = get_at(&b, "/products/search?q=wombat&limit=10", version).await;
    let found: BTreeSet<u64> = search.json::<Value>().await.unwrap()["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["product_id"].as_u64().unwrap())
        .collect();
    assert_eq!(found, BTreeSet::from([3, 5, COUNT + 1]));
    assert_eq!(b.get("/products/3").await.json::<Value>().await.unwrap(), armchair, "attributes included");
    assert_eq!(b.get("/products/5").await.json::<Value>().await.unwrap(), lines[1]);
    assert_eq!(b.get("/products/4").await.status(), 404);
    assert_eq!(health(&b).await["products"], COUNT, "one created, one deleted");
}

#[tokio::test]
async fn two_replicas_claiming_one_sku_at_once_give_one_success_and_one_conflict() {
    let url = pg::database().await;
    let (a, b) = tokio::join!(replica(&url, &[]), replica(&url, &[]));
    for round in 0..10u64 {
        let sku = format!("RACE-{round}");
        let (body_a, body_b) = (details(10, &sku), details(20, &sku));
        let (one, two) = tokio::join!(
            a.post_json("/products/10/details", &body_a),
            b.post_json("/products/20/details", &body_b),
        );
        let mut statuses = [one.status().as_u16(), two.status().as_u16()];
        statuses.sort();
        if statuses != [204, 409] {
            panic!("round {round}: {statuses:?} {:?} {:?}", one.text().await, two.text().await);
        }
        let loser = if one.status() == 409 { one } else { two };
        assert_error_mentions(loser, 409, "CONFLICT", &format!("sku {sku} is already used by product")).await;
        // The next round frees both products' SKUs for the next race.
        for (app, id) in [(&a, 10), (&b, 20)] {
            let free = app
                .post_json(&format!("/products/{id}/details"), &details(id, &format!("FREE-{round}-{id}")))
                .await;
            assert_eq!(free.status(), 204);
        }
    }
    let owners: i64 = sqlx::query_scalar("SELECT count(*) FROM products WHERE sku_key LIKE 'race%'")
        .fetch_one(&mut PgConnection::connect(&url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(owners, 0, "every raced SKU was released again");
}

#[tokio::test]
async fn a_write_that_started_first_but_committed_last_is_applied_by_every_replica() {
    let url = pg::database().await;
    let (a, b) = tokio::join!(replica(&url, &[]), replica(&url, &[]));
    // Hold product 1's row, so a write to it begins and then waits inside its transaction.
    let mut blocker = PgConnection::connect(&url).await.unwrap();
    let mut held = blocker.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM products WHERE product_id = 1 FOR UPDATE").execute(&mut *held).await.unwrap();
    let first = tokio::spawn({
        let (client, url) = (a.client.clone(), a.url("/products/1/details"));
        async move { client.post(url).body(details(1, "STARTED-FIRST").to_string()).send().await.unwrap() }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        .fetch_one(&mut blocker_watch(&url).await)
        .await
        .unwrap();
        if waiting == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the first write never waited on the row lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A write that starts later commits first.
    let second = b.post_json("/products/2/details", &details(2, "STARTED-SECOND")).await;
    assert_eq!(second.status(), 204);
    assert_eq!(version_of(&second), 1);
    held.rollback().await.unwrap();
    let first = first.await.unwrap();
    assert_eq!(first.status(), 204);
    assert_eq!(version_of(&first), 2, "versions follow commit order, not start order");

    for app in [&a, &b] {
        eventually(Duration::from_secs(5), "both writes applied", || async {
            health(app).await["catalog_version"] == 2
        })
        .await;
        assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap()["sku"], "STARTED-FIRST");
        assert_eq!(app.get("/products/2").await.json::<Value>().await.unwrap()["sku"], "STARTED-SECOND");
    }
}

async fn patch_settings(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client.patch(app.url("/settings")).json(body).send().await.unwrap()
}

#[tokio::test]
async fn settings_changed_on_one_replica_apply_on_the_other_in_order_and_outlive_a_restart() {
    let url = pg::database().await;
    // Started with different flags, the two replicas still search under one set of settings:
    // the first to start stored its flags; the second follows what is stored.
    let a = replica(&url, &["--partial-match-below", "3"]).await;
    let b = replica(&url, &["--stop-words", ""]).await;
    let stored: Value = a.get("/settings").await.json().await.unwrap();
    assert_eq!(stored["partial_match_below"], 3);
    assert_eq!(b.get("/settings").await.json::<Value>().await.unwrap(), stored);

    let lantern = json!({"product_id": 9001, "name": "Wombat Lantern", "attributes": {"finish": "matte"}});
    let put = a.put_product(9001, &lantern).await;
    assert_eq!(put.status(), 200);
    let none = get_at(&b, "/products/search?q=quokka", version_of(&put)).await;
    assert_eq!(none.json::<Value>().await.unwrap()["total_found"], 0);

    // Two changes of different keys on the two replicas: both stay.
    let first = patch_settings(&a, &json!({"synonyms": [["quokka", "wombat"]]})).await;
    assert_eq!(first.status(), 200);
    assert_eq!(version_of(&first), version_of(&put) + 1, "a version of its own, after the product");
    let read = get_at(&b, "/settings", version_of(&first)).await;
    assert_eq!(read.json::<Value>().await.unwrap()["synonyms"], json!([["quokka", "wombat"]]));
    let second = patch_settings(&b, &json!({"stop_words": ["of"]})).await;
    assert_eq!(second.status(), 200);
    for app in [&a, &b] {
        let found: Value =
            get_at(app, "/products/search?q=quokka", version_of(&second)).await.json().await.unwrap();
        assert_eq!(crate::helpers::ids(&found), [9001], "the synonym is applied on both");
        let settings: Value = app.get("/settings").await.json().await.unwrap();
        assert_eq!(
            (&settings["synonyms"], &settings["stop_words"], &settings["partial_match_below"]),
            (&json!([["quokka", "wombat"]]), &json!(["of"]), &json!(3))
        );
    }
    // An attribute made filterable on one replica can be filtered on the other.
    let matte = "/products/search?filter=attributes.finish%20%3D%20MATTE";
    assert_eq!(get_at(&b, matte, version_of(&second)).await.status(), 400, "not filterable yet");
    let third = patch_settings(&a, &json!({"filterable_attributes": ["attributes.finish"]})).await;
    assert_eq!(third.status(), 200);
    for app in [&a, &b] {
        let found: Value = get_at(app, matte, version_of(&third)).await.json().await.unwrap();
        assert_eq!(crate::helpers::ids(&found), [9001], "filterable on both");
    }
    // An attribute made searchable on one replica is searched on both, each index rebuilt.
    let mut searched = stored["searchable_attributes"].as_array().unwrap().clone();
    searched.push(json!({"name": "attributes.finish", "weight": 1}));
    let in_text = crate::helpers::ids(&a.search("q=matte").await);
    assert!(!in_text.contains(&9001), "its finish is not searched yet");
    let with_finish: Vec<u64> = [9001].into_iter().chain(in_text).collect();
    let fourth = patch_settings(&b, &json!({ "searchable_attributes": searched })).await;
    assert_eq!(fourth.status(), 200);
    for app in [&a, &b] {
        assert_eq!(get_at(app, "/health", version_of(&fourth)).await.status(), 200);
        app.wait_for_rebuild().await;
        assert_eq!(crate::helpers::ids(&app.search("q=matte").await), with_finish, "searched on both");
    }
    let changed: Value = a.get("/settings").await.json().await.unwrap();
    drop((a, b));

    // A replica started later, with flags of its own, reads the stored settings.
    let restarted = replica(&url, &["--partial-match-below", "9"]).await;
    assert_eq!(restarted.get("/settings").await.json::<Value>().await.unwrap(), changed);
    assert_eq!(crate::helpers::ids(&restarted.search("q=quokka").await), [9001]);
    assert_eq!(
        crate::helpers::ids(&restarted.search("q=matte").await),
        with_finish,
        "built with the attribute"
    );
}

#[tokio::test]
async fn a_restarted_replica_keeps_every_write() {
    let url = pg::database().await;
    let app = replica(&url, &[]).await;
    let mut expected = catalogue();
    for id in 1..=5u64 {
        assert_eq!(
            app.post_json(&format!("/products/{id}/details"), &details(id, &format!("KEPT-{id}")))
                .await
                .status(),
            204
        );
    }
    assert_eq!(app.client.delete(app.url("/products/6")).send().await.unwrap().status(), 204);
    let exported_before = app.get("/products/export").await.text().await.unwrap();
    drop(app);

    let restarted = replica(&url, &[]).await;
    assert_eq!(health(&restarted).await["catalog_version"], 6);
    assert_eq!(restarted.get("/products/export").await.text().await.unwrap(), exported_before);
    expected.remove(5);
    assert_eq!(health(&restarted).await["products"], expected.len());
    for id in 1..=5u64 {
        let product: Value = restarted.get(&format!("/products/{id}")).await.json().await.unwrap();
        assert_eq!(product["sku"], format!("KEPT-{id}"));
    }
}

#[tokio::test]
async fn with_the_database_stopped_reads_keep_working_writes_fail_fast_and_all_catch_up() {
    let server = PgServer::start();
    let url = server.create_database().await;
    let flags = ["--database-timeout-ms", "500"];
    let (a, b) = tokio::join!(replica(&url, &flags), replica(&url, &flags));
    let acknowledged = a.post_json("/products/1/details", &details(1, "BEFORE-OUTAGE")).await;
    assert_eq!(acknowledged.status(), 204);

    // Steady reads on both replicas for the whole outage.
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, failures) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let readers: Vec<_> = [&a, &b]
        .into_iter()
        .map(|app| {
            let (client, base) = (app.client.clone(), app.url(""));
            let (stop, reads, failures) = (Arc::clone(&stop), Arc::clone(&reads), Arc::clone(&failures));
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let path = if i % 2 == 0 {
                        format!("/products/{}", 1 + i % 50)
                    } else {
                        "/products/search?q=lamp".into()
                    };
                    let ok =
                        client.get(format!("{base}{path}")).send().await.is_ok_and(|r| r.status() == 200);
                    reads.fetch_add(1, Ordering::Relaxed);
                    failures.fetch_add(u64::from(!ok), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();

    server.pause();
    let mut slowest = Duration::ZERO;
    for attempt in 0..6u64 {
        let started = Instant::now();
        let refused = b.post_json("/products/2/details", &details(2, &format!("DURING-{attempt}"))).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(refused.headers()["retry-after"], "1");
        assert_error_mentions(refused, 503, "DEPENDENCY_UNAVAILABLE", "database").await;
    }
    assert!(slowest < Duration::from_secs(3), "writes fail fast, not hang: slowest {slowest:?}");
    let errors = |operation: &str| format!("database_errors_total{{operation=\"{operation}\"}}");
    assert!(b.metric(&errors("write")).await >= 1.0, "refused writes are counted as database errors");
    for app in [&a, &b] {
        eventually(Duration::from_secs(5), "health reports the database down", || async {
            let response = app.get("/health").await;
            response.status() == 200 && response.json::<Value>().await.unwrap()["database"] == "down"
        })
        .await;
    }

    assert!(a.metric(&errors("feed")).await >= 1.0, "failed feed reads are counted as database errors");

    server.resume();
    let mut recovered = None;
    for _ in 0..200 {
        let response = b.post_json("/products/2/details", &details(2, "AFTER-OUTAGE")).await;
        if response.status() == 204 {
            recovered = Some(version_of(&response));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let version = recovered.expect("writes succeed again once the database is back");
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    println!(
        "outage: {} reads, {} failed; slowest refused write {slowest:?}",
        reads.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed)
    );
    assert_eq!(failures.load(Ordering::Relaxed), 0, "no read failed during the outage");
    assert!(reads.load(Ordering::Relaxed) > 20);

    for app in [&a, &b] {
        eventually(Duration::from_secs(10), "caught up after the outage", || async {
            let health = health(app).await;
            health["catalog_version"] == version && health["database"] == "ok"
        })
        .await;
        assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap()["sku"], "BEFORE-OUTAGE");
        assert_eq!(app.get("/products/2").await.json::<Value>().await.unwrap()["sku"], "AFTER-OUTAGE");
    }
    let (ta, tb) = (a.search("q=lamp&facets=category").await, b.search("q=lamp&facets=category").await);
    assert_eq!(
        (ta["total_found"].clone(), ta["facets"].clone()),
        (tb["total_found"].clone(), tb["facets"].clone())
    );
}

#[tokio::test]
async fn health_says_the_database_is_down_as_soon_as_it_stops_and_ok_once_it_is_back() {
    let server = PgServer::start();
    let url = server.create_database().await;
    // A feed read every 30 s would notice an outage only then: the listener must see it first.
    let app = replica(&url, &["--feed-poll-ms", "30000"]).await;
    assert_eq!(health(&app).await["database"], "ok");
    server.pause();
    eventually(Duration::from_secs(5), "health reports the database down", || async {
        health(&app).await["database"] == "down"
    })
    .await;
    server.resume();
    eventually(Duration::from_secs(10), "health reports the database back", || async {
        health(&app).await["database"] == "ok"
    })
    .await;
}

/// The query string of a search the oracle knows how to check.
fn search_query(text: &str, filters: &Filters, offset: usize) -> String {
    let mut pairs: Vec<(String, String)> =
        vec![("limit".into(), "100".into()), ("offset".into(), offset.to_string())];
    if !text.is_empty() {
        pairs.push(("q".into(), text.into()));
    }
    pairs.extend(filters.categories.iter().map(|c| ("category".into(), c.clone())));
    pairs.extend(filters.brands.iter().map(|b| ("brand".into(), b.clone())));
    let numbers = [
        ("min_price", filters.min_price),
        ("max_price", filters.max_price),
        ("min_rating", filters.min_rating),
    ];
    pairs.extend(numbers.iter().filter_map(|(k, v)| v.map(|v| ((*k).into(), v.to_string()))));
    if let Some(in_stock) = filters.in_stock {
        pairs.push(("in_stock".into(), in_stock.to_string()));
    }
    serde_urlencoded::to_string(pairs).unwrap()
}

#[tokio::test]
async fn after_mixed_writes_on_both_replicas_search_equals_a_brute_force_scan_of_the_database() {
    let url = pg::database().await;
    let (a, b) = tokio::join!(replica(&url, &[]), replica(&url, &[]));
    let names =
        ["Wombat Cedar Lamp", "Quokka Linen Lamp Shade", "Numbat Garden Hose", "Bilby Wireless Speaker"];
    let mut last = 0;
    for i in 0..60u64 {
        let app = if i % 2 == 0 { &a } else { &b };
        let id = 1 + (i * 37) % (COUNT + 20);
        let response = match i % 4 {
            0 => app.post_json(&format!("/products/{id}/details"), &details(id, &format!("MIX-{i}"))).await,
            1 => {
                let body = json!({"product_id": id, "name": names[(i % 4) as usize], "brand": "Marsupial",
                                  "category": "Garden", "price": i as f64, "rating": 4.0, "in_stock": i % 3 == 0,
                                  "sku": format!("MIXPUT-{i}")});
                app.put_product(id, &body).await
            }
            2 => app.client.delete(app.url(&format!("/products/{id}"))).send().await.unwrap(),
            _ => {
                let lines: Vec<String> = (0..3u64)
                    .map(|k| json!({"product_id": COUNT + 100 + i * 3 + k, "name": names[k as usize], "brand": "Marsupial",
                                    "category": "Toys", "price": 5.0 + k as f64, "sku": format!("MIXBULK-{i}-{k}")}).to_string())
                    .collect();
                app.client.post(app.url("/products/bulk")).body(lines.join("\n")).send().await.unwrap()
            }
        };
        assert!(
            response.status().is_success() || response.status() == 404,
            "write {i}: {}",
            response.status()
        );
        if response.status().is_success() {
            last = last.max(version_of(&response));
        }
    }

    let products = database_products(&url).await;
    let oracle = Oracle::new(products.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut checked = 0;
    for (text, filters) in queries(&products, &mut rng).into_iter().take(100) {
        let expected = oracle.matches(&text, &filters, true);
        for app in [&a, &b] {
            let response =
                get_at(app, &format!("/products/search?{}", search_query(&text, &filters, 0)), last).await;
            assert_eq!(response.status(), 200, "{text:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["total_found"], expected.len(), "total_found of {text:?} {filters:?}");
            if expected.len() <= 100 {
                let found: BTreeSet<u64> = body["products"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["product_id"].as_u64().unwrap())
                    .collect();
                assert_eq!(found, expected, "matching ids of {text:?} {filters:?}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 200);
}
