//! Which matches a pass of a search keeps beyond its query. Merchandising leaves out its
//! hidden and pinned products, and splits a boosted search into the products the boost
//! matches and the others. The collectors apply it document by document, so the matcher
//! keeps its fast path (a query clause would make it score every match).

use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, SegmentReader, TERMINATED, Term};

/// A set of documents per segment of one searcher.
pub type SegmentSets = Vec<(SegmentId, Arc<BitSet>)>;

/// What a pass keeps: not the products of `excluded`; and, with `within`, only the
/// documents of its sets (`true`) or only the others (`false`).
#[derive(Clone, Default)]
pub struct Restriction {
    field: Option<Field>,
    excluded: Arc<[u64]>,
    within: Option<(Arc<SegmentSets>, bool)>,
}

/// A restriction read for one segment.
pub struct SegmentRestriction {
    /// Documents left out, sorted.
    excluded: Vec<DocId>,
    within: Option<(Arc<BitSet>, bool)>,
}

impl Restriction {
    /// Leaves out the products of `excluded` (ids of `field`), and keeps to `within`.
    pub fn new(field: Field, excluded: &[u64], within: Option<(Arc<SegmentSets>, bool)>) -> Self {
        Self { field: Some(field), excluded: excluded.into(), within }
    }

    /// The restriction in `reader`'s segment: the documents of the excluded products
    /// (deleted ones too), found by their id term, and the segment's set.
    pub fn segment(&self, reader: &SegmentReader) -> tantivy::Result<SegmentRestriction> {
        let mut excluded = Vec::new();
        if let Some(field) = self.field.filter(|_| !self.excluded.is_empty()) {
            let index = reader.inverted_index(field)?;
            for id in self.excluded.iter() {
                let term = Term::from_field_u64(field, *id);
                if let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? {
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        excluded.push(doc);
                        doc = postings.advance();
                    }
                }
            }
            excluded.sort_unstable();
        }
        let within = self.within.as_ref().map(|(sets, inside)| {
            let set = sets
                .iter()
                .find(|(segment, _)| *segment == reader.segment_id())
                .map(|(_, set)| Arc::clone(set))
                .unwrap_or_else(|| Arc::new(BitSet::with_max_value(reader.max_doc())));
            (set, *inside)
        });
        Ok(SegmentRestriction { excluded, within })
    }
}

impl SegmentRestriction {
    /// Whether it keeps every document.
    pub fn is_empty(&self) -> bool {
        self.excluded.is_empty() && self.within.is_none()
    }

    pub fn keeps(&self, doc: DocId) -> bool {
        (self.excluded.is_empty() || self.excluded.binary_search(&doc).is_err())
            && self.within.as_ref().is_none_or(|(set, inside)| set.contains(doc) == *inside)
    }
}
