//! The Lambda function: reads its settings once, then serves invocations with one proxy.

use std::time::Duration;

use lambda_http::{Error, Request, service_fn};
use proxy::Proxy;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    // Settings come from the function's environment, set by Terraform.
    let target = std::env::var("TARGET_URL").map_err(|_| "TARGET_URL must be set")?;
    let timeout_ms: u64 =
        std::env::var("TARGET_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(25_000);
    let proxy = Proxy::new(&target, Duration::from_millis(timeout_ms))?;
    let proxy = &proxy;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(proxy.handle(request).await)
    }))
    .await
}
