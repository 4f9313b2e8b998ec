//! What long lists cost to read, kept across searches until the index changes.

use std::sync::Arc;

use tantivy::Score;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

use super::List;
use super::doc_sets::DocBits;
use super::windows::WINDOW;
use crate::kept::Kept;

/// Lists with fewer postings are read again for each search: cheap, and not worth the
/// memory.
pub(super) const KEPT_FROM: u32 = 2048;

/// What a list's window bests follow from: the list, the term's weight, the field's average
/// length, and the lists whose documents alone they are taken over, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct BestsKey {
    pub(super) list: DocsKey,
    pub(super) weight: u32,
    pub(super) average: u32,
    pub(super) within: Option<Arc<[DocsKey]>>,
}

/// What a list's documents follow from: its segment and its postings (whose offset names
/// the term within the field), which never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct DocsKey {
    segment: SegmentId,
    postings: usize,
    field: Field,
}

impl DocsKey {
    pub(super) fn of(list: &List) -> Self {
        Self {
            segment: list.posted.segment,
            postings: list.posted.info.postings_range.start,
            field: list.posted.field,
        }
    }
}

/// What long posting lists give every search that reads them, kept across searches: each
/// list's best score per window, and its documents as a bitset. Window bests change only
/// with a segment, a term's weight or a field's average length, documents only with a
/// segment, that is with writes; a write makes new keys, and the stale ones go when a
/// store fills up and is cleared whole.
pub struct ListMemo {
    pub(super) bests: Kept<BestsKey, Arc<[Score]>>,
    docs: Kept<DocsKey, Arc<[u64]>>,
}

impl Default for ListMemo {
    fn default() -> Self {
        Self::for_documents(0)
    }
}

impl std::fmt::Debug for ListMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListMemo")
            .field("bests", &self.bests.size())
            .field("docs", &self.docs.size())
            .finish()
    }
}

impl ListMemo {
    /// 4 Mi scores: 16 MiB, at least.
    const BESTS: usize = 4 << 20;
    /// 2 Mi words of 64 documents: 16 MiB, at least.
    const DOCS: usize = 2 << 20;
    /// Lists each store has room for, at least, in a segment of every document: a broad
    /// query reads dozens (a short prefix completes to up to a hundred), and a mix of them
    /// that keeps clearing the stores reads its lists again and again.
    const LISTS: usize = 1024;

    /// Stores sized for an index of `documents`: no smaller than [`Self::BESTS`] and
    /// [`Self::DOCS`], and with room for [`Self::LISTS`] lists of a segment that size.
    pub fn for_documents(documents: usize) -> Self {
        let windows = documents.div_ceil(WINDOW as usize);
        let words = documents.div_ceil(64);
        Self {
            bests: Kept::new(Self::BESTS.max(Self::LISTS * windows)),
            docs: Kept::new(Self::DOCS.max(Self::LISTS * words)),
        }
    }

    /// Words of documents kept, over every list.
    #[cfg(test)]
    pub fn kept_docs(&self) -> usize {
        self.docs.size()
    }

    /// Whether `list`'s documents are worth keeping as a bitset of `words` words: a long list
    /// whose bitset takes no more than four bytes per posting.
    pub(super) fn keeps_docs(list: &List, words: usize) -> bool {
        let postings = list.posted.info.doc_freq;
        postings >= KEPT_FROM && 2 * u64::from(postings) >= words as u64
    }

    /// `list`'s documents as a bitset of `words` words, read once.
    pub(super) fn docs(&self, list: &List, words: usize) -> tantivy::Result<Arc<[u64]>> {
        let key = DocsKey::of(list);
        if let Some(docs) = self.docs.get(&key) {
            return Ok(docs);
        }
        let mut bits = DocBits { words: vec![0; words] };
        bits.insert_postings(list)?;
        let docs: Arc<[u64]> = bits.words.into();
        self.docs.insert(key, docs.clone(), docs.len());
        Ok(docs)
    }
}
