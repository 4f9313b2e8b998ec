use std::time::Duration;

use clap::Parser;
use product_search::config::{Command, Config};
use product_search::startup::{Application, shutdown_signal};
use product_search::{healthcheck, telemetry};

/// mimalloc rather than the system allocator: every request allocates its head, its
/// extensions and its answer, and a search its terms and pages; glibc's malloc and free were
/// an eighth of the CPU time of a `/health` request.
#[global_allocator]
static ALLOCATOR: allocator::MiMalloc = allocator::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    match &config.command {
        Some(Command::Healthcheck { url, timeout_ms }) => {
            if let Err(error) = healthcheck::check(url, Duration::from_millis(*timeout_ms)) {
                eprintln!("unhealthy: {error:#}");
                std::process::exit(1);
            }
            return Ok(());
        }
        Some(Command::Openapi) => {
            println!("{}", product_search::http::openapi_document());
            return Ok(());
        }
        None => {}
    }
    let _log_writer = telemetry::init(config.log_format);
    let app = Application::build(config).await?;
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}
