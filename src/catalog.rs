//! The catalogue: every product by id, unique SKUs, and the search index kept in step with
//! them. Writes are serialised and visible to the next read once they return.

mod details;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};

use anyhow::{Context, bail};
use data_gen::Product;

use crate::observability;
use crate::search::highlight;
use crate::search::{Facets, SearchIndex, SearchRequest, analyzer, sku_key};

pub use details::{DetailsError, ProductDetails};

/// Why a write was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("sku {sku} is already used by product {owner}")]
    SkuTaken { sku: String, owner: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A page of search results with the exact number of matches, and facets if asked for.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub facets: Option<Facets>,
}

/// One result: the product, and its name and description with matches marked if asked for.
#[derive(Debug, Clone)]
pub struct Hit {
    pub product: Arc<Product>,
    pub highlights: Option<Highlights>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlights {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Default)]
struct Store {
    by_id: HashMap<u64, Arc<Product>>,
    /// Normalised SKU (see [`sku_key`]) to the id of the product holding it: SKUs that
    /// search cannot tell apart (`abc-123-xyz`, `ABC 123 XYZ`) are the same SKU.
    by_sku: HashMap<String, u64>,
}

pub struct Catalog {
    store: RwLock<Store>,
    index: SearchIndex,
    /// Writes waiting for the next commit.
    queue: Mutex<Vec<PendingWrite>>,
    /// Held by the writer committing a batch, so the store and the index change together.
    writes: Mutex<()>,
    cache: ResultCache,
}

/// A write waiting in the queue, and where its outcome goes.
struct PendingWrite {
    id: u64,
    details: ProductDetails,
    done: mpsc::Sender<Result<(), WriteError>>,
}

/// Whole search results by request, for repeated queries; every write empties it.
struct ResultCache {
    capacity: usize,
    /// Bumped by every write; a result computed under an older generation is not stored.
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Arc<SearchResults>>>,
}

impl ResultCache {
    fn new(capacity: usize) -> Self {
        Self { capacity, generation: AtomicU64::new(0), entries: Mutex::default() }
    }

    fn get(&self, key: &str) -> Option<Arc<SearchResults>> {
        let found = self.entries.lock().ok()?.get(key).cloned();
        let name = if found.is_some() { observability::CACHE_HITS } else { observability::CACHE_MISSES };
        metrics::counter!(name).increment(1);
        found
    }

    fn put(&self, key: String, generation: u64, results: Arc<SearchResults>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        // Checked under the lock that `invalidate` also takes: no stale result slips in.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, results);
    }

    fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.clear();
        }
    }
}

impl Catalog {
    /// Indexes `products`; ids and SKUs must be unique. No result cache.
    pub fn build(products: Vec<Product>) -> anyhow::Result<Self> {
        Self::with_result_cache(products, 0)
    }

    /// Indexes `products`, remembering up to `cache_entries` search results (0: none).
    pub fn with_result_cache(products: Vec<Product>, cache_entries: usize) -> anyhow::Result<Self> {
        // Ids and SKUs are checked while the store is built, after indexing: checking them
        // first needs sets whose memory stays in the process through the indexing peak.
        let index = SearchIndex::build(&products)?;
        let mut store = Store::default();
        store.by_id.reserve(products.len());
        for product in products {
            if let Some(sku) = &product.sku
                && let Some(owner) = store.by_sku.insert(sku_key(sku), product.product_id)
            {
                bail!("products {owner} and {} share the sku {sku}", product.product_id);
            }
            let id = product.product_id;
            if store.by_id.insert(id, Arc::new(product)).is_some() {
                bail!("product id {id} appears more than once");
            }
        }
        Ok(Self {
            store: RwLock::new(store),
            index,
            queue: Mutex::default(),
            writes: Mutex::new(()),
            cache: ResultCache::new(cache_entries),
        })
    }

    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: u64) -> Option<Arc<Product>> {
        self.read().by_id.get(&id).cloned()
    }

    /// Sets the detail fields of product `id`, creating it if absent; its other fields stay.
    ///
    /// Writes arriving together share one index commit (group commit): each joins a queue,
    /// and whoever holds the write lock writes everything queued so far, in order. A write
    /// is visible to every read that starts after this returns.
    pub fn upsert_details(&self, id: u64, details: ProductDetails) -> Result<(), WriteError> {
        let (done, outcome) = mpsc::channel();
        self.queue.lock().map_err(|_| anyhow::anyhow!("write queue poisoned"))?.push(PendingWrite {
            id,
            details,
            done,
        });
        {
            let _writing = self.writes.lock().map_err(|_| anyhow::anyhow!("write lock poisoned"))?;
            // The writer before us may have taken this write in its batch already.
            if let Ok(result) = outcome.try_recv() {
                return result;
            }
            let batch =
                std::mem::take(&mut *self.queue.lock().map_err(|_| anyhow::anyhow!("write queue poisoned"))?);
            self.write_batch(batch);
        }
        outcome.recv().unwrap_or_else(|_| Err(anyhow::anyhow!("a write was lost").into()))
    }

    /// Applies `batch` in order, as if its writes came one by one: each is checked against
    /// the store and the writes before it, then the accepted ones are committed together.
    fn write_batch(&self, batch: Vec<PendingWrite>) {
        let mut changed: HashMap<u64, Product> = HashMap::new();
        // SKU keys whose owner the batch changes: a new owner, or none (released).
        let mut owners: HashMap<String, Option<u64>> = HashMap::new();
        let mut accepted = Vec::new();
        {
            let store = self.read();
            for PendingWrite { id, details, done } in batch {
                let key = sku_key(&details.sku);
                let owner = owners.get(&key).copied().unwrap_or_else(|| store.by_sku.get(&key).copied());
                if let Some(owner) = owner
                    && owner != id
                {
                    let _ = done.send(Err(WriteError::SkuTaken { sku: details.sku, owner }));
                    continue;
                }
                let mut product = changed
                    .remove(&id)
                    .or_else(|| store.by_id.get(&id).map(|p| Product::clone(p)))
                    .unwrap_or_else(|| Product::bare(id));
                if let Some(old) = product.sku.as_deref().map(sku_key)
                    && old != key
                {
                    owners.insert(old, None);
                }
                details.apply_to(&mut product);
                owners.insert(key, Some(id));
                changed.insert(id, product);
                accepted.push(done);
            }
        }
        if changed.is_empty() {
            return;
        }
        let products: Vec<Product> = changed.into_values().collect();
        if let Err(error) = self.index.upsert_all(&products) {
            tracing::error!(
                error = format!("{error:#}"),
                writes = accepted.len(),
                "a batch of writes failed"
            );
            for done in accepted {
                let _ = done.send(Err(anyhow::anyhow!("the index could not be updated").into()));
            }
            return;
        }
        let mut store = self.store.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key, owner) in owners {
            match owner {
                Some(id) => store.by_sku.insert(key, id),
                None => store.by_sku.remove(&key),
            };
        }
        for product in products {
            store.by_id.insert(product.product_id, Arc::new(product));
        }
        self.cache.invalidate();
        metrics::gauge!(observability::INDEX_DOCUMENTS).set(store.by_id.len() as f64);
        drop(store);
        for done in accepted {
            let _ = done.send(Ok(()));
        }
    }

    /// Runs a search and resolves its page of ids to products; repeated requests are
    /// answered from the result cache until the next write.
    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<Arc<SearchResults>> {
        if self.cache.capacity == 0 {
            return self.run_search(request).map(Arc::new);
        }
        let key = format!("{request:?}");
        if let Some(results) = self.cache.get(&key) {
            return Ok(results);
        }
        let generation = self.cache.generation.load(Ordering::SeqCst);
        let results = Arc::new(self.run_search(request)?);
        self.cache.put(key, generation, Arc::clone(&results));
        Ok(results)
    }

    fn run_search(&self, request: &SearchRequest) -> anyhow::Result<SearchResults> {
        let hits = self.index.search(request)?;
        let products: Vec<Arc<Product>> = {
            let store = self.read();
            hits.ids.iter().filter_map(|id| store.by_id.get(id).cloned()).collect()
        };
        let hits_out = if request.highlight {
            let matched: HashSet<&str> = hits.matched_terms.iter().map(String::as_str).collect();
            let mut words = analyzer::word_analyzer();
            let mut mark =
                |text: &Option<String>| text.as_deref().map(|t| highlight::mark(&mut words, t, &matched));
            products
                .into_iter()
                .map(|product| {
                    let highlights = Some(Highlights {
                        name: mark(&product.name),
                        description: mark(&product.description),
                    });
                    Hit { product, highlights }
                })
                .collect()
        } else {
            products.into_iter().map(|product| Hit { product, highlights: None }).collect()
        };
        Ok(SearchResults { hits: hits_out, total: hits.total, facets: hits.facets })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        // The store is only replaced entry by entry, so a panic elsewhere cannot leave it torn.
        self.store.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads a catalogue of one JSON product per line; blank lines are skipped.
pub fn load_jsonl(path: &Path) -> anyhow::Result<Vec<Product>> {
    let file = File::open(path).with_context(|| format!("opening catalogue {}", path.display()))?;
    let mut products = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let product: Product = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not a product", path.display(), number + 1))?;
        if product.product_id == 0 {
            bail!("{} line {}: product_id must be >= 1", path.display(), number + 1);
        }
        products.push(product);
    }
    Ok(products)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_key_ignores_case_and_separators() {
        assert_eq!(sku_key("ABC-123-XYZ"), sku_key("abc 123xyz"));
        assert_ne!(sku_key("ABC-123-XYZ"), sku_key("ABC-124-XYZ"));
    }

    fn details(id: u64, sku: &str) -> ProductDetails {
        let body = serde_json::json!({"product_id": id, "sku": sku, "manufacturer": "M", "category_id": 1, "weight": 1, "some_other_id": 1});
        ProductDetails::from_json(id, &body).unwrap()
    }

    /// Runs one batch and returns each write's outcome, in order.
    fn batch(catalog: &Catalog, writes: &[(u64, &str)]) -> Vec<Result<(), String>> {
        let (pending, outcomes): (Vec<_>, Vec<_>) = writes
            .iter()
            .map(|&(id, sku)| {
                let (done, outcome) = mpsc::channel();
                (PendingWrite { id, details: details(id, sku), done }, outcome)
            })
            .unzip();
        catalog.write_batch(pending);
        outcomes.into_iter().map(|o| o.recv().unwrap().map_err(|e| e.to_string())).collect()
    }

    fn sku_of(catalog: &Catalog, id: u64) -> Option<String> {
        catalog.get(id).and_then(|p| p.sku.clone())
    }

    #[test]
    fn a_batch_refuses_the_second_claim_on_one_sku() {
        let catalog = Catalog::build(data_gen::generate(1, 10)).unwrap();
        let outcomes = batch(&catalog, &[(1, "NEW-1"), (2, "new 1")]);
        assert_eq!(outcomes[0], Ok(()));
        assert!(outcomes[1].as_ref().unwrap_err().contains("product 1"), "{outcomes:?}");
        assert_eq!(sku_of(&catalog, 2), data_gen::generate(1, 10)[1].sku);
    }

    #[test]
    fn a_batch_applies_writes_to_one_product_in_order_and_releases_skus() {
        let catalog = Catalog::build(data_gen::generate(1, 10)).unwrap();
        assert_eq!(batch(&catalog, &[(3, "FIRST"), (3, "SECOND")]), [Ok(()), Ok(())]);
        assert_eq!(sku_of(&catalog, 3).as_deref(), Some("SECOND"));
        assert_eq!(batch(&catalog, &[(4, "FIRST")]), [Ok(())], "FIRST was released by product 3");
    }

    #[test]
    fn a_sku_can_change_hands_within_one_batch() {
        let catalog = Catalog::build(data_gen::generate(1, 10)).unwrap();
        let old = sku_of(&catalog, 5).unwrap();
        assert_eq!(batch(&catalog, &[(5, "MOVED"), (6, &old)]), [Ok(()), Ok(())]);
        assert_eq!(sku_of(&catalog, 6), Some(old));
        let search = SearchRequest::text("MOVED").unwrap();
        assert_eq!(catalog.search(&search).unwrap().hits[0].product.product_id, 5);
    }

    #[test]
    fn concurrent_writers_all_land_and_are_all_searchable() {
        let catalog = Arc::new(Catalog::build(data_gen::generate(1, 50)).unwrap());
        let writers: Vec<_> = (0..8u64)
            .map(|t| {
                let catalog = Arc::clone(&catalog);
                std::thread::spawn(move || {
                    for i in 0..10u64 {
                        let id = 1 + t * 5 + i % 5;
                        catalog.upsert_details(id, details(id, &format!("T{t}-{i}"))).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        for t in 0..8u64 {
            for id in 1 + t * 5..=5 + t * 5 {
                let sku = sku_of(&catalog, id).unwrap();
                assert!(sku.starts_with(&format!("T{t}-")), "{id}: {sku}");
                let found = catalog.search(&SearchRequest::text(sku.as_str()).unwrap()).unwrap();
                assert_eq!(found.hits[0].product.product_id, id, "{sku}");
            }
        }
    }

    #[test]
    fn the_result_cache_answers_repeats_until_a_write() {
        let products = data_gen::generate(1, 20);
        let sku = products[0].sku.clone().unwrap();
        let catalog = Catalog::with_result_cache(products, 10).unwrap();
        let request = SearchRequest::text(sku.as_str()).unwrap();

        let first = catalog.search(&request).unwrap();
        assert!(Arc::ptr_eq(&first, &catalog.search(&request).unwrap()), "a repeat is served from the cache");

        catalog.upsert_details(1, details(1, "CHANGED")).unwrap();
        let after = catalog.search(&request).unwrap();
        assert!(!Arc::ptr_eq(&first, &after), "a write empties the cache");
        assert_eq!(after.total, 0, "the old SKU no longer matches");
    }

    #[test]
    fn without_a_result_cache_every_search_runs() {
        let catalog = Catalog::build(data_gen::generate(1, 20)).unwrap();
        let request = SearchRequest::text("the").unwrap();
        assert!(!Arc::ptr_eq(&catalog.search(&request).unwrap(), &catalog.search(&request).unwrap()));
    }

    #[test]
    fn build_refuses_duplicate_ids_naming_them() {
        let mut products = data_gen::generate(1, 3);
        products[2].product_id = 2;
        products[2].sku = Some("OTHER".into());
        let error = Catalog::build(products).err().expect("a duplicate id is refused");
        assert!(error.to_string().contains("product id 2"), "{error}");
    }

    #[test]
    fn build_refuses_duplicate_skus() {
        let mut products = data_gen::generate(1, 2);
        products[1].sku = products[0].sku.clone();
        assert!(Catalog::build(products).is_err());
    }
}
