//! An index kept in a directory across restarts (`--index-dir`). Every commit names this
//! build's index format, and every document holds its product's digest; so a start that
//! finds a committed index there checks it against the catalogue it was given instead of
//! indexing every product again:
//! - an index of another format (another build) or another schema (other attributes
//!   searched), or one that cannot be read, is built again from scratch, never served;
//! - otherwise the products whose digest differs, or that it lacks, are written again and
//!   those it holds that the catalogue does not are deleted, in one commit. When that is
//!   more than a quarter of the catalogue, building from scratch is faster, and done.
//!
//! A directory is one replica's: tantivy's writer lock refuses a second process.

use std::borrow::Borrow;
use std::path::Path;

use anyhow::{Context, bail};
use product_model::Product;
use rayon::prelude::*;
use tantivy::columnar::{Cardinality, Column};
use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
use tantivy::schema::Schema;
use tantivy::{Index, IndexWriter, Opstamp, ReloadPolicy};

use super::schema::{CONTENT_DIGEST_COLUMN, PRODUCT_ID_COLUMN, content_digest};

/// Named by every commit: an index committed by a build of another format is not read.
/// Bumped whenever what is indexed, or how it is analysed, changes.
pub const FORMAT: &str = concat!("product-search index format 2, version ", env!("CARGO_PKG_VERSION"));

/// Commits what `writer` holds, naming this build's format.
pub fn commit(writer: &mut IndexWriter) -> tantivy::Result<Opstamp> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(FORMAT);
    prepared.commit()
}

/// How the index a start serves came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// Built from the catalogue: in memory, or in a directory that held no usable index
    /// (`stale` says why, when it held one).
    Built { stale: Option<&'static str> },
    /// Found in the directory and brought up to date with the catalogue.
    Reopened(CaughtUp),
}

/// What bringing a reopened index up to date took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtUp {
    /// Products the index already held as they are.
    pub unchanged: usize,
    /// Products written again: changed, or missing from the index.
    pub written: usize,
    /// Products the index held that the catalogue no longer has.
    pub deleted: usize,
}

/// What a start finds in the index directory.
pub(super) enum Found {
    Nothing,
    /// An index that must not be served, and why.
    Stale(&'static str),
    Usable(Index),
}

/// Looks in `dir` (created if missing) for an index of this format and `schema`. Fails if
/// another process holds the directory, or if it holds files but no index: that is not a
/// directory to clear.
pub(super) fn find(dir: &Path, schema: &Schema) -> anyhow::Result<Found> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the index directory {}", dir.display()))?;
    // Checked before anything is written there, the writer's lock file included.
    let has_index = dir.join("meta.json").exists();
    if !has_index {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
        if entries.any(|entry| entry.is_ok_and(|entry| !is_lock(&entry.file_name()))) {
            bail!(
                "the index directory {} holds files but no index: give an empty directory or a new path",
                dir.display()
            );
        }
    }
    let directory =
        MmapDirectory::open(dir).with_context(|| format!("opening the index directory {}", dir.display()))?;
    // Held only while looking: the writer takes it again.
    drop(directory.acquire_lock(&INDEX_WRITER_LOCK).map_err(|_| {
        anyhow::anyhow!("the index directory {} is in use by another process", dir.display())
    })?);
    if !has_index {
        return Ok(Found::Nothing);
    }
    let Ok(index) = Index::open(directory) else {
        return Ok(Found::Stale("it cannot be read"));
    };
    let Ok(metas) = index.load_metas() else {
        return Ok(Found::Stale("its commit cannot be read"));
    };
    if metas.payload.as_deref() != Some(FORMAT) {
        return Ok(Found::Stale("another build wrote it"));
    }
    if index.schema() != *schema {
        return Ok(Found::Stale("it searches other attributes"));
    }
    Ok(Found::Usable(index))
}

fn is_lock(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|name| name.starts_with(".tantivy-") && name.ends_with(".lock"))
}

/// Removes the index in `dir`, leaving the directory empty.
pub(super) fn clear(dir: &Path) -> anyhow::Result<()> {
    std::fs::remove_dir_all(dir).with_context(|| format!("removing the stale index in {}", dir.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating the index directory {}", dir.display()))
}

/// How the index differs from the catalogue.
pub(super) struct Differences {
    /// Positions in the catalogue of the products to write again.
    pub changed: Vec<usize>,
    /// Ids of the products to delete.
    pub deleted: Vec<u64>,
    pub unchanged: usize,
}

impl Differences {
    /// Whether writing them costs less than building from scratch.
    pub fn worth_catching_up(&self, catalogue: usize) -> bool {
        (self.changed.len() + self.deleted.len()) * 4 <= catalogue.max(1)
    }

    pub fn caught_up(&self) -> CaughtUp {
        CaughtUp { unchanged: self.unchanged, written: self.changed.len(), deleted: self.deleted.len() }
    }
}

/// Compares the digests `index` holds with those of `products`, walking both in order of
/// id. `None` if the index holds a product twice: it is not to be trusted.
pub(super) fn differences<P: Borrow<Product> + Sync>(
    index: &Index,
    products: &[P],
) -> anyhow::Result<Option<Differences>> {
    let Some(held) = held_digests(index)? else {
        return Ok(None);
    };
    // Digests take most of the time here: they are computed on every core.
    let digests: Vec<u64> = products.par_iter().map(|product| content_digest(product.borrow())).collect();
    let id = |position: usize| products[position].borrow().product_id;
    // The catalogue's positions in order of id: a catalogue already in that order (a
    // generated one) is one run for the sort, found in one pass.
    let mut positions: Vec<usize> = (0..products.len()).collect();
    positions.par_sort_by_key(|&position| id(position));

    let mut held = held.into_iter().peekable();
    let mut changed = Vec::new();
    let mut deleted = Vec::new();
    let mut unchanged = 0;
    for position in positions {
        let product_id = id(position);
        while let Some((gone, _)) = held.next_if(|&(held_id, _)| held_id < product_id) {
            deleted.push(gone);
        }
        match held.next_if(|&(held_id, _)| held_id == product_id) {
            Some((_, digest)) if digest == digests[position] => unchanged += 1,
            _ => changed.push(position),
        }
    }
    deleted.extend(held.map(|(gone, _)| gone));
    // Written in the catalogue's order, as a build from scratch would add them.
    changed.sort_unstable();
    Ok(Some(Differences { changed, deleted, unchanged }))
}

/// The product id and digest of every document `index` holds, by id; `None` if an id is
/// held twice, or a document lacks its id or digest.
fn held_digests(index: &Index) -> anyhow::Result<Option<Vec<(u64, u64)>>> {
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .context("opening the index reader")?;
    let searcher = reader.searcher();
    let alive_docs: usize =
        searcher.segment_readers().iter().map(|segment| segment.num_docs() as usize).sum();
    let mut held = Vec::with_capacity(alive_docs);
    for segment in searcher.segment_readers() {
        let fast = segment.fast_fields();
        let (Some(ids), Some(digests)) = (
            every_value(fast.u64(PRODUCT_ID_COLUMN)?, segment.max_doc()),
            every_value(fast.u64(CONTENT_DIGEST_COLUMN)?, segment.max_doc()),
        ) else {
            return Ok(None);
        };
        let alive = (0..segment.max_doc()).filter(|&doc| !segment.is_deleted(doc));
        held.extend(alive.map(|doc| (ids[doc as usize], digests[doc as usize])));
    }
    held.par_sort_unstable();
    if held.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return Ok(None);
    }
    Ok(Some(held))
}

/// The value of `column` for each of the first `max_doc` documents, decoded at once; `None`
/// unless every document has exactly one, as every indexed product has an id and a digest.
fn every_value(column: Column<u64>, max_doc: u32) -> Option<Vec<u64>> {
    if column.get_cardinality() != Cardinality::Full {
        return None;
    }
    let mut values = vec![0; max_doc as usize];
    column.values.get_range(0, &mut values);
    Some(values)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::search::{MatchingOptions, SearchIndex, SearchRequestBuilder};

    /// A directory of its own under the system's temporary one, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            Self(std::env::temp_dir().join(format!("product-search-index-{}", uuid::Uuid::new_v4())))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const QUERIES: [&str; 5] = ["for", "wireless headphones", "lamp desk", "a", "zyzzogeton"];

    /// Each query's exact total and first page.
    fn answers(index: &SearchIndex) -> Vec<(u64, Vec<u64>)> {
        QUERIES
            .iter()
            .map(|text| {
                let request = SearchRequestBuilder {
                    text: Some((*text).to_owned()),
                    limit: Some(50),
                    ..Default::default()
                }
                .build()
                .unwrap();
                let hits = index.search(&request).unwrap();
                (hits.total, hits.ids)
            })
            .collect()
    }

    /// What an index built in memory from `products` answers, once in one segment (as a
    /// reopened one is once merged): deleted documents no longer count in the statistics.
    fn built_in_memory(products: &[Product]) -> Vec<(u64, Vec<u64>)> {
        let index = SearchIndex::build(products, MatchingOptions::default()).unwrap();
        index.wait_for_one_segment();
        answers(&index)
    }

    fn open(products: &[Product], dir: &TempDir) -> (SearchIndex, Opened) {
        let (index, opened) =
            SearchIndex::open_or_build(products, MatchingOptions::default(), &dir.0).unwrap();
        index.wait_for_one_segment();
        (index, opened)
    }

    #[test]
    fn an_unchanged_catalogue_reopens_its_kept_index_and_finds_the_same() {
        let products = data_gen::generate(3, 4_000);
        let dir = TempDir::new();
        let (built, opened) = open(&products, &dir);
        assert_eq!(opened, Opened::Built { stale: None });
        let expected = built_in_memory(&products);
        assert_eq!(answers(&built), expected);
        drop(built);

        let (reopened, opened) = open(&products, &dir);
        assert_eq!(opened, Opened::Reopened(CaughtUp { unchanged: 4_000, written: 0, deleted: 0 }));
        assert_eq!(answers(&reopened), expected);
    }

    #[test]
    fn a_reopened_index_writes_changed_and_new_products_and_deletes_gone_ones() {
        let mut products = data_gen::generate(3, 4_000);
        let dir = TempDir::new();
        drop(open(&products, &dir));

        products[10].name = Some("Zyzzogeton lantern".into());
        let gone = products.remove(20).product_id;
        products.push(Product { name: Some("Zyzzogeton kettle".into()), ..Product::bare(900_000) });
        let (reopened, opened) = open(&products, &dir);
        assert_eq!(opened, Opened::Reopened(CaughtUp { unchanged: 3_998, written: 2, deleted: 1 }));
        let answers = answers(&reopened);
        assert_eq!(answers, built_in_memory(&products));
        let (total, mut ids) = answers[4].clone();
        ids.sort_unstable();
        assert_eq!((total, ids), (2, vec![products[10].product_id, 900_000]));
        assert!(answers.iter().all(|(_, ids)| !ids.contains(&gone)));
    }

    #[test]
    fn a_catalogue_out_of_id_order_is_matched_to_its_kept_index_by_id() {
        let mut products = data_gen::generate(3, 2_000);
        let dir = TempDir::new();
        drop(open(&products, &dir));

        products.reverse();
        products[1].name = Some("Zyzzogeton lantern".into());
        let gone = products.remove(30).product_id;
        let (reopened, opened) = open(&products, &dir);
        assert_eq!(opened, Opened::Reopened(CaughtUp { unchanged: 1_998, written: 1, deleted: 1 }));
        let answers = answers(&reopened);
        assert_eq!(answers, built_in_memory(&products));
        assert!(answers.iter().all(|(_, ids)| !ids.contains(&gone)));
    }

    #[test]
    fn updates_committed_while_serving_are_found_by_the_next_start() {
        let mut products = data_gen::generate(3, 2_000);
        let dir = TempDir::new();
        let (index, _) = open(&products, &dir);
        products[5].name = Some("Zyzzogeton lamp".into());
        let gone = products.remove(7).product_id;
        index.apply(&[&products[5]], &[gone]).unwrap();
        drop(index);

        let (reopened, opened) = open(&products, &dir);
        assert_eq!(opened, Opened::Reopened(CaughtUp { unchanged: 1_999, written: 0, deleted: 0 }));
        assert_eq!(answers(&reopened), built_in_memory(&products));
    }

    #[test]
    fn a_kept_index_of_other_attributes_or_another_build_is_built_again_not_served() {
        let products = data_gen::generate(3, 2_000);
        let dir = TempDir::new();
        drop(open(&products, &dir));

        let color = MatchingOptions { attribute_weights: vec![("color".into(), 1.0)], ..Default::default() };
        let (index, opened) = SearchIndex::open_or_build(&products, color, &dir.0).unwrap();
        assert_eq!(opened, Opened::Built { stale: Some("it searches other attributes") });
        assert_eq!(index.searched_attributes(), ["color".to_owned()]);
        index.wait_for_one_segment();
        drop(index);

        let meta = dir.0.join("meta.json");
        let text = std::fs::read_to_string(&meta).unwrap();
        assert!(text.contains(FORMAT));
        std::fs::write(&meta, text.replace(FORMAT, "product-search index format 0")).unwrap();
        let (index, opened) = open(&products, &dir);
        assert_eq!(opened, Opened::Built { stale: Some("another build wrote it") });
        assert_eq!(answers(&index), built_in_memory(&products));
    }

    #[test]
    fn a_catalogue_mostly_changed_is_indexed_from_scratch() {
        let products = data_gen::generate(3, 2_000);
        let dir = TempDir::new();
        drop(open(&products, &dir));

        let others = data_gen::generate(4, 2_000);
        let (index, opened) = open(&others, &dir);
        assert_eq!(
            opened,
            Opened::Built {
                stale: Some("it differs from the catalogue in more than a quarter of the products")
            }
        );
        assert_eq!(answers(&index), built_in_memory(&others));
    }

    #[test]
    fn a_directory_of_other_files_or_in_use_is_refused_and_left_as_it_is() {
        let products = data_gen::generate(3, 500);
        let dir = TempDir::new();
        std::fs::create_dir_all(&dir.0).unwrap();
        std::fs::write(dir.0.join("notes.txt"), "mine").unwrap();
        let error = SearchIndex::open_or_build(&products, MatchingOptions::default(), &dir.0).err().unwrap();
        assert!(error.to_string().contains("holds files but no index"), "{error}");
        let left: Vec<_> =
            std::fs::read_dir(&dir.0).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(left, ["notes.txt"]);
        assert_eq!(std::fs::read_to_string(dir.0.join("notes.txt")).unwrap(), "mine");

        let used = TempDir::new();
        let (serving, _) = open(&products, &used);
        let error = SearchIndex::open_or_build(&products, MatchingOptions::default(), &used.0).err().unwrap();
        assert!(error.to_string().contains("in use by another process"), "{error}");
        assert_eq!(answers(&serving), built_in_memory(&products));
    }
}
