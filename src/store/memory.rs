//! The store in memory, for one process without a database: the same writes, rules and
//! versions as PostgreSQL, kept under one lock. Its feed is the log of changes the follower
//! has not read yet.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::bail;
use product_model::{Product, first_sku_conflict, sku_key};
use rayon::prelude::*;

use super::{Change, Committed, Entry, FEED_PAGE, Write, WriteError, now_epoch_seconds};
use crate::keys::{ApiKey, MAX_KEYS};
use crate::settings::Settings;

pub struct MemoryStore {
    state: Mutex<State>,
}

/// Maps keyed by ids and SKUs, hashed with foldhash (seeded per process): with SipHash, and
/// grown from empty, filling them for a million products took about 30% longer.
type Keyed<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Default)]
struct State {
    by_id: Keyed<u64, Arc<Product>>,
    /// Normalised SKU (see [`sku_key`]) to the product holding it: SKUs that search cannot
    /// tell apart (`abc-123-xyz`, `ABC 123 XYZ`) are the same SKU.
    by_sku: Keyed<String, u64>,
    version: u64,
    /// API keys by id, revoked ones included.
    keys: HashMap<String, Arc<ApiKey>>,
    /// Committed changes the follower has not read yet, in version order.
    log: VecDeque<Change>,
    settings: Arc<Settings>,
}

impl MemoryStore {
    /// A store holding `products` and `settings` at version 0; ids and SKUs must be unique.
    /// Its maps by id and by SKU are filled on two threads at once.
    pub fn new(products: &[Arc<Product>], settings: Settings) -> anyhow::Result<Self> {
        let (by_sku, by_id) = std::thread::scope(|scope| {
            let by_sku = scope.spawn(|| owners_of_skus(products));
            let by_id = products_by_id(products);
            (by_sku.join().expect("filling the SKU map does not panic"), by_id)
        });
        let (by_sku, by_id) = match (by_sku, by_id) {
            (Ok(by_sku), Ok(by_id)) => (by_sku, by_id),
            // The first product at fault is named, as one pass over them would name it: of
            // one product, its SKU first.
            (by_sku, by_id) => {
                let faults = [by_sku.err(), by_id.err()].into_iter().flatten();
                let first = faults.min_by_key(|fault| fault.position).expect("one of them failed");
                bail!("{}", first.message)
            }
        };
        let state = State { by_id, by_sku, settings: Arc::new(settings), ..State::default() };
        Ok(Self { state: Mutex::new(state) })
    }

    pub fn write(&self, write: Write) -> Result<Committed, WriteError> {
        let mut state = self.lock();
        let products = match write {
            Write::Delete(id) => {
                let Some(old) = state.by_id.remove(&id) else {
                    return Err(WriteError::NotFound(id));
                };
                state.release_sku(&old);
                return Ok(state.commit(vec![Entry::Product { id, product: None }]));
            }
            Write::CreateKey(key) => {
                if state.keys.values().filter(|k| !k.is_revoked()).count() >= MAX_KEYS {
                    return Err(WriteError::TooManyKeys);
                }
                let key = Arc::new(key);
                state.keys.insert(key.id.clone(), Arc::clone(&key));
                return Ok(state.commit(vec![Entry::Key(key)]));
            }
            Write::RevokeKey { id, at } => {
                let Some(key) = state.keys.get(&id).filter(|k| !k.is_revoked()) else {
                    return Err(WriteError::KeyNotFound(id));
                };
                let key = Arc::new(ApiKey { revoked_at: Some(at), ..ApiKey::clone(key) });
                state.keys.insert(id, Arc::clone(&key));
                return Ok(state.commit(vec![Entry::Key(key)]));
            }
            Write::Settings(patch) => {
                patch.apply_to(Arc::make_mut(&mut state.settings));
                let settings = Arc::clone(&state.settings);
                return Ok(state.commit(vec![Entry::Settings(settings)]));
            }
            Write::Details { id, details } => {
                let mut product =
                    state.by_id.get(&id).map(|p| Product::clone(p)).unwrap_or_else(|| Product::bare(id));
                details.apply_to(&mut product);
                vec![product]
            }
            Write::Put(product) => vec![product],
            Write::Bulk { products, lines } => {
                let owners = state.owners_after(&products);
                if let Some((i, sku, owner)) = first_sku_conflict(&products, &owners) {
                    return Err(WriteError::SkuTaken { sku, owner, line: lines.get(i).copied() });
                }
                products
            }
        };
        if let [product] = products.as_slice()
            && let Some(sku) = &product.sku
            && let Some(&owner) = state.by_sku.get(&sku_key(sku))
            && owner != product.product_id
        {
            return Err(WriteError::SkuTaken { sku: sku.to_string(), owner, line: None });
        }
        for product in &products {
            if let Some(old) = state.by_id.get(&product.product_id).cloned() {
                state.release_sku(&old);
            }
        }
        let changes = products
            .into_iter()
            .map(|product| {
                if let Some(sku) = &product.sku {
                    state.by_sku.insert(sku_key(sku), product.product_id);
                }
                let product = Arc::new(product);
                state.by_id.insert(product.product_id, Arc::clone(&product));
                Entry::Product { id: product.product_id, product: Some(product) }
            })
            .collect();
        Ok(state.commit(changes))
    }

    /// The unread changes after `after`, at most [`FEED_PAGE`] versions. What the follower
    /// has read (every version up to `after`) is dropped.
    pub fn changes_since(&self, after: u64) -> Vec<Change> {
        let mut state = self.lock();
        while state.log.front().is_some_and(|c| c.version <= after) {
            state.log.pop_front();
        }
        state.log.iter().take_while(|c| c.version <= after + FEED_PAGE).cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every write checks before it changes anything, so a panic cannot leave it torn.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A product of the catalogue a store cannot hold, by its position.
struct Fault {
    position: usize,
    message: String,
}

/// Products whose SKU keys are made at once, on every core, before they are put in the map
/// one by one: the keys are a third of the work, and the list of a chunk stays small.
const SKU_CHUNK: usize = 1 << 16;

fn owners_of_skus(products: &[Arc<Product>]) -> Result<Keyed<String, u64>, Fault> {
    let mut by_sku = Keyed::with_capacity_and_hasher(products.len(), Default::default());
    let mut keys: Vec<Option<String>> = Vec::with_capacity(SKU_CHUNK.min(products.len()));
    for (chunk, products) in products.chunks(SKU_CHUNK).enumerate() {
        products.par_iter().map(|product| product.sku.as_deref().map(sku_key)).collect_into_vec(&mut keys);
        for (i, (product, key)) in products.iter().zip(keys.drain(..)).enumerate() {
            let id = product.product_id;
            if let Some(key) = key
                && let Some(owner) = by_sku.insert(key, id)
            {
                let sku = product.sku.as_deref().unwrap_or_default();
                let position = chunk * SKU_CHUNK + i;
                return Err(Fault {
                    position,
                    message: format!("products {owner} and {id} share the sku {sku}"),
                });
            }
        }
    }
    Ok(by_sku)
}

fn products_by_id(products: &[Arc<Product>]) -> Result<Keyed<u64, Arc<Product>>, Fault> {
    let mut by_id = Keyed::with_capacity_and_hasher(products.len(), Default::default());
    for (position, product) in products.iter().enumerate() {
        let id = product.product_id;
        if by_id.insert(id, Arc::clone(product)).is_some() {
            return Err(Fault { position, message: format!("product id {id} appears more than once") });
        }
    }
    Ok(by_id)
}

impl State {
    fn release_sku(&mut self, product: &Product) {
        if let Some(sku) = &product.sku {
            let key = sku_key(sku);
            if self.by_sku.get(&key) == Some(&product.product_id) {
                self.by_sku.remove(&key);
            }
        }
    }

    /// For each SKU that `products` write, every product holding it once they are written.
    fn owners_after(&self, products: &[Product]) -> HashMap<String, Vec<u64>> {
        let rewritten: HashSet<u64> = products.iter().map(|p| p.product_id).collect();
        let mut owners: HashMap<String, Vec<u64>> = HashMap::new();
        for product in products {
            let Some(sku) = &product.sku else { continue };
            let key = sku_key(sku);
            let holders = owners.entry(key.clone()).or_insert_with(|| {
                self.by_sku
                    .get(&key)
                    .copied()
                    .filter(|owner| !rewritten.contains(owner))
                    .into_iter()
                    .collect()
            });
            holders.push(product.product_id);
        }
        owners
    }

    fn commit(&mut self, entries: Vec<Entry>) -> Committed {
        self.version += 1;
        let committed_at = now_epoch_seconds();
        let changes: Vec<Change> =
            entries.into_iter().map(|entry| Change { version: self.version, entry, committed_at }).collect();
        self.log.extend(changes.iter().cloned());
        Committed { version: self.version, written: changes.len(), changes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use product_model::ProductDetails;

    fn store(count: u64) -> MemoryStore {
        let products: Vec<Arc<Product>> = data_gen::generate(1, count).into_iter().map(Arc::new).collect();
        MemoryStore::new(&products, Settings::default()).unwrap()
    }

    fn details(id: u64, sku: &str) -> Write {
        let body = serde_json::json!({"product_id": id, "sku": sku, "manufacturer": "M", "category_id": 1, "weight": 1, "some_other_id": 1});
        Write::Details { id, details: ProductDetails::from_json(id, &body).unwrap() }
    }

    fn with_sku(id: u64, sku: &str) -> Product {
        Product { sku: Some(sku.into()), ..Product::bare(id) }
    }

    #[test]
    fn versions_increase_by_one_per_write_and_the_feed_holds_them_in_order() {
        let store = store(5);
        assert_eq!(store.write(details(1, "A-1")).unwrap().version, 1);
        assert_eq!(store.write(Write::Delete(2)).unwrap().version, 2);
        let changes = store.changes_since(0);
        let entries: Vec<(u64, u64, bool)> = changes
            .iter()
            .map(|c| match &c.entry {
                Entry::Product { id, product } => (c.version, *id, product.is_some()),
                other => panic!("only products were written, not a {}", other.kind()),
            })
            .collect();
        assert_eq!(entries, [(1, 1, true), (2, 2, false)], "a delete carries no product");
        assert_eq!(store.changes_since(1).len(), 1, "what was read is dropped");
    }

    #[test]
    fn a_settings_change_keeps_the_keys_it_does_not_name_and_takes_a_version() {
        let store = store(2);
        let patch = |json| Write::Settings(crate::settings::SettingsPatch::from_json(&json).unwrap());
        store.write(patch(serde_json::json!({"stop_words": ["lamp"]}))).unwrap();
        let committed = store.write(patch(serde_json::json!({"partial_match_below": 4}))).unwrap();
        assert_eq!(committed.version, 2);
        let Entry::Settings(settings) = &committed.changes[0].entry else { panic!("a settings change") };
        assert_eq!(settings.stop_words, ["lamp"], "the earlier change stays");
        assert_eq!(settings.partial_match_below, 4);
        assert_eq!(settings.synonyms, Settings::default().synonyms);
    }

    #[test]
    fn a_sku_held_by_another_product_is_refused_and_changes_nothing() {
        let store = store(5);
        let taken = data_gen::generate(1, 5)[1].sku.clone().unwrap();
        let error = store.write(details(1, &taken.to_lowercase())).unwrap_err();
        assert!(matches!(error, WriteError::SkuTaken { owner: 2, .. }), "{error}");
        assert!(store.changes_since(0).is_empty());
    }

    #[test]
    fn deleting_releases_the_sku_and_an_absent_product_is_not_found() {
        let store = store(5);
        let sku = data_gen::generate(1, 5)[2].sku.clone().unwrap();
        store.write(Write::Delete(3)).unwrap();
        assert!(matches!(store.write(Write::Delete(3)), Err(WriteError::NotFound(3))));
        store.write(Write::Put(with_sku(9, &sku))).unwrap();
    }

    #[test]
    fn a_bulk_may_swap_skus_among_its_own_products() {
        let store = store(0);
        let lines = vec![1, 2];
        store
            .write(Write::Bulk { products: vec![with_sku(1, "X"), with_sku(2, "Y")], lines: lines.clone() })
            .unwrap();
        store.write(Write::Bulk { products: vec![with_sku(1, "Y"), with_sku(2, "X")], lines }).unwrap();
        assert_eq!(store.changes_since(1).len(), 2, "one version, two products");
    }

    #[test]
    fn a_bulk_sku_conflict_names_the_line_and_writes_nothing() {
        let store = store(0);
        store.write(Write::Put(with_sku(7, "HELD"))).unwrap();
        let products = vec![with_sku(1, "FREE"), with_sku(2, "held")];
        let error = store.write(Write::Bulk { products, lines: vec![3, 5] }).unwrap_err();
        assert_eq!(error.to_string(), "line 5: sku held is already used by product 7");
        assert_eq!(store.changes_since(1).len(), 0);
    }

    #[test]
    fn a_catalogue_it_cannot_hold_is_refused_naming_its_first_product_at_fault() {
        let refusal = |products: &[(u64, &str)]| {
            let products: Vec<Arc<Product>> =
                products.iter().map(|&(id, sku)| Arc::new(with_sku(id, sku))).collect();
            MemoryStore::new(&products, Settings::default()).err().map(|error| error.to_string())
        };
        assert_eq!(
            refusal(&[(1, "A-1"), (2, "B-2"), (3, "b 2")]).unwrap(),
            "products 2 and 3 share the sku b 2"
        );
        assert_eq!(
            refusal(&[(1, "A-1"), (2, "B-2"), (2, "C-3")]).unwrap(),
            "product id 2 appears more than once"
        );
        // Both faults: the earlier product is named, and of one product its SKU.
        assert_eq!(
            refusal(&[(1, "A-1"), (1, "C-3"), (4, "a1")]).unwrap(),
            "product id 1 appears more than once"
        );
        assert_eq!(
            refusal(&[(1, "A-1"), (2, "a1"), (2, "C-3")]).unwrap(),
            "products 1 and 2 share the sku a1"
        );
        assert_eq!(refusal(&[(1, "A-1"), (1, "a1")]).unwrap(), "products 1 and 1 share the sku a1");
        assert_eq!(refusal(&[(1, "A-1"), (2, "B-2")]), None);

        // Past the first chunk of SKU keys, positions still count from the first product.
        let mut products: Vec<(u64, String)> = (1..=70_000).map(|id| (id, format!("S-{id}"))).collect();
        products[10_000].0 = 1;
        products[69_000].1 = "s 1".into();
        let products: Vec<(u64, &str)> = products.iter().map(|(id, sku)| (*id, sku.as_str())).collect();
        assert_eq!(refusal(&products).unwrap(), "product id 1 appears more than once");
    }
}
