//! Filters, sorting and facets of GET /products/search, checked against the catalogue.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::{assert_error, catalogue, ids, spawn_app};

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
        *expected.entry(p.category.unwrap().into_string()).or_insert(0u64) += 1;
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
        (
            "q=a&facets=colour",
            "facets must be a comma-separated list of category, brand, price and attributes.<name>",
        ),
        ("filter=price%20%3C%20cheap", "filter, at character 9: expected a number for price, found `cheap`"),
        (
            "q=a&filter=(attributes.color%20%3D%20red",
            "filter, at character 24: expected `)`, AND or OR, found the end of the filter",
        ),
        ("q=a&filter=brand%20%3E%20a", "filter, at character 7: brand takes =, !=, IN and EXISTS, not >"),
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

#[tokio::test]
async fn a_filter_expression_applies_with_the_other_parameters() {
    let app = spawn_app().await;
    let products = catalogue();
    let wanted = |p: &product_model::Product| {
        let color = p.attributes.get("color");
        let red_or_blue =
            matches!(&color, Some(product_model::AttributeValue::Text(c)) if ["red", "blue"].contains(&&**c));
        p.category.as_deref() == Some("Clothing") && red_or_blue && p.price.is_some_and(|x| x < 80.0)
    };
    let mut expected: Vec<u64> = products.iter().filter(|p| wanted(p)).map(|p| p.product_id).collect();
    expected.sort_unstable();
    assert!(!expected.is_empty(), "the generated catalogue has red or blue clothing under 80");
    let filter = "attributes.color%20IN%20%5Bred%2C%20%22BLUE%22%5D%20AND%20price%20%3C%2080";
    let results = app.search(&format!("category=clothing&filter={filter}&limit=100&sort=price_asc")).await;
    assert_eq!(results["total_found"], expected.len());
    let mut found = ids(&results);
    found.sort_unstable();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn attribute_facets_are_value_counts_or_the_range_of_numbers() {
    let app = spawn_app().await;
    let results = app.search("filter=category%20%3D%20Electronics&facets=attributes.wireless,attributes.screen_in,attributes.formats").await;
    let electronics: Vec<_> =
        catalogue().into_iter().filter(|p| p.category.as_deref() == Some("Electronics")).collect();
    let wireless = electronics
        .iter()
        .filter(|p| p.attributes.get("wireless") == Some(product_model::AttributeValue::Bool(true)))
        .count();
    assert_eq!(results["facets"]["attributes.wireless"]["true"], wireless);
    let screens: Vec<f64> = electronics
        .iter()
        .filter_map(|p| match p.attributes.get("screen_in") {
            Some(product_model::AttributeValue::Number(n)) => n.as_f64(),
            _ => None,
        })
        .collect();
    assert!(!screens.is_empty());
    assert_eq!(
        results["facets"]["attributes.screen_in"]["min"],
        screens.iter().copied().fold(f64::MAX, f64::min)
    );
    assert_eq!(results["facets"]["attributes.screen_in"]["max"], screens.iter().copied().fold(0.0, f64::max));
    assert_eq!(results["facets"]["attributes.formats"], json!({}), "books' formats, and no book matches");
}

#[tokio::test]
async fn a_facet_over_the_whole_catalogue_counts_the_next_write() {
    let app = spawn_app().await;
    // Browsing one colour: its facet counts every product, whatever colour.
    let browse = "filter=attributes.color%20%3D%20red&facets=attributes.color";
    let before = app.search(browse).await;
    let reds = before["facets"]["attributes.color"]["red"].as_u64().unwrap();
    assert_eq!(before["total_found"], reds);
    assert_eq!(app.search(browse).await["facets"], before["facets"], "asked again, the same");

    let lamp = json!({"product_id": 9001, "name": "Quokka Lamp", "attributes": {"color": "red"}});
    assert_eq!(app.put_product(9001, &lamp).await.status(), 200);
    let blue = json!({"product_id": 1, "name": "Quokka Vase", "attributes": {"color": "blue"}});
    let was_red = app.get("/products/1").await.json::<Value>().await.unwrap()["attributes"]["color"] == "red";
    assert_eq!(app.put_product(1, &blue).await.status(), 200);
    let after = app.search(browse).await;
    let reds_now = reds + 1 - u64::from(was_red);
    assert_eq!(after["facets"]["attributes.color"]["red"], reds_now);
    assert_eq!(after["total_found"], reds_now);
}
