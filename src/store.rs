//! The store of record and its change feed: one interface, two implementations. In memory
//! (no database: one process owns the catalogue) or in PostgreSQL (every replica shares one
//! catalogue). A write commits here first and gets its place in one totally ordered feed;
//! the catalogue and its index change only by following that feed (see [`crate::replica`]).

mod breaker;
mod memory;
mod postgres;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use product_model::{Product, ProductDetails};

use crate::keys::ApiKey;
use crate::settings::{Settings, SettingsPatch};

pub use memory::MemoryStore;
pub use postgres::{FeedStats, PgSettings, PgStore};

/// One write, as a client asked for it. Every write is all or nothing.
#[derive(Debug, Clone)]
pub enum Write {
    /// Set the detail fields of a product, creating it if absent; its other fields stay.
    Details { id: u64, details: ProductDetails },
    /// Create or replace a whole product.
    Put(Product),
    /// Remove a product.
    Delete(u64),
    /// Create or replace many products at once; ids are unique within the batch. `lines`
    /// holds each product's line in the request, for error messages.
    Bulk { products: Vec<Product>, lines: Vec<usize> },
    /// Add an API key (its secret already hashed).
    CreateKey(ApiKey),
    /// Revoke the API key with this id, at this time (seconds since the Unix epoch).
    RevokeKey { id: String, at: u64 },
    /// Change the search settings it names; the others stay.
    Settings(SettingsPatch),
}

/// A committed write: its place in the feed, how many products it wrote, and its changes
/// (so the replica that took it can apply it without reading the feed back).
#[derive(Debug, Clone)]
pub struct Committed {
    pub version: u64,
    pub written: usize,
    pub changes: Vec<Change>,
}

/// One entry's change at one version of the feed.
#[derive(Debug, Clone)]
pub struct Change {
    pub version: u64,
    pub entry: Entry,
    /// When the write committed, in seconds since the Unix epoch (for the feed's delay).
    pub committed_at: f64,
}

/// What one change is about, and what it is after the change (`None`: gone).
#[derive(Debug, Clone)]
pub enum Entry {
    Product {
        id: u64,
        product: Option<Arc<Product>>,
    },
    /// A key made or revoked: revoked keys are kept, marked so.
    Key(Arc<ApiKey>),
    /// The search settings, all of them, after a change.
    Settings(Arc<Settings>),
}

impl Entry {
    /// The entry's kind, as the feed's rows name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Product { .. } => "product",
            Self::Key(_) => "key",
            Self::Settings(_) => "settings",
        }
    }
}

/// Everything the store holds, as of one feed version.
pub struct Snapshot {
    /// Each behind the `Arc` the catalogue keeps it in.
    pub products: Vec<Arc<Product>>,
    pub keys: Vec<ApiKey>,
    /// `None`: never stored (the replica keeps the settings its flags give).
    pub settings: Option<Settings>,
    pub version: u64,
}

/// Why a write was refused or failed. Nothing of a refused write is stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{}sku {sku} is already used by product {owner}", line_prefix(*line))]
    SkuTaken { sku: String, owner: u64, line: Option<usize> },
    #[error("product with ID {0} not found")]
    NotFound(u64),
    #[error("no key has the id {0}")]
    KeyNotFound(String),
    #[error("the catalogue holds {} keys already; revoke one first", crate::keys::MAX_KEYS)]
    TooManyKeys,
    /// The database is down, slow or refusing work: retry later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The write committed, but this replica could not read the feed before it to apply it.
    #[error(
        "the write was committed as catalogue version {0}, but this replica cannot reach the database to apply \
         the versions before it yet; read it with min-catalog-version: {0}"
    )]
    NotAppliedYet(u64),
    /// The feed no longer holds the versions after `applied`: a replica that far behind
    /// loads a snapshot instead.
    #[error("the feed was pruned through version {horizon}, past version {applied}")]
    BehindHorizon { applied: u64, horizon: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn line_prefix(line: Option<usize>) -> String {
    line.map(|n| format!("line {n}: ")).unwrap_or_default()
}

/// Whether this replica has a database, and whether it is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseState {
    None,
    Ok,
    Down,
}

impl DatabaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Ok => "ok",
            Self::Down => "down",
        }
    }
}

/// The store of record, in memory or in PostgreSQL.
pub enum Store {
    Memory(MemoryStore),
    Postgres(PgStore),
}

/// Changes read from the feed at once: enough to catch up quickly, few enough that one
/// batch never holds the index writer for long.
pub const FEED_PAGE: u64 = 1_000;

impl Store {
    /// Commits `write` and gives it the next version of the feed.
    pub async fn write(&self, write: Write) -> Result<Committed, WriteError> {
        match self {
            Self::Memory(store) => store.write(write),
            Self::Postgres(store) => store.write(write).await,
        }
    }

    /// The committed changes after version `after`, in version order, of at most
    /// [`FEED_PAGE`] versions; a version is never split across two reads.
    pub async fn changes_since(&self, after: u64) -> Result<Vec<Change>, WriteError> {
        match self {
            Self::Memory(store) => Ok(store.changes_since(after)),
            Self::Postgres(store) => store.changes_since(after).await,
        }
    }

    pub fn database_state(&self) -> DatabaseState {
        match self {
            Self::Memory(_) => DatabaseState::None,
            Self::Postgres(store) => store.state(),
        }
    }

    /// Everything the store holds, as of one version. The memory store's feed is never
    /// pruned, so its follower never needs one.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        match self {
            Self::Memory(_) => anyhow::bail!("the memory store keeps its whole feed: no snapshot is needed"),
            Self::Postgres(store) => store.snapshot().await,
        }
    }
}

pub(crate) fn now_epoch_seconds() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64()
}
