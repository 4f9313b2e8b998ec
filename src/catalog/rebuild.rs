//! Rebuilding the index in the background when the settings search other attributes: an
//! index has one text field per attribute searched, so searching another attribute (or no
//! longer searching one) needs a new index. It is built from a snapshot of the products
//! while the old one keeps answering (it searches the attributes it has fields for, at the
//! new weights); products written meanwhile are noted, brought up to date in the new index,
//! and then the two are swapped at once, under the lock that orders every change.
//!
//! One build runs at a time, whatever the rate of changes: settings changed again while it
//! runs become what it is for, and when it is done, a build for attributes no longer
//! wanted is dropped (and the next one started from a fresh snapshot, if another set is).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use product_model::Product;

use super::{Catalog, Contents};
use crate::observability;
use crate::search::{MatchingOptions, SearchIndex};

/// The build running, and what it must be for when done.
pub(super) struct Rebuild {
    /// The settings' matching options the index is wanted for; `None`: the index in use
    /// already fits them, and the build running is dropped when done.
    wanted: Option<Arc<MatchingOptions>>,
    /// The attributes the running build makes text fields for, sorted.
    building: Vec<String>,
    /// Products written (or deleted) since the snapshot it is built from.
    changed: HashSet<u64>,
    /// When the wanted index was first asked for.
    since: Instant,
}

/// Work in progress, as `/health` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRebuild {
    /// The attributes the new index searches, as `attributes.<name>`.
    pub attributes: Vec<String>,
    /// Seconds since the change that asked for it.
    pub seconds: u64,
}

/// The attributes `matching` searches, sorted.
fn searched(matching: &MatchingOptions) -> Vec<String> {
    let mut names = matching.searched_attributes();
    names.sort();
    names
}

fn in_use(contents: &Contents) -> Vec<String> {
    let mut names = contents.index.searched_attributes().to_vec();
    names.sort();
    names
}

impl Catalog {
    /// The index being built for the settings in force, if the one in use does not fit them.
    pub fn rebuild_pending(&self) -> Option<PendingRebuild> {
        let rebuild = self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let rebuild = rebuild.as_ref()?;
        let wanted = rebuild.wanted.as_ref()?;
        Some(PendingRebuild {
            attributes: searched(wanted).iter().map(|name| format!("attributes.{name}")).collect(),
            seconds: rebuild.since.elapsed().as_secs(),
        })
    }

    /// Notes products written while an index is being built. Called with the changes' lock held.
    pub(super) fn note_changed(&self, ids: Vec<u64>) {
        let mut rebuild = self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(rebuild) = rebuild.as_mut() {
            rebuild.changed.extend(ids);
        }
    }

    /// The contents were replaced whole, with an index for the settings in force: the build
    /// running, if any, is dropped when done.
    pub(super) fn cancel_rebuild(&self) {
        if let Some(rebuild) = self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).as_mut() {
            rebuild.wanted = None;
        }
        metrics::gauge!(observability::INDEX_REBUILD_PENDING).set(0.0);
    }

    /// Asks for an index with a text field for each attribute `matching` searches, unless
    /// the one in use has those already. Called with the changes' lock held, so a snapshot
    /// taken here is the catalogue at the applied version.
    pub(super) fn rebuild_for(self: &Arc<Self>, matching: Arc<MatchingOptions>) {
        let fits = searched(&matching) == in_use(&self.contents.load());
        let mut rebuild = self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let start = match rebuild.as_mut() {
            Some(running) => {
                // The running build learns what it is for now; it is judged when done.
                if running.wanted.is_none() && !fits {
                    running.since = Instant::now();
                }
                running.wanted = (!fits).then(|| Arc::clone(&matching));
                false
            }
            None if fits => false,
            None => {
                *rebuild = Some(Rebuild {
                    wanted: Some(Arc::clone(&matching)),
                    building: Vec::new(),
                    changed: HashSet::new(),
                    since: Instant::now(),
                });
                true
            }
        };
        drop(rebuild);
        if start {
            self.start_build(matching);
        }
        let pending = self.rebuild_pending().is_some();
        metrics::gauge!(observability::INDEX_REBUILD_PENDING).set(if pending { 1.0 } else { 0.0 });
    }

    /// Builds an index for `matching` from a snapshot of the products, on a thread of its
    /// own. Called with the changes' lock held and the rebuild state set.
    fn start_build(self: &Arc<Self>, matching: Arc<MatchingOptions>) {
        let attributes = searched(&matching);
        if let Some(rebuild) = self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).as_mut() {
            rebuild.building.clone_from(&attributes);
            rebuild.changed.clear();
        }
        let products: Vec<Arc<Product>> = self.contents.load().read().values().cloned().collect();
        tracing::info!(?attributes, products = products.len(), "index rebuild started");
        let catalog = Arc::clone(self);
        // The build frees most of what it allocates on threads that then end, and the swap
        // frees the index it replaces: returned at once until the build's thread is done,
        // neither stays resident (see the `allocator` crate). Searches return theirs at once
        // meanwhile too, which costs them a part of their throughput while it runs.
        let freed_at_once = allocator::FreedAtOnce::new();
        let started = std::thread::Builder::new().name("index-rebuild".into()).spawn(move || {
            let _freed_at_once = freed_at_once;
            let built = SearchIndex::build(&products, matching.as_ref().clone());
            drop(products);
            catalog.finish_build(built);
        });
        if let Err(error) = started {
            tracing::error!(%error, "the index rebuild could not start");
            *self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
            metrics::counter!(observability::INDEX_REBUILDS, "outcome" => "failed").increment(1);
        }
    }

    /// Swaps in the index just built, once the products written meanwhile are brought up to
    /// date in it; or drops it, if the settings now want other attributes (and starts their
    /// build) or the index in use fits them.
    fn finish_build(self: &Arc<Self>, built: anyhow::Result<SearchIndex>) {
        let Ok(_applying) = self.applying.lock() else {
            tracing::error!("catalogue apply lock poisoned; the index rebuild is dropped");
            return;
        };
        // Read, not taken: until the swap is done the rebuild is still pending. Nothing else
        // changes it meanwhile, since every change holds the lock held here.
        let (wanted, building, changed, since) = {
            let mut rebuild = self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let Some(rebuild) = rebuild.as_mut() else { return };
            let changed = std::mem::take(&mut rebuild.changed);
            (rebuild.wanted.clone(), rebuild.building.clone(), changed, rebuild.since)
        };
        let Some(wanted) = wanted else {
            tracing::info!(attributes = ?building, "index rebuild dropped: the index in use fits the settings");
            self.end_rebuild();
            return;
        };
        if searched(&wanted) != building {
            tracing::info!(attributes = ?building, "index rebuild dropped: the settings changed meanwhile");
            self.start_build(wanted);
            return;
        }
        let swapped = built.and_then(|index| {
            let contents = self.contents.load();
            let products = contents.read();
            let upserted: Vec<&Product> =
                changed.iter().filter_map(|id| products.get(id)).map(|p| p.as_ref()).collect();
            let deleted: Vec<u64> = changed.iter().copied().filter(|id| !products.contains_key(id)).collect();
            index.apply(&upserted, &deleted).context("bringing the rebuilt index up to date")?;
            drop(products);
            // The words and weights of the settings in force now, not those it started with.
            index.set_matching(contents.index.matching());
            Ok(Contents { products: Arc::clone(&contents.products), index })
        });
        match swapped {
            Ok(contents) => {
                self.contents.store(Arc::new(contents));
                self.cache.invalidate();
                let took = since.elapsed().as_secs_f64();
                metrics::gauge!(observability::INDEX_REBUILD_SECONDS).set(took);
                metrics::counter!(observability::INDEX_REBUILDS, "outcome" => "swapped").increment(1);
                tracing::info!(attributes = ?building, written_meanwhile = changed.len(), seconds = took, "index rebuilt");
            }
            Err(error) => {
                metrics::counter!(observability::INDEX_REBUILDS, "outcome" => "failed").increment(1);
                tracing::error!(
                    error = format!("{error:#}"),
                    "the index rebuild failed; searches keep the index in use"
                );
            }
        }
        self.end_rebuild();
    }

    /// No build runs any more, and none is pending.
    fn end_rebuild(&self) {
        *self.rebuild.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        metrics::gauge!(observability::INDEX_REBUILD_PENDING).set(0.0);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use product_model::Attributes;
    use serde_json::json;

    use super::*;
    use crate::search::{Matching, SearchRequestBuilder};
    use crate::settings::{SearchableAttribute, Settings};
    use crate::store::{Change, Entry};

    /// 20,000 products; the even ones' finish is `glossy`, the odd ones' `matte`; every
    /// third one's grade is `premium`, the others' `basic`.
    fn catalogue() -> Arc<Catalog> {
        let products =
            (1..=20_000u64).map(|id| product(id, if id % 2 == 0 { "glossy" } else { "matte" })).collect();
        Arc::new(Catalog::build(products).unwrap())
    }

    fn product(id: u64, finish: &str) -> Product {
        let grade = if id % 3 == 0 { "premium" } else { "basic" };
        Product {
            name: Some(format!("plain item {id}").into()),
            attributes: Attributes::from_json(&json!({ "finish": finish, "grade": grade })).unwrap(),
            ..Product::bare(id)
        }
    }

    /// The default settings, searching `attributes` too.
    fn searching_these(attributes: &[&str]) -> Change {
        let mut settings = Settings::default();
        for name in attributes {
            let name = format!("attributes.{name}");
            settings.searchable_attributes.push(SearchableAttribute { name, weight: 2.0 });
        }
        Change { version: 0, entry: Entry::Settings(Arc::new(settings)), committed_at: 0.0 }
    }

    fn searching(finish: bool) -> Change {
        searching_these(if finish { &["finish"] } else { &[] })
    }

    fn at(version: u64, mut change: Change) -> Change {
        change.version = version;
        change
    }

    fn write(version: u64, id: u64, product: Option<Product>) -> Change {
        Change { version, entry: Entry::Product { id, product: product.map(Arc::new) }, committed_at: 0.0 }
    }

    fn total(catalog: &Catalog, text: &str) -> u64 {
        let request =
            SearchRequestBuilder { text: Some(text.into()), matching: Matching::All, ..Default::default() };
        catalog.search(&request.build().unwrap()).unwrap().total
    }

    fn wait_until_done(catalog: &Catalog) {
        let started = Instant::now();
        while catalog.rebuild_pending().is_some() {
            assert!(started.elapsed() < Duration::from_secs(120), "the rebuild never finished");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn an_attribute_searched_is_built_in_the_background_with_the_writes_made_meanwhile() {
        let catalog = catalogue();
        let plain = total(&catalog, "plain item");
        catalog.apply(&[at(1, searching(true))]).unwrap();
        let pending = catalog.rebuild_pending().expect("the index is rebuilt");
        assert_eq!(pending.attributes, ["attributes.finish"]);
        assert_eq!(total(&catalog, "glossy"), 0, "the index in use has no field for it yet");
        catalog
            .apply(&[
                write(2, 1, Some(product(1, "glossy"))),
                write(3, 2, None),
                write(4, 30_001, Some(product(30_001, "glossy"))),
            ])
            .unwrap();
        assert!(catalog.rebuild_pending().is_some(), "the writes were made while it was built");
        wait_until_done(&catalog);
        // 10,000 even ids, less the one deleted, plus the two written glossy meanwhile.
        assert_eq!(total(&catalog, "glossy"), 10_001);
        assert_eq!(total(&catalog, "matte"), 9_999);
        assert_eq!(
            total(&catalog, "plain item"),
            plain,
            "what does not name the attribute is found as before"
        );
        assert_eq!(catalog.len(), 20_000);
        assert_eq!(catalog.version(), 4);
    }

    #[test]
    fn memory_is_returned_at_once_while_the_index_is_rebuilt() {
        let catalog = catalogue();
        catalog.apply(&[at(1, searching(true))]).unwrap();
        assert!(catalog.rebuild_pending().is_some());
        // Other tests may hold their own at the same time, so the delay after is theirs to
        // say; the allocator's tests check it comes back.
        assert_eq!(allocator::purge_delay_ms(), 0, "freed memory goes back at once while it runs");
        wait_until_done(&catalog);
    }

    #[test]
    fn settings_changed_back_before_the_build_is_done_drop_it() {
        let catalog = catalogue();
        catalog.apply(&[at(1, searching(true))]).unwrap();
        assert!(catalog.rebuild_pending().is_some());
        catalog.apply(&[at(2, searching(false))]).unwrap();
        assert_eq!(catalog.rebuild_pending(), None, "the index in use searches what the settings say");
        // The build still runs, for nothing: once it is done, it is dropped, not swapped in.
        assert!(catalog.rebuild.lock().unwrap().is_some(), "the build runs on");
        let started = Instant::now();
        while catalog.rebuild.lock().unwrap().is_some() {
            assert!(started.elapsed() < Duration::from_secs(120), "the build never finished");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(total(&catalog, "glossy"), 0);
        assert!(catalog.contents.load().index.searched_attributes().is_empty());
    }

    #[test]
    fn settings_changed_while_a_build_runs_are_built_for_when_it_is_done() {
        let catalog = catalogue();
        catalog.apply(&[at(1, searching_these(&["finish"]))]).unwrap();
        catalog.apply(&[at(2, searching_these(&["grade"]))]).unwrap();
        assert_eq!(catalog.rebuild_pending().unwrap().attributes, ["attributes.grade"]);
        wait_until_done(&catalog);
        assert_eq!(
            catalog.contents.load().index.searched_attributes(),
            ["grade"],
            "one build, then the next"
        );
        assert_eq!(total(&catalog, "premium"), 6_666);
        assert_eq!(total(&catalog, "glossy"), 0);
    }
}
