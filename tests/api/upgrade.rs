//! A database kept by an earlier build is served by this one: the migrations carry its
//! catalogue and feed over.

use std::borrow::Cow;
use std::path::Path;

use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnection;

use crate::helpers::{details, spawn_app_with};

/// The migration that keeps products and changes as `json` instead of `jsonb`.
const JSON_DOCUMENTS: i64 = 20261204000001;

/// The type of `table.doc`, as the database reports it.
async fn doc_type(db: &mut PgConnection, table: &str) -> String {
    sqlx::query_scalar(
        "SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = 'doc'",
    )
    .bind(table)
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn products_and_changes_kept_as_jsonb_are_served_after_the_upgrade_to_json() {
    let url = crate::pg::database().await;
    let mut db = PgConnection::connect(&url).await.unwrap();
    // The schema as the builds before `JSON_DOCUMENTS` left it, and rows as they wrote them.
    let mut earlier = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")).await.unwrap();
    earlier.migrations =
        Cow::Owned(earlier.migrations.iter().filter(|m| m.version < JSON_DOCUMENTS).cloned().collect());
    earlier.run(&mut db).await.unwrap();
    assert_eq!(doc_type(&mut db, "products").await, "jsonb");
    let lamp = json!({"product_id": 1, "name": "Brass Lamp", "sku": "LMP-001", "price": 24.5,
                      "attributes": {"color": "brass", "watts": [40, 60]}});
    let chair = json!({"product_id": 2, "name": "Oak Chair"});
    for product in [&lamp, &chair] {
        sqlx::query("INSERT INTO products (product_id, sku_key, doc) VALUES ($1, $2, $3::jsonb)")
            .bind(product["product_id"].as_i64())
            .bind(product["sku"].as_str().map(|_| "lmp001"))
            .bind(product.to_string())
            .execute(&mut db)
            .await
            .unwrap();
        sqlx::query("INSERT INTO changes (version, product_id, doc) VALUES ($1, $1, $2::jsonb)")
            .bind(product["product_id"].as_i64())
            .bind(product.to_string())
            .execute(&mut db)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE catalog_head SET version = 2, seeded_at = now()").execute(&mut db).await.unwrap();

    let app = spawn_app_with(&["--database-url", &url]).await;
    assert_eq!(
        (doc_type(&mut db, "products").await, doc_type(&mut db, "changes").await),
        ("json".into(), "json".into())
    );
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!((health["products"].clone(), health["catalog_version"].clone()), (json!(2), json!(2)));
    let served: Value = app.get("/products/1").await.json().await.unwrap();
    assert_eq!(served, lamp);
    assert_eq!(crate::helpers::ids(&app.search("q=brass+lamp").await), [1]);
    let feed: Vec<String> = sqlx::query_scalar("SELECT doc::text FROM changes ORDER BY version")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let feed: Vec<Value> = feed.iter().map(|doc| serde_json::from_str(doc).unwrap()).collect();
    assert_eq!(feed, [lamp, chair.clone()]);

    // A product's details are merged into the stored one, and a whole product replaces it.
    let response = app.post_json("/products/2/details", &details(2, "OAK-2")).await;
    assert_eq!(response.status(), 204);
    let merged: Value = app.get("/products/2").await.json().await.unwrap();
    assert_eq!((merged["name"].clone(), merged["sku"].clone()), (json!("Oak Chair"), json!("OAK-2")));
    let stored: String = sqlx::query_scalar("SELECT doc::text FROM products WHERE product_id = 2")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), merged);
    let chair = json!({"product_id": 2, "name": "Oak Armchair"});
    assert_eq!(app.put_product(2, &chair).await.status(), 200);
    let stored: String = sqlx::query_scalar("SELECT doc::text FROM products WHERE product_id = 2")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), chair);
}
