//! Filters, sorting and facets of GET /products/search, checked against the catalogue.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::helpers::{assert_error, catalogue, spawn_app};

fn products(results: &Value) -> &Vec<Value> {
    results["products"].as_array().unwrap()
}

#[tokio::test]
async fn a_category_filter_alone_browses_the_category_case_insensitively() {
    let app = spawn_app().await;
    let expected = catalogue().iter().filter(|p| p.category.as_deref() == Some("Electronics")).count();

    let results = app.search("category=electronics&limit=100").await;

    assert_eq!(results["total_found"], expected);
    assert!(products(&results).iter().all(|p| p["category"] == "Electronics"));
    let ids: Vec<u64> = products(&results).iter().map(|p| p["product_id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "equal relevance pages by id");
}

#[tokio::test]
async fn repeated_filters_are_alternatives_and_different_filters_all_apply() {
    let app = spawn_app().await;
    let expected = catalogue()
        .iter()
        .filter(|p| matches!(p.category.as_deref(), Some("Books" | "Toys")))
        .filter(|p| p.in_stock == Some(true) && p.rating.unwrap() >= 3.0)
        .filter(|p| (5.0..=50.0).contains(&p.price.unwrap()))
        .count();

    let results =
        app.search("category=Books&category=TOYS&in_stock=true&min_rating=3&min_price=5&max_price=50").await;

    assert_eq!(results["total_found"], expected);
}

#[tokio::test]
async fn sorts_by_price_and_rating() {
    let app = spawn_app().await;
    let values = |results: &Value, field: &str| -> Vec<f64> {
        products(results).iter().map(|p| p[field].as_f64().unwrap()).collect()
    };
    let asc = values(&app.search("category=Home&sort=price_asc&limit=50").await, "price");
    let desc = values(&app.search("category=Home&sort=price_desc&limit=50").await, "price");
    let rating = values(&app.search("category=Home&sort=rating_desc&limit=50").await, "rating");
    assert!(asc.windows(2).all(|w| w[0] <= w[1]), "{asc:?}");
    assert!(desc.windows(2).all(|w| w[0] >= w[1]), "{desc:?}");
    assert!(rating.windows(2).all(|w| w[0] >= w[1]), "{rating:?}");
    let cheapest = catalogue()
        .iter()
        .filter(|p| p.category.as_deref() == Some("Home"))
        .map(|p| p.price.unwrap())
        .fold(f64::MAX, f64::min);
    assert_eq!(asc[0], cheapest);
}

fn counts(results: &Value, facet: &str) -> BTreeMap<String, u64> {
    results["facets"][facet]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn facets_count_the_matching_set_largest_first() {
    let app = spawn_app().await;
    let results = app.search("q=the&facets=category,brand,price").await;

    let by_category = counts(&results, "category");
    let mut expected = BTreeMap::new();
    for p in catalogue() {
        *expected.entry(p.category.unwrap()).or_insert(0u64) += 1;
    }
    assert_eq!(by_category, expected, "every generated description has 'the'");
    // JSON objects carry no order once parsed, so read the counts in the order sent.
    let raw = app.get("/products/search?q=the&facets=brand").await.text().await.unwrap();
    let brands = &raw[raw.find(r#""brand":{"#).unwrap() + 9..];
    let order: Vec<u64> = brands[..brands.find('}').unwrap()]
        .split(',')
        .map(|pair| pair.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(order.len() == 20 && order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    let prices: Vec<f64> = catalogue().iter().map(|p| p.price.unwrap()).collect();
    assert_eq!(
        results["facets"]["price"]["min"].as_f64().unwrap(),
        prices.iter().copied().fold(f64::MAX, f64::min)
    );
    assert_eq!(
        results["facets"]["price"]["max"].as_f64().unwrap(),
        prices.iter().copied().fold(0.0, f64::max)
    );
}

#[tokio::test]
async fn a_facet_ignores_its_own_filter_but_not_the_others() {
    let app = spawn_app().await;
    let unfiltered = app.search("q=the&facets=category,brand").await;
    let filtered = app.search("q=the&category=Books&facets=category,brand").await;

    assert_eq!(counts(&filtered, "category"), counts(&unfiltered, "category"));
    // The brand facet obeys the category filter: it counts books only.
    let books: Vec<_> = catalogue().into_iter().filter(|p| p.category.as_deref() == Some("Books")).collect();
    assert_eq!(filtered["total_found"], books.len());
    let by_brand = counts(&filtered, "brand");
    assert!(!by_brand.is_empty());
    for (brand, count) in &by_brand {
        let expected = books.iter().filter(|p| p.brand.as_deref() == Some(brand.as_str())).count() as u64;
        assert_eq!(*count, expected, "{brand}");
    }
    assert!(unfiltered.get("facets").is_some() && app.search("q=the").await.get("facets").is_none());
}

#[tokio::test]
async fn bad_option_values_are_400s_naming_the_parameter() {
    let app = spawn_app().await;
    let cases = [
        ("q=a&sort=cheapest", "sort must be one of relevance, price_asc, price_desc, rating_desc"),
        ("q=a&facets=colour", "facets must be a comma-separated list of category, brand, price"),
        ("q=a&in_stock=maybe", "in_stock must be true or false"),
        ("q=a&highlight=yes", "highlight must be true or false"),
        ("q=a&typo_tolerance=1", "typo_tolerance must be true or false"),
        ("q=a&min_price=cheap", "min_price must be a number"),
        ("q=a&min_price=-1", "min_price must be a number >= 0"),
        ("q=a&min_price=10&max_price=5", "min_price must be <= max_price"),
        ("q=a&min_rating=9", "min_rating must be a number from 0 to 5"),
        ("q=a&category=", "category must be 1 to 100 characters"),
    ];
    for (query, message) in cases {
        assert_error(app.get(&format!("/products/search?{query}")).await, 400, "INVALID_INPUT", message)
            .await;
    }
}
