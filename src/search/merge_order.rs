//! The order in which the bulk build's segments are merged into one.
//!
//! Merged segments keep their documents in order, one segment after the other, so the merged
//! doc ids follow the order of the segments given. Equal scores go to the lower product id,
//! and a page passes over windows of doc ids whose matches all lose that tie (see
//! `MatchScorer::collect_page`): with the lowest product ids first, the first windows
//! settle the page. Tantivy lists segments in a hash map's order, different at every start;
//! merged in that order, a search that finds every product of a million took three to
//! five times as long on some starts, and ten times with the highest product ids first
//! (benches/RESULTS.md, "Bits counted in one instruction").

use tantivy::Searcher;
use tantivy::index::SegmentId;

use super::schema::PRODUCT_ID_COLUMN;

/// The searcher's segments, the one holding the lowest product id first.
pub(super) fn lowest_product_first(searcher: &Searcher) -> tantivy::Result<Vec<SegmentId>> {
    let mut segments = Vec::with_capacity(searcher.segment_readers().len());
    for segment in searcher.segment_readers() {
        let lowest = segment.fast_fields().u64(PRODUCT_ID_COLUMN)?.min_value();
        segments.push((lowest, segment.segment_id()));
    }
    segments.sort_unstable();
    Ok(segments.into_iter().map(|(_, id)| id).collect())
}

#[cfg(test)]
mod tests {
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::{FAST, INDEXED, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    #[test]
    fn segments_come_lowest_product_id_first_whatever_order_they_were_written_in() {
        let mut schema = Schema::builder();
        let product_id = schema.add_u64_field(PRODUCT_ID_COLUMN, INDEXED | FAST);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        // One segment per commit, written out of order.
        let firsts = [300, 0, 500, 100, 400, 200];
        for first in firsts {
            for id in first..first + 100 {
                let mut doc = TantivyDocument::default();
                doc.add_u64(product_id, id);
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        let lowest_by_segment: std::collections::HashMap<SegmentId, u64> = searcher
            .segment_readers()
            .iter()
            .map(|segment| {
                (segment.segment_id(), segment.fast_fields().u64(PRODUCT_ID_COLUMN).unwrap().min_value())
            })
            .collect();
        let order: Vec<u64> =
            lowest_product_first(&searcher).unwrap().iter().map(|id| lowest_by_segment[id]).collect();
        assert_eq!(order, [0, 100, 200, 300, 400, 500]);
    }
}
