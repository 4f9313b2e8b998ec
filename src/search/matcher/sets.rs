//! Clause and filter documents per segment as bitsets, for counting any set of clauses.

use tantivy::fastfield::AliveBitSet;
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{Searcher, Term};

use super::conjunction::clause_docs;
use super::doc_sets::DocBits;
use super::memo::ListMemo;
use super::{Clause, SegmentTerms, lists_of};

/// Every clause's documents and the filters', per segment, read once: how many products
/// match any set of the clauses is then counted from bitsets, with no list read again.
/// Widening a query asks that of many sets.
pub struct ClauseSets {
    segments: Vec<SegmentSets>,
}

pub(super) struct SegmentSets {
    /// Per clause.
    clauses: Vec<DocBits>,
    /// The documents every filter keeps; `None` with no filter.
    filtered: Option<DocBits>,
    alive: Option<AliveBitSet>,
}

impl ClauseSets {
    /// Reads `clauses`, the term filters (a product must have one term of each) and the
    /// `other` filters (any query; they never score), in every segment of `searcher`.
    pub fn read(
        searcher: &Searcher,
        clauses: &[Clause],
        term_filters: &[Vec<Term>],
        other: &[Box<dyn Query>],
        memo: Option<&ListMemo>,
    ) -> tantivy::Result<Self> {
        let other: Vec<Box<dyn Weight>> = other
            .iter()
            .map(|query| query.weight(EnableScoring::disabled_from_searcher(searcher)))
            .collect::<tantivy::Result<_>>()?;
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            let max_doc = reader.max_doc();
            let terms = SegmentTerms::read(reader, clauses, term_filters)?;
            let clause_sets = clauses
                .iter()
                .enumerate()
                .map(|(w, clause)| clause_docs(clause, &lists_of(w, &terms.words[w]), max_doc, memo))
                .collect::<tantivy::Result<_>>()?;
            let mut filtered: Option<DocBits> = None;
            let mut keep = |docs: DocBits| match &mut filtered {
                None => filtered = Some(docs),
                Some(filtered) => {
                    filtered.intersect(&docs);
                }
            };
            for (f, group) in terms.filters.iter().enumerate() {
                let mut docs = DocBits::new(max_doc);
                for list in lists_of(f, group).iter().flatten() {
                    docs.insert_list(list, memo)?;
                }
                keep(docs);
            }
            for weight in &other {
                let mut docs = DocBits::new(max_doc);
                weight
                    .for_each_no_score(reader, &mut |found| found.iter().for_each(|&doc| docs.insert(doc)))?;
                keep(docs);
            }
            segments.push(SegmentSets {
                clauses: clause_sets,
                filtered,
                alive: reader.alive_bitset().cloned(),
            });
        }
        Ok(Self { segments })
    }

    /// How many products (deleted ones aside) match every clause `required` flags, and
    /// every filter when `filtered`; none when no clause is required.
    pub fn count(&self, required: &[bool], filtered: bool) -> u64 {
        let mut total = 0;
        for segment in &self.segments {
            let mut sets = segment.clauses.iter().zip(required).filter(|(_, r)| **r).map(|(set, _)| set);
            let Some(first) = sets.next() else { return 0 };
            let mut docs = DocBits { words: first.words.clone() };
            for set in sets.chain(segment.filtered.as_ref().filter(|_| filtered)) {
                docs.intersect(set);
            }
            total += match &segment.alive {
                None => docs.count(),
                Some(alive) => docs.docs().into_iter().filter(|&doc| alive.is_alive(doc)).count(),
            } as u64;
        }
        total
    }
}
