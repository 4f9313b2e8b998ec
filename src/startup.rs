//! Building the application: the catalogue and its index, the listener (bound here so tests
//! can ask for port 0 and learn the real port), and serving until a shutdown signal.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::analytics::Suggester;
use crate::config::Config;
use crate::http::{self, AppState};
use crate::observability;
use crate::pool::WorkPool;
use crate::replica::Replica;

pub struct Application {
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
    config: Config,
}

impl Application {
    /// Opens the store (memory, or the database: migrated and seeded if empty), builds and
    /// indexes the catalogue from it, starts following its feed and binds both listeners.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let started = Instant::now();
        observability::handle();
        observability::describe();
        // Start-up frees most of what it allocates on threads that then sleep or end: returned
        // at once, it does not stay resident (see the `allocator` crate).
        let freed_at_once = allocator::FreedAtOnce::new();
        let replica = Replica::open(&config).await?;
        drop(freed_at_once);
        let took = started.elapsed();
        let catalog = replica.catalog();
        tracing::info!(
            products = catalog.len(),
            version = catalog.version(),
            database = replica.database_state().as_str(),
            elapsed_ms = took.as_millis() as u64,
            "catalogue indexed"
        );
        metrics::gauge!(observability::INDEX_BUILD).set(took.as_secs_f64());
        metrics::gauge!(observability::INDEX_DOCUMENTS).set(catalog.len() as f64);
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let metrics_listener = TcpListener::bind(config.metrics_listen)
            .await
            .with_context(|| format!("binding {}", config.metrics_listen))?;
        let analytics = config.analytics.then(|| {
            let analytics =
                Arc::new(replica.analytics(config.analytics_settings(), config.database_timeout()));
            analytics.start();
            analytics
        });
        let suggester = Arc::new(Suggester::new(config.suggestions_min_searches));
        suggester.start(
            analytics.clone(),
            Arc::clone(replica.catalog()),
            Duration::from_millis(config.suggestions_refresh_ms),
        );
        let state = AppState::new(
            Arc::new(replica),
            analytics,
            suggester,
            WorkPool::new(config.search_threads(), config.search_queue)?,
            &config,
        );
        Ok(Self { listener, metrics_listener, state, config })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then answers /health with 503 for the configured
    /// delay, stops accepting connections and drains the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        let metrics_addr = self.metrics_addr();
        let draining = self.state.draining();
        let delay = self.config.shutdown_delay();
        let replica = Arc::clone(self.state.replica());
        let analytics = self.state.analytics().cloned();
        let router = http::router(self.state, self.config.request_timeout());
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics = tokio::spawn(
            axum::serve(self.metrics_listener, http::metrics_router(observability::handle()))
                .with_graceful_shutdown(async move {
                    let _ = metrics_stopped.await;
                })
                .into_future(),
        );
        tracing::info!(%addr, %metrics_addr, "listening");
        let version = Arc::new(move || replica.catalog().version());
        http::serve(self.listener, router, version, async move {
            shutdown.await;
            draining.store(true, Ordering::SeqCst);
            tracing::info!(delay_ms = delay.as_millis() as u64, "shutting down: draining");
            tokio::time::sleep(delay).await;
        })
        .await?;
        // The searches answered since the last flush are counted too.
        if let Some(analytics) = analytics
            && let Err(error) = analytics.flush().await
        {
            tracing::warn!(%error, "the last analytics batch was lost");
        }
        // Metrics stay up until the API has drained, so the drain itself is observable.
        let _ = stop_metrics.send(());
        metrics.await.map_err(std::io::Error::other)??;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.expect("installing the Ctrl-C handler");
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler")
            .recv()
            .await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
