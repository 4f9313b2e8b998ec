//! The whole product API (PUT, DELETE, bulk, export, versions), one suite run against both
//! stores: in memory, and PostgreSQL. Each test is an `async fn(TestApp)`; the macro at the
//! end runs it once per store.

use serde_json::{Value, json};

use crate::helpers::{COUNT, TestApp, assert_error, assert_error_mentions, catalogue, details};

/// A SKU no generated product holds (generated SKUs have three digits in the middle).
const FREE_SKU: &str = "ZZ-9999-FREE";

fn version_of(response: &reqwest::Response) -> u64 {
    response.headers()["catalog-version"].to_str().unwrap().parse().expect("catalog-version is a number")
}

fn product(id: u64, name: &str, sku: &str) -> Value {
    json!({"product_id": id, "name": name, "brand": "Quokka", "category": "Garden", "price": 12.5,
           "rating": 4.5, "in_stock": true, "sku": sku, "manufacturer": "Quokka Works",
           "category_id": 3, "weight": 800, "some_other_id": 9})
}

async fn delete(app: &TestApp, id: u64) -> reqwest::Response {
    app.client.delete(app.url(&format!("/products/{id}"))).send().await.unwrap()
}

async fn bulk(app: &TestApp, body: &str) -> reqwest::Response {
    app.client.post(app.url("/products/bulk")).body(body.to_owned()).send().await.unwrap()
}

/// Matches of every word (never widened: these tests look for what a write added or took away).
async fn total(app: &TestApp, query: &str) -> u64 {
    app.search(&format!("{query}&matching=all")).await["total_found"].as_u64().unwrap()
}

async fn put_creates_or_replaces_the_whole_product_and_answers_with_it(app: TestApp) {
    // Searched before the write, so the expansions of these words are already remembered.
    assert_eq!(total(&app, "q=quokka%20lantren").await, 0);
    assert_eq!(total(&app, "q=solar%20lante").await, 0);
    let created = product(COUNT + 1, "Quokka Solar Lantern", FREE_SKU);
    let response = app.put_product(COUNT + 1, &created).await;
    assert_eq!(response.status(), 200);
    assert_eq!(version_of(&response), 1);
    assert_eq!(response.json::<Value>().await.unwrap(), created);
    assert_eq!(app.get(&format!("/products/{}", COUNT + 1)).await.json::<Value>().await.unwrap(), created);
    assert_eq!(total(&app, "q=quokka%20lantern").await, 1);
    // Its new words are reachable at once by typo and by prefix, remembered or not.
    assert_eq!(total(&app, "q=quokka%20lantren").await, 1);
    assert_eq!(total(&app, "q=solar%20lante").await, 1);

    let replaced = json!({"product_id": 1, "name": "Quokka Garden Hose"});
    assert_eq!(app.put_product(1, &replaced).await.status(), 200);
    assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap(), replaced, "nothing else is kept");
    assert_eq!(total(&app, "q=quokka").await, 2);
}

async fn put_names_the_bad_field_and_changes_nothing(app: TestApp) {
    let before: Value = app.get("/products/1").await.json().await.unwrap();
    let cases = [
        (json!({"product_id": 1, "price": "cheap"}), "price must be a number"),
        (json!({"product_id": 1, "rating": 7}), "rating must be from 0 to 5"),
        (json!({"product_id": 2}), "product_id must equal productId"),
        (json!({"name": "x"}), "product_id is required"),
        (json!([1]), "Invalid JSON: expected a JSON object"),
    ];
    for (body, message) in cases {
        assert_error(app.put_product(1, &body).await, 400, "INVALID_INPUT", message).await;
    }
    let response = app.client.put(app.url("/products/1")).body("{").send().await.unwrap();
    assert_error_mentions(response, 400, "INVALID_INPUT", "Invalid JSON: ").await;
    assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap(), before);
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["catalog_version"], 0);
}

async fn attributes_travel_with_the_product_and_a_bad_one_is_named(app: TestApp) {
    let mut lantern = product(COUNT + 1, "Quokka Solar Lantern", FREE_SKU);
    lantern["attributes"] = json!({"color": "sage", "size": ["S", "M"], "capacity_l": 1.5, "solar": true});
    assert_eq!(app.put_product(COUNT + 1, &lantern).await.json::<Value>().await.unwrap(), lantern);
    let path = format!("/products/{}", COUNT + 1);
    assert_eq!(app.get(&path).await.json::<Value>().await.unwrap(), lantern);
    assert_eq!(app.search("q=quokka%20lantern").await["products"][0]["attributes"], lantern["attributes"]);
    assert_eq!(
        app.post_json(&format!("{path}/details"), &details(COUNT + 1, "ZZ-1-KEPT")).await.status(),
        204
    );
    let detailed: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!((&detailed["sku"], &detailed["attributes"]), (&json!("ZZ-1-KEPT"), &lantern["attributes"]));
    let stool =
        json!({"product_id": COUNT + 2, "name": "Quokka Stool", "attributes": {"legs": 3, "wood": ["oak"]}});
    assert_eq!(bulk(&app, &stool.to_string()).await.status(), 200);
    assert_eq!(app.get(&format!("/products/{}", COUNT + 2)).await.json::<Value>().await.unwrap(), stool);

    let version = app.get("/health").await.json::<Value>().await.unwrap()["catalog_version"].clone();
    let sizes: Vec<u32> = (30..63).collect();
    let cases = [
        (json!({"size": sizes}), "attributes.size: an array holds at most 32 values"),
        (
            json!({"Colour": "red"}),
            "attributes: \"Colour\" is not an attribute name (1 to 64 lowercase letters, digits and _)",
        ),
        (json!({"size": ["S", 1]}), "attributes.size: an array holds only strings or only numbers"),
        (
            json!({"fit": {"eu": 1}}),
            "attributes.fit: a value is a string, a number, a boolean or an array of strings or numbers",
        ),
        (json!("red"), "attributes must be an object"),
    ];
    for (attributes, message) in cases {
        let mut bad = lantern.clone();
        bad["attributes"] = attributes;
        assert_error(app.put_product(COUNT + 1, &bad).await, 400, "INVALID_INPUT", message).await;
    }
    let mut bad = stool.clone();
    bad["attributes"]["legs"] = json!("x".repeat(257));
    let response = bulk(&app, &format!("{}\n{bad}", product(COUNT + 3, "Quokka Mat", "ZZ-3"))).await;
    assert_error(response, 400, "INVALID_INPUT", "line 2: attributes.legs must be 1 to 256 characters").await;
    assert_eq!(
        app.get(&format!("/products/{}", COUNT + 3)).await.status(),
        404,
        "nothing of the bulk was written"
    );
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["catalog_version"], version);
    let kept: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(kept["attributes"], lantern["attributes"]);
}

async fn put_refuses_a_sku_held_by_another_product(app: TestApp) {
    let taken = catalogue()[1].sku.clone().unwrap();
    let response = app.put_product(1, &product(1, "Clash", &taken.to_lowercase())).await;
    assert_error(
        response,
        409,
        "CONFLICT",
        &format!("sku {} is already used by product 2", taken.to_lowercase()),
    )
    .await;
    assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap()["sku"], json!(catalogue()[0].sku));
}

async fn delete_removes_the_product_from_get_search_totals_and_facets(app: TestApp) {
    let gone = catalogue()[9].clone();
    let category = gone.category.as_deref().unwrap().to_owned();
    let query = format!("category={category}&facets=category&limit=1");
    let before = app.search(&query).await;
    let sku_query = format!("q={}", gone.sku.clone().unwrap());

    let response = delete(&app, 10).await;

    assert_eq!(response.status(), 204);
    assert_eq!(version_of(&response), 1);
    assert_error(app.get("/products/10").await, 404, "NOT_FOUND", "product with ID 10 not found").await;
    assert_eq!(total(&app, &sku_query).await, 0);
    let after = app.search(&query).await;
    assert_eq!(after["total_found"].as_u64().unwrap() + 1, before["total_found"].as_u64().unwrap());
    assert_eq!(
        after["facets"]["category"][&category].as_u64().unwrap() + 1,
        before["facets"]["category"][&category].as_u64().unwrap()
    );
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["products"], COUNT - 1);
    assert_error(delete(&app, 10).await, 404, "NOT_FOUND", "product with ID 10 not found").await;
}

async fn bulk_upserts_every_line_in_one_version(app: TestApp) {
    let lines = [product(1, "Quokka Bulk One", "BULK-1"), product(COUNT + 5, "Quokka Bulk Two", "BULK-2")];
    let body = format!("{}\n\n{}\n", lines[0], lines[1]);

    let response = bulk(&app, &body).await;

    assert_eq!(response.status(), 200);
    assert_eq!(version_of(&response), 1);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"written": 2, "catalog_version": 1}));
    assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap(), lines[0]);
    assert_eq!(total(&app, "q=quokka%20bulk").await, 2);
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["products"], COUNT + 1);
}

async fn bulk_names_the_first_bad_line_and_writes_nothing(app: TestApp) {
    let good = product(COUNT + 1, "Fine", "FINE-1").to_string();
    let cases = [
        (format!("{good}\n{{\"product_id\": 2, \"weight\": -1}}"), "line 2: weight must be >= 0"),
        (format!("{good}\n\nnot json"), "line 3: Invalid JSON: "),
        (format!("{good}\n{good}"), &*format!("line 2: product_id {} is also on line 1", COUNT + 1)),
        ("\n\n".to_owned(), "the body holds no products"),
    ];
    for (body, message) in &cases {
        assert_error_mentions(bulk(&app, body).await, 400, "INVALID_INPUT", message).await;
    }
    let taken = catalogue()[4].sku.clone().unwrap();
    let clash = format!("{good}\n{}", product(1, "Clash", &taken));
    assert_error(
        bulk(&app, &clash).await,
        409,
        "CONFLICT",
        &format!("line 2: sku {taken} is already used by product 5"),
    )
    .await;
    assert_eq!(app.get(&format!("/products/{}", COUNT + 1)).await.status(), 404, "nothing was written");
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["catalog_version"], 0);
}

async fn a_bulk_may_swap_skus_between_its_products(app: TestApp) {
    let (one, two) = (catalogue()[0].sku.clone().unwrap(), catalogue()[1].sku.clone().unwrap());
    let body = format!("{}\n{}", product(1, "Swapped One", &two), product(2, "Swapped Two", &one));
    assert_eq!(bulk(&app, &body).await.status(), 200);
    assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap()["sku"], json!(two));
    assert_eq!(app.search(&format!("q={one}")).await["products"][0]["product_id"], 2);
}

async fn export_streams_the_catalogue_as_loadable_ndjson(app: TestApp) {
    assert_eq!(delete(&app, 3).await.status(), 204);
    let response = app.get("/products/export").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert_eq!(version_of(&response), 1);
    let text = response.text().await.unwrap();
    let exported: Vec<product_model::Product> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut expected = catalogue();
    expected.remove(2);
    assert_eq!(exported, expected, "every product, by id, as the generator made it");
}

async fn every_response_carries_the_applied_version_and_a_write_its_own(app: TestApp) {
    assert_eq!(version_of(&app.get("/products/search?q=lamp").await), 0);
    assert_eq!(version_of(&app.get("/nope").await), 0, "errors too");
    let first = app.post_json("/products/1/details", &details(1, FREE_SKU)).await;
    assert_eq!(first.status(), 204);
    assert_eq!(version_of(&first), 1);
    assert_eq!(version_of(&app.put_product(2, &json!({"product_id": 2})).await), 2);
    assert_eq!(version_of(&app.get("/health").await), 2);
    let refused = app.post_json("/products/3/details", &details(3, FREE_SKU)).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(version_of(&refused), 2, "a refused write takes no version");
}

async fn a_request_for_a_version_not_yet_applied_waits_then_is_503(app: TestApp) {
    let ok = app.client.get(app.url("/products/1")).header("min-catalog-version", "0").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let started = std::time::Instant::now();
    let behind =
        app.client.get(app.url("/products/1")).header("min-catalog-version", "5").send().await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(200), "it waited for the version");
    assert_eq!(behind.headers()["retry-after"], "1");
    assert_error(
        behind,
        503,
        "CATALOG_BEHIND",
        "this replica has applied catalogue version 0; version 5 was asked for",
    )
    .await;
    let bad =
        app.client.get(app.url("/products/1")).header("min-catalog-version", "soon").send().await.unwrap();
    let message = "min-catalog-version must be an integer from 0 to 9223372036854775807";
    assert_error(bad, 400, "INVALID_INPUT", message).await;
    // Past the largest version the feed can hold: refused, not waited for.
    let unreachable = app
        .client
        .get(app.url("/products/1"))
        .header("min-catalog-version", "9223372036854775808")
        .send()
        .await
        .unwrap();
    assert_error(unreachable, 400, "INVALID_INPUT", message).await;
}

async fn details_keep_the_transcript_contract(app: TestApp) {
    let before = catalogue()[0].clone();
    let response = app.post_json("/products/1/details", &details(1, FREE_SKU)).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let after: Value = app.get("/products/1").await.json().await.unwrap();
    assert_eq!((after["sku"].clone(), after["weight"].clone()), (json!(FREE_SKU), json!(1250)));
    assert_eq!(after["name"], json!(before.name), "other fields are kept");
    let created =
        app.post_json(&format!("/products/{}/details", COUNT + 7), &details(COUNT + 7, "NEW-SKU-7")).await;
    assert_eq!(created.status(), 204);
    let new: Value = app.get(&format!("/products/{}", COUNT + 7)).await.json().await.unwrap();
    assert_eq!(new["manufacturer"], "Acme Corporation");
    let taken = catalogue()[1].sku.clone().unwrap();
    let response = app.post_json("/products/1/details", &details(1, &taken)).await;
    assert_error(response, 409, "CONFLICT", &format!("sku {taken} is already used by product 2")).await;
}

async fn a_bulk_of_several_statements_commits_whole_at_one_version(app: TestApp) {
    // 4,500 products: three statements of 2,000 at most with PostgreSQL.
    let body: String =
        (1..=4_500u64).map(|id| format!("{{\"product_id\": {id}, \"name\": \"Piece {id}\"}}\n")).collect();
    let response = bulk(&app, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"written": 4_500, "catalog_version": 1}));
    for id in [1, 2_000, 2_001, 4_000, 4_001, 4_500] {
        let product: Value = app.get(&format!("/products/{id}")).await.json().await.unwrap();
        assert_eq!(product, json!({"product_id": id, "name": format!("Piece {id}")}));
    }
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["products"], 4_500);
}

async fn a_nul_character_in_any_text_is_refused_naming_the_field(app: TestApp) {
    let before = app.get("/products/export").await.text().await.unwrap();
    let message = |field: &str| format!("{field} must not contain the NUL character (\\u0000)");
    let put = app.put_product(1, &json!({"product_id": 1, "name": "a\u{0}b"})).await;
    assert_error(put, 400, "INVALID_INPUT", &message("name")).await;
    let response = app.post_json("/products/1/details", &details(1, "NUL\u{0}SKU")).await;
    assert_error(response, 400, "INVALID_INPUT", &message("sku")).await;
    let line = json!({"product_id": 2, "description": "x\u{0}"});
    let response = bulk(&app, &format!("{}\n{line}", product(COUNT + 1, "Fine", FREE_SKU))).await;
    assert_error(response, 400, "INVALID_INPUT", &format!("line 2: {}", message("description"))).await;
    assert_eq!(app.get("/products/export").await.text().await.unwrap(), before, "nothing was written");
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["catalog_version"], 0);
}

#[tokio::test]
async fn an_export_is_gzip_when_asked_and_the_same_products_either_way() {
    let app = crate::helpers::spawn_app().await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let plain = raw.get(app.url("/products/export")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.text().await.unwrap();
    let compressed =
        raw.get(app.url("/products/export")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    assert_eq!(compressed.headers()["content-type"], "application/x-ndjson");
    let bytes = compressed.bytes().await.unwrap();
    assert!(bytes.len() * 2 < plain.len(), "{} compressed bytes for {}", bytes.len(), plain.len());
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text).unwrap();
    assert_eq!(text, plain);
    assert_eq!(plain.lines().count() as u64, COUNT);
}

#[tokio::test]
async fn exports_past_the_limit_are_refused_until_one_ends() {
    // Enough products that an unread export holds its place (its stream waits for the client).
    let app = crate::helpers::spawn_app_with(&["--count", "20000"]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let response = app.get("/products/export").await;
        assert_eq!(response.status(), 200);
        held.push(response);
    }
    let refused = app.get("/products/export").await;
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_error(refused, 503, "OVERLOADED", "too many exports in progress, retry shortly").await;
    assert_eq!(app.get("/health").await.status(), 200);
    held.clear();
    // The clients went away: their places come free.
    let mut status = 0;
    for _ in 0..100 {
        let response = app.get("/products/export").await;
        status = response.status().as_u16();
        if status == 200 {
            assert_eq!(response.text().await.unwrap().lines().count(), 20_000);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn with_a_write_token_put_delete_bulk_and_export_need_it_and_reads_do_not() {
    let app = crate::helpers::spawn_app_with(&["--write-token", "s3cret"]).await;
    let body = json!({"product_id": 1, "name": "Locked"});
    let put = app.client.put(app.url("/products/1")).json(&body).send().await.unwrap();
    assert_error(put, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    let delete = app.client.delete(app.url("/products/1")).send().await.unwrap();
    assert_error(delete, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    let bulk = app.client.post(app.url("/products/bulk")).body(body.to_string()).send().await.unwrap();
    assert_error(bulk, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    assert_eq!(
        app.get("/products/1").await.json::<Value>().await.unwrap()["name"],
        json!(catalogue()[0].name)
    );
    assert_eq!(app.get("/products/1").await.status(), 200, "reads need no token");
    let export = app.get("/products/export").await;
    assert_error(export, 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    let export = app.client.get(app.url("/products/export")).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(export.status(), 200, "an export is an operator's");

    let put = app.client.put(app.url("/products/1")).bearer_auth("s3cret").json(&body).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let delete = app.client.delete(app.url("/products/1")).bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(delete.status(), 204);
}

macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(crate::helpers::spawn_app_with(&["--min-version-wait-ms", "200"]).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let url = crate::pg::database().await;
                    let app = crate::helpers::spawn_app_with(&["--database-url", &url, "--min-version-wait-ms", "200"]).await;
                    super::$test(app).await;
                }
            )*
        }
    };
}

on_both_stores!(
    put_creates_or_replaces_the_whole_product_and_answers_with_it,
    put_names_the_bad_field_and_changes_nothing,
    put_refuses_a_sku_held_by_another_product,
    attributes_travel_with_the_product_and_a_bad_one_is_named,
    delete_removes_the_product_from_get_search_totals_and_facets,
    bulk_upserts_every_line_in_one_version,
    bulk_names_the_first_bad_line_and_writes_nothing,
    a_bulk_may_swap_skus_between_its_products,
    export_streams_the_catalogue_as_loadable_ndjson,
    every_response_carries_the_applied_version_and_a_write_its_own,
    a_request_for_a_version_not_yet_applied_waits_then_is_503,
    details_keep_the_transcript_contract,
    a_nul_character_in_any_text_is_refused_naming_the_field,
    a_bulk_of_several_statements_commits_whole_at_one_version,
);
