//! A database kept by an earlier build is served by this one: the migrations carry its
//! catalogue and feed over, however long they take.

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, Instant};

use product_model::sku_key;
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnection;

use crate::helpers::{details, spawn_app_with};

/// The migration that keeps products and changes as `json` instead of `jsonb`.
const JSON_DOCUMENTS: i64 = 20261204000001;

/// A fresh database with the schema the builds before `JSON_DOCUMENTS` left, holding
/// `products` (and a change for each) as those builds wrote them; its URL and a connection.
async fn kept_by_an_earlier_build(products: &[&Value]) -> (String, PgConnection) {
    let url = crate::pg::database().await;
    let mut db = PgConnection::connect(&url).await.unwrap();
    let mut earlier = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")).await.unwrap();
    earlier.migrations =
        Cow::Owned(earlier.migrations.iter().filter(|m| m.version < JSON_DOCUMENTS).cloned().collect());
    earlier.run(&mut db).await.unwrap();
    assert_eq!(doc_type(&mut db, "products").await, "jsonb");
    for (version, product) in (1..).zip(products) {
        sqlx::query("INSERT INTO products (product_id, sku_key, doc) VALUES ($1, $2, $3::jsonb)")
            .bind(product["product_id"].as_i64())
            .bind(product["sku"].as_str().map(sku_key))
            .bind(product.to_string())
            .execute(&mut db)
            .await
            .unwrap();
        sqlx::query("INSERT INTO changes (version, product_id, doc) VALUES ($1, $2, $3::jsonb)")
            .bind(version)
            .bind(product["product_id"].as_i64())
            .bind(product.to_string())
            .execute(&mut db)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE catalog_head SET version = $1, seeded_at = now()")
        .bind(products.len() as i64)
        .execute(&mut db)
        .await
        .unwrap();
    (url, db)
}

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

/// Product `id` as the database holds it.
async fn stored(db: &mut PgConnection, id: i64) -> Value {
    let doc: String = sqlx::query_scalar("SELECT doc::text FROM products WHERE product_id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    serde_json::from_str(&doc).unwrap()
}

#[tokio::test]
async fn products_and_changes_kept_as_jsonb_are_served_after_the_upgrade_to_json() {
    let lamp = json!({"product_id": 1, "name": "Brass Lamp", "sku": "LMP-001", "price": 24.5,
                      "attributes": {"color": "brass", "watts": [40, 60]}});
    let chair = json!({"product_id": 2, "name": "Oak Chair"});
    let (url, mut db) = kept_by_an_earlier_build(&[&lamp, &chair]).await;

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
    assert_eq!(feed, [lamp, chair]);

    // A product's details are merged into the stored one, and a whole product replaces it.
    let response = app.post_json("/products/2/details", &details(2, "OAK-2")).await;
    assert_eq!(response.status(), 204);
    let merged: Value = app.get("/products/2").await.json().await.unwrap();
    assert_eq!((merged["name"].clone(), merged["sku"].clone()), (json!("Oak Chair"), json!("OAK-2")));
    assert_eq!(stored(&mut db, 2).await, merged);
    let armchair = json!({"product_id": 2, "name": "Oak Armchair"});
    assert_eq!(app.put_product(2, &armchair).await.status(), 200);
    assert_eq!(stored(&mut db, 2).await, armchair);
}

/// A migration that rewrites a big table takes longer than one database call may; here the
/// rewrite waits, behind another session's lock, well past `--database-timeout-ms`.
#[tokio::test]
async fn a_migration_is_not_held_to_the_statement_timeout() {
    let lamp = json!({"product_id": 1, "name": "Brass Lamp"});
    let (url, mut db) = kept_by_an_earlier_build(&[&lamp]).await;
    let mut reader = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE products IN ACCESS SHARE MODE").execute(&mut reader).await.unwrap();
    let release = async {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        sqlx::raw_sql("COMMIT").execute(&mut reader).await.unwrap();
        Instant::now()
    };
    let start = async {
        let app = spawn_app_with(&["--database-url", &url, "--database-timeout-ms", "500"]).await;
        (app, Instant::now())
    };
    let (released, (app, started)) = tokio::join!(release, start);
    assert!(started > released, "the service started while the lock was still held");
    assert_eq!(doc_type(&mut db, "products").await, "json");
    let served: Value = app.get("/products/1").await.json().await.unwrap();
    assert_eq!(served, lamp);
}
