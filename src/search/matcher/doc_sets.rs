//! Sets of one segment's documents: bitsets, ranks of an ascending list, and walking a
//! posting list against candidates.

use tantivy::postings::SegmentPostings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, TERMINATED};

use super::List;
use super::memo::ListMemo;

/// Whether a bitset of documents holds `doc`.
pub(super) fn holds(words: &[u64], doc: DocId) -> bool {
    words[doc as usize / 64] & (1 << (doc % 64)) != 0
}

/// Words of a bitset in a 64-byte cache line.
const WORDS_PER_LINE: usize = 8;

/// A set of one segment's documents.
pub(super) struct DocBits {
    pub(super) words: Vec<u64>,
}

impl DocBits {
    pub(super) fn new(max_doc: DocId) -> Self {
        Self { words: vec![0; (max_doc as usize).div_ceil(64)] }
    }

    pub(super) fn clear(&mut self) {
        self.words.fill(0);
    }

    pub(super) fn insert(&mut self, doc: DocId) {
        self.words[doc as usize / 64] |= 1 << (doc % 64);
    }

    pub(super) fn contains(&self, doc: DocId) -> bool {
        holds(&self.words, doc)
    }

    pub(super) fn union(&mut self, other: &DocBits) {
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a |= b);
    }

    /// Keeps the documents `other` holds too; returns how many are left, counted in the
    /// same pass.
    pub(super) fn intersect(&mut self, other: &DocBits) -> usize {
        let mut count = 0;
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
            count += a.count_ones() as usize;
        }
        count
    }

    /// How many documents the set holds.
    pub(super) fn count(&self) -> usize {
        self.words.iter().map(|word| word.count_ones() as usize).sum()
    }

    /// Adds every document of a posting list: a long one's from `memo`, read once, any
    /// other's read now.
    pub(super) fn insert_list(&mut self, list: &List, memo: Option<&ListMemo>) -> tantivy::Result<()> {
        match memo.filter(|_| ListMemo::keeps_docs(list, self.words.len())) {
            Some(memo) => {
                let docs = memo.docs(list, self.words.len())?;
                self.words.iter_mut().zip(docs.iter()).for_each(|(a, b)| *a |= b);
                Ok(())
            }
            None => self.insert_postings(list),
        }
    }

    /// Keeps the documents one of `lists` holds, with `other` as scratch space; returns
    /// how many are left.
    pub(super) fn intersect_lists(
        &mut self,
        lists: &[List],
        other: &mut DocBits,
        memo: Option<&ListMemo>,
    ) -> tantivy::Result<usize> {
        other.clear();
        for list in lists {
            other.insert_list(list, memo)?;
        }
        Ok(self.intersect(other))
    }

    /// Adds every document of a posting list, reading it block by block.
    pub(super) fn insert_postings(&mut self, list: &List) -> tantivy::Result<()> {
        let mut block = list.blocks(IndexRecordOption::Basic)?;
        loop {
            let docs = block.docs();
            if docs.is_empty() {
                return Ok(());
            }
            for &doc in docs {
                self.insert(doc);
            }
            block.advance();
        }
    }

    /// The documents, ascending.
    pub(super) fn docs(&self) -> Vec<DocId> {
        self.docs_counted(self.count())
    }

    /// The documents, ascending, when the caller has just counted them: `count` must be
    /// [`Self::count`].
    pub(super) fn docs_counted(&self, count: usize) -> Vec<DocId> {
        // Sized first and written in place, with one spare slot: a dense word writes every
        // position and moves the end past its set bits only, so its last writes after the
        // set's last document land there.
        let mut docs = vec![0; count + 1];
        let mut n = 0;
        // A cache line of words at a time, passed over whole when empty: a conjunction
        // left with a few hundred candidates lists a segment of mostly empty words.
        for (line, words) in self.words.chunks(WORDS_PER_LINE).enumerate() {
            if words.iter().fold(0, |any, &word| any | word) == 0 {
                continue;
            }
            for (i, &word) in words.iter().enumerate() {
                let base = ((line * WORDS_PER_LINE + i) * 64) as DocId;
                if word.count_ones() >= 16 {
                    // Without a branch per document: a broad query lists most of the segment.
                    for bit in 0..64 {
                        docs[n] = base + bit;
                        n += ((word >> bit) & 1) as usize;
                    }
                } else {
                    let mut word = word;
                    while word != 0 {
                        docs[n] = base + word.trailing_zeros();
                        n += 1;
                        word &= word - 1;
                    }
                }
            }
        }
        debug_assert_eq!(n, count, "the count given is the set's");
        docs.truncate(n);
        docs
    }
}

/// The position of each of an ascending list of documents, found in constant time: a bit
/// per document of the segment and, per 64 of them, how many of the list come before.
/// Both fit a core's cache where a segment-sized array of scores would not.
pub(super) struct Ranks {
    words: Vec<(u64, u32)>,
}

impl Ranks {
    pub(super) fn new(docs: &[DocId], max_doc: DocId) -> Self {
        let mut words = vec![(0u64, 0u32); (max_doc as usize).div_ceil(64)];
        for &doc in docs {
            words[doc as usize / 64].0 |= 1 << (doc % 64);
        }
        let mut before = 0;
        for (bits, count) in &mut words {
            *count = before;
            before += bits.count_ones();
        }
        Self { words }
    }

    /// Where `doc` is in the list, if it is there.
    pub(super) fn position(&self, doc: DocId) -> Option<usize> {
        let (bits, before) = self.words[doc as usize / 64];
        let bit = 1u64 << (doc % 64);
        (bits & bit != 0).then(|| (before + (bits & (bit - 1)).count_ones()) as usize)
    }
}

/// Calls `found` with the position of every candidate `postings` holds. Whichever side is
/// behind skips ahead: the postings through their skip lists, the candidates by galloping,
/// so a short list costs little against many candidates and the other way round.
pub(super) fn walk(
    postings: &mut SegmentPostings,
    candidates: &[DocId],
    mut found: impl FnMut(usize, &SegmentPostings),
) {
    let mut i = 0;
    while i < candidates.len() {
        let doc = postings.doc();
        if doc == TERMINATED {
            return;
        }
        let candidate = candidates[i];
        if doc < candidate {
            postings.seek(candidate);
        } else if doc > candidate {
            i = gallop(candidates, i, doc);
        } else {
            found(i, postings);
            i += 1;
            postings.advance();
        }
    }
}

/// The first position at or after `from` whose document is at least `target`.
pub(super) fn gallop(docs: &[DocId], from: usize, target: DocId) -> usize {
    let mut step = 1;
    let mut low = from;
    let mut high = from + 1;
    while high < docs.len() && docs[high] < target {
        low = high;
        step *= 2;
        high = (high + step).min(docs.len());
    }
    let high = high.min(docs.len());
    low + docs[low..high].partition_point(|&doc| doc < target)
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn gallop_finds_the_first_position_at_or_after_the_target() {
        let docs: Vec<DocId> = (0..300).map(|i| i * 8 + i % 7).collect();
        for from in [0, 1, 5, 100, 299] {
            for target in docs[from]..docs[299] + 5 {
                let expected = from + docs[from..].partition_point(|&doc| doc < target);
                assert_eq!(gallop(&docs, from, target), expected, "from {from} to {target}");
            }
        }
    }

    #[test]
    fn a_bitset_lists_its_documents_ascending_at_every_density() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for percent in [0, 1, 10, 25, 50, 90, 100] {
            let max_doc = 64 * 40 + 17;
            let mut bits = DocBits::new(max_doc);
            let expected: Vec<DocId> = (0..max_doc).filter(|_| rng.random_range(0..100) < percent).collect();
            expected.iter().for_each(|&doc| bits.insert(doc));
            assert_eq!(bits.docs(), expected, "{percent}% of the documents");
        }
    }

    #[test]
    fn a_bitset_lists_documents_between_long_empty_stretches() {
        // Whole cache lines of empty words between the documents, and a last line of
        // one word.
        let max_doc = 64 * 41;
        for expected in [vec![0], vec![max_doc - 1], vec![63, 64, 1_000, 1_500, 2_047, 2_048, max_doc - 1]] {
            let mut bits = DocBits::new(max_doc);
            expected.iter().for_each(|&doc| bits.insert(doc));
            assert_eq!(bits.docs(), expected);
            assert_eq!(bits.docs_counted(expected.len()), expected);
        }
    }

    #[test]
    fn an_intersection_returns_how_many_documents_it_kept() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let max_doc = 64 * 40 + 17;
        for percent in [0, 3, 50, 100] {
            let mut a = DocBits::new(max_doc);
            let mut b = DocBits::new(max_doc);
            for doc in 0..max_doc {
                if rng.random_range(0..100) < percent {
                    a.insert(doc);
                }
                if rng.random_range(0..100) < 50 {
                    b.insert(doc);
                }
            }
            let expected = (0..max_doc).filter(|&doc| a.contains(doc) && b.contains(doc)).count();
            assert_eq!(a.intersect(&b), expected, "{percent}% of the documents");
            assert_eq!(a.count(), expected);
        }
    }
}
