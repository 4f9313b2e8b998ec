//! Matching and ranking rules: SKUs in any spelling first, exact words above typos and
//! prefixes, plurals meeting singulars, and typo tolerance that can be turned off.

use serde_json::json;

use crate::helpers::{TestApp, catalogue, ids, spawn_app};

/// Creates a product that has only detail fields, so its manufacturer is its only text.
async fn create(app: &TestApp, id: u64, manufacturer: &str) {
    let body = json!({"product_id": id, "sku": format!("T-{id}"), "manufacturer": manufacturer,
                      "category_id": 1, "weight": 1, "some_other_id": 1});
    assert_eq!(app.post_json(&format!("/products/{id}/details"), &body).await.status(), 204);
}

#[tokio::test]
async fn a_sku_in_any_spelling_ranks_its_product_first() {
    let app = spawn_app().await;
    for index in [0usize, 123, 499] {
        let sku = catalogue()[index].sku.as_deref().unwrap().to_owned();
        for spelling in
            [sku.clone(), sku.replace('-', "").to_lowercase(), sku.replace('-', " "), sku.to_lowercase()]
        {
            let results = app.search(&format!("q={}", spelling.replace(' ', "%20"))).await;
            assert_eq!(ids(&results).first(), Some(&(index as u64 + 1)), "{spelling}");
        }
    }
}

#[tokio::test]
async fn exact_words_rank_above_typo_matches_whatever_the_id() {
    let app = spawn_app().await;
    create(&app, 9001, "Zorblux Instruments").await;
    create(&app, 9002, "Zorblax Instruments").await;

    let results = app.search("q=zorblax").await;

    assert_eq!(ids(&results), [9002, 9001], "exact first, then the one-typo neighbour");
}

#[tokio::test]
async fn a_typo_finds_the_word_but_not_when_typos_are_off() {
    let app = spawn_app().await;
    create(&app, 9001, "Quibbleworth Optics").await;

    assert_eq!(ids(&app.search("q=quibelworth").await), [9001], "two edits on a 11-letter word");
    assert_eq!(ids(&app.search("q=qiubbleworth").await), [9001], "a swap is one edit");
    assert_eq!(app.search("q=qiubbleworth&typo_tolerance=false").await["total_found"], 0);
    assert_eq!(app.search("q=optiks").await["total_found"], 1, "one edit on a 5-letter stem");
    assert_eq!(
        app.search("q=optyxs%20quibbleworth&matching=all").await["total_found"],
        0,
        "two edits are too many for optic"
    );
    let widened = app.search("q=optyxs%20quibbleworth").await;
    assert_eq!((ids(&widened), &widened["matching"]), (vec![9001], &json!("partial")));
    assert_eq!(widened["not_required"], json!(["optyxs"]));
}

#[tokio::test]
async fn words_with_digits_never_match_with_typos() {
    let app = spawn_app().await;
    create(&app, 9001, "Model ZX9000").await;
    assert_eq!(app.search("q=zx9000").await["total_found"], 1);
    assert_eq!(app.search("q=zx9001%20model&matching=all").await["total_found"], 0);
}

#[tokio::test]
async fn the_last_word_matches_as_a_prefix_while_typing() {
    let app = spawn_app().await;
    create(&app, 9001, "Wirelessly Connected Goods").await;

    assert_eq!(ids(&app.search("q=wirelessly%20conn").await), [9001]);
    assert_eq!(
        app.search("q=conn%20wirelessly&matching=all").await["total_found"],
        0,
        "only the last word is a prefix"
    );
    // One letter after other words is a prefix of a word of the name, brand or category.
    let named = json!({"product_id": 9002, "name": "Quokka Connected Lamp"});
    assert_eq!(app.put_product(9002, &named).await.status(), 200);
    assert!(ids(&app.search("q=quokka%20lamp%20c").await).contains(&9002));
    assert!(!ids(&app.search("q=c&matching=all").await).contains(&9002), "one letter alone is no prefix");
    let manufacturer_only = app.search("q=goods%20c&matching=all").await;
    assert!(!ids(&manufacturer_only).contains(&9001), "nor of a manufacturer's words");
}

#[tokio::test]
async fn plurals_and_singulars_find_each_other() {
    let app = spawn_app().await;
    create(&app, 9001, "Batteries Unlimited").await;
    create(&app, 9002, "Lamp Works").await;

    assert_eq!(ids(&app.search("q=battery").await), [9001]);
    assert_eq!(ids(&app.search("q=lamps%20works").await), [9002]);
}

#[tokio::test]
async fn prefix_and_typo_matches_are_highlighted_too() {
    let app = spawn_app().await;
    create(&app, 9001, "Zorblax").await;
    let with_name = catalogue().into_iter().find(|p| p.name.as_deref().unwrap().contains("Classic")).unwrap();

    let results =
        app.search(&format!("q=clasic&highlight=true&limit=100&brand={}", with_name.brand.unwrap())).await;

    let hit = results["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == with_name.product_id)
        .unwrap();
    assert!(hit["_highlights"]["name"].as_str().unwrap().contains("<mark>Classic</mark>"), "{hit}");
    let typed = app.search("q=wireless%20headph&highlight=true").await;
    assert!(!typed["products"].as_array().unwrap().is_empty(), "the catalogue has wireless headphones");
    for hit in typed["products"].as_array().unwrap() {
        let name = hit["_highlights"]["name"].as_str().unwrap();
        assert!(name.contains("<mark>Headphones</mark>") && name.contains("<mark>Wireless</mark>"), "{name}");
    }
}

#[tokio::test]
async fn a_write_is_found_by_typo_and_prefix_searches_made_before_it() {
    let app = spawn_app().await;
    assert_eq!(app.search("q=zorblax").await["total_found"], 0);
    assert_eq!(app.search("q=zorbl").await["total_found"], 0);

    create(&app, 9001, "Zorblux").await;

    assert_eq!(ids(&app.search("q=zorblax").await), [9001], "typo neighbours are read again after a write");
    assert_eq!(ids(&app.search("q=zorbl").await), [9001], "completions too");
}
