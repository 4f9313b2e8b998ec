//! Starting the real application on port 0 over a small seeded catalogue.

use std::net::SocketAddr;

use clap::Parser;
use product_model::Product;
use product_search::config::Config;
use product_search::startup::Application;
use reqwest::{Client, Response};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SEED: u64 = 7;
pub const COUNT: u64 = 500;

pub struct TestApp {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub client: Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// The app over `COUNT` products of seed `SEED`, default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The app with extra command-line flags, e.g. `&["--write-token", "s3cret"]`.
pub async fn spawn_app_with(flags: &[&str]) -> TestApp {
    let count = COUNT.to_string();
    let seed = SEED.to_string();
    let mut args = vec![
        "product-search",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--count",
        &count,
        "--seed",
        &seed,
    ];
    args.extend_from_slice(flags);
    let config = Config::try_parse_from(args).expect("valid test flags");
    let app = Application::build(config).await.expect("the app builds");
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp { addr, metrics_addr, client: Client::new(), stop: Some(stop), server: Some(server) }
}

/// The generated products the test app serves.
pub fn catalogue() -> Vec<Product> {
    data_gen::generate(SEED, COUNT)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates or replaces product `id` with `body`.
    pub async fn put_product(&self, id: u64, body: &Value) -> Response {
        self.client.put(self.url(&format!("/products/{id}"))).json(body).send().await.expect("request sent")
    }

    /// The metrics listener's Prometheus text.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("http://{}/metrics", self.metrics_addr))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200);
        response.text().await.expect("a text body")
    }

    /// The value of one series (`name{labels}` as Prometheus prints it), 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let prefix = format!("{series} ");
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    pub async fn search(&self, query: &str) -> Value {
        let response = self.get(&format!("/products/search?{query}")).await;
        assert_eq!(response.status(), 200, "search {query}");
        assert_eq!(response.headers()["content-type"], "application/json", "search {query}");
        response.json().await.expect("a JSON body")
    }

    /// Waits until `/health` shows no index rebuild in progress (at most a minute).
    pub async fn wait_for_rebuild(&self) {
        let started = std::time::Instant::now();
        loop {
            let health: Value = self.get("/health").await.json().await.expect("a JSON body");
            if health["index_rebuild"].is_null() {
                return;
            }
            assert!(started.elapsed().as_secs() < 60, "the index rebuild never finished: {health}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Begins a graceful shutdown and returns the server task to await.
    pub fn begin_shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        let _ = self.stop.take().expect("not stopped yet").send(());
        self.server.take().expect("server running")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// The product ids of a search answer, in rank order.
pub fn ids(results: &Value) -> Vec<u64> {
    results["products"].as_array().unwrap().iter().map(|p| p["product_id"].as_u64().unwrap()).collect()
}

/// Asserts an error response: status, `error` code and exact message.
pub async fn assert_error(response: Response, status: u16, code: &str, message: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(body["message"], message, "{body}");
}

/// Asserts an error response's status and code, and that its message mentions `words`.
pub async fn assert_error_mentions(response: Response, status: u16, code: &str, words: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().expect("a message");
    assert!(message.contains(words), "{message:?} should mention {words:?}");
}

/// A details body as in the product API's transcripts.
pub fn details(id: u64, sku: &str) -> Value {
    serde_json::json!({
        "product_id": id,
        "sku": sku,
        "manufacturer": "Acme Corporation",
        "category_id": 456,
        "weight": 1250,
        "some_other_id": 789
    })
}
