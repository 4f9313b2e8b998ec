//! Queries that would find nothing under "every word must match": partial matching, stop
//! words, joined and split words, synonyms; and their highlights.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, ids, spawn_app, spawn_app_with};

fn names(results: &Value) -> Vec<String> {
    results["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn create(app: &TestApp, id: u64, name: &str) {
    assert_eq!(app.put_product(id, &json!({"product_id": id, "name": name})).await.status(), 200);
}

#[tokio::test]
async fn a_word_no_product_has_is_let_go_and_the_answer_says_so() {
    let app = spawn_app().await;
    create(&app, 9001, "Quokka Lantern").await;
    create(&app, 9002, "Quokka Lantern Deluxe").await;
    create(&app, 9003, "Lantern").await;

    let results = app.search("q=quokka%20lantern%20cheap").await;
    assert_eq!(results["matching"], "partial");
    assert_eq!(results["not_required"], json!(["cheap"]));
    assert_eq!(results["total_found"], 2);
    // Products matching more of the words rank first: "deluxe" is let go but still ranks.
    let deluxe = app.search("q=quokka%20lantern%20deluxe%20qqzzv").await;
    assert_eq!(deluxe["not_required"], json!(["qqzzv"]));
    assert_eq!(ids(&deluxe), [9002], "deluxe is still required: it matches");

    let strict = app.search("q=quokka%20lantern%20cheap&matching=all").await;
    assert_eq!((&strict["total_found"], &strict["matching"]), (&json!(0), &json!("all")));
}

#[tokio::test]
async fn the_least_informative_word_goes_and_more_matched_words_rank_first() {
    let app = spawn_app().await;
    create(&app, 9001, "Wombat Kettle").await;
    create(&app, 9002, "Numbat Kettle").await;
    create(&app, 9003, "Numbat Kettle Deluxe").await;
    create(&app, 9004, "Wombat Toaster").await;
    // No product is a wombat and a numbat: dropping wombat leaves two, numbat one.
    let results = app.search("q=kettle%20wombat%20numbat").await;
    assert_eq!(results["matching"], "partial");
    assert_eq!(results["not_required"], json!(["wombat"]));
    assert_eq!(ids(&results), [9002, 9003]);

    // Widening until three match: numbat and wombat tie (one match each), the later goes
    // first, then wombat; products matching more words come first.
    let app = spawn_app_with(&["--partial-match-below", "3"]).await;
    for (id, name) in [(9001, "Wombat Kettle"), (9002, "Numbat Kettle"), (9003, "Kettle"), (9004, "Kettle")] {
        create(&app, id, name).await;
    }
    let results = app.search("q=kettle%20wombat%20numbat&limit=100").await;
    assert_eq!(results["not_required"], json!(["numbat", "wombat"]));
    let found = ids(&results);
    let rank = |id: u64| found.iter().position(|&f| f == id).unwrap();
    for (more, fewer) in [(9001, 9003), (9001, 9004), (9002, 9003), (9002, 9004)] {
        assert!(rank(more) < rank(fewer), "{more} matches two words, {fewer} one: {found:?}");
    }
}

#[tokio::test]
async fn deleted_products_neither_keep_a_word_nor_choose_the_word_that_goes() {
    let app = spawn_app().await;
    // One write: the deleted products stay in the index's segment, marked deleted.
    let body: String = [(9001, "Wombat Kettle"), (9002, "Numbat Kettle"), (9003, "Numbat Kettle Deluxe")]
        .iter()
        .map(|(id, name)| format!("{}\n", json!({"product_id": id, "name": name})))
        .collect();
    let response = app.client.post(app.url("/products/bulk")).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(app.search("q=kettle%20wombat%20numbat").await["not_required"], json!(["wombat"]));
    for id in [9002, 9003] {
        let response = app.client.delete(app.url(&format!("/products/{id}"))).send().await.unwrap();
        assert_eq!(response.status(), 204);
    }
    // No live product is a numbat now: that word goes, as a word nothing has.
    let results = app.search("q=kettle%20wombat%20numbat").await;
    assert_eq!(results["not_required"], json!(["numbat"]));
    assert_eq!(ids(&results), [9001]);
    assert_eq!(results["total_found"], 1);
}

#[tokio::test]
async fn nonsense_still_finds_nothing_and_a_bad_mode_is_refused() {
    let app = spawn_app().await;
    let results = app.search("q=qxzjvk%20zzqxvw").await;
    assert_eq!((&results["total_found"], &results["matching"]), (&json!(0), &json!("partial")));
    assert_eq!(results["not_required"], json!(["qxzjvk", "zzqxvw"]));
    assert_error(
        app.get("/products/search?q=lamp&matching=some").await,
        400,
        "INVALID_INPUT",
        "matching must be auto or all",
    )
    .await;
}

#[tokio::test]
async fn stop_words_never_fail_a_query_nor_rank_as_prefixes_unless_no_product_holds_them() {
    let app = spawn_app().await;
    create(&app, 9001, "Quokka Lantern").await;
    let results = app.search("q=the%20quokka%20lantern%20for%20a").await;
    assert_eq!((ids(&results), &results["matching"]), (vec![9001], &json!("all")));

    // Stop words alone match as they are: `the` is no prefix of Theta.
    let results = app.search("q=the&highlight=true&limit=100").await;
    for hit in results["products"].as_array().unwrap() {
        let marked = hit["_highlights"].to_string();
        assert!(!marked.contains("<mark>Theta</mark>"), "{marked}");
    }
    // A stop word no product holds is a word being typed: `be` completes (`Beige`); the
    // stop words before it still match only as they are (`the` is no prefix of Theta).
    for (id, name) in [(9002, "Beige Theta Lamp"), (9003, "The Beige Lamp")] {
        let product = json!({"product_id": id, "name": name, "brand": "Quokkaco"});
        assert_eq!(app.put_product(id, &product).await.status(), 200);
    }
    let typed = app.search("q=be&limit=100").await;
    assert_eq!(typed["matching"], "all");
    for hit in typed["products"].as_array().unwrap() {
        let text = hit.to_string().to_lowercase();
        assert!(text.split(|c: char| !c.is_alphanumeric()).any(|word| word.starts_with("be")), "{hit}");
    }
    let mut typed = ids(&app.search("q=be&filter=brand%20%3D%20Quokkaco").await);
    typed.sort_unstable();
    assert_eq!(typed, [9002, 9003]);
    let typed = app.search("q=the%20be&filter=brand%20%3D%20Quokkaco").await;
    assert_eq!((ids(&typed), &typed["matching"]), (vec![9003], &json!("all")));
    // With no stop words configured, `for` must match like any word.
    let app = spawn_app_with(&["--stop-words", ""]).await;
    create(&app, 9001, "Quokka Lantern").await;
    let strict = app.search("q=quokka%20lantern%20for&matching=all").await;
    assert_eq!(strict["total_found"], 0);
}

#[tokio::test]
async fn joined_and_split_words_find_the_word_and_highlight_it() {
    let app = spawn_app().await;
    create(&app, 9001, "Quokka Soundbar").await;
    create(&app, 9002, "Wombat Dream Catcher").await;

    let joined = app.search("q=quokka%20sound%20bar&highlight=true").await;
    assert_eq!((ids(&joined), &joined["matching"]), (vec![9001], &json!("all")));
    assert_eq!(joined["products"][0]["_highlights"]["name"], "<mark>Quokka</mark> <mark>Soundbar</mark>");

    let split = app.search("q=dreamcatcher%20wombat&highlight=true").await;
    assert_eq!((ids(&split), &split["matching"]), (vec![9002], &json!("all")));
    assert_eq!(
        split["products"][0]["_highlights"]["name"],
        "<mark>Wombat</mark> <mark>Dream</mark> <mark>Catcher</mark>"
    );
}

#[tokio::test]
async fn synonyms_match_ranked_below_the_word_itself() {
    let app = spawn_app().await;
    create(&app, 9001, "Quokka Skillet").await;
    create(&app, 9002, "Quokka Frying Pan").await;
    let results = app.search("q=quokka%20skillet").await;
    assert_eq!(ids(&results), [9001, 9002], "the literal word first, then its synonym");
    let results = app.search("q=quokka%20frying%20pan&highlight=true").await;
    assert_eq!(ids(&results), [9002, 9001]);
    assert_eq!(results["products"][1]["_highlights"]["name"], "<mark>Quokka</mark> <mark>Skillet</mark>");
    assert!(names(&app.search("q=tee").await).iter().any(|name| name.contains("T-Shirt")));
}

#[tokio::test]
async fn a_synonyms_file_is_read_at_start_up_and_a_bad_one_refused_with_its_line() {
    let dir = std::env::temp_dir().join(format!("synonyms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.txt");
    std::fs::write(&good, "# mine\nquokka, wombat\n").unwrap();
    let app = spawn_app_with(&["--synonyms", good.to_str().unwrap()]).await;
    create(&app, 9001, "Wombat Lantern").await;
    assert_eq!(ids(&app.search("q=quokka%20lantern").await), [9001]);
    // The file replaces the built-in groups.
    assert!(!names(&app.search("q=tee&matching=all").await).iter().any(|name| name.contains("T-Shirt")));

    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "quokka, wombat\nlonely\n").unwrap();
    use clap::Parser;
    let config = product_search::config::Config::try_parse_from([
        "product-search",
        "--count",
        "10",
        "--synonyms",
        bad.to_str().unwrap(),
    ])
    .unwrap();
    let error = match product_search::startup::Application::build(config).await {
        Ok(_) => panic!("a bad synonyms file must stop the start-up"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("bad.txt") && error.contains("line 2"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
