//! Bounding windows of doc ids: when many documents match, a page is chosen by scoring the
//! windows whose bound can still beat the page's worst match (see
//! [`MatchScorer::collect_page`](super::MatchScorer::collect_page)).

use std::sync::Arc;

use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score};

use super::conjunction::is_dense;
use super::doc_sets::{DocBits, gallop};
use super::memo::{BestsKey, DocsKey, KEPT_FROM, ListMemo};
use super::scoring::SegmentScoring;
use super::{EXACT_TIER, List, SYNONYM_TIER, Tier};

/// Documents per window of a segment when a page is chosen: small enough that a window's
/// bound stays close to its best match, large enough that bounding them all costs little.
pub(super) const WINDOW: DocId = 128;

/// Fewer matches than this are scored whole: bounding windows costs about a tenth of
/// scoring them, and on this catalogue's even scores it pays only where a page is chosen
/// among tens of thousands of near ties.
pub(super) const BOUND_FROM: usize = 16_384;

/// Lists beyond which a segment's matches are scored whole: each batch of windows reads
/// every list again, and bounding costs as much as scoring (short prefixes complete to
/// hundreds of words).
pub(super) const BOUNDED_LISTS: usize = 32;

/// Matches scored in the first batch, at least, when windows are bounded: the page's worst
/// match is checked again between batches.
pub(super) const BATCH: usize = 512;

/// The matches of one window of doc ids (a range of the segment's matches), and a score
/// none of them exceeds.
pub(super) struct Window {
    pub(super) matches: std::ops::Range<usize>,
    pub(super) bound: Score,
}

/// The windows holding matches, highest bound first, and in doc order among equal bounds:
/// each as one integer key, sorted without comparing floats (a segment of a million
/// documents has about 8,000 windows).
pub(super) fn best_first(windows: &[Window]) -> Vec<usize> {
    let mut keys: Vec<u64> = windows
        .iter()
        .enumerate()
        .filter(|(_, window)| !window.matches.is_empty())
        .map(|(j, window)| (u64::from(descending(window.bound)) << 32) | j as u64)
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|key| (key & u64::from(u32::MAX)) as usize).collect()
}

/// A key whose ascending order is the descending order of scores under `total_cmp`.
pub(super) fn descending(score: Score) -> u32 {
    let bits = score.to_bits();
    let ascending = if bits >> 31 == 1 { !bits } else { bits | (1 << 31) };
    !ascending
}

impl SegmentScoring {
    /// The segment's windows of [`WINDOW`] doc ids, each with the matches of `docs` it holds
    /// and a bound on their scores. The bound replays [`Self::scores`] step by step, with
    /// each list's best score in the window in place of a document's, and every tier the
    /// window's lists could give. A clause is replayed twice, and the higher taken: for a
    /// document of its exact terms, with its other terms' bests among those documents alone;
    /// and for any other, without the exact terms. Floating-point rounding is monotonic, so
    /// no match scores above its window's bound, and the best can equal it.
    pub(super) fn windows(&self, docs: &[DocId]) -> tantivy::Result<Vec<Window>> {
        let count = self.max_doc.div_ceil(WINDOW) as usize;
        let mut bound: Vec<Score> = vec![0.0; count];
        // Per window, for the clause at hand, two cases replayed side by side: a document of
        // one of its exact terms (which earns the exact tier), and any other (which reads
        // none of the exact lists). A word's typo neighbours and completions (`one5` for
        // `one`) often share no document with it: kept apart, they do not lift the bound
        // of the word's own matches above the best of them.
        let mut exact: Vec<Score> = vec![0.0; count];
        let mut other: Vec<Score> = vec![0.0; count];
        let mut exact_present = vec![false; count];
        let mut other_present = vec![false; count];
        let mut synonym = vec![false; count];
        for (w, clause) in self.words.iter().enumerate() {
            let lists: Vec<&List> = self.clauses[w].iter().flatten().collect();
            let tier_of = |list: &List| clause.terms[list.term].tier;
            exact.copy_from_slice(&bound);
            other.copy_from_slice(&bound);
            exact_present.fill(false);
            other_present.fill(false);
            synonym.fill(false);
            let exact_lists: Vec<&List> =
                lists.iter().copied().filter(|l| tier_of(l) == Tier::Exact).collect();
            // Where the clause has exact terms and others, the others are also bounded over
            // the exact terms' documents alone.
            let exact_docs = (!exact_lists.is_empty() && exact_lists.len() < lists.len())
                .then(|| ExactDocs::new(exact_lists));
            for &list in &lists {
                let scorer = self.scorer(list);
                let is_exact = tier_of(list) == Tier::Exact;
                let is_synonym = tier_of(list) == Tier::Synonym;
                if !is_dense(u64::from(list.posted.info.doc_freq), docs.len()) {
                    // Too long to read for so few matches: its weight bounds every score it
                    // gives (BM25's frequency factor stays below 1), in every window.
                    for j in 0..count {
                        exact[j] += scorer.weight;
                        exact_present[j] |= is_exact;
                        if !is_exact {
                            other[j] += scorer.weight;
                            other_present[j] = true;
                            synonym[j] |= is_synonym;
                        }
                    }
                    continue;
                }
                let bests = self.list_bests(list, count, None)?;
                if is_exact {
                    for j in 0..count {
                        if bests[j] >= 0.0 {
                            exact[j] += bests[j];
                            exact_present[j] = true;
                        }
                    }
                    continue;
                }
                for j in 0..count {
                    if bests[j] >= 0.0 {
                        other[j] += bests[j];
                        other_present[j] = true;
                        synonym[j] |= is_synonym;
                    }
                }
                // Without exact lists the exact case is never taken: nothing to add to it.
                if let Some(exact_docs) = &exact_docs {
                    let within = self.list_bests(list, count, Some(exact_docs))?;
                    for j in 0..count {
                        if within[j] >= 0.0 {
                            exact[j] += within[j];
                        }
                    }
                }
            }
            let optional = !self.required[w];
            let word_tier = self.word_tier();
            for j in 0..count {
                let exact_bound = exact_present[j].then(|| exact[j] + EXACT_TIER);
                let other_bound =
                    other_present[j].then(|| if synonym[j] { other[j] + SYNONYM_TIER } else { other[j] });
                let clause_bound = match (exact_bound, other_bound) {
                    (Some(a), Some(b)) => a.max(b),
                    (a, b) => a.or(b).unwrap_or(bound[j]),
                };
                bound[j] = if optional && (exact_present[j] || other_present[j]) {
                    clause_bound + word_tier
                } else {
                    clause_bound
                };
            }
        }
        let mut windows = Vec::with_capacity(count);
        let mut start = 0;
        for (j, &bound) in bound.iter().enumerate() {
            // A window holds at most WINDOW matches: galloping from its start stays within a
            // few cache lines, where a binary search over the rest misses the cache at each step.
            let end = gallop(docs, start, (j as DocId + 1) * WINDOW);
            windows.push(Window { matches: start..end, bound });
            start = end;
        }
        Ok(windows)
    }

    /// One list's best score in each of the segment's `count` windows, negative where it
    /// has no posting, over every document or only those of `within`. Long lists are read
    /// once per segment, term, weight, average length and `within`, and kept in [`ListMemo`].
    pub(super) fn list_bests(
        &self,
        list: &List,
        count: usize,
        within: Option<&ExactDocs<'_>>,
    ) -> tantivy::Result<Arc<[Score]>> {
        let scorer = self.scorer(list);
        let field = list.posted.field;
        let key = BestsKey {
            list: DocsKey::of(list),
            weight: scorer.weight.to_bits(),
            average: self.bm25.averages[&field].to_bits(),
            within: within.map(|within| within.keys.clone()),
        };
        let kept = self.memo.as_ref().filter(|_| list.posted.info.doc_freq >= KEPT_FROM);
        if let Some(bests) = kept.and_then(|memo| memo.bests.get(&key)) {
            return Ok(bests);
        }
        let within = match within {
            Some(within) => Some(within.bits(self.max_doc, self.memo.as_deref())?),
            None => None,
        };
        let mut bests: Vec<Score> = vec![-1.0; count];
        let table = scorer.table(list.posted.info.doc_freq);
        let mut block = list.blocks(IndexRecordOption::WithFreqs)?;
        while !block.docs().is_empty() {
            for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
                if within.is_none_or(|within| within.contains(doc)) {
                    let best = &mut bests[(doc / WINDOW) as usize];
                    *best = (*best).max(table.score(doc, freq));
                }
            }
            block.advance();
        }
        let bests: Arc<[Score]> = bests.into();
        if let Some(memo) = kept {
            memo.bests.insert(key, bests.clone(), bests.len());
        }
        Ok(bests)
    }
}

/// The documents of one clause's exact terms in a segment, over which its other terms' window
/// bests are taken: named by their lists, and read only when a bound is not kept.
pub(super) struct ExactDocs<'a> {
    keys: Arc<[DocsKey]>,
    lists: Vec<&'a List>,
    bits: std::cell::OnceCell<DocBits>,
}

impl<'a> ExactDocs<'a> {
    pub(super) fn new(lists: Vec<&'a List>) -> Self {
        let keys = lists.iter().map(|list| DocsKey::of(list)).collect();
        Self { keys, lists, bits: std::cell::OnceCell::new() }
    }

    pub(super) fn bits(&self, max_doc: DocId, memo: Option<&ListMemo>) -> tantivy::Result<&DocBits> {
        if let Some(bits) = self.bits.get() {
            return Ok(bits);
        }
        let mut bits = DocBits::new(max_doc);
        for list in &self.lists {
            bits.insert_list(list, memo)?;
        }
        Ok(self.bits.get_or_init(|| bits))
    }
}

#[cfg(test)]
thread_local! {
    pub(super) static LEFT_OUT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many windows this thread's searches have left out unscored.
#[cfg(test)]
pub fn windows_left_out() -> usize {
    LEFT_OUT.with(std::cell::Cell::get)
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn windows_come_best_bound_first_and_in_doc_order_among_equals() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let bounds = [-1.5, -0.0, 0.0, 0.25, 3.0, 3.0, 10_003.5, Score::MAX, Score::INFINITY];
        let windows: Vec<Window> = (0..2_000)
            .map(|j| Window {
                // Every fifth window holds no match and is left out.
                matches: if j % 5 == 0 { j..j } else { j..j + 1 },
                bound: bounds[rng.random_range(0..bounds.len())],
            })
            .collect();
        let mut expected: Vec<usize> =
            (0..windows.len()).filter(|&j| !windows[j].matches.is_empty()).collect();
        expected.sort_by(|&a, &b| windows[b].bound.total_cmp(&windows[a].bound).then(a.cmp(&b)));
        assert_eq!(best_first(&windows), expected);
    }
}
