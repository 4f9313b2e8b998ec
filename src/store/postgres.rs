//! The store in PostgreSQL, shared by every replica. A write's transaction changes the
//! products, increments the feed's head (whose row lock orders commits, so versions follow
//! commit order with no gaps), records the change rows and notifies the followers; all of it
//! commits or none of it does. Every call is bounded by a timeout, and a breaker refuses
//! writes at once while the database keeps failing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::TryStreamExt;
use product_model::{Product, first_sku_conflict, sku_key};
use rayon::prelude::*;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::breaker::Breaker;
use super::{Change, Committed, DatabaseState, Entry, FEED_PAGE, Snapshot, Write, WriteError};
use crate::keys::{ApiKey, MAX_KEYS};
use crate::observability;
use crate::settings::Settings;

/// The channel every write notifies with its version once it commits.
const CHANNEL: &str = "catalog_changes";
/// Held (per transaction) by the replica that seeds an empty database, so only one does.
const SEED_LOCK: i64 = 0x7072_6f64_7563_7473; // "products"
/// Held (per transaction) by the replica pruning the feed, so only one does.
const PRUNE_LOCK: i64 = 0x7072_756e_6566_6565; // "prunefee"
/// Most versions pruned in one transaction.
const PRUNE_STEP: i64 = 10_000;
/// Failures in a row that open the breaker, and how long it stays open.
const BREAKER_THRESHOLD: u32 = 3;
const BREAKER_COOL_DOWN: Duration = Duration::from_secs(1);
/// Longest wait for a connection from the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);
/// Products written per statement of a bulk write, so that each statement stays well within
/// the database timeout however large the bulk.
const BULK_PIECE: usize = 2_000;
/// How long start-up keeps trying to reach the database (RDS may still be starting).
const CONNECT_PATIENCE: Duration = Duration::from_secs(30);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The feed as its metrics show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedStats {
    /// The last version committed.
    pub head: u64,
    /// The version the feed was pruned through (0: never pruned).
    pub horizon: u64,
    /// The change table's size on disk, indexes included.
    pub bytes: u64,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// A `postgres://` URL.
    pub url: String,
    /// Replaces the URL's password when set.
    pub password: Option<String>,
    /// Longest any one database call may take before it fails as unavailable.
    pub timeout: Duration,
    /// Connections in the pool (one is kept for LISTEN).
    pub pool_size: u32,
}

pub struct PgStore {
    pool: PgPool,
    timeout: Duration,
    breaker: Breaker,
    /// Whether the last read of the feed succeeded.
    feed_ok: AtomicBool,
    /// Whether the notification listener's connection is up: the first to know when the
    /// database goes away, since its connection breaks at once.
    listening: Arc<AtomicBool>,
}

impl PgStore {
    /// Connects (retrying while the database starts), then migrates the schema; the
    /// migrator's advisory lock makes concurrent start-ups safe.
    pub async fn connect(settings: &PgSettings) -> anyhow::Result<Self> {
        let statement_timeout = settings.timeout.as_millis().max(1).to_string();
        let mut unbounded = PgConnectOptions::from_str(&settings.url)
            .context("DATABASE_URL is not a valid postgres:// URL")?
            .application_name("product-search");
        if let Some(password) = &settings.password {
            unbounded = unbounded.password(password);
        }
        let options = unbounded.clone().options([("statement_timeout", statement_timeout.as_str())]);
        // Waiting for a connection is bounded more tightly than a statement: when the
        // database is gone, connecting fails at once and retrying it only delays the 503.
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size.max(2))
            .acquire_timeout(settings.timeout.min(ACQUIRE_TIMEOUT))
            .connect_lazy_with(options);
        let started = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match sqlx::query("SELECT 1").execute(&pool).await {
                Ok(_) => break,
                Err(error) if started.elapsed() < CONNECT_PATIENCE => {
                    tracing::warn!(error = %error, "database not reachable yet; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                Err(error) => return Err(error).context("connecting to the database"),
            }
        }
        // Migrations run once, on a connection of their own without the statement timeout:
        // one that rewrites a table of millions of products takes longer than any call should.
        let mut migrating = tokio::time::timeout(settings.timeout, PgConnection::connect_with(&unbounded))
            .await
            .map_err(|_| anyhow::anyhow!("no connection to migrate with within {:?}", settings.timeout))?
            .context("connecting to migrate the database schema")?;
        MIGRATOR.run(&mut migrating).await.context("migrating the database schema")?;
        migrating.close().await.context("closing the migration's connection")?;
        Ok(Self {
            pool,
            timeout: settings.timeout,
            breaker: Breaker::new(BREAKER_THRESHOLD, BREAKER_COOL_DOWN),
            feed_ok: AtomicBool::new(true),
            listening: Arc::new(AtomicBool::new(true)),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Loads the initial catalogue from `products` if the database was never seeded and
    /// holds no product. Replicas starting together queue on a lock; the first seeds, the
    /// others find it done. Returns whether this call seeded.
    pub async fn seed_if_empty<F>(&self, products: F) -> anyhow::Result<bool>
    where
        F: FnOnce() -> anyhow::Result<Vec<Arc<Product>>> + Send + 'static,
    {
        let mut tx = self.pool.begin().await.context("seeding: starting a transaction")?;
        sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(SEED_LOCK).execute(&mut *tx).await?;
        let empty: bool = sqlx::query_scalar(
            "SELECT seeded_at IS NULL AND NOT EXISTS (SELECT 1 FROM products) FROM catalog_head",
        )
        .fetch_one(&mut *tx)
        .await?;
        if !empty {
            return Ok(false);
        }
        let products = tokio::task::spawn_blocking(products).await??;
        let count = products.len();
        let mut copy = tx
            .copy_in_raw("COPY products (product_id, sku_key, doc) FROM STDIN WITH (FORMAT csv)")
            .await
            .context("seeding: starting COPY")?;
        let mut buffer = Vec::with_capacity(1 << 20);
        for product in products {
            write!(buffer, "{},", product.product_id)?;
            if let Some(sku) = &product.sku {
                csv_field(&mut buffer, &sku_key(sku));
            }
            buffer.push(b',');
            csv_field(&mut buffer, &serde_json::to_string(&product)?);
            buffer.push(b'\n');
            if buffer.len() >= 1 << 20 {
                copy.send(buffer.as_slice()).await.context("seeding: COPY")?;
                buffer.clear();
            }
        }
        copy.send(buffer.as_slice()).await.context("seeding: COPY")?;
        copy.finish().await.context("seeding: COPY (are product ids unique?)")?;
        sqlx::query("UPDATE catalog_head SET seeded_at = now()").execute(&mut *tx).await?;
        tx.commit().await.context("seeding: commit (are SKUs unique?)")?;
        tracing::info!(products = count, "database seeded");
        Ok(true)
    }

    /// Stores `settings` as the catalogue's settings unless some are stored already (the
    /// first replica's flags win); the settings stored, either way.
    pub async fn settings_or(&self, settings: &Settings) -> anyhow::Result<Settings> {
        sqlx::query("INSERT INTO search_settings (doc) VALUES ($1::jsonb) ON CONFLICT DO NOTHING")
            .bind(serde_json::to_string(settings)?)
            .execute(&self.pool)
            .await
            .context("storing the initial settings")?;
        // A statement of its own, so it sees the row another replica inserted meanwhile.
        let doc: String = sqlx::query_scalar("SELECT doc::text FROM search_settings")
            .fetch_one(&self.pool)
            .await
            .context("reading the settings")?;
        Settings::from_stored(&doc)
    }

    /// Every product and key, with the feed version they reflect, read in one consistent
    /// snapshot.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let mut tx = self.pool.begin().await.context("snapshot: starting a transaction")?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM catalog_head").fetch_one(&mut *tx).await?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM products").fetch_one(&mut *tx).await?;
        let mut products = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        {
            // Rows are parsed in batches on every core while the next ones arrive, a few
            // batches at most in flight.
            let mut rows = sqlx::query_scalar::<_, String>("SELECT doc::text FROM products").fetch(&mut *tx);
            let mut parsing = VecDeque::new();
            let mut batch = Vec::with_capacity(SNAPSHOT_BATCH);
            loop {
                let doc = rows.try_next().await.context("snapshot: reading products")?;
                let last = doc.is_none();
                batch.extend(doc);
                if batch.len() == SNAPSHOT_BATCH || (last && !batch.is_empty()) {
                    let docs = std::mem::replace(&mut batch, Vec::with_capacity(SNAPSHOT_BATCH));
                    parsing.push_back(tokio::task::spawn_blocking(move || parse_docs(&docs)));
                }
                while parsing.len() > SNAPSHOT_BATCHES_IN_FLIGHT || (last && !parsing.is_empty()) {
                    let parsed = parsing.pop_front().expect("a batch in flight");
                    products.extend(parsed.await.context("snapshot: parsing products")??);
                }
                if last {
                    break;
                }
            }
        }
        let keys = sqlx::query_scalar::<_, String>("SELECT doc::text FROM api_keys")
            .fetch_all(&mut *tx)
            .await
            .context("snapshot: reading keys")?
            .iter()
            .map(|doc| parse_key(doc))
            .collect::<anyhow::Result<_>>()?;
        let settings = sqlx::query_scalar::<_, String>("SELECT doc::text FROM search_settings")
            .fetch_optional(&mut *tx)
            .await
            .context("snapshot: reading the settings")?
            .map(|doc| Settings::from_stored(&doc))
            .transpose()?;
        tx.commit().await?;
        Ok(Snapshot { products, keys, settings, version: version as u64 })
    }

    /// Listens for commit notifications and wakes `nudge` for each, reconnecting with
    /// backoff when the connection drops. `head` keeps the highest version heard of.
    pub fn listen(&self, nudge: Arc<Notify>, head: Arc<AtomicU64>) -> JoinHandle<()> {
        let pool = self.pool.clone();
        let listening = Arc::clone(&self.listening);
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                let mut listener = match PgListener::connect_with(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        listening.store(false, Ordering::Relaxed);
                        tracing::warn!(error = %error, "feed listener: cannot connect; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                };
                if let Err(error) = listener.listen(CHANNEL).await {
                    listening.store(false, Ordering::Relaxed);
                    tracing::warn!(error = %error, "feed listener: LISTEN failed; retrying");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
                listening.store(true, Ordering::Relaxed);
                backoff = Duration::from_millis(100);
                // Anything committed while we were not listening is read now.
                nudge.notify_one();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            if let Ok(version) = notification.payload().parse::<u64>() {
                                head.fetch_max(version, Ordering::Relaxed);
                            }
                            nudge.notify_one();
                        }
                        // The connection dropped: connect again above. Until it is back the
                        // database counts as down, since a broken connection is the first
                        // sign of a database that went away. Notifications may have been
                        // lost meanwhile, so the feed is read once it is.
                        Ok(None) => {
                            listening.store(false, Ordering::Relaxed);
                            break;
                        }
                        Err(error) => {
                            listening.store(false, Ordering::Relaxed);
                            tracing::warn!(error = %error, "feed listener: connection lost");
                            tokio::time::sleep(backoff).await;
                            break;
                        }
                    }
                }
            }
        })
    }

    pub fn state(&self) -> DatabaseState {
        if self.breaker.is_open()
            || !self.feed_ok.load(Ordering::Relaxed)
            || !self.listening.load(Ordering::Relaxed)
        {
            DatabaseState::Down
        } else {
            DatabaseState::Ok
        }
    }

    pub async fn write(&self, write: Write) -> Result<Committed, WriteError> {
        if !self.breaker.allow() {
            return Err(WriteError::Unavailable("repeated failures; retry shortly".into()));
        }
        // A bulk write is several statements, each bounded by the database timeout.
        let budget = self.timeout * u32::try_from(pieces(&write)).unwrap_or(u32::MAX);
        let outcome = match tokio::time::timeout(budget, self.write_retrying(&write)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(WriteError::Unavailable(format!("no answer within {budget:?}"))),
        };
        match &outcome {
            Err(WriteError::Unavailable(_)) => {
                metrics::counter!(observability::DB_ERRORS, "operation" => "write").increment(1);
                self.breaker.failed();
            }
            Err(WriteError::Internal(_)) => {
                metrics::counter!(observability::DB_ERRORS, "operation" => "write").increment(1);
            }
            _ => self.breaker.succeeded(),
        }
        outcome
    }

    /// One write, tried again when the database chose it as a deadlock's victim (two bulk
    /// writes locking the same rows); it had changed nothing.
    async fn write_retrying(&self, write: &Write) -> Result<Committed, WriteError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.write_once(write).await {
                Ok(committed) => return Ok(committed),
                Err(Failure::Refused(error)) => return Err(error),
                // Another writer holds the SKU: it committed while we waited for it.
                Err(Failure::Sql(error)) if sql_state(&error).as_deref() == Some("23505") => {
                    return Err(self.sku_conflict(write).await);
                }
                Err(Failure::Sql(error))
                    if attempt < 3 && matches!(sql_state(&error).as_deref(), Some("40P01" | "40001")) =>
                {
                    tracing::debug!(error = %error, attempt, "write retried");
                }
                Err(Failure::Sql(error)) => return Err(db_error(error)),
            }
        }
    }

    async fn write_once(&self, write: &Write) -> Result<Committed, Failure> {
        let mut tx = self.pool.begin().await?;
        let changed: Vec<Row> = match write {
            Write::Delete(id) => {
                let deleted: Option<i64> =
                    sqlx::query_scalar("DELETE FROM products WHERE product_id = $1 RETURNING product_id")
                        .bind(*id as i64)
                        .fetch_optional(&mut *tx)
                        .await?;
                if deleted.is_none() {
                    return Err(Failure::Refused(WriteError::NotFound(*id)));
                }
                vec![Row::product(*id, None)]
            }
            Write::Details { id, details } => {
                let mut created = Product::bare(*id);
                details.clone().apply_to(&mut created);
                let patch = serde_json::json!({
                    "sku": details.sku,
                    "manufacturer": details.manufacturer,
                    "category_id": details.category_id,
                    "weight": details.weight,
                    "some_other_id": details.some_other_id,
                });
                // The merge happens in the database, under the row's lock: no lost update.
                let doc: String = sqlx::query_scalar(
                    "INSERT INTO products (product_id, sku_key, doc) VALUES ($1, $2, $3::json)
                     ON CONFLICT (product_id) DO UPDATE
                       SET sku_key = EXCLUDED.sku_key, doc = (products.doc::jsonb || $4::jsonb)::json
                     RETURNING doc::text",
                )
                .bind(*id as i64)
                .bind(sku_key(&details.sku))
                .bind(to_json(&created)?)
                .bind(patch.to_string())
                .fetch_one(&mut *tx)
                .await?;
                vec![Row::product(*id, Some(doc))]
            }
            Write::Put(product) => {
                let doc = to_json(product)?;
                sqlx::query(
                    "INSERT INTO products (product_id, sku_key, doc) VALUES ($1, $2, $3::json)
                     ON CONFLICT (product_id) DO UPDATE SET sku_key = EXCLUDED.sku_key, doc = EXCLUDED.doc",
                )
                .bind(product.product_id as i64)
                .bind(product.sku.as_deref().map(sku_key))
                .bind(&doc)
                .execute(&mut *tx)
                .await?;
                vec![Row::product(product.product_id, Some(doc))]
            }
            Write::Bulk { products, .. } => {
                let mut rows: Vec<(i64, Option<String>, String)> = products
                    .iter()
                    .map(|p| Ok((p.product_id as i64, p.sku.as_deref().map(sku_key), to_json(p)?)))
                    .collect::<Result<_, Failure>>()?;
                // Rows are locked in id order, so two bulk writes cannot deadlock each other.
                rows.sort_unstable_by_key(|row| row.0);
                let (ids, keys, docs): (Vec<i64>, Vec<Option<String>>, Vec<String>) =
                    rows.into_iter().fold(Default::default(), |(mut i, mut k, mut d), (id, key, doc)| {
                        i.push(id);
                        k.push(key);
                        d.push(doc);
                        (i, k, d)
                    });
                // The batch's products first give up their SKUs, so it may swap SKUs among them.
                for piece in ids.chunks(BULK_PIECE) {
                    sqlx::query(
                        "UPDATE products SET sku_key = NULL WHERE product_id IN
                           (SELECT product_id FROM products WHERE product_id = ANY($1) ORDER BY product_id FOR UPDATE)",
                    )
                    .bind(piece)
                    .execute(&mut *tx)
                    .await?;
                }
                for start in (0..ids.len()).step_by(BULK_PIECE) {
                    let end = (start + BULK_PIECE).min(ids.len());
                    sqlx::query(
                        "INSERT INTO products (product_id, sku_key, doc)
                         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]::json[])
                         ON CONFLICT (product_id) DO UPDATE SET sku_key = EXCLUDED.sku_key, doc = EXCLUDED.doc",
                    )
                    .bind(&ids[start..end])
                    .bind(&keys[start..end])
                    .bind(&docs[start..end])
                    .execute(&mut *tx)
                    .await?;
                }
                ids.into_iter().zip(docs).map(|(id, doc)| Row::product(id as u64, Some(doc))).collect()
            }
            Write::CreateKey(key) => {
                let held: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE NOT doc ? 'revoked_at'")
                        .fetch_one(&mut *tx)
                        .await?;
                if held >= MAX_KEYS as i64 {
                    return Err(Failure::Refused(WriteError::TooManyKeys));
                }
                let doc = serde_json::to_string(key).map_err(|e| WriteError::Internal(e.into()))?;
                sqlx::query("INSERT INTO api_keys (id, doc) VALUES ($1, $2::jsonb)")
                    .bind(&key.id)
                    .bind(&doc)
                    .execute(&mut *tx)
                    .await?;
                vec![Row::key(&key.id, Some(doc))]
            }
            Write::RevokeKey { id, at } => {
                let revoked: Option<String> = sqlx::query_scalar(
                    "UPDATE api_keys SET doc = doc || jsonb_build_object('revoked_at', $2::bigint)
                     WHERE id = $1 AND NOT doc ? 'revoked_at' RETURNING doc::text",
                )
                .bind(id)
                .bind(*at as i64)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(doc) = revoked else {
                    return Err(Failure::Refused(WriteError::KeyNotFound(id.clone())));
                };
                vec![Row::key(id, Some(doc))]
            }
            Write::Settings(patch) => {
                // Merged in the database under the row's lock: two changes of different keys
                // both stay.
                let doc: Option<String> = sqlx::query_scalar(
                    "UPDATE search_settings SET doc = doc || $1::jsonb RETURNING doc::text",
                )
                .bind(patch.to_json().to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let doc =
                    doc.ok_or_else(|| WriteError::Internal(anyhow::anyhow!("no settings are stored")))?;
                vec![Row::settings(doc)]
            }
        };
        // Last, so the head's row lock is held only for the commit: it orders commits.
        let version: i64 =
            sqlx::query_scalar("UPDATE catalog_head SET version = version + 1 RETURNING version")
                .fetch_one(&mut *tx)
                .await?;
        let committed_at = super::now_epoch_seconds();
        let changes = changed
            .iter()
            .map(|row| row.change(version as u64, committed_at))
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(WriteError::Internal)?;
        for piece in changed.chunks(BULK_PIECE) {
            let kinds: Vec<&str> = piece.iter().map(|r| r.kind).collect();
            let ids: Vec<Option<i64>> = piece.iter().map(|r| r.product_id).collect();
            let entities: Vec<Option<&str>> = piece.iter().map(|r| r.entity.as_deref()).collect();
            let docs: Vec<Option<&str>> = piece.iter().map(|r| r.doc.as_deref()).collect();
            sqlx::query(
                "INSERT INTO changes (version, kind, product_id, entity, doc)
                 SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[]::json[])",
            )
            .bind(version)
            .bind(&kinds)
            .bind(&ids)
            .bind(&entities)
            .bind(&docs)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(version.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Committed { version: version as u64, written: changes.len(), changes })
    }

    /// The SKU conflict of a write the database refused, named by the rule the memory store
    /// applies: the first product (in order) whose SKU another product holds.
    async fn sku_conflict(&self, write: &Write) -> WriteError {
        let (products, lines): (Vec<Product>, &[usize]) = match write {
            Write::Details { id, details } => {
                let mut product = Product::bare(*id);
                details.clone().apply_to(&mut product);
                (vec![product], &[])
            }
            Write::Put(product) => (vec![product.clone()], &[]),
            Write::Bulk { products, lines } => (products.clone(), lines),
            Write::Delete(_) | Write::CreateKey(_) | Write::RevokeKey { .. } | Write::Settings(_) => {
                return WriteError::Internal(anyhow::anyhow!(
                    "a write without a SKU broke a uniqueness rule"
                ));
            }
        };
        let keys: Vec<String> = products.iter().filter_map(|p| p.sku.as_deref().map(sku_key)).collect();
        let rewritten: HashSet<u64> = products.iter().map(|p| p.product_id).collect();
        let held: Result<Vec<(String, i64)>, _> =
            sqlx::query_as("SELECT sku_key, product_id FROM products WHERE sku_key = ANY($1)")
                .bind(&keys)
                .fetch_all(&self.pool)
                .await;
        let mut owners: HashMap<String, Vec<u64>> = HashMap::new();
        for (key, id) in held.unwrap_or_default() {
            if !rewritten.contains(&(id as u64)) {
                owners.entry(key).or_default().push(id as u64);
            }
        }
        for product in &products {
            if let Some(sku) = &product.sku {
                owners.entry(sku_key(sku)).or_default().push(product.product_id);
            }
        }
        match first_sku_conflict(&products, &owners) {
            Some((i, sku, owner)) => WriteError::SkuTaken { sku, owner, line: lines.get(i).copied() },
            None => WriteError::Unavailable("the write lost a race for a SKU; retry".into()),
        }
    }

    pub async fn changes_since(&self, after: u64) -> Result<Vec<Change>, WriteError> {
        let read = sqlx::query_as::<_, (i64, String, Option<i64>, Option<String>, Option<String>, f64)>(
            "SELECT version, kind, product_id, entity, doc::text, extract(epoch FROM committed_at)::float8
             FROM changes WHERE version > $1 AND version <= $2 ORDER BY version, kind, product_id, entity",
        )
        .bind(after as i64)
        .bind((after + FEED_PAGE) as i64)
        .fetch_all(&self.pool);
        let rows = match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok(rows)) => rows,
            Ok(Err(error)) => return Err(self.feed_failed(db_error(error))),
            Err(_) => return Err(self.feed_failed(WriteError::Unavailable("feed read timed out".into()))),
        };
        if !self.feed_ok.swap(true, Ordering::Relaxed) {
            tracing::info!("database answered again: following the feed");
        }
        // A feed that answers means a database that answers: writes may try again.
        self.breaker.succeeded();
        // Nothing new, or not the next version: the versions after `after` may have been
        // pruned, which only the horizon tells.
        if rows.first().is_none_or(|row| row.0 as u64 != after + 1) {
            let horizon = self.horizon().await.map_err(|error| self.feed_failed(error))?;
            if horizon > after {
                return Err(WriteError::BehindHorizon { applied: after, horizon });
            }
        }
        rows.into_iter()
            .map(|(version, kind, product_id, entity, doc, committed_at)| {
                let row = Row { kind: Row::kind_named(&kind)?, product_id, entity, doc };
                Ok(row.change(version as u64, committed_at)?)
            })
            .collect()
    }

    /// The version the feed has been pruned through.
    async fn horizon(&self) -> Result<u64, WriteError> {
        let read =
            sqlx::query_scalar::<_, i64>("SELECT pruned_through FROM catalog_head").fetch_one(&self.pool);
        match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok(horizon)) => Ok(horizon as u64),
            Ok(Err(error)) => Err(db_error(error)),
            Err(_) => Err(WriteError::Unavailable("reading the feed's horizon timed out".into())),
        }
    }

    /// Records that replica `id` has applied `applied`: the feed keeps what it still needs.
    pub async fn heartbeat(&self, id: uuid::Uuid, applied: u64) -> anyhow::Result<()> {
        let beat = sqlx::query(
            "INSERT INTO replicas (id, applied, seen_at) VALUES ($1, $2, clock_timestamp())
             ON CONFLICT (id) DO UPDATE SET applied = EXCLUDED.applied, seen_at = EXCLUDED.seen_at",
        )
        .bind(id)
        .bind(applied as i64)
        .execute(&self.pool);
        tokio::time::timeout(self.timeout, beat).await.context("the heartbeat timed out")??;
        Ok(())
    }

    /// Prunes the feed to keep `retention` versions, but never past what a replica heard
    /// from within `replica_ttl` has yet to apply; a few thousand versions per transaction,
    /// so no lock is held long. One replica prunes at a time. Returns the horizon.
    pub async fn prune(&self, retention: u64, replica_ttl: Duration) -> anyhow::Result<u64> {
        loop {
            let mut tx = self.pool.begin().await.context("pruning: starting a transaction")?;
            let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                .bind(PRUNE_LOCK)
                .fetch_one(&mut *tx)
                .await?;
            let (head, horizon): (i64, i64) =
                sqlx::query_as("SELECT version, pruned_through FROM catalog_head")
                    .fetch_one(&mut *tx)
                    .await?;
            if !ours {
                return Ok(horizon as u64);
            }
            let needed: Option<i64> = sqlx::query_scalar(
                "SELECT min(applied) FROM replicas WHERE seen_at > clock_timestamp() - make_interval(secs => $1)",
            )
            .bind(replica_ttl.as_secs_f64())
            .fetch_one(&mut *tx)
            .await?;
            let target = (head - retention as i64).min(needed.unwrap_or(head)).min(horizon + PRUNE_STEP);
            if target <= horizon {
                // Replicas silent for a day are gone for good.
                sqlx::query("DELETE FROM replicas WHERE seen_at < clock_timestamp() - interval '1 day'")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(horizon as u64);
            }
            sqlx::query("DELETE FROM changes WHERE version > $1 AND version <= $2")
                .bind(horizon)
                .bind(target)
                .execute(&mut *tx)
                .await?;
            // Last, so the head's row is locked only for the commit.
            sqlx::query("UPDATE catalog_head SET pruned_through = $1").bind(target).execute(&mut *tx).await?;
            tx.commit().await.context("pruning: commit")?;
            tracing::debug!(from = horizon, through = target, "feed pruned");
        }
    }

    /// The feed's head, horizon and size on disk, for its metrics.
    pub async fn feed_stats(&self) -> anyhow::Result<FeedStats> {
        let read = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT version, pruned_through, pg_total_relation_size('changes') FROM catalog_head",
        )
        .fetch_one(&self.pool);
        let (head, horizon, bytes) =
            tokio::time::timeout(self.timeout, read).await.context("timed out")??;
        Ok(FeedStats { head: head as u64, horizon: horizon as u64, bytes: bytes as u64 })
    }

    fn feed_failed(&self, error: WriteError) -> WriteError {
        metrics::counter!(observability::DB_ERRORS, "operation" => "feed").increment(1);
        // A feed that cannot be read means writes would fail too: they are refused at once.
        if matches!(error, WriteError::Unavailable(_)) {
            self.breaker.failed();
        }
        if self.feed_ok.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %error, "database not answering: serving reads from memory");
        }
        error
    }
}

/// The statements' worth of work in `write`, in [`BULK_PIECE`]s: its time budget is one
/// database timeout per piece.
fn pieces(write: &Write) -> usize {
    match write {
        Write::Bulk { products, .. } => products.len().div_ceil(BULK_PIECE).max(1),
        _ => 1,
    }
}

/// A change as the feed's table holds it.
struct Row {
    kind: &'static str,
    product_id: Option<i64>,
    entity: Option<String>,
    doc: Option<String>,
}

impl Row {
    fn product(id: u64, doc: Option<String>) -> Self {
        Self { kind: "product", product_id: Some(id as i64), entity: None, doc }
    }

    fn key(id: &str, doc: Option<String>) -> Self {
        Self { kind: "key", product_id: None, entity: Some(id.to_owned()), doc }
    }

    fn settings(doc: String) -> Self {
        Self { kind: "settings", product_id: None, entity: Some("settings".into()), doc: Some(doc) }
    }

    fn kind_named(kind: &str) -> anyhow::Result<&'static str> {
        match kind {
            "product" => Ok("product"),
            "key" => Ok("key"),
            "settings" => Ok("settings"),
            other => anyhow::bail!("the feed holds a change of an unknown kind {other:?}"),
        }
    }

    fn change(&self, version: u64, committed_at: f64) -> anyhow::Result<Change> {
        let entry = match self.kind {
            "product" => Entry::Product {
                id: self.product_id.context("a product change without a product id")? as u64,
                product: self.doc.as_deref().map(parse_doc).transpose()?.map(Arc::new),
            },
            "settings" => Entry::Settings(Arc::new(Settings::from_stored(
                self.doc.as_deref().context("a settings change without settings")?,
            )?)),
            _ => Entry::Key(Arc::new(parse_key(self.doc.as_deref().context("a key change without a key")?)?)),
        };
        Ok(Change { version, entry, committed_at })
    }
}

/// Why one attempt at a write did not commit: refused by our rules, or an error of the
/// database to classify.
enum Failure {
    Refused(WriteError),
    Sql(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Sql(error)
    }
}

impl From<WriteError> for Failure {
    fn from(error: WriteError) -> Self {
        Self::Refused(error)
    }
}

/// The SQLSTATE of a database error.
fn sql_state(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(e) => e.code().map(|c| c.into_owned()),
        _ => None,
    }
}

fn to_json(product: &Product) -> Result<String, WriteError> {
    serde_json::to_string(product).map_err(|e| WriteError::Internal(e.into()))
}

fn parse_doc(doc: &str) -> anyhow::Result<Product> {
    serde_json::from_str(doc).context("a stored product is not a valid product")
}

/// Stored products read in one batch of a snapshot.
const SNAPSHOT_BATCH: usize = 8192;
/// Batches parsed while the next is read: enough to keep every core busy.
const SNAPSHOT_BATCHES_IN_FLIGHT: usize = 2;

/// `docs` parsed on every core, each behind the `Arc` the catalogue keeps it in.
fn parse_docs(docs: &[String]) -> anyhow::Result<Vec<Arc<Product>>> {
    docs.par_iter().map(|doc| parse_doc(doc).map(Arc::new)).collect()
}

fn parse_key(doc: &str) -> anyhow::Result<ApiKey> {
    serde_json::from_str(doc).context("a stored key is not a valid key")
}

/// Connection trouble, timeouts and a server shutting down are the database being
/// unavailable; anything else it says is a bug of ours.
fn db_error(error: sqlx::Error) -> WriteError {
    match &error {
        sqlx::Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            // 08: connection exception, 53: insufficient resources, 57: operator
            // intervention (statement timeout, shutdown), 40: serialization or deadlock.
            if ["08", "53", "57", "40"].iter().any(|class| code.starts_with(class)) {
                WriteError::Unavailable(e.message().to_owned())
            } else {
                WriteError::Internal(anyhow::Error::new(error).context("database error"))
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => WriteError::Unavailable(error.to_string()),
        _ => WriteError::Internal(anyhow::Error::new(error).context("database error")),
    }
}

/// Writes `text` as one quoted CSV field.
fn csv_field(buffer: &mut Vec<u8>, text: &str) {
    buffer.push(b'"');
    for byte in text.bytes() {
        if byte == b'"' {
            buffer.push(b'"');
        }
        buffer.push(byte);
    }
    buffer.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(count: u64) -> Write {
        let products: Vec<Product> = (1..=count).map(Product::bare).collect();
        let lines = (1..=count as usize).collect();
        Write::Bulk { products, lines }
    }

    #[test]
    fn a_bulks_time_budget_grows_with_its_statements() {
        assert_eq!(pieces(&Write::Delete(1)), 1);
        assert_eq!(pieces(&bulk(1)), 1);
        assert_eq!(pieces(&bulk(BULK_PIECE as u64)), 1);
        assert_eq!(pieces(&bulk(BULK_PIECE as u64 + 1)), 2);
        assert_eq!(pieces(&bulk(40_000)), 20);
    }
}
