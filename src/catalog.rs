//! The catalogue a replica serves: every product by id, the search index and the API keys,
//! kept in step by applying the store's change feed in version order (see
//! [`crate::replica`]). It never decides whether a write is allowed; the store of record did
//! that before the change reached the feed.

mod cache;
mod file;
mod rebuild;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use product_model::Product;
use rayon::prelude::*;
use tokio::sync::watch;

use crate::analytics;
use crate::keys::{ApiKey, KeyRing};
use crate::observability;
use crate::search::merchandising::{self, Rule};
use crate::search::{
    Facets, InvalidRequest, MatchingOptions, Opened, Rules, SearchIndex, SearchRequest, analyzer, highlight,
};
use crate::settings::Settings;
use crate::store::{Change, Entry, Snapshot, now_epoch_seconds};
use cache::ResultCache;
use rebuild::Rebuild;

pub use file::load_jsonl;
pub use rebuild::PendingRebuild;

/// A page of search results with the exact number of matches, and facets if asked for.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub total: u64,
    pub facets: Option<Facets>,
    /// The match was widened; these query words need not match (they still rank).
    pub partial: bool,
    pub not_required: Vec<String>,
    /// The ids of the merchandising rules that applied.
    pub rules_applied: Vec<String>,
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

/// Products by id, hashed with foldhash: every page of results looks its products up here.
type ById = HashMap<u64, Arc<Product>, foldhash::fast::RandomState>;

pub struct Catalog {
    /// The products and their index, replaced whole when the catalogue is loaded again: a
    /// search takes both from one generation.
    contents: ArcSwap<Contents>,
    /// The feed version applied last; every change up to it is in the contents and keys.
    version: watch::Sender<u64>,
    /// Held while changes are applied or the contents replaced, so they happen one at a
    /// time, in order.
    applying: Mutex<()>,
    cache: ResultCache,
    keys: KeyRing,
    /// The search settings in force; the index reads its words by them.
    settings: ArcSwap<Settings>,
    /// Their merchandising rules, ready to be matched against searches.
    rules: ArcSwap<Rules>,
    /// The index being built for the attributes the settings search, if the one searches
    /// use has other text fields.
    rebuild: Mutex<Option<Rebuild>>,
}

/// The products and the index over them.
struct Contents {
    /// Shared with the contents an index rebuild replaces these with.
    products: Arc<RwLock<ById>>,
    index: SearchIndex,
}

impl Contents {
    /// Indexes `products`, in memory or kept in `index_dir` (reopened there if it holds
    /// their index); ids must be unique.
    fn open(
        products: Vec<Arc<Product>>,
        options: Arc<MatchingOptions>,
        index_dir: Option<&Path>,
    ) -> anyhow::Result<(Self, Opened)> {
        // Ids are checked while the map is built, after indexing: checking them first needs a
        // set whose memory stays in the process through the indexing peak.
        let (index, opened) = match index_dir {
            None => (SearchIndex::build(&products, options.as_ref().clone())?, Opened::Built { stale: None }),
            Some(dir) => SearchIndex::open_or_build(&products, options.as_ref().clone(), dir)?,
        };
        let mut by_id = ById::with_capacity_and_hasher(products.len(), Default::default());
        for product in products {
            let id = product.product_id;
            if by_id.insert(id, product).is_some() {
                bail!("product id {id} appears more than once");
            }
        }
        Ok((Self { products: Arc::new(RwLock::new(by_id)), index }, opened))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, ById> {
        // The map is only changed entry by entry, so a panic elsewhere cannot leave it torn.
        self.products.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Catalog {
    /// Indexes `products` at version 0 under the default settings; ids must be unique. No
    /// result cache.
    pub fn build(products: Vec<Product>) -> anyhow::Result<Self> {
        Self::at_version(products, 0, 0, Settings::default())
    }

    /// Indexes `products`, the catalogue as of feed `version`, remembering up to
    /// `cache_entries` search results (0: none), searching under `settings`.
    pub fn at_version(
        products: Vec<Product>,
        version: u64,
        cache_entries: usize,
        settings: Settings,
    ) -> anyhow::Result<Self> {
        Ok(Self::open(shared(products), version, cache_entries, settings, None)?.0)
    }

    /// [`Self::at_version`], with the index kept in `index_dir` if given: reopened there
    /// when it holds one of this build and settings, and brought up to date with
    /// `products` (see [`crate::search::Opened`]). Indexes built later (a reload, other
    /// attributes searched) stay in memory; the next start catches the directory up.
    pub fn open(
        products: Vec<Arc<Product>>,
        version: u64,
        cache_entries: usize,
        settings: Settings,
        index_dir: Option<&Path>,
    ) -> anyhow::Result<(Self, Opened)> {
        let (contents, opened) = Contents::open(products, Arc::new(settings.matching()?), index_dir)?;
        let catalog = Self {
            contents: ArcSwap::from_pointee(contents),
            version: watch::Sender::new(version),
            applying: Mutex::new(()),
            cache: ResultCache::new(cache_entries),
            keys: KeyRing::default(),
            rules: ArcSwap::from_pointee(Rules::compile(&settings.rules)),
            settings: ArcSwap::from_pointee(settings),
            rebuild: Mutex::new(None),
        };
        Ok((catalog, opened))
    }

    /// The catalogue holding `keys` too (as a snapshot of the store gives them).
    pub fn with_keys(mut self, keys: Vec<ApiKey>) -> Self {
        self.keys = KeyRing::with(keys);
        self
    }

    /// The search settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    /// The API keys the feed has brought.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub fn len(&self) -> usize {
        self.contents.load().read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: u64) -> Option<Arc<Product>> {
        self.contents.load().read().get(&id).cloned()
    }

    /// Every product, by id: a snapshot that later changes do not touch.
    pub fn products(&self) -> Vec<Arc<Product>> {
        let mut products: Vec<Arc<Product>> = self.contents.load().read().values().cloned().collect();
        products.sort_unstable_by_key(|p| p.product_id);
        products
    }

    /// The feed version applied last.
    pub fn version(&self) -> u64 {
        *self.version.borrow()
    }

    /// Waits until version `version` is applied, at most `patience`; whether it was.
    pub async fn wait_for(&self, version: u64, patience: Duration) -> bool {
        let mut applied = self.version.subscribe();
        tokio::time::timeout(patience, applied.wait_for(|v| *v >= version)).await.is_ok_and(|r| r.is_ok())
    }

    /// Applies `changes` (in version order) in one index commit, then publishes the last
    /// version. Changes at or below the applied version are skipped, so a change read twice
    /// applies once. Searches keep running on the previous index until the commit is done.
    /// Whether the index was committed: keys and settings alone need no commit. Settings
    /// that search other attributes than the index has text fields for start a rebuild in
    /// the background (see [`rebuild`]).
    pub fn apply(self: &Arc<Self>, changes: &[Change]) -> anyhow::Result<bool> {
        let _applying = self.applying.lock().map_err(|_| anyhow::anyhow!("catalogue apply lock poisoned"))?;
        let applied = self.version();
        let fresh: Vec<&Change> = changes.iter().filter(|c| c.version > applied).collect();
        let Some(last) = fresh.last().map(|c| c.version) else {
            return Ok(false);
        };
        // Versions are dense: a gap would be a change lost, so it is refused, not skipped.
        let mut expected = applied + 1;
        for change in &fresh {
            if change.version != expected && change.version != expected - 1 {
                bail!("the feed skipped from version {} to {}", expected - 1, change.version);
            }
            expected = change.version + 1;
        }
        // The last change of each product, key and of the settings wins.
        let mut latest: HashMap<u64, Option<&Arc<Product>>> = HashMap::new();
        let mut keys: Vec<&Arc<ApiKey>> = Vec::new();
        let mut settings: Option<&Arc<Settings>> = None;
        for change in &fresh {
            match &change.entry {
                Entry::Product { id, product } => {
                    latest.insert(*id, product.as_ref());
                }
                Entry::Key(key) => keys.push(key),
                Entry::Settings(changed) => settings = Some(changed),
            }
        }
        // Read before anything changes, so settings that cannot be read change nothing.
        let matching =
            settings.map(|s| s.matching().map(Arc::new)).transpose().context("applying the settings")?;
        let committed = !latest.is_empty();
        if committed {
            let contents = self.contents.load();
            let deleted: Vec<u64> = latest.iter().filter(|(_, p)| p.is_none()).map(|(id, _)| *id).collect();
            let upserted: Vec<&Product> = latest.values().flatten().map(|p| p.as_ref()).collect();
            let latest_ids: Vec<u64> = latest.keys().copied().collect();
            contents.index.apply(&upserted, &deleted).context("updating the index")?;
            let mut products = contents.products.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            for (id, product) in latest {
                match product {
                    Some(product) => products.insert(id, Arc::clone(product)),
                    None => products.remove(&id),
                };
            }
            metrics::gauge!(observability::INDEX_DOCUMENTS).set(products.len() as f64);
            drop(products);
            self.note_changed(latest_ids);
            self.cache.invalidate();
        }
        for key in keys {
            self.keys.set(Arc::clone(key));
        }
        if let (Some(settings), Some(matching)) = (settings, matching) {
            self.set_settings(Arc::clone(settings), Arc::clone(&matching));
            self.rebuild_for(matching);
        }
        let now = now_epoch_seconds();
        for change in &fresh {
            metrics::histogram!(observability::FEED_DELAY).record((now - change.committed_at).max(0.0));
        }
        self.publish(last);
        Ok(committed)
    }

    /// Replaces everything with `snapshot`, a later state of the store than this catalogue's
    /// (a replica that fell behind what the feed still holds loads one). The new index is
    /// built while searches go on with the old one; then both are swapped at once.
    pub fn reload(&self, snapshot: Snapshot) -> anyhow::Result<()> {
        // As an index rebuild: the build frees on threads that end, and the swap frees the
        // old contents, so what they free goes back at once (see the `allocator` crate).
        let _freed_at_once = allocator::FreedAtOnce::new();
        let settings = snapshot.settings.map_or_else(|| self.settings(), Arc::new);
        let contents = Contents::open(snapshot.products, Arc::new(settings.matching()?), None)?.0;
        let _applying = self.applying.lock().map_err(|_| anyhow::anyhow!("catalogue apply lock poisoned"))?;
        if snapshot.version < self.version() {
            bail!("a snapshot at version {} is older than version {}", snapshot.version, self.version());
        }
        let count = contents.read().len();
        self.contents.store(Arc::new(contents));
        self.keys.replace(snapshot.keys);
        self.rules.store(Arc::new(Rules::compile(&settings.rules)));
        self.settings.store(settings);
        // The new index has the text fields these settings search.
        self.cancel_rebuild();
        self.cache.invalidate();
        metrics::gauge!(observability::INDEX_DOCUMENTS).set(count as f64);
        self.publish(snapshot.version);
        Ok(())
    }

    /// Searches from now on read their words by `settings` (`matching`, built from them).
    fn set_settings(&self, settings: Arc<Settings>, matching: Arc<MatchingOptions>) {
        self.contents.load().index.set_matching(matching);
        self.rules.store(Arc::new(Rules::compile(&settings.rules)));
        self.settings.store(settings);
        self.cache.invalidate();
    }

    fn publish(&self, version: u64) {
        metrics::gauge!(observability::CATALOG_VERSION).set(version as f64);
        self.version.send_replace(version);
    }

    /// Refuses merchandising rules that name a product this catalogue does not hold.
    pub fn check_rule_products(&self, rules: &[Rule]) -> Result<(), InvalidRequest> {
        let contents = self.contents.load();
        let products = contents.read();
        match merchandising::named_products(rules).find(|(_, id)| !products.contains_key(id)) {
            None => Ok(()),
            Some((rule, id)) => Err(InvalidRequest(format!(
                "rules: rule {rule:?} names product {id}, which is not in the catalogue"
            ))),
        }
    }

    /// Refuses a search whose `filter` or `facets` name an attribute the settings do not
    /// make filterable.
    pub fn check_filterable(&self, request: &SearchRequest) -> Result<(), InvalidRequest> {
        let settings = self.settings();
        let in_filter = request.filter.iter().flat_map(|f| f.fields().into_iter().cloned());
        let named = in_filter
            .map(|f| ("filter", f))
            .chain(request.facets.fields().into_iter().map(|f| ("facets", f)));
        let Some((parameter, field)) = named.into_iter().find(|(_, f)| !settings.is_filterable(f)) else {
            return Ok(());
        };
        let filterable: Vec<&str> = settings
            .filterable_attributes
            .iter()
            .map(String::as_str)
            .filter(|name| name.starts_with("attributes."))
            .collect();
        let listed = if filterable.is_empty() { "none".to_owned() } else { filterable.join(", ") };
        Err(InvalidRequest(format!(
            "{parameter} names {field}, which is not filterable; the filterable attributes are {listed} \
             (settings: filterable_attributes)"
        )))
    }

    /// Runs a search and resolves its page of ids to products; repeated requests are
    /// answered from the result cache until the next write.
    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<Arc<SearchResults>> {
        let rules = self.rules.load();
        if rules.is_empty() {
            return self.search_as_asked(request);
        }
        let query = analytics::normalise(&request.text);
        let merchandising =
            rules.apply(query.as_deref(), request.filter.as_ref(), now_epoch_seconds() as i64);
        if merchandising.applied.is_empty() {
            return self.search_as_asked(request);
        }
        // The rules' effects are part of the request, so of its place in the result cache.
        let mut request = request.clone();
        request.merchandising = merchandising;
        self.search_as_asked(&request)
    }

    /// Runs a search with the merchandising it carries, through the result cache.
    fn search_as_asked(&self, request: &SearchRequest) -> anyhow::Result<Arc<SearchResults>> {
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
        let contents = self.contents.load();
        let hits = contents.index.search(request)?;
        let products: Vec<Arc<Product>> = {
            let products = contents.read();
            hits.ids.iter().filter_map(|id| products.get(id).cloned()).collect()
        };
        let hits_out = if request.highlight {
            let matched: HashSet<&str> = hits.matched_terms.iter().map(String::as_str).collect();
            let mut words = analyzer::word_analyzer();
            let mut mark =
                |text: &Option<Box<str>>| text.as_deref().map(|t| highlight::mark(&mut words, t, &matched));
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
        Ok(SearchResults {
            hits: hits_out,
            total: hits.total,
            facets: hits.facets,
            partial: hits.partial,
            not_required: hits.not_required,
            rules_applied: request.merchandising.applied.clone(),
        })
    }
}

/// `products`, each moved behind its own `Arc` (the form the catalogue and the store keep
/// them in), on every core: a million products are a million allocations and copies.
fn shared(products: Vec<Product>) -> Vec<Arc<Product>> {
    products.into_par_iter().map(Arc::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(version: u64, product: Product) -> Change {
        let entry = Entry::Product { id: product.product_id, product: Some(Arc::new(product)) };
        Change { version, entry, committed_at: 0.0 }
    }

    fn deletion(version: u64, product_id: u64) -> Change {
        Change { version, entry: Entry::Product { id: product_id, product: None }, committed_at: 0.0 }
    }

    fn with_sku(id: u64, sku: &str) -> Product {
        Product { sku: Some(sku.into()), ..Product::bare(id) }
    }

    /// Matches of every word of `text` (never widened: these tests look for exact SKUs).
    fn total(catalog: &Catalog, text: &str) -> u64 {
        let request = crate::search::SearchRequestBuilder {
            text: Some(text.into()),
            matching: crate::search::Matching::All,
            ..Default::default()
        };
        catalog.search(&request.build().unwrap()).unwrap().total
    }

    #[test]
    fn memory_is_returned_at_once_while_a_snapshot_is_loaded() {
        let catalog = Arc::new(Catalog::build(data_gen::generate(1, 10)).unwrap());
        let products = data_gen::generate(2, 20_000).into_iter().map(Arc::new).collect();
        let snapshot = Snapshot { products, keys: Vec::new(), settings: None, version: 5 };
        let loading = {
            let catalog = Arc::clone(&catalog);
            std::thread::spawn(move || catalog.reload(snapshot))
        };
        // Only index builds hold the allocator's setting in these tests, so the delay reads 0
        // only while one runs: this load, or a rebuild of another test at the same moment.
        let mut seen_at_once = false;
        while !loading.is_finished() {
            seen_at_once |= allocator::purge_delay_ms() == 0;
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        loading.join().unwrap().unwrap();
        assert!(seen_at_once, "freed memory goes back at once while the snapshot is loaded");
        assert_eq!((catalog.len(), catalog.version()), (20_000, 5));
    }

    #[test]
    fn applying_changes_updates_products_search_and_the_version() {
        let catalog = Arc::new(Catalog::build(data_gen::generate(1, 10)).unwrap());
        catalog
            .apply(&[change(1, with_sku(3, "FIRST-1")), change(2, with_sku(3, "SECOND-2")), deletion(2, 4)])
            .unwrap();
        assert_eq!(catalog.version(), 2);
        assert_eq!(catalog.get(3).unwrap().sku.as_deref(), Some("SECOND-2"), "the last change wins");
        assert!(catalog.get(4).is_none());
        assert_eq!(catalog.len(), 9);
        assert_eq!(total(&catalog, "SECOND-2"), 1);
        assert_eq!(total(&catalog, "FIRST-1"), 0);
    }

    #[test]
    fn changes_already_applied_are_skipped() {
        let catalog = Arc::new(Catalog::build(data_gen::generate(1, 10)).unwrap());
        catalog.apply(&[change(1, with_sku(3, "NEW"))]).unwrap();
        catalog.apply(&[change(1, with_sku(3, "STALE")), change(2, with_sku(5, "LATER"))]).unwrap();
        assert_eq!(catalog.get(3).unwrap().sku.as_deref(), Some("NEW"));
        assert_eq!(catalog.get(5).unwrap().sku.as_deref(), Some("LATER"));
        assert_eq!(catalog.version(), 2);
    }

    #[tokio::test]
    async fn wait_for_returns_once_the_version_is_applied_or_patience_runs_out() {
        let catalog = Arc::new(Catalog::build(data_gen::generate(1, 5)).unwrap());
        assert!(!catalog.wait_for(1, Duration::from_millis(20)).await);
        let applier = Arc::clone(&catalog);
        let applied = tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(30));
            applier.apply(&[change(1, with_sku(1, "X"))])
        });
        assert!(catalog.wait_for(1, Duration::from_secs(5)).await);
        applied.await.unwrap().unwrap();
    }

    #[test]
    fn the_result_cache_answers_repeats_until_a_change() {
        let products = data_gen::generate(1, 20);
        let sku = products[0].sku.clone().unwrap();
        let catalog = Arc::new(Catalog::at_version(products, 0, 10, Settings::default()).unwrap());
        let request = SearchRequest::text(&*sku).unwrap();

        let first = catalog.search(&request).unwrap();
        assert!(Arc::ptr_eq(&first, &catalog.search(&request).unwrap()), "a repeat is served from the cache");

        catalog.apply(&[change(1, with_sku(1, "CHANGED"))]).unwrap();
        let after = catalog.search(&request).unwrap();
        assert!(!Arc::ptr_eq(&first, &after), "a change empties the cache");
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
        let error = Catalog::build(products).err().expect("a duplicate id is refused");
        assert!(error.to_string().contains("product id 2"), "{error}");
    }
}
