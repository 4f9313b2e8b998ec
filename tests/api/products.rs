//! GET /products/{productId} and POST /products/{productId}/details.

use serde_json::{Value, json};

use crate::helpers::{assert_error, assert_error_mentions, catalogue, details, spawn_app, spawn_app_with};

/// A SKU no generated product holds (generated SKUs have three digits in the middle).
const FREE_SKU: &str = "ABC-1234-XYZ";

#[tokio::test]
async fn get_returns_the_whole_product() {
    let app = spawn_app().await;
    let expected = serde_json::to_value(&catalogue()[41]).unwrap();

    let response = app.get("/products/42").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, expected);
    for field in
        ["product_id", "sku", "manufacturer", "category_id", "weight", "some_other_id", "name", "price"]
    {
        assert!(body.get(field).is_some(), "{field} missing");
    }
}

#[tokio::test]
async fn get_rejects_a_non_integer_id() {
    let app = spawn_app().await;
    for id in ["abc", "1.5", "1e3", "99999999999999999999999"] {
        assert_error(
            app.get(&format!("/products/{id}")).await,
            400,
            "INVALID_INPUT",
            "productId must be an integer",
        )
        .await;
    }
}

#[tokio::test]
async fn get_rejects_ids_below_one() {
    let app = spawn_app().await;
    for id in ["0", "-5"] {
        assert_error(
            app.get(&format!("/products/{id}")).await,
            400,
            "INVALID_INPUT",
            "productId must be >= 1",
        )
        .await;
    }
}

#[tokio::test]
async fn get_of_an_absent_product_is_404_naming_it() {
    let app = spawn_app().await;
    assert_error(app.get("/products/999").await, 404, "NOT_FOUND", "product with ID 999 not found").await;
}

#[tokio::test]
async fn post_details_answers_204_without_a_body_and_get_sees_the_write() {
    let app = spawn_app().await;
    let before = catalogue()[0].clone();

    let response = app.post_json("/products/1/details", &details(1, FREE_SKU)).await;

    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let after: Value = app.get("/products/1").await.json().await.unwrap();
    assert_eq!(after["sku"], FREE_SKU);
    assert_eq!(after["manufacturer"], "Acme Corporation");
    assert_eq!(
        (after["category_id"].as_u64(), after["weight"].as_u64(), after["some_other_id"].as_u64()),
        (Some(456), Some(1250), Some(789))
    );
    assert_eq!(after["name"], json!(before.name), "other fields are kept");
    assert_eq!(after["price"], json!(before.price));
}

#[tokio::test]
async fn post_details_is_accepted_without_a_content_type() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/products/2/details"))
        .body(details(2, FREE_SKU).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn post_details_to_an_unknown_id_creates_a_findable_product() {
    let app = spawn_app().await;
    let body = json!({"product_id": 9001, "sku": "NEW-999-SKU", "manufacturer": "Zyxw Instruments", "category_id": 3, "weight": 0, "some_other_id": 1});

    assert_eq!(app.post_json("/products/9001/details", &body).await.status(), 204);

    let product: Value = app.get("/products/9001").await.json().await.unwrap();
    assert_eq!(
        product,
        json!({"product_id": 9001, "sku": "NEW-999-SKU", "manufacturer": "Zyxw Instruments", "category_id": 3, "weight": 0, "some_other_id": 1})
    );
    let by_sku = app.search("q=NEW-999-SKU").await;
    assert_eq!(by_sku["products"][0]["product_id"], 9001);
    let by_manufacturer = app.search("q=zyxw%20instruments").await;
    assert_eq!(by_manufacturer["total_found"], 1);
    assert_eq!(app.get("/health").await.json::<Value>().await.unwrap()["products"], 501);
}

#[tokio::test]
async fn post_details_reports_the_first_missing_field() {
    let app = spawn_app().await;
    let response =
        app.post_json("/products/1/details", &json!({"product_id": 1, "sku": "ABC-123-XYZ"})).await;
    assert_error(response, 400, "INVALID_INPUT", "manufacturer is required").await;
}

#[tokio::test]
async fn post_details_rejects_invalid_json_with_the_parsers_words() {
    let app = spawn_app().await;
    let response = app.post_raw("/products/1/details", "not json").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "INVALID_INPUT");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("Invalid JSON: ") && message.len() > "Invalid JSON: ".len(), "{message}");
}

#[tokio::test]
async fn post_details_checks_the_path_before_the_body() {
    let app = spawn_app().await;
    assert_error(
        app.post_raw("/products/abc/details", "{}").await,
        400,
        "INVALID_INPUT",
        "productId must be an integer",
    )
    .await;
    assert_error(
        app.post_raw("/products/0/details", "not json").await,
        400,
        "INVALID_INPUT",
        "productId must be >= 1",
    )
    .await;
}

#[tokio::test]
async fn post_details_validates_fields_in_order_with_exact_messages() {
    let app = spawn_app().await;
    let cases = [
        (json!({"product_id": "1"}), "product_id must be an integer"),
        (json!({"product_id": 0}), "product_id must be >= 1"),
        (json!({"product_id": 2, "sku": "X"}), "product_id must equal productId"),
        (json!({"product_id": 1, "sku": ""}), "sku must be 1 to 100 characters"),
        (
            json!({"product_id": 1, "sku": "X", "manufacturer": "m".repeat(201)}),
            "manufacturer must be 1 to 200 characters",
        ),
        (json!({"product_id": 1, "sku": "X", "manufacturer": "M"}), "category_id is required"),
        (
            json!({"product_id": 1, "sku": "X", "manufacturer": "M", "category_id": 0}),
            "category_id must be >= 1",
        ),
        (
            json!({"product_id": 1, "sku": "X", "manufacturer": "M", "category_id": 1, "weight": -1}),
            "weight must be >= 0",
        ),
        (
            json!({"product_id": 1, "sku": "X", "manufacturer": "M", "category_id": 1, "weight": 1, "some_other_id": null}),
            "some_other_id is required",
        ),
        (
            json!({"product_id": 1, "sku": "X", "manufacturer": "M", "category_id": 1, "weight": 1, "some_other_id": 2.5}),
            "some_other_id must be an integer",
        ),
    ];
    for (body, message) in cases {
        assert_error(app.post_json("/products/1/details", &body).await, 400, "INVALID_INPUT", message).await;
    }
}

#[tokio::test]
async fn a_rejected_write_changes_nothing() {
    let app = spawn_app().await;
    let before: Value = app.get("/products/3").await.json().await.unwrap();
    let mut body = details(3, FREE_SKU);
    body["weight"] = json!(-1);

    assert_eq!(app.post_json("/products/3/details", &body).await.status(), 400);

    assert_eq!(app.get("/products/3").await.json::<Value>().await.unwrap(), before);
    assert_eq!(app.search(&format!("q={FREE_SKU}")).await["total_found"], 0);
}

#[tokio::test]
async fn a_sku_held_by_another_product_is_a_conflict_and_changes_nothing() {
    let app = spawn_app().await;
    let taken = catalogue()[9].sku.clone().unwrap();
    let before: Value = app.get("/products/4").await.json().await.unwrap();

    let response = app.post_json("/products/4/details", &details(4, &taken)).await;

    assert_error_mentions(response, 409, "CONFLICT", &taken).await;
    assert_eq!(app.get("/products/4").await.json::<Value>().await.unwrap(), before);
    // The same SKU spelled differently is still the same SKU.
    let respelled = taken.replace('-', " ").to_lowercase();
    assert_eq!(app.post_json("/products/4/details", &details(4, &respelled)).await.status(), 409);
    // A product may keep its own SKU.
    assert_eq!(app.post_json("/products/10/details", &details(10, &taken)).await.status(), 204);
}

#[tokio::test]
async fn a_released_sku_can_be_taken_by_another_product() {
    let app = spawn_app().await;
    let old = catalogue()[4].sku.clone().unwrap();
    assert_eq!(app.post_json("/products/5/details", &details(5, FREE_SKU)).await.status(), 204);
    // The replaced version of product 5 is gone from search, not only from the store.
    assert_eq!(app.search(&format!("q={old}")).await["total_found"], 0);
    assert_eq!(app.post_json("/products/6/details", &details(6, &old)).await.status(), 204);
    let found = app.search(&format!("q={old}")).await;
    assert_eq!(found["products"][0]["product_id"], 6);
    assert_eq!(found["total_found"], 1);
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let response = app.post_raw("/products/1/details", vec![b' '; 64 * 1024 + 1]).await;
    assert_error_mentions(response, 413, "PAYLOAD_TOO_LARGE", "65536").await;
}

#[tokio::test]
async fn with_a_write_token_posts_need_the_bearer_token() {
    let app = spawn_app_with(&["--write-token", "s3cret"]).await;
    let body = details(1, FREE_SKU).to_string();
    let post = |auth: Option<&'static str>| {
        let mut request = app.client.post(app.url("/products/1/details")).body(body.clone());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };

    assert_error(post(None).await.unwrap(), 401, "UNAUTHORIZED", "a valid bearer token is required").await;
    assert_eq!(post(Some("Bearer wrong")).await.unwrap().status(), 401);
    assert_eq!(post(Some("s3cret")).await.unwrap().status(), 401);
    assert_eq!(app.get("/products/1").await.json::<Value>().await.unwrap()["sku"], json!(catalogue()[0].sku));
    assert_eq!(post(Some("Bearer s3cret")).await.unwrap().status(), 204);
    assert_eq!(app.get("/products/1").await.status(), 200, "reads need no token");
}

#[tokio::test]
async fn reads_stay_correct_while_writes_land() {
    let app = spawn_app().await;
    let writer = {
        let client = app.client.clone();
        let url = app.url("");
        tokio::spawn(async move {
            for round in 0..40u64 {
                let id = 1 + round % 5;
                let body = details(id, &format!("W-{round}-{id}"));
                let status = client
                    .post(format!("{url}/products/{id}/details"))
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, 204);
            }
        })
    };
    let already = app.search("q=acme%20corporation&matching=all").await["total_found"].as_u64().unwrap();
    let (mut reads, mut seen) = (0, already);
    while !writer.is_finished() {
        let product: Value = app.get("/products/3").await.json().await.unwrap();
        assert_eq!(product["product_id"], 3);
        // Products 1..=5 only ever gain the manufacturer, so the count only grows.
        let total = app.search("q=acme%20corporation&matching=all").await["total_found"].as_u64().unwrap();
        assert!(total >= seen && total <= already + 5, "{seen} then {total}");
        seen = total;
        reads += 1;
    }
    writer.await.unwrap();
    assert!(reads > 0);
    assert_eq!(app.search("q=acme%20corporation&matching=all").await["total_found"], already + 5);
    let final_product: Value = app.get("/products/5").await.json().await.unwrap();
    assert_eq!(final_product["sku"], "W-39-5");
    assert_eq!(app.search("q=W-39-5").await["products"][0]["product_id"], 5);
}
