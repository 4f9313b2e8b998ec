//! `GET`, `PUT` and `PATCH /settings` on one replica: the flags as the initial settings,
//! changes applied to the next search (result cache included), bad settings refused by
//! name with nothing changed, and the write token. Two replicas: see `replicas.rs`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_mentions, ids, spawn_app, spawn_app_with};

async fn create(app: &TestApp, id: u64, name: &str) {
    assert_eq!(app.put_product(id, &json!({"product_id": id, "name": name})).await.status(), 200);
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    body: &Value,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url("/settings")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn patch(app: &TestApp, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::PATCH, &body, None).await
}

async fn settings(app: &TestApp) -> Value {
    let response = app.get("/settings").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn version_of(response: &reqwest::Response) -> u64 {
    response.headers()["catalog-version"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_start_up_flags_are_the_initial_settings() {
    let flags = [
        "--stop-words",
        "the, of",
        "--partial-match-below",
        "3",
        "--filterable-attributes",
        "attributes.size",
        "--ranking",
        "rating:desc",
    ];
    let app = spawn_app_with(&flags).await;
    let settings = settings(&app).await;
    assert_eq!(settings["stop_words"], json!(["the", "of"]));
    assert_eq!(settings["partial_match_below"], 3);
    assert_eq!(settings["synonyms"][0], json!(["headphones", "earphones", "headset"]), "the built-in file");
    assert_eq!(settings["filterable_attributes"], json!(["attributes.size"]));
    assert_eq!(settings["searchable_attributes"][0], json!({"name": "name", "weight": 3.0}));
    assert_eq!(settings["ranking"], json!(["rating:desc"]));
    assert_eq!(settings["rules"], json!([]));
    assert_eq!(settings.as_object().unwrap().len(), 7, "{settings}");
}

#[tokio::test]
async fn a_synonym_added_live_turns_a_query_without_results_into_results() {
    // The result cache is on: the change must empty it.
    let app = spawn_app_with(&["--result-cache-size", "100"]).await;
    create(&app, 9001, "Wombat Lantern").await;
    assert_eq!(app.search("q=quokka").await["total_found"], 0);

    let response = patch(&app, json!({"synonyms": [["quokka", "wombat"]]})).await;
    assert_eq!(response.status(), 200);
    let before = version_of(&response);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"], "applied");
    assert_eq!(answer["settings"]["synonyms"], json!([["quokka", "wombat"]]));
    assert_eq!(ids(&app.search("q=quokka").await), [9001]);
    assert_eq!(settings(&app).await, answer["settings"]);

    // The same change again is a write of its own, at the next version.
    let again = patch(&app, json!({"synonyms": [["quokka", "wombat"]]})).await;
    assert_eq!(version_of(&again), before + 1);
}

#[tokio::test]
async fn stop_words_and_the_widening_threshold_change_the_next_search() {
    let app = spawn_app().await;
    create(&app, 9001, "Quokka Lantern").await;
    create(&app, 9002, "Quokka Teapot").await;
    let strict = "q=quokka%20lantern%20for&matching=all";
    assert_eq!(ids(&app.search(strict).await), [9001], "`for` is a stop word");
    assert_eq!(patch(&app, json!({"stop_words": []})).await.status(), 200);
    assert_eq!(app.search(strict).await["total_found"], 0, "without stop words, `for` must match");

    let two_words = app.search("q=quokka%20lantern").await;
    assert_eq!((ids(&two_words), &two_words["matching"]), (vec![9001], &json!("all")));
    assert_eq!(patch(&app, json!({"partial_match_below": 2})).await.status(), 200);
    let widened = app.search("q=quokka%20lantern").await;
    assert_eq!(widened["matching"], "partial", "one match is fewer than 2: the match widens");
    assert_eq!(ids(&widened)[0], 9001);
    assert!(ids(&widened).contains(&9002), "{widened}");
}

#[tokio::test]
async fn patch_keeps_the_other_settings_and_put_gives_absent_ones_their_defaults() {
    let app = spawn_app_with(&["--partial-match-below", "5"]).await;
    let initial = settings(&app).await;
    assert_eq!(patch(&app, json!({"stop_words": ["lamp"]})).await.status(), 200);
    let patched = settings(&app).await;
    assert_eq!(patched["stop_words"], json!(["lamp"]));
    assert_eq!((&patched["synonyms"], &patched["partial_match_below"]), (&initial["synonyms"], &json!(5)));

    let put = send(&app, reqwest::Method::PUT, &json!({"synonyms": [["tv", "telly"]]}), None).await;
    assert_eq!(put.status(), 200);
    let replaced = settings(&app).await;
    assert_eq!(replaced["synonyms"], json!([["tv", "telly"]]));
    assert_eq!(replaced["partial_match_below"], 1, "the default, not the flag");
    let defaults = spawn_app().await;
    assert_eq!(replaced["stop_words"], settings(&defaults).await["stop_words"]);
}

#[tokio::test]
async fn a_bad_setting_is_refused_by_name_and_changes_nothing() {
    let app = spawn_app().await;
    let before = settings(&app).await;
    let version = version_of(&app.get("/health").await);
    let cases = [
        (
            json!({"synonyms": [["tv", "television"], ["sofa"]]}),
            "synonyms[1]: a group needs two or more different members",
        ),
        (
            json!({"synonyms": "tv, television"}),
            "synonyms must be a list of groups, each a list of words or phrases",
        ),
        (
            json!({"stop_words": ["the", "new york"]}),
            "stop_words[1]: \"new york\" is 2 words; a stop word is one word",
        ),
        (json!({"partial_match_below": 0}), "partial_match_below must be an integer from 1 to 1000000"),
        (json!({"rules": ["rating:desc"]}), "rules[0] must be an object"),
        (
            json!({"rank": ["rating:desc"]}),
            "rank is not a setting; the settings are synonyms, stop_words, partial_match_below, filterable_attributes, \
             searchable_attributes, ranking, rules",
        ),
        (json!({"ranking": ["rating:desc", "rating:asc"]}), "ranking[1]: rating already has a rule"),
        (json!(["synonyms"]), "settings must be a JSON object"),
    ];
    for (body, message) in cases {
        for method in [reqwest::Method::PATCH, reqwest::Method::PUT] {
            assert_error(send(&app, method, &body, None).await, 400, "INVALID_INPUT", message).await;
        }
    }
    let not_json = app.client.patch(app.url("/settings")).body("{").send().await.unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(settings(&app).await, before);
    assert_eq!(version_of(&app.get("/health").await), version, "nothing was written");
}

#[tokio::test]
async fn changing_settings_needs_the_write_token_and_reading_them_does_not() {
    let app = spawn_app_with(&["--write-token", "s3cret"]).await;
    let body = json!({"partial_match_below": 2});
    for method in [reqwest::Method::PATCH, reqwest::Method::PUT] {
        assert_eq!(send(&app, method.clone(), &body, None).await.status(), 401);
        assert_eq!(send(&app, method, &body, Some("wrong")).await.status(), 401);
    }
    assert_eq!(settings(&app).await["partial_match_below"], 1, "nothing changed");
    assert_eq!(send(&app, reqwest::Method::PATCH, &body, Some("s3cret")).await.status(), 200);
    assert_eq!(settings(&app).await["partial_match_below"], 2);
}

#[tokio::test]
async fn a_settings_change_is_not_held_back_by_the_index_commit_interval() {
    // A write may wait 2.5 s to be applied; the next index commit is 10 s away. Settings
    // make no commit, so they apply at once, however recent the last commit.
    let app = spawn_app_with(&["--index-commit-interval-ms", "10000", "--request-timeout-ms", "3000"]).await;
    create(&app, 9001, "Wombat Lantern").await;
    let response = patch(&app, json!({"synonyms": [["quokka", "wombat"]]})).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let again = patch(&app, json!({"stop_words": ["of"]})).await;
    assert_eq!(again.status(), 200);
    assert_eq!(ids(&app.search("q=quokka").await), [9001]);
}

#[tokio::test]
async fn filterable_attributes_change_live_what_filters_and_facets_may_name() {
    let app = spawn_app().await;
    let lamp =
        json!({"product_id": 9001, "name": "Quokka Lamp", "attributes": {"finish": "Matte", "watts": 40}});
    assert_eq!(app.put_product(9001, &lamp).await.status(), 200);
    let filter =
        "/products/search?filter=attributes.finish%20%3D%20matte%20AND%20attributes.watts%20%3C%3D%2060";
    let refused = app.get(filter).await;
    assert_eq!(refused.status(), 400);
    let message = refused.json::<Value>().await.unwrap()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("filter names attributes.finish, which is not filterable"), "{message}");
    let facets = "/products/search?q=quokka&facets=attributes.watts";
    assert_eq!(app.get(facets).await.status(), 400);

    let bad = patch(&app, json!({"filterable_attributes": ["attributes.finish", "finish"]})).await;
    assert_error_mentions(bad, 400, "INVALID_INPUT", "filterable_attributes[1]: \"finish\" is not a field")
        .await;
    let before = settings(&app).await;
    assert!(!before["filterable_attributes"].as_array().unwrap().contains(&json!("attributes.finish")));

    let changed = json!({"filterable_attributes": ["attributes.finish", "attributes.watts"]});
    let answer: Value = patch(&app, changed).await.json().await.unwrap();
    assert_eq!(answer["status"], "applied");
    assert_eq!(ids(&app.get(filter).await.json().await.unwrap()), [9001]);
    let counted: Value = app.get(facets).await.json().await.unwrap();
    assert_eq!(counted["facets"]["attributes.watts"], json!({"min": 40.0, "max": 40.0}));
    // The generated catalogue's attributes are no longer filterable.
    assert_eq!(app.get("/products/search?filter=attributes.color%20%3D%20red").await.status(), 400);
}

#[tokio::test]
async fn a_long_synonym_list_fits_and_a_body_over_a_mebibyte_is_refused() {
    let app = spawn_app().await;
    // About 190 KB: more than any other write body may hold, within the settings' bounds.
    let groups: Vec<Value> = (0..900)
        .map(|i| json!([format!("{}{i}", "quokka".repeat(15)), format!("{}{i}", "wombat".repeat(15))]))
        .collect();
    let long = json!({ "synonyms": groups });
    assert!(long.to_string().len() > 150_000);
    let response = patch(&app, long).await;
    assert_eq!(response.status(), 200);
    assert_eq!(settings(&app).await["synonyms"].as_array().unwrap().len(), 900);

    let huge = json!({ "stop_words": ["x".repeat(1024 * 1024)] });
    let refused = patch(&app, huge).await;
    assert_eq!(refused.status(), 413);
    assert_eq!(settings(&app).await["synonyms"].as_array().unwrap().len(), 900, "nothing changed");
}

#[tokio::test]
async fn searchable_fields_and_their_weights_change_the_next_search() {
    let app = spawn_app_with(&["--result-cache-size", "100"]).await;
    let in_name = json!({"product_id": 9001, "name": "Quokka Lamp", "description": "A lamp."});
    let in_description =
        json!({"product_id": 9002, "name": "Desk Lamp", "description": "A quokka on a lamp."});
    for (id, product) in [(9001, in_name), (9002, in_description)] {
        assert_eq!(app.put_product(id, &product).await.status(), 200);
    }
    assert_eq!(ids(&app.search("q=quokka").await), [9001, 9002], "the name weighs most");

    let description_first = json!({"searchable_attributes": [
        {"name": "name", "weight": 1}, {"name": "description", "weight": 10}
    ]});
    let answer: Value = patch(&app, description_first).await.json().await.unwrap();
    assert_eq!(answer["status"], "applied");
    assert_eq!(ids(&app.search("q=quokka").await), [9002, 9001]);

    // A field left out is not searched at all.
    let names_only = json!({"searchable_attributes": [{"name": "name", "weight": 3}]});
    assert_eq!(patch(&app, names_only).await.status(), 200);
    assert_eq!(ids(&app.search("q=quokka&matching=all").await), [9001]);
    assert_eq!(
        app.search("q=a%20quokka%20on&matching=all").await["total_found"],
        1,
        "the description is not searched"
    );

    let bad = patch(&app, json!({"searchable_attributes": [{"name": "name", "weight": 0}]})).await;
    assert_error_mentions(bad, 400, "INVALID_INPUT", "searchable_attributes[0].weight must be").await;
    assert_eq!(
        settings(&app).await["searchable_attributes"],
        json!([{"name": "name", "weight": 3.0}]),
        "nothing changed"
    );
}

#[tokio::test]
async fn ranking_rules_order_equally_relevant_products_and_change_the_next_search() {
    let app = spawn_app_with(&["--result-cache-size", "100"]).await;
    // Four products the query ranks equally (the same name, nothing else) and one that
    // ranks above them all (`Wombat` alone in its name: a shorter field).
    let products = [
        json!({"product_id": 9101, "name": "Wombat Stool", "rating": 3.0, "attributes": {"popularity": 5}}),
        json!({"product_id": 9102, "name": "Wombat Stool", "rating": 4.5, "attributes": {"popularity": [1, 9]}}),
        json!({"product_id": 9103, "name": "Wombat Stool", "attributes": {"popularity": 7}}),
        json!({"product_id": 9104, "name": "Wombat Stool", "rating": 4.5, "attributes": {"popularity": "high"}}),
        json!({"product_id": 9105, "name": "Wombat", "rating": 1.0}),
    ];
    for product in &products {
        let id = product["product_id"].as_u64().unwrap();
        assert_eq!(app.put_product(id, product).await.status(), 200);
    }
    let query = "q=wombat";
    assert_eq!(ids(&app.search(query).await), [9105, 9101, 9102, 9103, 9104], "ties by product id");

    let answer: Value = patch(&app, json!({"ranking": ["rating:desc", "attributes.popularity:desc"]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "applied");
    assert_eq!(answer["settings"]["ranking"], json!(["rating:desc", "attributes.popularity:desc"]));
    // Rating first (9103 has none: last), then the highest popularity (9104's is text: none).
    assert_eq!(ids(&app.search(query).await), [9105, 9102, 9104, 9101, 9103]);

    assert_eq!(patch(&app, json!({"ranking": ["attributes.popularity:asc"]})).await.status(), 200);
    // A list ranks by its lowest number ascending; no number, last.
    assert_eq!(ids(&app.search(query).await), [9105, 9102, 9101, 9103, 9104]);
    // Under a sort, rules break ties of the sort value and score.
    assert_eq!(ids(&app.search("q=wombat&sort=rating_desc").await), [9102, 9104, 9101, 9105, 9103]);

    let bad = patch(&app, json!({"ranking": ["category:asc"]})).await;
    assert_error_mentions(bad, 400, "INVALID_INPUT", "ranking[0]: \"category:asc\": category is text").await;
    assert_eq!(settings(&app).await["ranking"], json!(["attributes.popularity:asc"]), "nothing changed");
}

#[tokio::test]
async fn an_attribute_made_searchable_is_built_in_the_background_while_every_search_answers() {
    let app = std::sync::Arc::new(spawn_app_with(&["--count", "30000"]).await);
    let lamp = json!({"product_id": 90001, "name": "Desk Lamp", "attributes": {"material": "Quokkawood"}});
    assert_eq!(app.put_product(90001, &lamp).await.status(), 200);
    assert_eq!(app.search("q=quokkawood&matching=all").await["total_found"], 0, "not searched yet");
    // Searches that name no material: their pages stay the same through the rebuild.
    let queries =
        ["q=wireless%20headphones", "q=desk%20lamp&sort=price_asc&limit=30", "q=running%20shoes&offset=20"];
    let page = |answer: &Value| (answer["total_found"].as_u64().unwrap(), ids(answer));
    let mut before = Vec::new();
    for query in queries {
        before.push(page(&app.search(query).await));
    }

    let mut searched = settings(&app).await["searchable_attributes"].as_array().unwrap().clone();
    searched.push(json!({"name": "attributes.material", "weight": 1}));
    let answer: Value = patch(&app, json!({ "searchable_attributes": searched })).await.json().await.unwrap();
    assert_eq!(answer["status"], "pending", "{answer}");
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["index_rebuild"]["attributes"], json!(["attributes.material"]), "{health}");

    // Searches under load while it builds and when it is swapped in: every one answers,
    // with the page it gave before.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..3 {
        let (app, done, before) = (app.clone(), done.clone(), before.clone());
        clients.push(tokio::spawn(async move {
            let mut answered = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) || answered < 5 {
                let i = (client + answered) % queries.len();
                let answer = app.search(queries[i]).await;
                assert_eq!(page(&answer), before[i], "{} during the rebuild", queries[i]);
                answered += 1;
            }
            answered
        }));
    }
    app.wait_for_rebuild().await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for client in clients {
        assert!(client.await.unwrap() >= 5);
    }
    assert_eq!(ids(&app.search("q=quokkawood&matching=all").await), [90001], "the material is searched");
    for (query, before) in queries.iter().zip(&before) {
        assert_eq!(&page(&app.search(query).await), before, "{query} after the rebuild");
    }
    assert!(app.metric("search_index_rebuilds_total{outcome=\"swapped\"}").await >= 1.0);
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert!(health["index_rebuild"].is_null(), "{health}");
}
