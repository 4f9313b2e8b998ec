//! Scoring a segment's matches: each term's weighted BM25, plus the tiers of the clauses
//! matched exactly, through a synonym, or (optional clauses) at all.

use std::sync::Arc;

use tantivy::directory::OwnedBytes;
use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Score};

use super::conjunction::{clause_hits, is_dense};
use super::doc_sets::{Ranks, walk};
use super::memo::ListMemo;
use super::{Bm25, Clause, EXACT_TIER, List, SYNONYM_TIER, Tier};

/// What scoring one segment's matches needs, kept by its scorer until asked for scores.
pub(super) struct SegmentScoring {
    pub(super) words: Arc<[Clause]>,
    pub(super) required: Arc<[bool]>,
    pub(super) bm25: Arc<Bm25>,
    /// Per clause: its lists by term position (`None` where the segment lacks the term).
    pub(super) clauses: Vec<Vec<Option<List>>>,
    /// Per field of the lists: each document's encoded length, by doc id.
    pub(super) field_lengths: Vec<(Field, OwnedBytes)>,
    pub(super) max_doc: DocId,
    pub(super) memo: Option<Arc<ListMemo>>,
}

impl SegmentScoring {
    pub(super) fn scorer(&self, list: &List) -> ListScorer<'_> {
        let field = list.posted.field;
        ListScorer {
            weight: self.bm25.weights[list.word][list.term],
            norms: &self.bm25.norms[&field],
            lengths: self.field_lengths[self.field_at(field)].1.as_slice(),
        }
    }

    /// Where `field` is in [`Self::field_lengths`].
    fn field_at(&self, field: Field) -> usize {
        self.field_lengths.iter().position(|(f, _)| *f == field).expect("read for every list")
    }

    /// The encoded field lengths of `docs` in `list`'s field, by position, read into
    /// `by_field` (one entry per field of [`Self::field_lengths`]) the first time.
    fn lengths<'l>(&self, by_field: &'l mut [Option<Vec<u8>>], list: &List, docs: &[DocId]) -> &'l [u8] {
        let at = self.field_at(list.posted.field);
        let lengths = self.field_lengths[at].1.as_slice();
        by_field[at].get_or_insert_with(|| docs.iter().map(|&doc| lengths[doc as usize]).collect())
    }

    /// Above every exact tier and BM25 sum the clauses can add together.
    pub(super) fn word_tier(&self) -> Score {
        EXACT_TIER * (self.words.len() as Score + 1.0)
    }

    /// Sums each term's weighted BM25 over `docs` (ascending), plus a tier per clause
    /// matched exactly, plus the word tier per optional clause matched, adding in the same
    /// order for every document. Where the matches are a fair part of the segment (a
    /// stop word, a short prefix), scores are summed in a segment-sized array, by doc id:
    /// the long lists, read in doc order, add to it with no question of whether a posting
    /// is a match. Elsewhere they are kept in the order of `docs`, so a long list's
    /// postings, read in doc order, add to them in order too: a segment-sized array would
    /// take a cache miss per posting.
    pub(super) fn scores(&self, docs: &[DocId]) -> tantivy::Result<Vec<Score>> {
        self.scores_summed(docs, is_broad(docs.len(), self.max_doc))
    }

    /// [`Self::scores`], summed by doc id or by position in `docs`.
    pub(super) fn scores_summed(&self, docs: &[DocId], by_doc: bool) -> tantivy::Result<Vec<Score>> {
        let slots = if by_doc { self.max_doc as usize } else { docs.len() };
        let slot = |i: usize| if by_doc { docs[i] as usize } else { i };
        let word_tier = self.word_tier();
        // Only lists read whole need it, and only when slots are positions: a search whose
        // lists all skip to its candidates builds none.
        let mut ranks: Option<Ranks> = None;
        // When slots are positions: per field, each match's encoded length, read once when
        // a list of the field first needs it. A word's lists in one field (its exact term,
        // typos, completions) meet the same matches, and each meeting would otherwise load
        // the length from the segment's array, most of them a cache miss.
        let mut by_field: Vec<Option<Vec<u8>>> = vec![None; self.field_lengths.len()];
        let mut scores = vec![0.0; slots];
        let mut flags = vec![0u8; slots];
        for (w, clause) in self.words.iter().enumerate() {
            let optional = !self.required[w];
            for list in self.clauses[w].iter().flatten() {
                let scorer = self.scorer(list);
                let flag = match clause.terms[list.term].tier {
                    Tier::Exact => EXACT,
                    Tier::Synonym => SYNONYM,
                    Tier::Near => 0,
                };
                // A term of the union matches the clause on its own; a group's only with
                // the group's other parts, checked below.
                let flag = if optional && list.term < clause.union { flag | MATCHED } else { flag };
                if is_dense(u64::from(list.posted.info.doc_freq), docs.len()) {
                    let mut block = list.blocks(IndexRecordOption::WithFreqs)?;
                    let table = scorer.table(list.posted.info.doc_freq);
                    if by_doc {
                        // Postings of documents that are not matches add to slots never read.
                        // A list that sets no flag (a typo, a completion) leaves the flags alone.
                        let (scores, flags) = (&mut scores[..], &mut flags[..]);
                        while !block.docs().is_empty() {
                            let postings = block.docs().iter().zip(block.freqs());
                            if flag == 0 {
                                for (&doc, &freq) in postings {
                                    scores[doc as usize] += table.score(doc, freq);
                                }
                            } else {
                                for (&doc, &freq) in postings {
                                    scores[doc as usize] += table.score(doc, freq);
                                    flags[doc as usize] |= flag;
                                }
                            }
                            block.advance();
                        }
                        continue;
                    }
                    let ranks = ranks.get_or_insert_with(|| Ranks::new(docs, self.max_doc));
                    let lengths = self.lengths(&mut by_field, list, docs);
                    while !block.docs().is_empty() {
                        for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
                            if let Some(i) = ranks.position(doc) {
                                scores[i] += table.score_id(lengths[i], freq);
                                flags[i] |= flag;
                            }
                        }
                        block.advance();
                    }
                } else if by_doc {
                    let mut postings = list.postings(IndexRecordOption::WithFreqs)?;
                    walk(&mut postings, docs, |i, postings| {
                        let doc = docs[i];
                        scores[doc as usize] += scorer.score(doc, postings.term_freq());
                        flags[doc as usize] |= flag;
                    });
                } else {
                    let mut postings = list.postings(IndexRecordOption::WithFreqs)?;
                    let lengths = self.lengths(&mut by_field, list, docs);
                    walk(&mut postings, docs, |i, postings| {
                        scores[i] += scorer.score_id(lengths[i], postings.term_freq());
                        flags[i] |= flag;
                    });
                }
            }
            if optional && !clause.is_simple() {
                let hits = clause_hits(clause, &self.clauses[w], docs, self.max_doc, self.memo.as_deref())?;
                for (i, _) in hits.iter().enumerate().filter(|(_, hit)| **hit) {
                    flags[slot(i)] |= MATCHED;
                }
            }
            // Over every slot, without a branch: adding zero leaves a score (never
            // negative) as it was, bit for bit, and slots of no match are never read.
            let tiers = [0.0, EXACT_TIER, SYNONYM_TIER, EXACT_TIER];
            let words = [0.0, word_tier];
            for (score, flag) in scores.iter_mut().zip(&mut flags) {
                *score += tiers[usize::from(*flag & (EXACT | SYNONYM))];
                *score += words[usize::from(*flag & MATCHED != 0)];
                *flag = 0;
            }
        }
        if by_doc {
            return Ok(docs.iter().map(|&doc| scores[doc as usize]).collect());
        }
        Ok(scores)
    }
}

/// Whether `matches` are enough of a segment of `max_doc` documents for their scores to be
/// summed by doc id: an eighth of it, where clearing a segment-sized array costs less than
/// finding each posting's position among the matches.
pub(super) fn is_broad(matches: usize, max_doc: DocId) -> bool {
    matches as u64 * 8 >= u64::from(max_doc)
}

/// Flags of a document being scored: for the clause at hand, it matched through an exact
/// term, a synonym, or (optional clauses) at all.
pub(super) const EXACT: u8 = 1;
pub(super) const SYNONYM: u8 = 2;
pub(super) const MATCHED: u8 = 4;

/// BM25 of one term in one segment, weighted.
#[derive(Clone)]
pub(super) struct ListScorer<'a> {
    pub(super) weight: Score,
    pub(super) norms: &'a [Score; 256],
    /// Each document's encoded length in the list's field, by doc id.
    pub(super) lengths: &'a [u8],
}

impl<'a> ListScorer<'a> {
    pub(super) fn score(&self, doc: DocId, freq: u32) -> Score {
        self.score_id(self.lengths[doc as usize], freq)
    }

    /// This scorer for reading a list of `postings` whole: a long list's scores of one
    /// occurrence (most of its postings) are computed once per field length, the same
    /// floating-point operations giving the same bits.
    pub(super) fn table(&self, postings: u32) -> TabledScorer<'a> {
        let ones = (postings >= TABLE_FROM).then(|| std::array::from_fn(|id| self.score_id(id as u8, 1)));
        TabledScorer { scorer: self.clone(), ones }
    }

    /// The score of `freq` occurrences in a field of encoded length `norm_id`.
    pub(super) fn score_id(&self, norm_id: u8, freq: u32) -> Score {
        let freq = freq as Score;
        self.weight * freq / (freq + self.norms[usize::from(norm_id)])
    }
}

/// Postings from which a list read whole gets a table of its scores of one occurrence:
/// building it takes 256 divisions.
const TABLE_FROM: u32 = 2_048;

/// A [`ListScorer`] with, for a long list, its scores of one occurrence by field length.
pub(super) struct TabledScorer<'a> {
    scorer: ListScorer<'a>,
    ones: Option<[Score; 256]>,
}

impl TabledScorer<'_> {
    pub(super) fn score(&self, doc: DocId, freq: u32) -> Score {
        self.score_id(self.scorer.lengths[doc as usize], freq)
    }

    /// The score of `freq` occurrences in a field of encoded length `norm_id`.
    pub(super) fn score_id(&self, norm_id: u8, freq: u32) -> Score {
        match &self.ones {
            Some(ones) if freq == 1 => ones[usize::from(norm_id)],
            _ => self.scorer.score_id(norm_id, freq),
        }
    }
}
