//! product-search: full-text search over an in-memory product catalogue, served over HTTP.

/// Search analytics: queries, their results and the clicks on them, counted off the hot path.
pub mod analytics;
/// The catalogue a replica serves: products by id and the search index, kept in step by the feed.
pub mod catalog;
/// Configuration, read once from flags and environment variables.
pub mod config;
/// The `healthcheck` subcommand: a dependency-free HTTP probe of /health.
pub mod healthcheck;
/// The HTTP edge: router, middleware, handlers and the error contract.
pub mod http;
/// Values kept by key across requests, up to a capacity, then cleared whole.
pub mod kept;
/// API keys: their actions, their hashed secrets, and the ring a replica knows.
pub mod keys;
/// Prometheus metrics: names, recorder and the /metrics text.
pub mod observability;
/// A bounded pool that runs CPU-bound searches off the async workers.
pub mod pool;
/// A replica: the store, the catalogue following its feed, and the one write path.
pub mod replica;
/// Full-text search: analysis, the tantivy index and search requests.
pub mod search;
/// The search settings (synonyms, stop words, widening), changed live through the feed.
pub mod settings;
/// Building the application, binding its listener and serving until shutdown.
pub mod startup;
/// The store of record and its change feed: in memory, or in PostgreSQL.
pub mod store;
/// Logging set-up.
pub mod telemetry;
