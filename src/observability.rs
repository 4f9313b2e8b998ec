//! Prometheus metrics: the names this service exports, the process-wide recorder, and the
//! text served on the metrics listener. Labels are bounded: routes are templates, never
//! raw paths.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "http_requests_in_flight";
pub const SEARCH_DURATION: &str = "search_duration_seconds";
pub const SEARCHES_SHED: &str = "search_requests_shed_total";
pub const SEARCHES_NO_RESULTS: &str = "search_no_results_total";
pub const ANALYTICS_FLUSHES: &str = "search_analytics_flushes_total";
pub const ANALYTICS_LOST: &str = "search_analytics_lost_total";
pub const RATE_LIMITED: &str = "http_requests_rate_limited_total";
pub const INDEX_DOCUMENTS: &str = "search_index_documents";
pub const INDEX_BUILD: &str = "search_index_build_duration_seconds";
pub const INDEX_REBUILD_PENDING: &str = "search_index_rebuild_pending";
pub const INDEX_REBUILD_SECONDS: &str = "search_index_rebuild_duration_seconds";
pub const INDEX_REBUILDS: &str = "search_index_rebuilds_total";
pub const CACHE_HITS: &str = "search_cache_hits_total";
pub const CACHE_MISSES: &str = "search_cache_misses_total";
pub const CATALOG_VERSION: &str = "catalog_version";
pub const FEED_LAG: &str = "catalog_feed_lag_versions";
pub const FEED_LAG_SECONDS: &str = "catalog_feed_lag_seconds";
pub const FEED_DELAY: &str = "catalog_feed_delay_seconds";
pub const FEED_HORIZON: &str = "catalog_feed_horizon_version";
pub const FEED_VERSIONS: &str = "catalog_feed_versions";
pub const FEED_BYTES: &str = "catalog_feed_bytes";
pub const SNAPSHOT_RELOADS: &str = "catalog_snapshot_reloads_total";
pub const DB_ERRORS: &str = "database_errors_total";
pub const DB_BREAKER_OPEN: &str = "database_breaker_open";
pub const RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
pub const CPU_SECONDS: &str = "process_cpu_seconds_total";

/// Every series name /metrics may carry, for dashboards and their tests.
pub const SERIES: &[&str] = &[
    HTTP_REQUESTS,
    HTTP_DURATION,
    HTTP_IN_FLIGHT,
    SEARCH_DURATION,
    SEARCHES_SHED,
    SEARCHES_NO_RESULTS,
    ANALYTICS_FLUSHES,
    ANALYTICS_LOST,
    RATE_LIMITED,
    INDEX_DOCUMENTS,
    INDEX_BUILD,
    INDEX_REBUILD_PENDING,
    INDEX_REBUILD_SECONDS,
    INDEX_REBUILDS,
    CACHE_HITS,
    CACHE_MISSES,
    CATALOG_VERSION,
    FEED_LAG,
    FEED_LAG_SECONDS,
    FEED_DELAY,
    FEED_HORIZON,
    FEED_VERSIONS,
    FEED_BYTES,
    SNAPSHOT_RELOADS,
    DB_ERRORS,
    DB_BREAKER_OPEN,
    RESIDENT_MEMORY,
    CPU_SECONDS,
];

/// Histogram buckets from 25 µs to 10 s: a cached search takes microseconds, a request
/// that times out takes seconds.
const BUCKETS: &[f64] = &[
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder, installed on first use. Every app in the process (tests
/// start many) shares it, as they share the process.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = [HTTP_DURATION, SEARCH_DURATION, FEED_DELAY].iter().fold(builder, |b, name| {
                b.set_buckets_for_metric(Matcher::Full((*name).to_owned()), BUCKETS)
                    .expect("buckets are not empty")
            });
            builder.install_recorder().expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Describes every series once, so /metrics carries HELP lines with units.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, route template and status");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request latency, by method and route template");
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being served now");
    describe_histogram!(SEARCH_DURATION, Unit::Seconds, "Time spent executing searches on the search pool");
    describe_counter!(SEARCHES_SHED, "Searches refused with 503 because the search pool was full");
    describe_counter!(
        SEARCHES_NO_RESULTS,
        "Searches that found no product (of all searches: search_duration_seconds_count)"
    );
    describe_counter!(ANALYTICS_FLUSHES, "Analytics batches flushed to their table, by outcome (ok, failed)");
    describe_counter!(
        ANALYTICS_LOST,
        "Searches and events not counted: a full batch, or a batch whose flush failed"
    );
    describe_counter!(RATE_LIMITED, "Requests refused with 429, by the limit they met (client, key)");
    describe_gauge!(INDEX_DOCUMENTS, "Products in the search index");
    describe_gauge!(
        INDEX_BUILD,
        Unit::Seconds,
        "Time taken to build the catalogue and its index at start-up"
    );
    describe_gauge!(
        INDEX_REBUILD_PENDING,
        "1 while an index is built in the background for the attributes the settings search, else 0"
    );
    describe_gauge!(
        INDEX_REBUILD_SECONDS,
        Unit::Seconds,
        "Time the last background index rebuild took, from the settings change to the swap"
    );
    describe_counter!(INDEX_REBUILDS, "Background index rebuilds finished, by outcome (swapped, failed)");
    describe_counter!(CACHE_HITS, "Searches answered from the result cache");
    describe_counter!(CACHE_MISSES, "Searches that had to run against the index");
    describe_gauge!(CATALOG_VERSION, "The change feed version this replica has applied");
    describe_gauge!(FEED_LAG, "Committed feed versions this replica knows of and has not applied yet");
    describe_gauge!(
        FEED_LAG_SECONDS,
        Unit::Seconds,
        "How long this replica has been behind the feed (0 when caught up)"
    );
    describe_histogram!(
        FEED_DELAY,
        Unit::Seconds,
        "Time from a change's commit in the store to its application on this replica"
    );
    describe_gauge!(FEED_HORIZON, "The version the change feed has been pruned through (0: never pruned)");
    describe_gauge!(FEED_VERSIONS, "Versions the change feed holds (from its horizon to its head)");
    describe_gauge!(
        FEED_BYTES,
        Unit::Bytes,
        "Size of the change feed's table in the database, indexes included"
    );
    describe_counter!(
        SNAPSHOT_RELOADS,
        "Times this replica fell behind the pruned feed and loaded a snapshot of the store instead"
    );
    describe_counter!(DB_ERRORS, "Database calls that failed, by operation (write, feed)");
    describe_gauge!(DB_BREAKER_OPEN, "1 while the database circuit breaker refuses writes, else 0");
    // Counters that may stay at zero still exist from the start, so rates are 0, not absent.
    for name in
        [SEARCHES_SHED, SEARCHES_NO_RESULTS, ANALYTICS_LOST, CACHE_HITS, CACHE_MISSES, SNAPSHOT_RELOADS]
    {
        metrics::counter!(name).increment(0);
    }
    metrics::gauge!(INDEX_REBUILD_PENDING).set(0.0);
    for outcome in ["swapped", "failed"] {
        metrics::counter!(INDEX_REBUILDS, "outcome" => outcome).increment(0);
    }
    for operation in ["write", "feed"] {
        metrics::counter!(DB_ERRORS, "operation" => operation).increment(0);
    }
    for scope in ["client", "key"] {
        metrics::counter!(RATE_LIMITED, "scope" => scope).increment(0);
    }
    for name in [FEED_LAG, FEED_LAG_SECONDS, DB_BREAKER_OPEN, FEED_HORIZON, FEED_VERSIONS, FEED_BYTES] {
        metrics::gauge!(name).increment(0.0);
    }
}

/// The Prometheus text exposition: our series, then the process's memory and CPU.
pub fn render(handle: &PrometheusHandle) -> String {
    handle.run_upkeep();
    let mut text = handle.render();
    if let Some(process) = ProcessStats::read() {
        text.push_str(&format!(
            "# HELP {RESIDENT_MEMORY} Resident memory size in bytes.\n# TYPE {RESIDENT_MEMORY} gauge\n{RESIDENT_MEMORY} {}\n",
            process.resident_bytes
        ));
        text.push_str(&format!(
            "# HELP {CPU_SECONDS} Total user and system CPU time spent in seconds.\n# TYPE {CPU_SECONDS} counter\n{CPU_SECONDS} {}\n",
            process.cpu.as_secs_f64()
        ));
    }
    text
}

/// Memory and CPU of this process, from /proc (Linux only; elsewhere nothing).
struct ProcessStats {
    resident_bytes: u64,
    cpu: Duration,
}

impl ProcessStats {
    fn read() -> Option<Self> {
        // Both files count in units the kernel fixes on Linux: 4 KiB pages and 100 ticks/s.
        const PAGE: u64 = 4096;
        const TICKS: u64 = 100;
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name, which sits in parentheses and may hold spaces.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Self { resident_bytes: resident_pages * PAGE, cpu: Duration::from_millis(ticks * 1000 / TICKS) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_processes_memory_and_cpu() {
        let stats = ProcessStats::read().expect("running on Linux");
        assert!(stats.resident_bytes > 1 << 20);
    }
}
