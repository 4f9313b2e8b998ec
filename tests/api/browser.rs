//! What browsers meet: CORS (`--cors-allow-origin`), the search page at `/` (`--ui`) and the
//! OpenAPI document at `/openapi.json`.

use reqwest::{Method, Response};
use serde_json::Value;

use crate::helpers::{TestApp, assert_error, details, spawn_app, spawn_app_with};

const SITE: &str = "https://shop.example";
const OTHER: &str = "https://elsewhere.example";

async fn from_origin(app: &TestApp, method: Method, path: &str, origin: &str) -> Response {
    app.client.request(method, app.url(path)).header("origin", origin).send().await.unwrap()
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

fn lists(response: &Response, name: &str, wanted: &str) -> bool {
    header(response, name).is_some_and(|v| v.split(',').any(|item| item.trim().eq_ignore_ascii_case(wanted)))
}

#[tokio::test]
async fn without_the_flag_no_cors_headers_are_sent() {
    let app = spawn_app().await;
    let response = from_origin(&app, Method::GET, "/products/search?q=alpha", SITE).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().keys().all(|k| !k.as_str().starts_with("access-control-")));
    let response = preflight(&app, "/products/search", SITE, "GET", "content-type").await;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn any_origin_may_read_with_the_api_headers_exposed() {
    let app = spawn_app_with(&["--cors-allow-origin", "*"]).await;
    let response = from_origin(&app, Method::GET, "/products/search?q=alpha", OTHER).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some("*"));
    assert!(lists(&response, "access-control-expose-headers", "catalog-version"));
    assert!(lists(&response, "access-control-expose-headers", "x-request-id"));

    let response = preflight(&app, "/products/search", OTHER, "GET", "min-catalog-version").await;
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some("*"));
    assert!(lists(&response, "access-control-allow-methods", "GET"));
    assert!(lists(&response, "access-control-allow-headers", "min-catalog-version"));
}

#[tokio::test]
async fn any_origin_may_not_write() {
    let app = spawn_app_with(&["--cors-allow-origin", "*"]).await;
    for (method, path) in [
        ("PUT", "/products/1"),
        ("POST", "/products/1/details"),
        ("DELETE", "/products/1"),
        ("PATCH", "/settings"),
    ] {
        let response = preflight(&app, path, OTHER, method, "content-type").await;
        assert!(!lists(&response, "access-control-allow-methods", method), "{method} allowed from *");
    }
    // A browser that skips the preflight (a form post) is refused at the server, and
    // nothing changes.
    let response = from_origin(&app, Method::DELETE, "/products/1", OTHER).await;
    assert_error(response, 403, "FORBIDDEN", &format!("the origin {OTHER} may not write to this API")).await;
    assert_eq!(app.get("/products/1").await.status(), 200);

    // The page's own origin, and clients that are not browsers, still write.
    let own = format!("http://{}", app.addr);
    assert_eq!(from_origin(&app, Method::DELETE, "/products/1", &own).await.status(), 204);
    let response = app.client.delete(app.url("/products/2")).send().await.unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn without_cors_a_write_from_another_site_is_refused_whatever_its_content_type() {
    let app = spawn_app().await;
    let before: Value = app.get("/products/1").await.json().await.unwrap();
    let body = details(1, "EVIL-1").to_string();
    // "Simple" requests: a browser sends them without a preflight.
    for (path, content_type) in [("/products/1/details", "text/plain"), ("/products/bulk", "text/plain")] {
        let response = app
            .client
            .post(app.url(path))
            .header("origin", OTHER)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_error(response, 403, "FORBIDDEN", &format!("the origin {OTHER} may not write to this API"))
            .await;
    }
    // A browser that names no origin still says the request is another site's.
    let response = app
        .client
        .delete(app.url("/products/1"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "FORBIDDEN", "a request from another site may not write to this API").await;
    let response = app
        .client
        .delete(app.url("/products/1"))
        .header("origin", "null")
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let after: Value = app.get("/products/1").await.json().await.unwrap();
    assert_eq!(before, after, "nothing was written");

    // The page's own requests, and clients that are not browsers, still write.
    let response = app
        .client
        .post(app.url("/products/1/details"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", format!("http://{}", app.addr))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(app.post_raw("/products/2/details", details(2, "PLAIN-2").to_string()).await.status(), 204);
}

#[tokio::test]
async fn listed_origins_may_read_and_write_and_others_may_not() {
    let app = spawn_app_with(&["--cors-allow-origin", &format!("{SITE},http://localhost:3000")]).await;
    let response = preflight(&app, "/products/1", SITE, "PUT", "authorization,content-type").await;
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some(SITE));
    assert!(lists(&response, "access-control-allow-methods", "PUT"));
    assert!(lists(&response, "access-control-allow-headers", "authorization"));
    let response = preflight(&app, "/settings", SITE, "PATCH", "authorization,content-type").await;
    assert!(lists(&response, "access-control-allow-methods", "PATCH"), "settings are changed with PATCH");

    let response = app
        .client
        .put(app.url("/products/1"))
        .header("origin", SITE)
        .header("content-type", "application/json")
        .body(r#"{"product_id": 1, "name": "Renamed lamp"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some(SITE));

    let response = from_origin(&app, Method::GET, "/products/1", OTHER).await;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    let response = preflight(&app, "/products/1", OTHER, "PUT", "content-type").await;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    let response = from_origin(&app, Method::DELETE, "/products/1", OTHER).await;
    assert_eq!(response.status(), 403);
    let product: Value = app.get("/products/1").await.json().await.unwrap();
    assert_eq!(product["name"], "Renamed lamp");
}

#[tokio::test]
async fn the_search_page_and_its_assets_are_served_self_contained() {
    let app = spawn_app().await;
    let page = app.get("/?q=alpha+lamp&page=2").await;
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type").unwrap().starts_with("text/html"));
    let policy = header(&page, "content-security-policy").unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<input id="q""#) && html.contains(r#"<label for="q""#), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"), "the page loads nothing from elsewhere");
    for (path, kind) in [("/assets/search.js", "text/javascript"), ("/assets/search.css", "text/css")] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(header(&response, "content-type").unwrap().starts_with(kind), "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("http://") && !body.contains("https://"), "{path} refers elsewhere");
    }
}

#[tokio::test]
async fn the_page_can_be_turned_off() {
    let app = spawn_app_with(&["--ui", "false"]).await;
    for path in ["/", "/assets/search.js", "/assets/search.css"] {
        assert_error(app.get(path).await, 404, "NOT_FOUND", "no such route").await;
    }
    assert_eq!(app.get("/products/search?q=alpha").await.status(), 200);
}

#[tokio::test]
async fn the_openapi_document_is_served_and_lists_every_api_route() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document, serde_json::from_str::<Value>(&product_search::http::openapi_document()).unwrap());
    let operations: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().map(move |method| format!("{method} {path}"))
        })
        .collect();
    for expected in [
        "get /health",
        "get /products/search",
        "get /products/export",
        "post /products/bulk",
        "get /products/{product_id}",
        "put /products/{product_id}",
        "delete /products/{product_id}",
        "post /products/{product_id}/details",
        "post /keys",
        "get /keys",
        "delete /keys/{key_id}",
        "get /settings",
        "put /settings",
        "patch /settings",
        "get /analytics/queries",
        "get /analytics/products",
        "post /events",
        "get /suggestions",
    ] {
        assert!(operations.contains(&expected.to_owned()), "{expected} is not documented: {operations:?}");
    }
    assert_eq!(operations.len(), 18, "{operations:?}");
}
