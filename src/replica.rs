//! A replica: the store of record, the catalogue that follows its feed, and the one write
//! path between them. A write commits to the store, which gives it a version; the follower
//! reads the feed in version order and applies it to the catalogue; the writer answers once
//! its own version is applied, so it reads its own write. Other replicas' writes arrive the
//! same way, woken by the store's notifications and by a periodic catch-up read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use product_model::Product;
use rayon::prelude::*;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::analytics::{Analytics, AnalyticsSettings};
use crate::catalog::{self, Catalog};
use crate::config::Config;
use crate::observability;
use crate::search::{CaughtUp, Opened};
use crate::store::{
    Change, Committed, DatabaseState, Entry, MemoryStore, PgSettings, PgStore, Store, Write, WriteError,
};

/// Changes committed here and not applied yet, by version: the follower applies them
/// without reading them back from the store, as soon as every version before them is in.
type Pending = Arc<Mutex<BTreeMap<u64, Vec<Change>>>>;

/// How the follower paces itself, and how the feed is kept.
#[derive(Debug, Clone, Copy)]
pub struct FeedSettings {
    /// Read the feed at least this often, notified or not.
    pub poll: Duration,
    /// Commit the index at most once per this long: changes arriving meanwhile share the
    /// next commit. Each commit makes a segment whose terms every search must read once
    /// more, so under a steady write load this keeps search fast.
    pub commit_interval: Duration,
    /// Versions the feed keeps (0: all); see `--feed-retention-versions`.
    pub retention: u64,
    /// How long a silent replica keeps the feed from being pruned past it.
    pub replica_ttl: Duration,
    /// This replica's name in the list of replicas the feed waits for.
    pub replica: uuid::Uuid,
}

/// How often a replica reports its progress, prunes the feed and reads its size, at most:
/// it reports at least three times per `--feed-replica-ttl-ms`, so a live replica is
/// never taken for a silent one.
const UPKEEP: Duration = Duration::from_secs(5);

pub struct Replica {
    store: Arc<Store>,
    catalog: Arc<Catalog>,
    /// Wakes the follower: a write here committed, or the store said another one did.
    nudge: Arc<Notify>,
    /// The highest version this replica knows to be committed, for the lag metric.
    head: Arc<AtomicU64>,
    pending: Pending,
    tasks: Vec<JoinHandle<()>>,
}

impl Replica {
    /// Opens the store named by `config` (memory, or PostgreSQL: migrated, seeded if empty),
    /// builds the catalogue from it and starts following its feed.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let replica = uuid::Uuid::new_v4();
        let (store, catalog, opened) = match &config.database_url {
            None => {
                let config = config.clone();
                let settings = config.initial_settings()?;
                tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                    let products = initial_products(&config)?;
                    // The store's maps are filled once the catalogue is open: a build keeps
                    // every core busy, and maps filled beside it would only take its cores
                    // and add their memory to the peak of its indexing.
                    let (catalog, opened) = Catalog::open(
                        products.clone(),
                        0,
                        config.result_cache_size,
                        settings.clone(),
                        config.index_dir.as_deref(),
                    )?;
                    let store = MemoryStore::new(&products, settings)?;
                    Ok((Store::Memory(store), catalog, opened))
                })
                .await??
            }
            Some(url) => {
                let flags = config.initial_settings()?;
                let settings = PgSettings {
                    url: url.clone(),
                    password: config.database_password.clone(),
                    timeout: config.database_timeout(),
                    pool_size: config.database_pool_size,
                };
                let store = PgStore::connect(&settings).await?;
                let seed_config = config.clone();
                if store.seed_if_empty(move || initial_products(&seed_config)).await? {
                    tracing::info!("seeded the empty database");
                }
                let stored = store.settings_or(&flags).await?;
                if stored != flags {
                    tracing::info!(
                        "searching under the settings stored in the database, not those of the flags"
                    );
                }
                let snapshot = store.snapshot().await?;
                let settings = snapshot.settings.clone().unwrap_or(stored);
                // Said before the index is built, so the feed keeps what follows the snapshot.
                store.heartbeat(replica, snapshot.version).await?;
                let cache = config.result_cache_size;
                let index_dir = config.index_dir.clone();
                let (catalog, opened) = tokio::task::spawn_blocking(move || {
                    Catalog::open(snapshot.products, snapshot.version, cache, settings, index_dir.as_deref())
                        .map(|(catalog, opened)| (catalog.with_keys(snapshot.keys), opened))
                })
                .await??;
                (Store::Postgres(store), catalog, opened)
            }
        };
        if let Some(dir) = &config.index_dir {
            let dir = dir.display();
            match opened {
                Opened::Reopened(CaughtUp { unchanged, written, deleted }) => {
                    tracing::info!(%dir, unchanged, written, deleted, "kept index reopened and brought up to date")
                }
                Opened::Built { stale: Some(why) } => {
                    tracing::warn!(%dir, why, "the kept index was not served but built again")
                }
                Opened::Built { stale: None } => tracing::info!(%dir, "index built and kept"),
            }
        }
        let feed = FeedSettings {
            poll: config.feed_poll(),
            commit_interval: config.index_commit_interval(),
            retention: config.feed_retention_versions,
            replica_ttl: config.feed_replica_ttl(),
            replica,
        };
        Ok(Self::follow(store, catalog, feed))
    }

    /// Starts following `store`'s feed into `catalog`, reading it every `feed.poll` at
    /// least and committing the index at most once per `feed.commit_interval`.
    pub fn follow(store: Store, catalog: Catalog, feed: FeedSettings) -> Self {
        let store = Arc::new(store);
        let catalog = Arc::new(catalog);
        let nudge = Arc::new(Notify::new());
        let head = Arc::new(AtomicU64::new(catalog.version()));
        let pending = Pending::default();
        metrics::gauge!(observability::CATALOG_VERSION).set(catalog.version() as f64);
        let follower = Follower {
            store: Arc::clone(&store),
            catalog: Arc::clone(&catalog),
            nudge: Arc::clone(&nudge),
            head: Arc::clone(&head),
            pending: Arc::clone(&pending),
            timing: feed,
        };
        let mut tasks = vec![tokio::spawn(follower.run())];
        if let Store::Postgres(pg) = store.as_ref() {
            tasks.push(pg.listen(Arc::clone(&nudge), Arc::clone(&head)));
            tasks.push(tokio::spawn(upkeep(Arc::clone(&store), Arc::clone(&catalog), feed)));
        }
        Self { store, catalog, nudge, head, pending, tasks }
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    pub fn database_state(&self) -> DatabaseState {
        self.store.database_state()
    }

    /// Analytics kept where the catalogue is: in the database every replica shares, or in
    /// this process.
    pub fn analytics(&self, settings: AnalyticsSettings, timeout: Duration) -> Analytics {
        match self.store.as_ref() {
            Store::Postgres(store) => Analytics::in_postgres(store.pool().clone(), timeout, settings),
            Store::Memory(_) => Analytics::in_memory(settings),
        }
    }

    /// Commits `write` to the store, then waits until this replica has applied it (at most
    /// `patience`), so the answer and every later read here see it.
    pub async fn write(&self, write: Write, patience: Duration) -> Result<Committed, WriteError> {
        let committed = self.store.write(write).await?;
        self.head.fetch_max(committed.version, Ordering::Relaxed);
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(committed.version, committed.changes.clone());
        self.nudge.notify_one();
        // Applying takes as long as it takes (a large bulk write), unless the versions before
        // this one cannot be read because the database went away: then say so at once.
        let deadline = Instant::now() + patience;
        loop {
            let slice = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(100));
            if self.catalog.wait_for(committed.version, slice).await {
                return Ok(committed);
            }
            if Instant::now() >= deadline || self.store.database_state() == DatabaseState::Down {
                return Err(WriteError::NotAppliedYet(committed.version));
            }
        }
    }

    /// Waits until version `version` is applied here, at most `patience`: for clients that
    /// read through a load balancer what they wrote through another replica.
    pub async fn wait_for_version(&self, version: u64, patience: Duration) -> bool {
        if self.catalog.version() >= version {
            return true;
        }
        // The version is the client's word, not the store's: it never moves the lag metric.
        // The change may be committed while its notification is still on its way.
        self.nudge.notify_one();
        self.catalog.wait_for(version, patience).await
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Every [`UPKEEP`] (or a third of the replica time-to-live), with PostgreSQL: reports this replica's progress (so the feed keeps
/// what it needs), prunes the feed to its retention, and reads the feed's size for the
/// metrics. Failures are logged and tried again next time: none of it is urgent.
async fn upkeep(store: Arc<Store>, catalog: Arc<Catalog>, feed: FeedSettings) {
    let Store::Postgres(pg) = store.as_ref() else { return };
    loop {
        if let Err(error) = pg.heartbeat(feed.replica, catalog.version()).await {
            tracing::debug!(error = format!("{error:#}"), "reporting progress failed");
        }
        if feed.retention > 0
            && let Err(error) = pg.prune(feed.retention, feed.replica_ttl).await
        {
            tracing::warn!(error = format!("{error:#}"), "pruning the feed failed");
        }
        match pg.feed_stats().await {
            Ok(stats) => {
                metrics::gauge!(observability::FEED_HORIZON).set(stats.horizon as f64);
                metrics::gauge!(observability::FEED_VERSIONS)
                    .set(stats.head.saturating_sub(stats.horizon) as f64);
                metrics::gauge!(observability::FEED_BYTES).set(stats.bytes as f64);
            }
            Err(error) => tracing::debug!(error = format!("{error:#}"), "reading the feed's size failed"),
        }
        tokio::time::sleep(UPKEEP.min(feed.replica_ttl / 3)).await;
    }
}

/// The catalogue to start from, a JSONL file or the generator, each product behind the
/// `Arc` the catalogue and the store share (generated ones are made there, on every core).
fn initial_products(config: &Config) -> anyhow::Result<Vec<Arc<Product>>> {
    match &config.catalog {
        Some(path) => catalog::load_jsonl(path).with_context(|| format!("loading {}", path.display())),
        None => Ok((1..=config.count)
            .into_par_iter()
            .map(|id| Arc::new(data_gen::product(config.seed, id)))
            .collect()),
    }
}

/// The follower: on every nudge, and every `poll` in any case, applies what is next in
/// version order, page by page, until it has caught up: this replica's own writes straight
/// from `pending`, everything else read from the store's feed. Changes that arrive while a
/// page is applied, or within the commit interval after the last commit, are taken together
/// in the next page, so busy writers share index commits.
struct Follower {
    store: Arc<Store>,
    catalog: Arc<Catalog>,
    nudge: Arc<Notify>,
    head: Arc<AtomicU64>,
    pending: Pending,
    timing: FeedSettings,
}

impl Follower {
    async fn run(self) {
        let mut backoff = Duration::from_millis(50);
        let mut behind_since: Option<Instant> = None;
        let mut last_commit: Option<Instant> = None;
        loop {
            let _ = tokio::time::timeout(self.timing.poll, self.nudge.notified()).await;
            loop {
                let applied = self.catalog.version();
                let mut changes = self.take_pending(applied);
                if changes.is_empty() {
                    changes = match self.store.changes_since(applied).await {
                        Ok(changes) => changes,
                        Err(WriteError::BehindHorizon { horizon, .. }) => {
                            tracing::warn!(applied, horizon, "behind the pruned feed: loading a snapshot");
                            if let Err(error) = self.reload().await {
                                tracing::error!(
                                    error = format!("{error:#}"),
                                    "loading a snapshot failed; retrying"
                                );
                                tokio::time::sleep(backoff).await;
                                backoff = (backoff * 2).min(Duration::from_secs(2));
                                break;
                            }
                            continue;
                        }
                        Err(error) => {
                            tracing::debug!(error = %error, "reading the feed failed; retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(2));
                            break;
                        }
                    };
                }
                backoff = Duration::from_millis(50);
                let Some(last) = changes.last().map(|c| c.version) else {
                    break;
                };
                self.head.fetch_max(last, Ordering::Relaxed);
                // The index commits at most once per interval; what needs no commit (keys,
                // settings) before the first product change is applied at once, and this
                // replica's writes arriving during the wait join the commit.
                let wait = last_commit.and_then(|at| self.timing.commit_interval.checked_sub(at.elapsed()));
                let first_product = changes.iter().position(|c| matches!(c.entry, Entry::Product { .. }));
                if let (Some(wait), Some(first)) = (wait, first_product) {
                    let products = changes.split_off(first);
                    if !changes.is_empty() && self.apply(changes).await.is_none() {
                        tokio::time::sleep(backoff).await;
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    changes = products;
                    changes.extend(self.take_pending(last));
                }
                match self.apply(changes).await {
                    Some(true) => last_commit = Some(Instant::now()),
                    Some(false) => {}
                    None => {
                        tokio::time::sleep(backoff).await;
                        break;
                    }
                }
            }
            let lag = self.head.load(Ordering::Relaxed).saturating_sub(self.catalog.version());
            behind_since = if lag == 0 { None } else { behind_since.or_else(|| Some(Instant::now())) };
            metrics::gauge!(observability::FEED_LAG).set(lag as f64);
            metrics::gauge!(observability::FEED_LAG_SECONDS)
                .set(behind_since.map_or(0.0, |since| since.elapsed().as_secs_f64()));
        }
    }

    /// Applies `changes` to the catalogue off the async workers: whether the index was
    /// committed, or `None` (logged) when applying failed.
    async fn apply(&self, changes: Vec<Change>) -> Option<bool> {
        let last = changes.last().map(|c| c.version);
        let started = Instant::now();
        let applier = Arc::clone(&self.catalog);
        match tokio::task::spawn_blocking(move || applier.apply(&changes)).await {
            Ok(Ok(committed)) => {
                tracing::debug!(version = last, elapsed_ms = started.elapsed().as_millis() as u64, "applied");
                Some(committed)
            }
            Ok(Err(error)) => {
                tracing::error!(error = format!("{error:#}"), "applying the feed failed; retrying");
                None
            }
            Err(error) => {
                tracing::error!(error = %error, "applying the feed panicked; retrying");
                None
            }
        }
    }

    /// Loads the store's snapshot into the catalogue; searches go on with what it has
    /// until the new index is built.
    async fn reload(&self) -> anyhow::Result<()> {
        let snapshot = self.store.snapshot().await?;
        let version = snapshot.version;
        let catalog = Arc::clone(&self.catalog);
        tokio::task::spawn_blocking(move || catalog.reload(snapshot)).await??;
        self.head.fetch_max(version, Ordering::Relaxed);
        metrics::counter!(observability::SNAPSHOT_RELOADS).increment(1);
        tracing::info!(version, "snapshot loaded");
        Ok(())
    }

    /// This replica's own changes that come next after `applied`, in order, if any.
    fn take_pending(&self, applied: u64) -> Vec<Change> {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.retain(|version, _| *version > applied);
        let mut next = applied + 1;
        let mut changes = Vec::new();
        while let Some(mine) = pending.remove(&next) {
            changes.extend(mine);
            next += 1;
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica() -> Replica {
        let products = data_gen::generate(1, 10);
        let shared: Vec<Arc<Product>> = products.iter().cloned().map(Arc::new).collect();
        let store = MemoryStore::new(&shared, Default::default()).unwrap();
        let catalog = Catalog::build(products).unwrap();
        let timing = FeedSettings {
            poll: Duration::from_millis(20),
            commit_interval: Duration::ZERO,
            retention: 0,
            replica_ttl: Duration::from_secs(60),
            replica: uuid::Uuid::new_v4(),
        };
        Replica::follow(Store::Memory(store), catalog, timing)
    }

    #[tokio::test]
    async fn a_version_a_client_asks_for_never_counts_as_committed() {
        let replica = replica();
        assert!(!replica.wait_for_version(u64::MAX, Duration::from_millis(30)).await);
        assert_eq!(replica.head.load(Ordering::Relaxed), 0, "the lag metric reads the known head");
    }
}
