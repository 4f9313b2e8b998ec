//! Search analytics: what shoppers searched for, how many products each search found, and
//! which results they opened or bought.
//!
//! Kept off the hot path: a search adds one count to a batch in memory, under one short
//! lock. A background task flushes the batch every `--analytics-flush-ms` into the
//! analytics table. With PostgreSQL that table is shared, and every replica adds to it;
//! without, it is this process's, bounded. A failed flush loses that batch, never a search.
//! Nothing that identifies a shopper is stored, and queries that look private are not kept
//! (see [`normalise`]).

mod postgres;
mod query;
mod report;
mod suggest;
mod tally;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

pub use query::{Hour, MAX_QUERY_ID_CHARS, QueryId, normalise};
pub use report::{Hours, ProductRow, QueryKind, QueryRow};
pub use suggest::{MAX_SUGGESTIONS, Source, Suggester, Suggestion};
pub use tally::{Event, EventKind, ProductCounts, QueryCounts, Tally};

use crate::observability;

/// Rows a batch holds between two flushes. Searches and events that would need more are
/// not counted, and are counted as lost.
pub const MAX_BATCH_ROWS: usize = 50_000;
/// Rows the in-memory table keeps; past it, the oldest hours are forgotten.
pub const MAX_MEMORY_ROWS: usize = 500_000;
/// How often the retention period is applied.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
const SECONDS_PER_HOUR: u64 = 3_600;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The database is down or too slow.
    #[error("the analytics database is unavailable: {0}")]
    Unavailable(String),
}

/// Why an event was refused. Nothing of it was counted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("query_id is from a search older than the analytics retention ({0} days)")]
    TooOld(i64),
    #[error("query_id is from a search in the future")]
    FromTheFuture,
}

/// How often batches are flushed and how long rows are kept.
#[derive(Debug, Clone, Copy)]
pub struct AnalyticsSettings {
    pub flush_every: Duration,
    pub retention_days: i64,
}

/// Where the counts go.
enum Table {
    /// This process's rows.
    Memory(Mutex<Tally>),
    /// The tables every replica adds to.
    Postgres(postgres::PgTable),
}

pub struct Analytics {
    pending: Mutex<Tally>,
    table: Table,
    settings: AnalyticsSettings,
    /// One flush at a time: the timer's and the one at shutdown.
    flushing: tokio::sync::Mutex<()>,
    /// When the retention period was last applied.
    pruned: Mutex<Option<Instant>>,
}

/// The current hour since the Unix epoch.
pub fn current_hour() -> Hour {
    (crate::store::now_epoch_seconds() as u64 / SECONDS_PER_HOUR) as Hour
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Analytics {
    /// Analytics kept in this process.
    pub fn in_memory(settings: AnalyticsSettings) -> Self {
        Self::over(Table::Memory(Mutex::new(Tally::new(MAX_MEMORY_ROWS))), settings)
    }

    /// Analytics added to PostgreSQL's tables, every call bounded by `timeout`.
    pub fn in_postgres(pool: sqlx::PgPool, timeout: Duration, settings: AnalyticsSettings) -> Self {
        Self::over(Table::Postgres(postgres::PgTable::new(pool, timeout)), settings)
    }

    fn over(table: Table, settings: AnalyticsSettings) -> Self {
        Self {
            pending: Mutex::new(Tally::new(MAX_BATCH_ROWS)),
            table,
            settings,
            flushing: tokio::sync::Mutex::new(()),
            pruned: Mutex::new(None),
        }
    }

    /// Flushes every `flush_every` and applies the retention period, until the analytics
    /// are dropped.
    pub fn start(self: &Arc<Self>) -> JoinHandle<()> {
        let analytics = Arc::downgrade(self);
        let every = self.settings.flush_every;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(analytics) = analytics.upgrade() else { return };
                if let Err(error) = analytics.flush().await {
                    tracing::warn!(%error, "an analytics batch was lost");
                }
                analytics.prune_if_due().await;
            }
        })
    }

    /// Counts a search for the normalised `query` that found `found` products; returns the
    /// hour it was counted in.
    pub fn search(&self, query: &str, found: u64) -> Hour {
        let hour = current_hour();
        if !locked(&self.pending).search(hour, query, found) {
            metrics::counter!(observability::ANALYTICS_LOST).increment(1);
        }
        hour
    }

    /// Counts a click or conversion on the result of a search made within the retention
    /// period.
    pub fn event(&self, event: &Event) -> Result<(), EventError> {
        let now = current_hour();
        if event.search.hour > now + 1 {
            return Err(EventError::FromTheFuture);
        }
        if event.search.hour < self.oldest_kept(now) {
            return Err(EventError::TooOld(self.settings.retention_days));
        }
        if !locked(&self.pending).event(event) {
            metrics::counter!(observability::ANALYTICS_LOST).increment(1);
        }
        Ok(())
    }

    /// The first hour the retention period keeps, at hour `now`.
    fn oldest_kept(&self, now: Hour) -> Hour {
        now - self.settings.retention_days * 24
    }

    /// Adds the batch counted so far to the table and starts a new one. A batch the table
    /// refuses is lost, and its searches and events are counted as lost. Returns the rows
    /// written.
    pub async fn flush(&self) -> Result<usize, AnalyticsError> {
        let _one = self.flushing.lock().await;
        let batch = std::mem::replace(&mut *locked(&self.pending), Tally::new(MAX_BATCH_ROWS));
        if batch.is_empty() {
            return Ok(0);
        }
        let written = match &self.table {
            Table::Memory(table) => {
                locked(table).absorb(&batch);
                Ok(())
            }
            Table::Postgres(table) => table.add(&batch).await,
        };
        let outcome = if written.is_ok() { "ok" } else { "failed" };
        metrics::counter!(observability::ANALYTICS_FLUSHES, "outcome" => outcome).increment(1);
        if written.is_err() {
            metrics::counter!(observability::ANALYTICS_LOST).increment(batch.records());
        }
        written.map(|()| batch.rows())
    }

    /// Deletes the rows of hours the retention period no longer keeps, at most once per
    /// [`PRUNE_EVERY`].
    async fn prune_if_due(&self) {
        {
            let mut pruned = locked(&self.pruned);
            if pruned.is_some_and(|at| at.elapsed() < PRUNE_EVERY) {
                return;
            }
            *pruned = Some(Instant::now());
        }
        match self.forget_before(self.oldest_kept(current_hour())).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "deleted analytics past their retention"),
            Err(error) => tracing::warn!(%error, "could not delete analytics past their retention"),
        }
    }

    /// Deletes every row of an hour before `hour`; returns how many.
    pub async fn forget_before(&self, hour: Hour) -> Result<u64, AnalyticsError> {
        match &self.table {
            Table::Memory(table) => Ok(locked(table).forget_before(hour) as u64),
            Table::Postgres(table) => table.forget_before(hour).await,
        }
    }

    /// The first `limit` queries of the report `kind` over `hours`, as flushed.
    pub async fn queries(
        &self,
        kind: QueryKind,
        hours: Hours,
        limit: usize,
    ) -> Result<Vec<QueryRow>, AnalyticsError> {
        match &self.table {
            Table::Memory(table) => {
                Ok(report::queries(locked(table).queries_between(hours.from, hours.to), kind, limit))
            }
            Table::Postgres(table) => table.queries(kind, hours, limit).await,
        }
    }

    /// The `limit` most searched queries, over every hour kept, whose searches all found
    /// products and number at least `min_searches`: the past queries worth suggesting.
    pub async fn popular(
        &self,
        min_searches: u64,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, AnalyticsError> {
        match &self.table {
            Table::Memory(table) => {
                let table = locked(table);
                Ok(report::popular(table.queries_between(Hour::MIN, Hour::MAX), min_searches, limit))
            }
            Table::Postgres(table) => table.popular(min_searches, limit).await,
        }
    }

    /// The `limit` most clicked products over `hours`, as flushed.
    pub async fn products(&self, hours: Hours, limit: usize) -> Result<Vec<ProductRow>, AnalyticsError> {
        match &self.table {
            Table::Memory(table) => {
                let table = locked(table);
                Ok(report::products(
                    table.products_between(hours.from, hours.to).map(|(id, c)| (id, *c)),
                    limit,
                ))
            }
            Table::Postgres(table) => table.products(hours, limit).await,
        }
    }
}
