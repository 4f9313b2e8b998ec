use clap::Parser;
use product_search::config::Config;
use product_search::startup::{Application, shutdown_signal};
use product_search::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format);
    let app = Application::build(config).await?;
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}
