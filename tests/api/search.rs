//! GET /products/search: results, paging, bounds and the response shape.

use serde_json::{Value, json};

use crate::helpers::{assert_error, assert_error_mentions, catalogue, ids, spawn_app};

#[tokio::test]
async fn search_returns_full_products_with_exact_total_and_timing() {
    let app = spawn_app().await;
    let brand = catalogue()[0].brand.clone().unwrap();
    let expected_total = catalogue().iter().filter(|p| p.brand.as_deref() == Some(&brand)).count();

    let results = app.search(&format!("q={brand}")).await;

    assert!(results["total_found"].as_u64().unwrap() >= expected_total as u64);
    assert_eq!(results["limit"], 20);
    assert_eq!(results["offset"], 0);
    let time = results["search_time"].as_str().unwrap();
    assert!(time.ends_with("µs") || time.ends_with("ms") || time.ends_with("ns"), "{time}");
    let first = &results["products"][0];
    let id = first["product_id"].as_u64().unwrap();
    assert_eq!(first, &serde_json::to_value(&catalogue()[id as usize - 1]).unwrap());
}

#[tokio::test]
async fn a_replaced_product_is_returned_as_it_is_now() {
    let app = spawn_app().await;
    let put = |name: &'static str| {
        let app = &app;
        async move {
            let body = json!({"product_id": 9001, "name": name, "price": 10.0});
            assert_eq!(app.put_product(9001, &body).await.status(), 200);
            body
        }
    };
    let before = put("Quokka Lamp").await;
    assert_eq!(app.search("q=quokka").await["products"][0], before);
    let after = put("Quokka Lamp Deluxe").await;
    assert_eq!(app.search("q=quokka").await["products"][0], after);
    assert_eq!(app.search("q=quokka%20lamp").await["products"][0], after);
}

#[tokio::test]
async fn every_term_must_match() {
    let app = spawn_app().await;
    let product = &catalogue()[0];
    let name = product.name.clone().unwrap();

    let results = app.search(&format!("q={}", urlencode(&name))).await;

    assert!(ids(&results).contains(&1));
    for hit in results["products"].as_array().unwrap() {
        let text = hit.to_string().to_lowercase();
        for word in name.split_whitespace() {
            assert!(text.contains(&word.to_lowercase()), "{word} not in {text}");
        }
    }
    let strict = app.search(&format!("q={}%20qwertyuiop&matching=all", urlencode(&name))).await;
    assert_eq!((&strict["total_found"], &strict["matching"]), (&json!(0), &json!("all")));
    // By default a word no product has is let go, and the answer says so.
    let widened = app.search(&format!("q={}%20qwertyuiop", urlencode(&name))).await;
    assert_eq!(widened["matching"], "partial");
    assert_eq!(widened["not_required"], json!(["qwertyuiop"]));
    assert_eq!(ids(&widened)[0], 1);
}

#[tokio::test]
async fn pages_are_consecutive_slices_of_one_ranking() {
    let app = spawn_app().await;
    let all = app.search("q=the&limit=30").await;
    let first = app.search("q=the&limit=10&offset=0").await;
    let second = app.search("q=the&limit=10&offset=10").await;

    let whole = ids(&all);
    assert_eq!(whole.len(), 30);
    assert_eq!(ids(&first), whole[..10]);
    assert_eq!(ids(&second), whole[10..20]);
    assert_eq!(first["total_found"], all["total_found"]);
}

#[tokio::test]
async fn an_offset_past_the_end_gives_an_empty_page_with_the_total() {
    let app = spawn_app().await;
    let results = app.search("q=alpha&limit=100&offset=900").await;
    assert_eq!(results["products"].as_array().unwrap().len(), 0);
    assert!(results["total_found"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_sku_finds_its_product() {
    let app = spawn_app().await;
    let sku = catalogue()[99].sku.clone().unwrap();
    let results = app.search(&format!("q={sku}")).await;
    assert_eq!(ids(&results)[0], 100);
}

#[tokio::test]
async fn a_query_without_letters_or_digits_finds_nothing() {
    let app = spawn_app().await;
    assert_eq!(app.search("q=%21%21%21").await["total_found"], 0);
}

#[tokio::test]
async fn search_requires_a_query() {
    let app = spawn_app().await;
    for query in ["", "q=", "q=%20%20%09"] {
        let response = app.get(&format!("/products/search?{query}")).await;
        assert_error_mentions(response, 400, "INVALID_INPUT", "q is required").await;
    }
}

#[tokio::test]
async fn search_rejects_limit_outside_1_to_100() {
    let app = spawn_app().await;
    for limit in ["0", "101", "-1"] {
        let response = app.get(&format!("/products/search?q=alpha&limit={limit}")).await;
        assert_error(response, 400, "INVALID_INPUT", "limit must be between 1 and 100").await;
    }
    let response = app.get("/products/search?q=alpha&limit=ten").await;
    assert_error(response, 400, "INVALID_INPUT", "limit must be an integer").await;
}

#[tokio::test]
async fn search_rejects_negative_or_too_deep_offsets() {
    let app = spawn_app().await;
    assert_error(
        app.get("/products/search?q=alpha&offset=-1").await,
        400,
        "INVALID_INPUT",
        "offset must be >= 0",
    )
    .await;
    assert_error(
        app.get("/products/search?q=alpha&offset=x").await,
        400,
        "INVALID_INPUT",
        "offset must be an integer",
    )
    .await;
    let response = app.get("/products/search?q=alpha&limit=20&offset=981").await;
    assert_error(response, 400, "INVALID_INPUT", "offset + limit must be at most 1000").await;
    assert_eq!(app.get("/products/search?q=alpha&limit=20&offset=980").await.status(), 200);
}

#[tokio::test]
async fn search_rejects_queries_over_256_characters() {
    let app = spawn_app().await;
    let response = app.get(&format!("/products/search?q={}", "a".repeat(257))).await;
    assert_error(response, 400, "INVALID_INPUT", "q must be at most 256 characters").await;
    assert_eq!(app.get(&format!("/products/search?q={}", "a".repeat(256))).await.status(), 200);
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = client
        .get(app.url("/products/search?q=the&limit=50"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let plain = client.get(app.url("/products/search?q=the&limit=50")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_clients() {
    let app = spawn_app().await;
    let made = app.get("/products/search?q=alpha").await;
    let id = made.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    let kept =
        app.client.get(app.url("/products/0")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-me-42");
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("q", text)]).unwrap().trim_start_matches("q=").to_owned()
}

#[tokio::test]
async fn answers_are_the_same_with_the_result_cache_off() {
    let cached = spawn_app().await;
    let uncached = crate::helpers::spawn_app_with(&["--result-cache-size", "0"]).await;
    for query in ["q=the", "q=alpha%20headph&facets=brand", "q=the", "category=Books&sort=price_asc"] {
        let (mut a, mut b) = (cached.search(query).await, uncached.search(query).await);
        a["search_time"] = Value::Null;
        b["search_time"] = Value::Null;
        assert_eq!(a, b, "{query}");
    }
}
