//! Scoring a segment's matches: each term's weighted BM25, plus the tiers of the clauses
//! matched exactly, through a synonym, or (optional clauses) at all.

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
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
    pub(super) fieldnorms: Vec<(Field, FieldNormReader)>,
    pub(super) max_doc: DocId,
    pub(super) memo: Option<Arc<ListMemo>>,
}

impl SegmentScoring {
    pub(super) fn scorer(&self, list: &List) -> ListScorer<'_> {
        let field = list.posted.field;
        ListScorer {
            weight: self.bm25.weights[list.word][list.term],
            norms: &self.bm25.norms[&field],
            fieldnorms: &self.fieldnorms.iter().find(|(f, _)| *f == field).expect("read for every list").1,
        }
    }

    /// Above every exact tier and BM25 sum the clauses can add together.
    pub(super) fn word_tier(&self) -> Score {
        EXACT_TIER * (self.words.len() as Score + 1.0)
    }

    /// Sums each term's weighted BM25 over `docs` (ascending), plus a tier per clause
    /// matched exactly, plus the word tier per optional clause matched. Scores are kept in
    /// the order of `docs`, so a long list's postings, read in doc order, add to them in
    /// order too: a segment-sized array would take a cache miss per posting.
    pub(super) fn scores(&self, docs: &[DocId]) -> tantivy::Result<Vec<Score>> {
        let word_tier = self.word_tier();
        // Only lists read whole need it: a search whose lists all skip to its candidates
        // builds none.
        let mut ranks: Option<Ranks> = None;
        let mut scores = vec![0.0; docs.len()];
        let mut flags = vec![0u8; docs.len()];
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
                let mut add = |i: usize, doc: DocId, freq: u32| {
                    scores[i] += scorer.score(doc, freq);
                    flags[i] |= flag;
                };
                if is_dense(u64::from(list.posted.info.doc_freq), docs.len()) {
                    let ranks = ranks.get_or_insert_with(|| Ranks::new(docs, self.max_doc));
                    let mut block = list.blocks(IndexRecordOption::WithFreqs)?;
                    while !block.docs().is_empty() {
                        for (&doc, &freq) in block.docs().iter().zip(block.freqs()) {
                            if let Some(i) = ranks.position(doc) {
                                add(i, doc, freq);
                            }
                        }
                        block.advance();
                    }
                } else {
                    let mut postings = list.postings(IndexRecordOption::WithFreqs)?;
                    walk(&mut postings, docs, |i, postings| add(i, docs[i], postings.term_freq()));
                }
            }
            if optional && !clause.is_simple() {
                let hits = clause_hits(clause, &self.clauses[w], docs, self.max_doc, self.memo.as_deref())?;
                flags.iter_mut().zip(hits).filter(|(_, hit)| *hit).for_each(|(flag, _)| *flag |= MATCHED);
            }
            for (score, flag) in scores.iter_mut().zip(&mut flags) {
                if *flag & EXACT != 0 {
                    *score += EXACT_TIER;
                } else if *flag & SYNONYM != 0 {
                    *score += SYNONYM_TIER;
                }
                if *flag & MATCHED != 0 {
                    *score += word_tier;
                }
                *flag = 0;
            }
        }
        Ok(scores)
    }
}

/// Flags of a document being scored: for the clause at hand, it matched through an exact
/// term, a synonym, or (optional clauses) at all.
pub(super) const EXACT: u8 = 1;
pub(super) const SYNONYM: u8 = 2;
pub(super) const MATCHED: u8 = 4;

/// BM25 of one term in one segment, weighted.
pub(super) struct ListScorer<'a> {
    pub(super) weight: Score,
    pub(super) norms: &'a [Score; 256],
    pub(super) fieldnorms: &'a FieldNormReader,
}

impl ListScorer<'_> {
    pub(super) fn score(&self, doc: DocId, freq: u32) -> Score {
        self.score_id(self.fieldnorms.fieldnorm_id(doc), freq)
    }

    /// The score of `freq` occurrences in a field of encoded length `norm_id`.
    pub(super) fn score_id(&self, norm_id: u8, freq: u32) -> Score {
        let freq = freq as Score;
        self.weight * freq / (freq + self.norms[usize::from(norm_id)])
    }
}
