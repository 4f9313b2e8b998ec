//! The service's configuration: one struct, read once from flags or environment variables.
//! Each field's doc comment is its `--help` text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers such as CloudWatch.
    Json,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Exit 0 if the service answers its health check with 200, 1 otherwise: a container
    /// HEALTHCHECK for images without curl.
    Healthcheck {
        /// The health endpoint to ask.
        #[arg(long, default_value = "http://127.0.0.1:8080/health")]
        url: String,
        /// How long to wait for the answer.
        #[arg(long, default_value_t = 2_000)]
        timeout_ms: u64,
    },
    /// Print the API's OpenAPI 3.1 document (as served at `/openapi.json`) and exit: for
    /// client generators.
    Openapi,
}

/// Full-text product search over an in-memory catalogue.
#[derive(Debug, Clone, Parser)]
#[command(version, about, args_override_self = true)]
pub struct Config {
    /// Without a command, the service runs.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address the API listens on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// Address of the Prometheus metrics listener (`GET /metrics`), kept apart from the
    /// API so that a load balancer in front of the API does not expose it.
    #[arg(long, env = "METRICS_LISTEN_ADDR", default_value = "0.0.0.0:9464")]
    pub metrics_listen: SocketAddr,

    /// Number of products to generate when no catalogue file is given.
    #[arg(long, env = "CATALOG_COUNT", default_value_t = 100_000)]
    pub count: u64,

    /// Seed of the generated catalogue: the same seed and count give the same products.
    #[arg(long, env = "CATALOG_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Load this JSONL catalogue (one product per line) instead of generating one.
    #[arg(long, env = "CATALOG_FILE")]
    pub catalog: Option<PathBuf>,

    /// Keep the index in this directory (one per replica): a start that finds the index a
    /// previous one committed there reopens it and brings it up to date with the catalogue
    /// instead of indexing every product; one of another build or other searched attributes
    /// is built again. Unset: the index lives in memory and every start builds it.
    #[arg(long, env = "INDEX_DIR")]
    pub index_dir: Option<PathBuf>,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// When set, writes need `Authorization: Bearer <token>`: a key with the `write` action
    /// that no API call can revoke.
    #[arg(long, env = "WRITE_TOKEN", hide_env_values = true)]
    pub write_token: Option<String>,

    /// The master key: every action, keys included (`POST /keys` makes the others). With it,
    /// or once the catalogue holds any key, every search and write needs a key.
    #[arg(long, env = "MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// The key the search page sends with its searches: one with only the `search` action.
    /// Unset: a search key derived from the master key, the same on every replica.
    #[arg(long, env = "UI_SEARCH_KEY", hide_env_values = true)]
    pub ui_search_key: Option<String>,

    /// Longest a request may take before it is answered 504; kept well below the
    /// container's stop timeout so a drain always finishes.
    #[arg(long, env = "REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,

    /// Threads that run searches (default: one per core).
    #[arg(long, env = "SEARCH_THREADS")]
    pub search_threads: Option<usize>,

    /// Searches that may wait for a thread; past that a search is answered 503 at once.
    #[arg(long, env = "SEARCH_QUEUE", default_value_t = 256)]
    pub search_queue: usize,

    /// Search results remembered for repeated queries (0 turns the cache off). Every write
    /// empties it, so a write is visible to the next search.
    #[arg(long, env = "RESULT_CACHE_SIZE", default_value_t = 10_000)]
    pub result_cache_size: usize,

    /// PostgreSQL as the store of record (`postgres://user:password@host:5432/db`), shared by
    /// every replica. Unset: the catalogue lives in this process's memory only.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// The database password, when it is kept out of `--database-url` (a secret the
    /// platform injects, as ECS does from Secrets Manager); it replaces the URL's password.
    #[arg(long, env = "DATABASE_PASSWORD", hide_env_values = true)]
    pub database_password: Option<String>,

    /// Longest one database call may take; past it a write answers 503 at once rather
    /// than hang.
    #[arg(long, env = "DATABASE_TIMEOUT_MS", default_value_t = 2_000)]
    pub database_timeout_ms: u64,

    /// Connections to the database (one of them listens for other replicas' writes).
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 8)]
    pub database_pool_size: u32,

    /// How often the feed is read even without a notification, so a lost one delays a
    /// change by at most this long.
    #[arg(long, env = "FEED_POLL_MS", default_value_t = 1_000)]
    pub feed_poll_ms: u64,

    /// With PostgreSQL: how many versions the change feed keeps (0: all of them). Older
    /// ones are pruned, but never one a replica heard from within `--feed-replica-ttl-ms`
    /// still needs; a replica that falls further behind loads a snapshot instead.
    #[arg(long, env = "FEED_RETENTION_VERSIONS", default_value_t = 0)]
    pub feed_retention_versions: u64,

    /// How long a replica that stopped reporting its progress keeps the feed from being
    /// pruned past it (replicas report every 5 s, or a third of this when shorter).
    #[arg(long, env = "FEED_REPLICA_TTL_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(300..))]
    pub feed_replica_ttl_ms: u64,

    /// Least time between two index commits: writes arriving closer together share one
    /// commit, so a steady write load does not slow searches down. Bounds how much later a
    /// write becomes visible under load.
    #[arg(long, env = "INDEX_COMMIT_INTERVAL_MS", default_value_t = 50)]
    pub index_commit_interval_ms: u64,

    /// How long a request with `min-catalog-version` may wait for this replica to apply that
    /// version before it is answered 503.
    #[arg(long, env = "MIN_VERSION_WAIT_MS", default_value_t = 1_000)]
    pub min_version_wait_ms: u64,

    /// The initial synonym groups, one per line (`tv, television`); a bad line is refused
    /// at start-up. Unset: the groups of the repository's `synonyms.txt`, compiled in.
    /// `PATCH /settings` changes them live; with a database, stored settings win.
    #[arg(long, env = "SYNONYMS_FILE")]
    pub synonyms: Option<PathBuf>,

    /// The initial stop words: words that never make a query fail nor rank on their own,
    /// comma-separated, one word each (empty: none). A query of stop words alone matches
    /// them as they are.
    #[arg(long, env = "STOP_WORDS", default_value = crate::search::language::DEFAULT_STOP_WORDS)]
    pub stop_words: String,

    /// Initially: when fewer products than this match every word, the match widens,
    /// letting words go (see README "How matching works"); 1 widens only a query that would
    /// find nothing.
    #[arg(long, env = "PARTIAL_MATCH_BELOW", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=crate::settings::MAX_PARTIAL_MATCH_BELOW))]
    pub partial_match_below: u64,

    /// The attributes `filter` and `facets` may name initially, comma-separated, each as
    /// `attributes.<name>` (empty: none; the built-in fields always may). `PATCH /settings`
    /// changes them live; with a database, stored settings win.
    #[arg(long, env = "FILTERABLE_ATTRIBUTES", default_value = crate::settings::DEFAULT_FILTERABLE_ATTRIBUTES)]
    pub filterable_attributes: String,

    /// The initial ranking rules, comma-separated, each `<field>:asc` or `<field>:desc`
    /// over price, rating, in_stock or an attribute's numbers (`attributes.<name>`): they
    /// order products ranked equally, before the lower product id (empty: none).
    #[arg(long, env = "RANKING", default_value = "")]
    pub ranking: String,

    /// Requests per second one client address may make (0: no limit); past it, 429 with
    /// `Retry-After`. Health checks are not counted.
    #[arg(long, env = "RATE_LIMIT_PER_CLIENT", default_value_t = 0)]
    pub rate_limit_per_client: u32,

    /// Proxies in front of the service that append the address they saw to
    /// `X-Forwarded-For` (an ALB: 1). The client's address is the entry that many places from
    /// the right; 0 takes the connection's own peer.
    #[arg(long, env = "FORWARDED_HOPS", default_value_t = 0)]
    pub forwarded_hops: usize,

    /// Origins that may call the API from a browser: a comma-separated list
    /// (`https://shop.example,http://localhost:3000`), or `*` for any origin, which may
    /// then only read. Unset: no CORS headers, so browsers allow same-origin calls only.
    #[arg(long, env = "CORS_ALLOW_ORIGIN", value_parser = CorsOrigins::parse)]
    pub cors_allow_origin: Option<CorsOrigins>,

    /// Serve the search page at `/`.
    #[arg(long = "ui", env = "UI_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub ui_enabled: bool,

    /// Count what shoppers search for (per query and hour, with the products found) and
    /// the clicks and conversions `POST /events` reports. No client address or identifier
    /// is kept. `false` turns off the counts, `/analytics/*`, `/events` and `query_id`.
    #[arg(long, env = "ANALYTICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub analytics: bool,

    /// How often this replica adds its counts to the analytics table (the database's, shared
    /// by every replica, or this process's). A database outage loses at most one batch.
    #[arg(long, env = "ANALYTICS_FLUSH_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub analytics_flush_ms: u64,

    /// Days analytics are kept: older hours are deleted, and events on searches older than
    /// that are refused.
    #[arg(long, env = "ANALYTICS_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=3_650))]
    pub analytics_retention_days: i64,

    /// Searches a past query needs (each of them finding products) before `/suggestions`
    /// offers it to other shoppers.
    #[arg(long, env = "SUGGESTIONS_MIN_SEARCHES", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub suggestions_min_searches: u64,

    /// How often the suggestions are made again from the analytics (every replica's
    /// searches) and the catalogue.
    #[arg(long, env = "SUGGESTIONS_REFRESH_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(50..=86_400_000))]
    pub suggestions_refresh_ms: u64,

    /// After SIGTERM, how long /health answers 503 before the listener closes, so a load
    /// balancer stops routing here first. In-flight requests are drained after it.
    #[arg(long, env = "SHUTDOWN_DELAY_MS", default_value_t = 0)]
    pub shutdown_delay_ms: u64,
}

/// The browser origins `--cors-allow-origin` admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: any origin may read; none may write.
    Any,
    /// These origins (`scheme://host[:port]`, lower-cased) may read and write.
    List(Vec<String>),
}

impl CorsOrigins {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.trim() == "*" {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (scheme, host) = origin
                .split_once("://")
                .ok_or_else(|| format!("{origin:?} is not an origin such as https://shop.example"))?;
            let valid_host = !host.is_empty()
                && !host.contains(['/', '?', '#', '@', ' '])
                && host.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
            if !matches!(scheme, "http" | "https") || !valid_host {
                return Err(format!(
                    "{origin:?} is not an origin: scheme://host[:port], http or https, no path"
                ));
            }
            origins.push(origin.to_ascii_lowercase());
        }
        if origins.is_empty() {
            return Err("give one origin or more, comma-separated, or *".into());
        }
        Ok(Self::List(origins))
    }
}

impl Config {
    /// The settings the flags give (`--synonyms`, `--stop-words`, `--partial-match-below`,
    /// `--filterable-attributes`, `--ranking`):
    /// the initial settings, until `PUT` or `PATCH /settings` changes them.
    pub fn initial_settings(&self) -> anyhow::Result<crate::settings::Settings> {
        use anyhow::Context;
        let file = match &self.synonyms {
            None => None,
            Some(path) => Some((
                path.display().to_string(),
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading the synonyms file {}", path.display()))?,
            )),
        };
        crate::settings::Settings::from_flags(
            file.as_ref().map(|(name, text)| (name.as_str(), text.as_str())),
            &self.stop_words,
            self.partial_match_below,
            &self.filterable_attributes,
            &self.ranking,
        )
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_delay(&self) -> Duration {
        Duration::from_millis(self.shutdown_delay_ms)
    }

    pub fn database_timeout(&self) -> Duration {
        Duration::from_millis(self.database_timeout_ms)
    }

    pub fn feed_poll(&self) -> Duration {
        Duration::from_millis(self.feed_poll_ms.max(10))
    }

    pub fn feed_replica_ttl(&self) -> Duration {
        Duration::from_millis(self.feed_replica_ttl_ms)
    }

    pub fn index_commit_interval(&self) -> Duration {
        Duration::from_millis(self.index_commit_interval_ms)
    }

    pub fn analytics_settings(&self) -> crate::analytics::AnalyticsSettings {
        crate::analytics::AnalyticsSettings {
            flush_every: Duration::from_millis(self.analytics_flush_ms),
            retention_days: self.analytics_retention_days,
        }
    }

    pub fn min_version_wait(&self) -> Duration {
        Duration::from_millis(self.min_version_wait_ms)
    }

    pub fn search_threads(&self) -> usize {
        self.search_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_a_star_or_a_list_of_origins() {
        assert_eq!(CorsOrigins::parse("*"), Ok(CorsOrigins::Any));
        assert_eq!(
            CorsOrigins::parse("https://Shop.example, http://localhost:3000"),
            Ok(CorsOrigins::List(vec!["https://shop.example".into(), "http://localhost:3000".into()]))
        );
        for bad in ["", " , ", "shop.example", "ftp://x", "https://x/path", "https://", "https://a b"] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_page_is_on_unless_turned_off() {
        let parse = |args: &[&str]| Config::try_parse_from([&["product-search"], args].concat()).unwrap();
        assert!(parse(&[]).ui_enabled);
        assert!(!parse(&["--ui", "false"]).ui_enabled);
        assert!(parse(&["--ui", "true"]).ui_enabled);
        let refused = Config::try_parse_from(["product-search", "--cors-allow-origin", "https://x/path"]);
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("is not an origin"), "{message}");
    }
}
