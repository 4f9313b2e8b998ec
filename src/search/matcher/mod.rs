//! Matching and scoring the clauses of a query. A clause is one query word (or a phrase a
//! synonym names) with everything it may match: any of its terms (the exact stem in every
//! field, typo neighbours, completions, the word joined with its neighbour, synonyms), or
//! all the parts of one of its groups (a word split in two, a synonym of several words).
//! Every required clause must match; optional ones (words a partial match let go) only rank.
//! A product scores the sum over its matching terms of weighted BM25, plus [`EXACT_TIER`]
//! for each clause it matches through an exact term ([`SYNONYM_TIER`] through a synonym
//! only), plus a word tier (above all of that)
//! for each optional clause it matches, so products matching more words rank first.
//!
//! Why not a boolean query of term queries: with six fields and a word's expansions, one
//! word is a union of up to hundreds of posting lists, and tantivy's unions score every
//! document of every list before the conjunction throws most of them away. Here each
//! segment is worked in passes over sorted document ids instead:
//! 1. candidates: the union of the cheapest word's lists (fewest postings), as a bitset;
//! 2. conjunction: every other word, cheapest first, keeps the candidates one of its lists
//!    holds; a word with few postings per candidate is read whole into a bitset (and
//!    intersected with the candidates' bitset, while they are still many), one with many
//!    is skipped through to each candidate with the lists' skip data. A long list's
//!    bitset is read once and kept ([`ListMemo`]);
//! 3. scoring: only the survivors are scored, list by list, the same two ways, and only
//!    when asked: counting and facets never score.
//!
//! So no posting is scored unless its document matches every word. The scores equal those
//! of tantivy's term queries under boolean and boost queries (a test holds them to it).
//!
//! A page under relevance needs fewer still ([`MatchScorer::collect_page`]). When many
//! documents match, the segment is cut into windows of [`WINDOW`] doc ids, and each window
//! gets a bound: the scoring replayed with each list's best score in the window. Windows are
//! scored best bound first, in batches, and once the page is full a window whose bound
//! cannot beat its worst match (lower, or equal with every tie lost) is left out. The
//! page is the one scoring every match gives (a test holds it to that), and the count
//! stays exact: it is the number of matches, scored or not.
//!
//! A word of many lists (a short prefix's completions in six fields) defeats the windows:
//! every window's bound adds up dozens of lists' bests. There the lists are split instead
//! ([`essential`]): the lowest-weighted ones bound any match found only in them, and once
//! that bound is under the page, only the other lists' matches are scored.
//!
//! Here: the query, its weight per segment and the scorer that serves its matches. The
//! passes live in [`conjunction`](mod@conjunction) (candidates and narrowing), [`scoring`] (BM25 and tiers),
//! [`windows`] (bounds and the best-first order) and [`essential`] (lists split by weight),
//! over the document sets of [`doc_sets`];
//! long lists' reads are kept in [`memo`], and [`sets`] counts any set of clauses.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::InvertedIndexReader;
use tantivy::directory::OwnedBytes;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::{BlockSegmentPostings, SegmentPostings, TermInfo};
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, TantivyError, Term};

mod conjunction;
mod doc_sets;
mod essential;
mod memo;
mod scoring;
mod sets;
mod windows;

#[cfg(test)]
pub use essential::matches_unscored;
pub use memo::ListMemo;
pub use sets::ClauseSets;
#[cfg(test)]
pub use windows::windows_left_out;

use conjunction::{clause_docs, clause_hits, conjunction, is_dense, narrow};
use doc_sets::gallop;
#[cfg(test)]
use essential::UNSCORED;
use scoring::SegmentScoring;
#[cfg(test)]
use windows::LEFT_OUT;
use windows::{BATCH, BOUND_FROM, BOUNDED_LISTS, WINDOW, best_first};

/// Score added per query word matched through one of its exact terms: above any sum of
/// BM25 scores, which stay below a few hundred per word even for a 256-character query.
pub const EXACT_TIER: Score = 10_000.0;

/// BM25's parameters, as tantivy and Lucene use them. The formula is written out here
/// rather than taken from tantivy's `Bm25Weight`, which builds a 256-entry table per term:
/// a prefix can expand to hundreds of terms, and the table depends only on the field.
const K1: Score = 1.2;
const B: Score = 0.75;

/// What matching a clause through a term earns on top of BM25.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The word itself (exact or stemmed): [`EXACT_TIER`].
    Exact,
    /// A synonym of it: [`SYNONYM_TIER`], just below.
    Synonym,
    /// A typo neighbour, a completion, a joined or split form: BM25 only.
    Near,
}

/// Score added per clause matched through a synonym (and no exact term).
pub const SYNONYM_TIER: Score = EXACT_TIER / 2.0;

/// One term a word may match through: in one field, with a weight (field boost times any
/// typo or prefix discount), and the tier it earns.
#[derive(Debug, Clone)]
pub struct WordTerm {
    pub term: Term,
    pub weight: Score,
    pub tier: Tier,
}

/// All the terms one word may match through.
pub type Word = Vec<WordTerm>;

/// What one clause may match: any of `terms[..union]`, or every part of one of `groups`
/// (each part a range of `terms`, any term of which matches that part).
#[derive(Debug, Clone)]
pub struct Clause {
    pub terms: Vec<WordTerm>,
    pub union: usize,
    pub groups: Vec<Vec<std::ops::Range<usize>>>,
}

impl Clause {
    /// A clause matched by any of `terms`.
    pub fn any_of(terms: Word) -> Self {
        Self { union: terms.len(), terms, groups: Vec::new() }
    }

    /// Adds a group: a product matches it when it matches every one of `parts`.
    pub fn or_all_of(&mut self, parts: Vec<Word>) {
        let mut group = Vec::with_capacity(parts.len());
        for part in parts {
            let start = self.terms.len();
            self.terms.extend(part);
            group.push(start..self.terms.len());
        }
        self.groups.push(group);
    }

    fn is_simple(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Products that match every required clause and every filter, scored as the module explains.
#[derive(Debug, Clone)]
pub struct WordsQuery {
    words: Arc<[Clause]>,
    /// Per clause: must match; otherwise the clause only ranks.
    required: Arc<[bool]>,
    /// Each filter is a set of terms a product must have one of; filters never score.
    filters: Arc<[Vec<Term>]>,
    memo: Option<Arc<ListMemo>>,
}

impl WordsQuery {
    /// A query where every word must match; with no words it matches nothing.
    #[cfg(test)]
    pub fn new(words: Vec<Word>) -> Self {
        let clauses: Arc<[Clause]> = words.into_iter().map(Clause::any_of).collect();
        let required = vec![true; clauses.len()].into();
        Self::of_clauses(clauses, required)
    }

    /// A query over `clauses`, those flagged in `required` required; with none required it
    /// matches nothing.
    pub fn of_clauses(clauses: Arc<[Clause]>, required: Arc<[bool]>) -> Self {
        Self { words: clauses, required, filters: Arc::new([]), memo: None }
    }

    /// The same words, keeping only products that have one of the terms of each filter.
    /// Filters join the conjunction, cheapest first with the words, so a narrow filter
    /// prunes candidates before any word is read.
    pub fn with_filters(self, filters: Vec<Vec<Term>>) -> Self {
        Self { filters: filters.into(), ..self }
    }

    /// The same words, keeping what long lists give (window bests, documents) in `memo`
    /// across searches.
    pub fn with_memo(self, memo: Arc<ListMemo>) -> Self {
        Self { memo: Some(memo), ..self }
    }
}

impl Query for WordsQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let segments = match enable_scoring.searcher() {
            Some(searcher) => searcher
                .segment_readers()
                .iter()
                .map(|reader| SegmentTerms::read(reader, &self.words, &self.filters))
                .collect::<tantivy::Result<_>>()?,
            None => Vec::new(),
        };
        let bm25 = match enable_scoring {
            EnableScoring::Enabled { searcher, .. } => {
                Some(Arc::new(Bm25::new(searcher, &self.words, &segments)?))
            }
            EnableScoring::Disabled { .. } => None,
        };
        Ok(Box::new(WordsWeight {
            words: self.words.clone(),
            required: self.required.clone(),
            filters: self.filters.clone(),
            segments,
            bm25,
            memo: self.memo.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for term in self.words.iter().flat_map(|clause| &clause.terms) {
            visitor(&term.term, false);
        }
    }
}

/// Where one term's postings are in one segment.
#[derive(Clone)]
struct Posted {
    segment: SegmentId,
    index: Arc<InvertedIndexReader>,
    info: TermInfo,
    field: Field,
}

/// One segment's postings of every term of every word and filter (`None` where the
/// segment lacks the term), looked up once per query for both the statistics and the
/// matching.
struct SegmentTerms {
    segment: SegmentId,
    words: Vec<Vec<Option<Posted>>>,
    filters: Vec<Vec<Option<Posted>>>,
}

impl SegmentTerms {
    fn read(reader: &SegmentReader, words: &[Clause], filters: &[Vec<Term>]) -> tantivy::Result<Self> {
        let mut indexes: Vec<(Field, Arc<InvertedIndexReader>)> = Vec::new();
        let mut look_up = |term: &Term| -> tantivy::Result<Option<Posted>> {
            let field = term.field();
            let index = match indexes.iter().find(|(f, _)| *f == field) {
                Some((_, index)) => index.clone(),
                None => {
                    let index = reader.inverted_index(field)?;
                    indexes.push((field, index.clone()));
                    index
                }
            };
            Ok(index.get_term_info(term)?.map(|info| Posted {
                segment: reader.segment_id(),
                index,
                info,
                field,
            }))
        };
        let mut read = |terms: &mut dyn Iterator<Item = &Term>| terms.map(&mut look_up).collect();
        Ok(Self {
            segment: reader.segment_id(),
            words: words
                .iter()
                .map(|clause| read(&mut clause.terms.iter().map(|t| &t.term)))
                .collect::<tantivy::Result<_>>()?,
            filters: filters.iter().map(|filter| read(&mut filter.iter())).collect::<tantivy::Result<_>>()?,
        })
    }
}

/// BM25 statistics over the whole index, as tantivy's term queries compute them: the
/// length normalisation of each field and the weight (idf times boost) of each term.
struct Bm25 {
    norms: HashMap<Field, Arc<[Score; 256]>>,
    /// Each field's average length, which its norms follow from.
    averages: HashMap<Field, Score>,
    /// Per word, per term: the term's weight times `1 + K1` times its idf.
    weights: Vec<Vec<Score>>,
}

impl Bm25 {
    fn new(searcher: &Searcher, words: &[Clause], segments: &[SegmentTerms]) -> tantivy::Result<Self> {
        let total_docs: u64 = searcher.segment_readers().iter().map(|r| u64::from(r.max_doc())).sum();
        let mut norms = HashMap::new();
        let mut averages = HashMap::new();
        let mut weights = Vec::with_capacity(words.len());
        for (w, clause) in words.iter().enumerate() {
            let mut word_weights = Vec::with_capacity(clause.terms.len());
            for (t, term) in clause.terms.iter().enumerate() {
                let field = term.term.field();
                if let std::collections::hash_map::Entry::Vacant(entry) = norms.entry(field) {
                    let (average, field_norms) = field_norms(searcher, field, total_docs)?;
                    entry.insert(field_norms);
                    averages.insert(field, average);
                }
                let doc_freq: u64 = segments
                    .iter()
                    .filter_map(|segment| segment.words[w][t].as_ref())
                    .map(|posted| u64::from(posted.info.doc_freq))
                    .sum();
                word_weights.push(term.weight * (1.0 + K1) * idf(doc_freq, total_docs));
            }
            weights.push(word_weights);
        }
        Ok(Self { norms, averages, weights })
    }
}

fn idf(doc_freq: u64, total_docs: u64) -> Score {
    let x = (total_docs.saturating_sub(doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
    (1.0 + x).ln()
}

/// Each document's encoded length in `field`, a byte per doc id: the segment's own field-norm
/// bytes, read in place. A lookup is then an index into a slice, where tantivy's reader
/// first matches on whether the field has lengths at all, at every posting of a list read
/// whole (`benches/RESULTS.md`, "Field lengths read in place").
fn field_lengths_of(reader: &SegmentReader, field: Field) -> tantivy::Result<OwnedBytes> {
    // The same file tantivy's `get_fieldnorms_reader` reads its lengths from.
    let Some(file) = reader.fieldnorms_readers().get_inner_file().open_read(field) else {
        return Err(TantivyError::SchemaError(format!("field {} records no lengths", field.field_id())));
    };
    let lengths = file.read_bytes()?;
    if lengths.len() != reader.max_doc() as usize {
        return Err(TantivyError::InternalError(format!(
            "{} field lengths for {} documents",
            lengths.len(),
            reader.max_doc()
        )));
    }
    Ok(lengths)
}

/// The field's average length, and `K1 * (1 - B + B * length / average length)` for each
/// of the 256 encoded lengths.
fn field_norms(
    searcher: &Searcher,
    field: Field,
    total_docs: u64,
) -> tantivy::Result<(Score, Arc<[Score; 256]>)> {
    let mut tokens = 0u64;
    for reader in searcher.segment_readers() {
        tokens += reader.inverted_index(field)?.total_num_tokens();
    }
    let average = if total_docs == 0 { 1.0 } else { tokens as Score / total_docs as Score };
    let mut norms = [0.0; 256];
    for (id, norm) in norms.iter_mut().enumerate() {
        let length = FieldNormReader::id_to_fieldnorm(id as u8) as Score;
        *norm = K1 * (1.0 - B + B * length / average);
    }
    Ok((average, Arc::new(norms)))
}

struct WordsWeight {
    words: Arc<[Clause]>,
    required: Arc<[bool]>,
    filters: Arc<[Vec<Term>]>,
    segments: Vec<SegmentTerms>,
    bm25: Option<Arc<Bm25>>,
    memo: Option<Arc<ListMemo>>,
}

/// One term's postings in one segment, and where the term is in the query: word (or
/// filter), then term.
struct List {
    posted: Posted,
    word: usize,
    term: usize,
}

impl List {
    fn postings(&self, option: IndexRecordOption) -> tantivy::Result<SegmentPostings> {
        Ok(self.posted.index.read_postings_from_terminfo(&self.posted.info, option)?)
    }

    fn blocks(&self, option: IndexRecordOption) -> tantivy::Result<BlockSegmentPostings> {
        Ok(self.posted.index.read_block_postings_from_terminfo(&self.posted.info, option)?)
    }
}

/// The lists of word (or filter) `w`'s terms in one segment, by term position.
fn lists_of(w: usize, group: &[Option<Posted>]) -> Vec<Option<List>> {
    group
        .iter()
        .enumerate()
        .map(|(t, posted)| posted.clone().map(|posted| List { posted, word: w, term: t }))
        .collect()
}

/// A required clause's (or a filter's) lists in one segment, with their total length.
struct WordLists {
    postings: u64,
    lists: Vec<List>,
}

/// One segment's lists of a query: the required simple clauses and the filters, fewest
/// postings first, which the conjunction walks; the documents of each required clause with
/// groups, read whole; and every clause's lists for scoring.
struct SegmentLists {
    conjunction: Vec<WordLists>,
    /// The required clauses with groups, by position.
    grouped: Vec<usize>,
    /// Per clause: its lists by term position (`None` where the segment lacks the term).
    clauses: Vec<Vec<Option<List>>>,
}

impl WordsWeight {
    /// The matching documents of one segment, ascending, and what scoring them needs
    /// (`None` when scoring is off or nothing matches): they are scored only when asked.
    fn matches(&self, reader: &SegmentReader) -> tantivy::Result<(Vec<DocId>, Option<SegmentScoring>)> {
        let Some(lists) = self.segment_lists(reader)? else {
            return Ok((Vec::new(), None));
        };
        let max_doc = reader.max_doc();
        let memo = self.memo.as_deref();
        // Clauses with groups by their postings (all their lists: an upper bound), fewest first.
        let mut grouped: Vec<(u64, usize)> = lists
            .grouped
            .iter()
            .map(|&w| (lists.clauses[w].iter().flatten().map(|l| u64::from(l.posted.info.doc_freq)).sum(), w))
            .collect();
        grouped.sort_unstable();
        let grouped_first = grouped.first().is_some_and(|&(postings, _)| {
            lists.conjunction.first().is_none_or(|cheapest| postings < cheapest.postings)
        });
        let mut grouped = grouped.into_iter();
        let mut docs = if grouped_first {
            // A clause with groups is the cheapest: its documents, read whole, are the candidates.
            let (_, first) = grouped.next().expect("a clause with groups");
            let mut docs = clause_docs(&self.words[first], &lists.clauses[first], max_doc, memo)?.docs();
            narrow(&lists.conjunction, &mut docs, max_doc, memo)?;
            docs
        } else {
            conjunction(&lists.conjunction, max_doc, memo)?
        };
        // The others are read whole when their postings are few for the candidates left, and
        // checked at each candidate otherwise, list by list.
        for (postings, w) in grouped {
            if docs.is_empty() {
                break;
            }
            if is_dense(postings, docs.len()) {
                let matching = clause_docs(&self.words[w], &lists.clauses[w], max_doc, memo)?;
                docs.retain(|&doc| matching.contains(doc));
            } else {
                let hits = clause_hits(&self.words[w], &lists.clauses[w], &docs, max_doc, memo)?;
                let mut hit = hits.iter();
                docs.retain(|_| *hit.next().expect("one flag per candidate"));
            }
        }
        let scoring = match &self.bm25 {
            // A query that matches nothing here opens no list to score it.
            Some(bm25) if !docs.is_empty() => {
                let mut field_lengths: Vec<(Field, OwnedBytes)> = Vec::new();
                for list in lists.clauses.iter().flatten().flatten() {
                    let field = list.posted.field;
                    if !field_lengths.iter().any(|(f, _)| *f == field) {
                        field_lengths.push((field, field_lengths_of(reader, field)?));
                    }
                }
                Some(SegmentScoring {
                    words: self.words.clone(),
                    required: self.required.clone(),
                    bm25: bm25.clone(),
                    clauses: lists.clauses,
                    field_lengths,
                    max_doc,
                    memo: self.memo.clone(),
                })
            }
            _ => None,
        };
        Ok((docs, scoring))
    }

    /// The segment's lists; `None` if a required clause or a filter matches nothing here.
    fn segment_lists(&self, reader: &SegmentReader) -> tantivy::Result<Option<SegmentLists>> {
        if !self.required.iter().any(|&required| required) {
            return Ok(None);
        }
        let read_here;
        let terms = match self.segments.iter().find(|s| s.segment == reader.segment_id()) {
            Some(terms) => terms,
            None => {
                read_here = SegmentTerms::read(reader, &self.words, &self.filters)?;
                &read_here
            }
        };
        let clauses: Vec<Vec<Option<List>>> =
            terms.words.iter().enumerate().map(|(w, group)| lists_of(w, group)).collect();
        let mut conjunction = Vec::with_capacity(terms.words.len() + terms.filters.len());
        let mut grouped = Vec::new();
        for (w, clause) in self.words.iter().enumerate().filter(|(w, _)| self.required[*w]) {
            if clause.is_simple() {
                let lists: Vec<List> = lists_of(w, &terms.words[w]).into_iter().flatten().collect();
                if lists.is_empty() {
                    return Ok(None);
                }
                let postings = lists.iter().map(|list| u64::from(list.posted.info.doc_freq)).sum();
                conjunction.push(WordLists { postings, lists });
            } else {
                if clauses[w][..clause.union].iter().all(Option::is_none)
                    && clause
                        .groups
                        .iter()
                        .all(|g| g.iter().any(|part| clauses[w][part.clone()].iter().all(Option::is_none)))
                {
                    return Ok(None);
                }
                grouped.push(w);
            }
        }
        for (f, group) in terms.filters.iter().enumerate() {
            let lists: Vec<List> = lists_of(f, group).into_iter().flatten().collect();
            if lists.is_empty() {
                return Ok(None);
            }
            let postings = lists.iter().map(|list| u64::from(list.posted.info.doc_freq)).sum();
            conjunction.push(WordLists { postings, lists });
        }
        conjunction.sort_by_key(|word| word.postings);
        Ok(Some(SegmentLists { conjunction, grouped, clauses }))
    }
}

/// A page of matches a collector keeps, as the matcher sees it: ranked by score, ties
/// broken by the ranking rules, then by the lower product id.
pub trait Page {
    /// How many matches the page keeps.
    fn size(&self) -> usize;
    /// The score of the worst match kept, once the page is full.
    fn worst(&self) -> Option<Score>;
    /// Whether every one of `docs`, scoring as the worst match kept, would rank below it.
    fn ties_lose(&self, docs: &[DocId]) -> bool;
    fn offer(&mut self, doc: DocId, score: Score);
}

impl Weight for WordsWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let (docs, scoring) = self.matches(reader)?;
        Ok(Box::new(MatchScorer { docs, scores: None, scoring, boost, position: 0 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let (docs, scoring) = self.matches(reader)?;
        if docs.binary_search(&doc).is_err() {
            return Err(TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        let score = match scoring {
            Some(scoring) => scoring.scores(&[doc])?[0],
            None => 1.0,
        };
        Ok(Explanation::new("every word matched: weighted BM25 plus exact-word tiers", score))
    }
}

/// One segment's matches, served as a scorer. They are scored only when asked: counting
/// and facets never ask, and [`Self::collect_page`] scores only the windows of doc ids
/// that can still enter a page.
pub struct MatchScorer {
    docs: Vec<DocId>,
    /// Every match's score, once asked for.
    scores: Option<Vec<Score>>,
    scoring: Option<SegmentScoring>,
    boost: Score,
    position: usize,
}

impl MatchScorer {
    /// Offers `page` every alive match that can enter it, and returns how many alive
    /// matches there are. Below [`BOUND_FROM`] matches, all are scored. Above
    /// [`BOUNDED_LISTS`] lists, only the matches of the essential lists are, when the others
    /// bound every other match below the page (see [`essential`]); otherwise all are.
    /// Between the two, windows are scored in batches, the highest bounds first, and a
    /// window is left out once its bound cannot beat the page's worst match: below it, or
    /// equal with every product id above.
    pub fn collect_page(
        &mut self,
        page: &mut dyn Page,
        alive: Option<&dyn Fn(DocId) -> bool>,
    ) -> tantivy::Result<usize> {
        let is_alive = |doc: DocId| alive.is_none_or(|alive| alive(doc));
        let count = match alive {
            None => self.docs.len(),
            Some(alive) => self.docs.iter().filter(|&&doc| alive(doc)).count(),
        };
        let many = self.boost == 1.0 && self.docs.len() >= BOUND_FROM.max(4 * page.size());
        let lists = |scoring: &SegmentScoring| scoring.clauses.iter().flatten().flatten().count();
        if let Some(scoring) = self.scoring.as_ref().filter(|scoring| many && lists(scoring) > BOUNDED_LISTS)
            && let Some(floor) = scoring.floor(&self.docs, page.size(), &is_alive)?
            && let Some(essential) = scoring.essential(&self.docs, floor)?
        {
            #[cfg(test)]
            UNSCORED.with(|unscored| unscored.set(unscored.get() + self.docs.len() - essential.len()));
            offer_scored(scoring, &essential, page, &is_alive)?;
            return Ok(count);
        }
        let Some(scoring) = self.scoring.as_ref().filter(|scoring| many && lists(scoring) <= BOUNDED_LISTS)
        else {
            let mut scores = match &self.scoring {
                Some(scoring) => scoring.scores(&self.docs)?,
                None => vec![1.0; self.docs.len()],
            };
            if self.boost != 1.0 {
                scores.iter_mut().for_each(|score| *score *= self.boost);
            }
            offer(&self.docs, &scores, page, &is_alive);
            return Ok(count);
        };
        let windows = scoring.windows(&self.docs)?;
        let mut order = best_first(&windows).into_iter();
        // Each batch reads every list again, so batches double; and once the windows that can
        // still compete hold no more than two batches, or still half the matches left after
        // three batches (the bounds do not separate them), one pass scores them all.
        let first_batch = page.size().max(BATCH);
        let mut batch_size = first_batch;
        let mut scored = 0;
        let mut batch: Vec<usize> = Vec::new();
        let mut docs: Vec<DocId> = Vec::with_capacity(batch_size + WINDOW as usize);
        loop {
            batch.clear();
            let mut held = 0;
            let worst = page.worst();
            if let Some(worst) = worst {
                let competing: usize = order
                    .as_slice()
                    .iter()
                    .map(|&j| &windows[j])
                    .take_while(|window| window.bound >= worst)
                    .map(|window| window.matches.len())
                    .sum();
                let separating = batch_size < 8 * first_batch || competing < (self.docs.len() - scored) / 2;
                if competing <= batch_size.saturating_mul(2) || !separating {
                    batch_size = usize::MAX;
                }
            }
            for j in order.by_ref() {
                let window = &windows[j];
                let matches = &self.docs[window.matches.clone()];
                match worst {
                    Some(worst) if window.bound < worst => {
                        // Every window left is bounded lower still.
                        #[cfg(test)]
                        LEFT_OUT.with(|left_out| left_out.set(left_out.get() + 1 + order.len()));
                        order = Vec::new().into_iter();
                        break;
                    }
                    Some(worst) if window.bound == worst && page.ties_lose(matches) => {
                        #[cfg(test)]
                        LEFT_OUT.with(|left_out| left_out.set(left_out.get() + 1));
                        continue;
                    }
                    _ => {}
                }
                batch.push(j);
                held += matches.len();
                if held >= batch_size {
                    break;
                }
            }
            if batch.is_empty() {
                return Ok(count);
            }
            batch_size = batch_size.saturating_mul(2);
            scored += held;
            batch.sort_unstable();
            docs.clear();
            for &j in &batch {
                docs.extend_from_slice(&self.docs[windows[j].matches.clone()]);
            }
            offer_scored(scoring, &docs, page, &is_alive)?;
        }
    }

    fn score_all(&mut self) {
        if self.scores.is_none() {
            let mut scores = match &self.scoring {
                // The index is in memory: reading its postings does not fail.
                Some(scoring) => scoring
                    .scores(&self.docs)
                    .unwrap_or_else(|error| panic!("scoring the matches of a segment: {error}")),
                None => vec![1.0; self.docs.len()],
            };
            if self.boost != 1.0 {
                scores.iter_mut().for_each(|score| *score *= self.boost);
            }
            self.scores = Some(scores);
        }
    }

    #[cfg(test)]
    fn scored(docs: Vec<DocId>, scores: Vec<Score>) -> Self {
        Self { docs, scores: Some(scores), scoring: None, boost: 1.0, position: 0 }
    }
}

/// Scores `docs` (ascending) and offers `page` those alive.
fn offer_scored(
    scoring: &SegmentScoring,
    docs: &[DocId],
    page: &mut dyn Page,
    is_alive: &dyn Fn(DocId) -> bool,
) -> tantivy::Result<()> {
    offer(docs, &scoring.scores(docs)?, page, is_alive);
    Ok(())
}

/// Offers the page each of `docs` (alive) by its score. Most scores of a broad query fall
/// below the page's worst match, which only rises when a match enters: they are passed over
/// without asking the page. Ties with the worst are offered: they are the page's to break.
fn offer(docs: &[DocId], scores: &[Score], page: &mut dyn Page, is_alive: &dyn Fn(DocId) -> bool) {
    let mut worst = page.worst();
    for (&doc, &score) in docs.iter().zip(scores) {
        if worst.is_none_or(|worst| score >= worst) && is_alive(doc) {
            page.offer(doc, score);
            worst = page.worst();
        }
    }
}

impl DocSet for MatchScorer {
    fn advance(&mut self) -> DocId {
        if self.position < self.docs.len() {
            self.position += 1;
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.position = gallop(&self.docs, self.position, target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.position).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.position) as u32
    }

    fn count_including_deleted(&mut self) -> u32 {
        let left = self.size_hint();
        self.position = self.docs.len();
        left
    }
}

impl Scorer for MatchScorer {
    fn score(&mut self) -> Score {
        self.score_all();
        self.scores.as_ref().expect("just scored")[self.position]
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, TermQuery};
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    /// Words with very different frequencies, so that queries take both the bitset and the
    /// skipping paths of the conjunction and of scoring.
    const VOCABULARY: [(&str, u32); 8] = [
        ("common", 90),
        ("usual", 60),
        ("half", 50),
        ("some", 20),
        ("few", 6),
        ("rare", 2),
        ("single", 1),
        ("never", 0),
    ];

    struct Fixture {
        index: Index,
        title: Field,
        body: Field,
    }

    /// 3,000 documents in several segments, some deleted.
    fn fixture() -> Fixture {
        fixture_of(&[1_000, 1_000, 1_000])
    }

    /// Segments of the given sizes; documents of the second, if any, deleted.
    fn fixture_of(segments: &[usize]) -> Fixture {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (segment, &size) in segments.iter().enumerate() {
            for _ in 0..size {
                let mut doc = TantivyDocument::default();
                for (field, length) in [(title, 3), (body, 12)] {
                    let words: Vec<&str> = (0..rng.random_range(1..=length))
                        .filter_map(|_| {
                            let (word, percent) = VOCABULARY[rng.random_range(0..VOCABULARY.len())];
                            (rng.random_range(0..100) < percent).then_some(word)
                        })
                        .collect();
                    doc.add_text(field, words.join(" "));
                }
                writer.add_document(doc).unwrap();
            }
            if segment == 1 {
                writer.delete_term(Term::from_field_text(title, "single"));
            }
            writer.commit().unwrap();
        }
        Fixture { index, title, body }
    }

    fn word(fixture: &Fixture, exact: &str, inexact: &[&str]) -> Word {
        let mut terms = vec![
            WordTerm { term: Term::from_field_text(fixture.title, exact), weight: 3.0, tier: Tier::Exact },
            WordTerm { term: Term::from_field_text(fixture.body, exact), weight: 1.0, tier: Tier::Exact },
        ];
        for text in inexact {
            terms.push(WordTerm {
                term: Term::from_field_text(fixture.body, text),
                weight: 0.5,
                tier: Tier::Near,
            });
        }
        terms
    }

    /// The same query built from tantivy's own boolean, boost and term queries.
    fn reference(words: &[Word]) -> BooleanQuery {
        let term = |t: &WordTerm| {
            Box::new(TermQuery::new(t.term.clone(), IndexRecordOption::WithFreqs)) as Box<dyn Query>
        };
        BooleanQuery::new(
            words
                .iter()
                .map(|word| {
                    let exact = word
                        .iter()
                        .filter(|t| t.tier == Tier::Exact)
                        .map(|t| (Occur::Should, term(t)))
                        .collect();
                    let mut should: Vec<(Occur, Box<dyn Query>)> = vec![(
                        Occur::Should,
                        Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(exact)), EXACT_TIER)),
                    )];
                    for t in word {
                        should.push((Occur::Should, Box::new(BoostQuery::new(term(t), t.weight))));
                    }
                    (Occur::Must, Box::new(BooleanQuery::new(should)) as Box<dyn Query>)
                })
                .collect(),
        )
    }

    fn ranked(index: &Index, query: &dyn Query) -> (usize, Vec<(Score, tantivy::DocAddress)>) {
        let searcher = index.reader().unwrap().searcher();
        searcher.search(query, &(Count, TopDocs::with_limit(10_000).order_by_score())).unwrap()
    }

    #[test]
    fn matches_and_scores_as_tantivy_term_queries_would() {
        scores_as_tantivy(&fixture());
    }

    #[test]
    fn long_lists_read_whole_score_as_tantivy_term_queries_would() {
        // Lists of thousands of postings in one segment, read whole when scored.
        scores_as_tantivy(&fixture_of(&[6_000]));
    }

    #[test]
    fn scores_summed_by_doc_id_equal_those_summed_by_position_bit_for_bit() {
        let fixture = fixture_of(&[2_000, 600]);
        let searcher = fixture.index.reader().unwrap().searcher();
        let mut rng = ChaCha8Rng::seed_from_u64(19);
        let pick = |rng: &mut ChaCha8Rng| VOCABULARY[rng.random_range(0..VOCABULARY.len())].0;
        let mut compared = 0;
        for _ in 0..120 {
            let mut clauses: Vec<Clause> = (0..rng.random_range(1..=3))
                .map(|_| {
                    let exact = pick(&mut rng);
                    let inexact: Vec<&str> = (0..rng.random_range(0..=2)).map(|_| pick(&mut rng)).collect();
                    Clause::any_of(word(&fixture, exact, &inexact))
                })
                .collect();
            // A word split in two, and words only ranking: the tiers of groups and of
            // optional clauses are summed by slot too.
            if rng.random_range(0..2) == 0 {
                let near = |text: &str| {
                    vec![WordTerm {
                        term: Term::from_field_text(fixture.body, text),
                        weight: 0.7,
                        tier: Tier::Near,
                    }]
                };
                clauses[0].or_all_of(vec![near(pick(&mut rng)), near(pick(&mut rng))]);
            }
            let required: Vec<bool> =
                (0..clauses.len()).map(|w| w == 0 || rng.random_range(0..3) > 0).collect();
            let query = WordsQuery::of_clauses(clauses.into(), required.into());
            let weight = query.weight(EnableScoring::enabled_from_searcher(&searcher)).unwrap();
            for reader in searcher.segment_readers() {
                let mut scorer = weight.scorer(reader, 1.0).unwrap();
                let matches = scorer.downcast_mut::<MatchScorer>().unwrap();
                let Some(scoring) = matches.scoring.as_ref() else { continue };
                // Every match, and a sparse few, so that both kinds of list reading are taken.
                for step in [1, 9] {
                    let docs: Vec<DocId> = matches.docs.iter().copied().step_by(step).collect();
                    let bits = |by_doc| -> Vec<u32> {
                        scoring.scores_summed(&docs, by_doc).unwrap().iter().map(|s| s.to_bits()).collect()
                    };
                    assert_eq!(bits(true), bits(false), "{} matches of {:?}", docs.len(), query.words);
                    compared += docs.len();
                }
            }
        }
        assert!(compared > 10_000, "only {compared} scores compared");
    }

    fn scores_as_tantivy(fixture: &Fixture) {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut nonempty = 0;
        for _ in 0..200 {
            let words: Vec<Word> = (0..rng.random_range(1..=3))
                .map(|_| {
                    let pick = |rng: &mut ChaCha8Rng| VOCABULARY[rng.random_range(0..VOCABULARY.len())].0;
                    let exact = pick(&mut rng);
                    let inexact: Vec<&str> = (0..rng.random_range(0..=2)).map(|_| pick(&mut rng)).collect();
                    word(fixture, exact, &inexact)
                })
                .collect();
            let (total, mut got) = ranked(&fixture.index, &WordsQuery::new(words.clone()));
            let (expected_total, mut expected) = ranked(&fixture.index, &reference(&words));
            assert_eq!(total, expected_total, "totals for {words:?}");
            got.sort_by_key(|(_, address)| *address);
            expected.sort_by_key(|(_, address)| *address);
            for ((score, address), (expected_score, expected_address)) in got.iter().zip(&expected) {
                assert_eq!(address, expected_address);
                assert!(
                    (score - expected_score).abs() <= expected_score.abs() * 1e-5,
                    "{address:?} scored {score}, tantivy says {expected_score}"
                );
            }
            nonempty += usize::from(total > 0);
        }
        assert!(nonempty > 100, "only {nonempty} of 200 queries matched anything");
    }

    #[test]
    fn filters_narrow_the_matches_without_changing_scores() {
        let fixture = fixture();
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        for _ in 0..100 {
            let pick = |rng: &mut ChaCha8Rng| VOCABULARY[rng.random_range(0..VOCABULARY.len())].0;
            let words = vec![word(&fixture, pick(&mut rng), &[pick(&mut rng)])];
            // A filter of one or two title terms: products must have one of them.
            let filter: Vec<Term> = (0..rng.random_range(1..=2))
                .map(|_| Term::from_field_text(fixture.title, pick(&mut rng)))
                .collect();
            let any: Vec<(Occur, Box<dyn Query>)> = filter
                .iter()
                .map(|t| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                })
                .collect();
            let expected = BooleanQuery::new(vec![
                (Occur::Must, Box::new(reference(&words)) as Box<dyn Query>),
                (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(any)), 0.0))),
            ]);
            let query = WordsQuery::new(words.clone()).with_filters(vec![filter.clone()]);
            let (total, mut got) = ranked(&fixture.index, &query);
            let (expected_total, mut expected) = ranked(&fixture.index, &expected);
            assert_eq!(total, expected_total, "totals for {words:?} filtered by {filter:?}");
            got.sort_by_key(|(_, address)| *address);
            expected.sort_by_key(|(_, address)| *address);
            for ((score, address), (expected_score, expected_address)) in got.iter().zip(&expected) {
                assert_eq!(address, expected_address);
                assert!((score - expected_score).abs() <= expected_score.abs() * 1e-5);
            }
        }
    }

    /// The documents of `query`, by address.
    fn matching(index: &Index, query: &dyn Query) -> Vec<tantivy::DocAddress> {
        let mut found: Vec<_> = ranked(index, query).1.into_iter().map(|(_, address)| address).collect();
        found.sort();
        found
    }

    #[test]
    fn clauses_with_groups_match_as_boolean_queries_would_whichever_comes_first() {
        let fixture = fixture();
        let must = |queries: Vec<Box<dyn Query>>| {
            Box::new(BooleanQuery::new(queries.into_iter().map(|q| (Occur::Must, q)).collect()))
                as Box<dyn Query>
        };
        let term_query = |text: &str| {
            Box::new(TermQuery::new(Term::from_field_text(fixture.body, text), IndexRecordOption::Basic))
                as Box<dyn Query>
        };
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let pick = |rng: &mut ChaCha8Rng| VOCABULARY[rng.random_range(0..VOCABULARY.len())].0;
        let mut nonempty = 0;
        for _ in 0..150 {
            // One clause: a term, or both of two others; beside zero to two simple clauses.
            let (alone, left, right) = (pick(&mut rng), pick(&mut rng), pick(&mut rng));
            let mut grouped = Clause::any_of(vec![WordTerm {
                term: Term::from_field_text(fixture.body, alone),
                weight: 1.0,
                tier: Tier::Exact,
            }]);
            let part = |text: &str| {
                vec![WordTerm {
                    term: Term::from_field_text(fixture.body, text),
                    weight: 1.0,
                    tier: Tier::Near,
                }]
            };
            grouped.or_all_of(vec![part(left), part(right)]);
            let simple: Vec<&str> = (0..rng.random_range(0..=2)).map(|_| pick(&mut rng)).collect();
            let mut clauses = vec![grouped];
            clauses.extend(simple.iter().map(|text| Clause::any_of(part(text))));
            let required = vec![true; clauses.len()];
            let query = WordsQuery::of_clauses(clauses.into(), required.into());

            let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                (Occur::Should, term_query(alone)),
                (Occur::Should, must(vec![term_query(left), term_query(right)])),
            ]));
            let mut all = vec![either];
            all.extend(simple.iter().map(|text| term_query(text)));
            let expected = matching(&fixture.index, must(all).as_ref());
            assert_eq!(
                matching(&fixture.index, &query),
                expected,
                "{alone} | ({left} & {right}) & {simple:?}"
            );
            nonempty += usize::from(!expected.is_empty());
        }
        assert!(nonempty > 50, "only {nonempty} of 150 queries matched anything");
    }

    #[test]
    fn optional_clauses_only_rank_and_each_one_matched_ranks_higher() {
        let fixture = fixture();
        let exact = |text: &str| {
            Clause::any_of(vec![WordTerm {
                term: Term::from_field_text(fixture.body, text),
                weight: 1.0,
                tier: Tier::Exact,
            }])
        };
        let clauses: Arc<[Clause]> = vec![exact("usual"), exact("few"), exact("some")].into();
        let query = WordsQuery::of_clauses(clauses, vec![true, false, false].into());
        let (total, ranked_docs) = ranked(&fixture.index, &query);
        let usual = TermQuery::new(Term::from_field_text(fixture.body, "usual"), IndexRecordOption::Basic);
        assert_eq!(total, ranked(&fixture.index, &usual).0, "optional clauses never narrow");
        let searcher = fixture.index.reader().unwrap().searcher();
        let has = |address: tantivy::DocAddress, text: &str| {
            let term = Term::from_field_text(fixture.body, text);
            let reader = searcher.segment_reader(address.segment_ord);
            let index = reader.inverted_index(fixture.body).unwrap();
            let mut postings = match index.read_postings(&term, IndexRecordOption::Basic).unwrap() {
                Some(postings) => postings,
                None => return false,
            };
            let first = postings.doc();
            first == address.doc_id
                || (first < address.doc_id && postings.seek(address.doc_id) == address.doc_id)
        };
        let matched: Vec<usize> = ranked_docs
            .iter()
            .map(|(_, a)| usize::from(has(*a, "few")) + usize::from(has(*a, "some")))
            .collect();
        assert!(
            matched.windows(2).all(|w| w[0] >= w[1]),
            "optional words matched down the ranking: {matched:?}"
        );
        assert!(matched.contains(&2) && matched.contains(&0));
    }

    #[test]
    fn a_word_without_postings_matches_nothing() {
        let fixture = fixture();
        let words = vec![word(&fixture, "common", &[]), word(&fixture, "never", &["absent"])];
        assert_eq!(ranked(&fixture.index, &WordsQuery::new(words)).0, 0);
        assert_eq!(ranked(&fixture.index, &WordsQuery::new(Vec::new())).0, 0);
    }

    #[test]
    fn match_scorer_seeks_and_ends_on_terminated() {
        let mut scorer = MatchScorer::scored(vec![2, 5, 9], vec![1.0, 2.0, 3.0]);
        assert_eq!(scorer.doc(), 2);
        assert_eq!(scorer.seek(6), 9);
        assert_eq!(scorer.score(), 3.0);
        assert_eq!(scorer.advance(), TERMINATED);
        assert_eq!(scorer.advance(), TERMINATED);
        assert_eq!(scorer.size_hint(), 0);
    }
}
