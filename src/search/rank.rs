//! Ordering results: the requested key (relevance, price or rating), then score, then the
//! ranking rules ([`super::ranking`]), then the lower product id, so that equal keys page
//! stably; and the collector that keeps one page of them while counting every match exactly.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::{DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED};

use super::matcher::{MatchScorer, Page};

use super::facets::{FacetTerms, PRICE_COLUMN};
use super::query::Sort;
use super::ranking::{RankingRule, RuleColumns, RuleValues, TieKey};
use super::restriction::Restriction;
use super::schema::PRODUCT_ID_COLUMN;

/// Each segment's product ids by document, read from the fast field once per segment:
/// every ranked match may need one for the tie-break, and an array costs far less than the
/// column codec.
#[derive(Default)]
pub struct ProductIds {
    segments: Mutex<HashMap<SegmentId, Arc<[u64]>>>,
}

/// The product-id arrays of one searcher's segments.
pub type SegmentIds = Vec<(SegmentId, Arc<[u64]>)>;

impl ProductIds {
    /// The id arrays of `searcher`'s segments, reading those of new segments.
    pub fn of(&self, searcher: &Searcher) -> Arc<SegmentIds> {
        let mut cache = self.segments.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut read_new = false;
        let ids: SegmentIds = searcher
            .segment_readers()
            .iter()
            .map(|segment| {
                let ids = cache.entry(segment.segment_id()).or_insert_with(|| {
                    read_new = true;
                    let column = segment
                        .fast_fields()
                        .u64(PRODUCT_ID_COLUMN)
                        .expect("product_id is a fast field")
                        .first_or_default_col(0);
                    (0..segment.max_doc()).map(|doc| column.get_val(doc)).collect()
                });
                (segment.segment_id(), ids.clone())
            })
            .collect();
        if read_new {
            // Segments merged away or replaced are dropped by the first search that meets
            // a new one.
            cache.retain(|id, _| ids.iter().any(|(live, _)| live == id));
        }
        Arc::new(ids)
    }
}

/// Where a match ranks: greater is better.
#[derive(Debug, Clone, Copy)]
pub struct RankKey {
    /// The sort value, negated for ascending sorts; 0 under relevance.
    primary: f64,
    score: Score,
    /// The ranking rules' values.
    ties: TieKey,
    id: Reverse<u64>,
}

impl RankKey {
    /// Compares the sort value and the score: the rules' values and the id cost lookups.
    fn cmp_without_ties(&self, primary: f64, score: Score) -> Ordering {
        self.primary.total_cmp(&primary).then(self.score.total_cmp(&score))
    }

    /// Compares what breaks a tie of sort value and score.
    fn cmp_ties(&self, ties: &TieKey, id: Reverse<u64>) -> Ordering {
        // Without rules (or with equal values) every value is equal: one comparison.
        if self.ties == *ties {
            return self.id.cmp(&id);
        }
        let rules = self.ties.iter().zip(ties).map(|(mine, theirs)| mine.total_cmp(theirs));
        rules.fold(Ordering::Equal, Ordering::then).then(self.id.cmp(&id))
    }
}

impl PartialEq for RankKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RankKey {}

impl PartialOrd for RankKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RankKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_without_ties(other.primary, other.score).then_with(|| self.cmp_ties(&other.ties, other.id))
    }
}

/// Collects the product ids of results `offset..offset + limit` in rank order, and the
/// exact number of matches.
pub struct TopRanked {
    pub offset: usize,
    pub limit: usize,
    pub sort: Sort,
    pub ids: Arc<SegmentIds>,
    /// The ranking rules, their values per segment as read so far, and the attribute
    /// column's terms they may read.
    pub rules: Arc<[RankingRule]>,
    pub rule_columns: Arc<RuleColumns>,
    pub terms: Arc<FacetTerms>,
    /// The matches ranked and counted.
    pub restriction: Restriction,
}

/// A page of product ids and the number of matches.
pub type RankedPage = (Vec<u64>, usize);

impl Collector for TopRanked {
    type Fruit = RankedPage;
    type Child = SegmentTopRanked;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentTopRanked> {
        let ids = self
            .ids
            .iter()
            .find(|(id, _)| *id == segment.segment_id())
            .map(|(_, ids)| ids.clone())
            .expect("product ids are read for every segment searched");
        let fast = segment.fast_fields();
        let column = match self.sort {
            Sort::Relevance => None,
            Sort::PriceAsc | Sort::PriceDesc => Some(fast.f64(PRICE_COLUMN)?),
            Sort::RatingDesc => Some(fast.f64("rating")?),
        };
        Ok(SegmentTopRanked {
            window: self.offset + self.limit,
            best: BinaryHeap::with_capacity(self.offset + self.limit + 1),
            count: 0,
            ids,
            column,
            ascending: self.sort == Sort::PriceAsc,
            rules: RuleValues::new(&self.rules, segment, &self.rule_columns, &self.terms)?,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    /// Under relevance, the matcher's own matches are offered only where they can still
    /// enter the page; everything else is collected match by match.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<(Vec<RankKey>, usize)> {
        let mut segment = self.for_segment(segment_ord, reader)?;
        let deleted = reader.alive_bitset();
        let restriction = self.restriction.segment(reader)?;
        let kept = |doc: DocId| deleted.is_none_or(|alive| alive.is_alive(doc)) && restriction.keeps(doc);
        let alive: Option<&dyn Fn(DocId) -> bool> =
            if deleted.is_none() && restriction.is_empty() { None } else { Some(&kept) };
        let mut scorer = weight.scorer(reader, 1.0)?;
        if self.sort == Sort::Relevance
            && let Some(matches) = scorer.downcast_mut::<MatchScorer>()
        {
            segment.count = matches.collect_page(&mut segment, alive)?;
            return Ok(segment.harvest());
        }
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|alive| alive(doc)) {
                segment.collect(doc, scorer.score());
            }
            doc = scorer.advance();
        }
        Ok(segment.harvest())
    }

    fn merge_fruits(&self, segments: Vec<(Vec<RankKey>, usize)>) -> tantivy::Result<RankedPage> {
        let count = segments.iter().map(|(_, count)| count).sum();
        let mut keys: Vec<RankKey> = segments.into_iter().flat_map(|(keys, _)| keys).collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        let page = keys.into_iter().skip(self.offset).take(self.limit).map(|key| key.id.0).collect();
        Ok((page, count))
    }
}

pub struct SegmentTopRanked {
    window: usize,
    /// The best `window` keys so far, the worst of them on top.
    best: BinaryHeap<Reverse<RankKey>>,
    count: usize,
    ids: Arc<[u64]>,
    column: Option<Column<f64>>,
    ascending: bool,
    rules: RuleValues,
}

impl SegmentTopRanked {
    fn ties(&self, doc: DocId) -> (TieKey, Reverse<u64>) {
        let ties = if self.rules.is_empty() { TieKey::default() } else { self.rules.key(doc) };
        (ties, Reverse(self.ids[doc as usize]))
    }
}

impl SegmentCollector for SegmentTopRanked {
    type Fruit = (Vec<RankKey>, usize);

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        self.offer(doc, score);
    }

    fn harvest(self) -> Self::Fruit {
        (self.best.into_iter().map(|Reverse(key)| key).collect(), self.count)
    }
}

impl Page for SegmentTopRanked {
    fn size(&self) -> usize {
        self.window
    }

    fn worst(&self) -> Option<Score> {
        match self.best.peek() {
            Some(Reverse(worst)) if self.best.len() == self.window => Some(worst.score),
            _ => None,
        }
    }

    fn ties_lose(&self, docs: &[DocId]) -> bool {
        let Some(Reverse(worst)) = self.best.peek() else { return false };
        if self.rules.is_empty() {
            return docs.iter().map(|&doc| self.ids[doc as usize]).min().is_some_and(|id| id > worst.id.0);
        }
        docs.iter().all(|&doc| {
            let (ties, id) = self.ties(doc);
            worst.cmp_ties(&ties, id) == Ordering::Greater
        })
    }

    /// Keeps the match if it ranks above the worst kept, without counting it.
    fn offer(&mut self, doc: DocId, score: Score) {
        let primary = match &self.column {
            None => 0.0,
            // Products without the sort value come last, whichever the direction.
            Some(column) => match column.first(doc) {
                Some(value) if self.ascending => -value,
                Some(value) => value,
                None => f64::NEG_INFINITY,
            },
        };
        if self.best.len() == self.window
            && let Some(Reverse(worst)) = self.best.peek()
            && worst.cmp_without_ties(primary, score) == Ordering::Greater
        {
            // Most matches of a broad query end here, without reading their id.
            return;
        }
        let (ties, id) = self.ties(doc);
        let key = RankKey { primary, score, ties, id };
        if self.best.len() < self.window {
            self.best.push(Reverse(key));
        } else if let Some(mut worst) = self.best.peek_mut()
            && key > worst.0
        {
            *worst = Reverse(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector(window: usize) -> SegmentTopRanked {
        SegmentTopRanked {
            window,
            best: BinaryHeap::new(),
            count: 0,
            ids: (0..100u64).map(|doc| 1_000 - doc).collect(),
            column: None,
            ascending: false,
            rules: RuleValues::default(),
        }
    }

    /// A page under relevance, without ranking rules.
    fn relevance(offset: usize, limit: usize, ids: Arc<SegmentIds>) -> TopRanked {
        TopRanked {
            offset,
            limit,
            sort: Sort::Relevance,
            ids,
            rules: Arc::new([]),
            rule_columns: Arc::default(),
            terms: Arc::default(),
            restriction: Restriction::default(),
        }
    }

    #[test]
    fn keeps_the_best_window_and_counts_every_match() {
        let mut segment = collector(3);
        for (doc, score) in [(0, 1.0), (1, 5.0), (2, 3.0), (3, 5.0), (4, 0.5), (5, 4.0)] {
            segment.collect(doc, score);
        }
        let ranked = relevance(0, 3, Arc::new(Vec::new()));
        let (page, count) = ranked.merge_fruits(vec![segment.harvest()]).unwrap();
        // Docs 1 and 3 tie on score: doc 3 has the lower product id (997 against 999).
        assert_eq!(page, vec![997, 999, 995]);
        assert_eq!(count, 6);
    }

    #[test]
    fn a_tie_with_the_worst_kept_is_broken_by_product_id() {
        let mut segment = collector(1);
        segment.collect(1, 2.0);
        segment.collect(50, 2.0);
        segment.collect(2, 2.0);
        let ranked = relevance(0, 1, Arc::new(Vec::new()));
        assert_eq!(ranked.merge_fruits(vec![segment.harvest()]).unwrap(), (vec![950], 3));
    }

    #[test]
    fn merging_pages_across_segments_after_the_offset() {
        let mut first = collector(4);
        let mut second = collector(4);
        for doc in 0..10 {
            first.collect(doc, doc as Score);
            second.collect(doc + 20, doc as Score + 0.5);
        }
        let ranked = relevance(1, 3, Arc::new(Vec::new()));
        let (page, count) = ranked.merge_fruits(vec![first.harvest(), second.harvest()]).unwrap();
        // Best first: 9.5 (doc 29), 9 (doc 9), 8.5 (doc 28), 8 (doc 8); skip one.
        assert_eq!(page, vec![991, 972, 992]);
        assert_eq!(count, 20);
    }

    mod pages_of_the_matcher {
        use rand::seq::SliceRandom;
        use rand::{RngExt, SeedableRng};
        use rand_chacha::ChaCha8Rng;
        use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query};
        use tantivy::schema::{FAST, Field, INDEXED, Schema, TEXT};
        use tantivy::{Index, IndexWriter, Term, doc};

        use super::super::super::matcher::{self, Clause, Tier, WordTerm, WordsQuery};
        use super::*;

        /// An index of titles, bodies and product ids, and its writer.
        fn empty() -> (Index, Field, Field, Field, IndexWriter) {
            let mut schema = Schema::builder();
            let title = schema.add_text_field("title", TEXT);
            let body = schema.add_text_field("body", TEXT);
            let product_id = schema.add_u64_field("product_id", INDEXED | FAST);
            let index = Index::create_in_ram(schema.build());
            let writer: IndexWriter = index.writer_with_num_threads(1, 100_000_000).unwrap();
            (index, title, body, product_id, writer)
        }

        /// 60,000 documents in three segments, product ids shuffled, some deleted. Text of
        /// few words and lengths, so that scores tie by the thousand.
        fn fixture() -> (Index, Field, Field) {
            let (index, title, body, product_id, mut writer) = empty();
            let mut rng = ChaCha8Rng::seed_from_u64(11);
            let mut ids: Vec<u64> = (1..=60_000).collect();
            ids.shuffle(&mut rng);
            for segment in 0..3 {
                for id in &ids[segment * 20_000..(segment + 1) * 20_000] {
                    let mut body_words = vec!["common"; rng.random_range(1..=2)];
                    for _ in 0..rng.random_range(0..4) {
                        body_words.push(["filler", "usual", "rare"][rng.random_range(0..3)]);
                    }
                    let title_text = if rng.random_range(0..100) < 3 { "common usual" } else { "other" };
                    writer
                        .add_document(
                            doc!(title => title_text, body => body_words.join(" "), product_id => *id),
                        )
                        .unwrap();
                }
                writer.commit().unwrap();
            }
            for id in ids.iter().step_by(97) {
                writer.delete_term(Term::from_field_u64(product_id, *id));
            }
            writer.commit().unwrap();
            (index, title, body)
        }

        fn clause(title: Field, body: Field, word: &str, near: &[&str]) -> Clause {
            let mut terms = vec![
                WordTerm { term: Term::from_field_text(title, word), weight: 3.0, tier: Tier::Exact },
                WordTerm { term: Term::from_field_text(body, word), weight: 1.0, tier: Tier::Exact },
            ];
            for near in near {
                terms.push(WordTerm {
                    term: Term::from_field_text(body, near),
                    weight: 0.5,
                    tier: Tier::Near,
                });
            }
            Clause::any_of(terms)
        }

        #[test]
        fn pages_are_those_of_scoring_every_match() {
            let (index, title, body) = fixture();
            let searcher = index.reader().unwrap().searcher();
            let ids = ProductIds::default().of(&searcher);
            // Kept across the searches below, as the service keeps them.
            let memo = Arc::new(matcher::ListMemo::default());
            let common = || clause(title, body, "common", &[]);
            // A word with a synonym (`rare`) and near terms (`filler`, and `common` for
            // enough matches to bound); and one the index lacks, matched through those alone.
            let with_synonym = |word: &str| {
                let mut clause = clause(title, body, word, &["filler", "common"]);
                clause.terms.push(WordTerm {
                    term: Term::from_field_text(body, "rare"),
                    weight: 0.9,
                    tier: Tier::Synonym,
                });
                clause.union = clause.terms.len();
                clause
            };
            let queries = [
                (vec![with_synonym("usual")], vec![true]),
                (vec![common(), with_synonym("usual")], vec![true, true]),
                (vec![with_synonym("absent")], vec![true]),
                (vec![common()], vec![true]),
                (vec![clause(title, body, "common", &["usual"])], vec![true]),
                (vec![common(), clause(title, body, "usual", &["rare"])], vec![true, true]),
                (vec![common(), clause(title, body, "filler", &[])], vec![true, false]),
                (vec![common(), common()], vec![true, true]),
                // Too few matches to bound: scored whole, and only those that can enter offered.
                (vec![clause(title, body, "usual", &[])], vec![true]),
                (vec![clause(title, body, "usual", &[]), clause(title, body, "rare", &[])], vec![true, true]),
            ];
            let mut left_out = 0;
            for (clauses, required) in queries {
                let words = WordsQuery::of_clauses(clauses.into(), required.into()).with_memo(memo.clone());
                // A conjunction with everything scores through tantivy's own scorers, every match.
                let every_match = BooleanQuery::new(vec![
                    (Occur::Must, Box::new(words.clone()) as Box<dyn Query>),
                    (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))),
                ]);
                for (offset, limit) in [(0, 1), (0, 20), (7, 13), (480, 40)] {
                    let top = relevance(offset, limit, ids.clone());
                    let before = matcher::windows_left_out();
                    let bounded = searcher.search(&words, &top).unwrap();
                    left_out += matcher::windows_left_out() - before;
                    let whole = searcher.search(&every_match, &top).unwrap();
                    assert_eq!(bounded, whole, "{words:?} at {offset}+{limit}");
                }
            }
            // The pages were chosen with windows left out, not by scoring everything.
            assert!(left_out > 100, "{left_out} windows left out");
        }

        /// 40,000 documents in two segments, some deleted: `the` in every body, `filler` in
        /// nine bodies of ten, `rare` in one of fifty, and in a fifth of the titles one to
        /// three of 48 rarer words beginning with `th`, the first ones most often, as a
        /// two-letter prefix completes in a shop's catalogue.
        fn prefix_fixture() -> (Index, Field, Field, Vec<String>) {
            let (index, title, body, product_id, mut writer) = empty();
            let mut rng = ChaCha8Rng::seed_from_u64(17);
            let words: Vec<String> = (0..48).map(|i| format!("th{i:02}")).collect();
            for segment in 0..2u64 {
                for id in segment * 20_000 + 1..=(segment + 1) * 20_000 {
                    let mut body_words = vec!["the"; rng.random_range(1..=3)];
                    if rng.random_range(0..10) > 0 {
                        body_words.extend(std::iter::repeat_n("filler", rng.random_range(1..4)));
                    }
                    if rng.random_range(0..50) == 0 {
                        body_words.push("rare");
                    }
                    let title_text = if rng.random_range(0..5) == 0 {
                        // One to three of them, th00 most often and th47 least.
                        (0..rng.random_range(1..=3))
                            .map(|_| {
                                words[rng.random_range(0..48usize).min(rng.random_range(0..48usize))].as_str()
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    } else {
                        "other".to_owned()
                    };
                    writer
                        .add_document(
                            doc!(title => title_text, body => body_words.join(" "), product_id => id),
                        )
                        .unwrap();
                }
                writer.commit().unwrap();
            }
            for id in (1..=40_000u64).step_by(89) {
                writer.delete_term(Term::from_field_u64(product_id, id));
            }
            writer.commit().unwrap();
            (index, title, body, words)
        }

        #[test]
        fn pages_of_a_word_of_many_lists_are_those_of_scoring_every_match() {
            let (index, title, body, words) = prefix_fixture();
            let searcher = index.reader().unwrap().searcher();
            let ids = ProductIds::default().of(&searcher);
            let memo = Arc::new(matcher::ListMemo::default());
            let completions = |tier_of_first: Tier| {
                let mut terms = vec![WordTerm {
                    term: Term::from_field_text(body, "the"),
                    weight: 1.0,
                    tier: Tier::Near,
                }];
                for (i, word) in words.iter().enumerate() {
                    let tier = if i == 0 { tier_of_first } else { Tier::Near };
                    terms.push(WordTerm { term: Term::from_field_text(title, word), weight: 2.0, tier });
                    terms.push(WordTerm {
                        term: Term::from_field_text(body, word),
                        weight: 1.0,
                        tier: Tier::Near,
                    });
                }
                Clause::any_of(terms)
            };
            let exact = |word: &str| {
                Clause::any_of(vec![WordTerm {
                    term: Term::from_field_text(body, word),
                    weight: 1.0,
                    tier: Tier::Exact,
                }])
            };
            // Every completion weighs the same as `the`: no list bounds the others below
            // the page, and every match is scored.
            let even = Clause::any_of(
                words
                    .iter()
                    .map(|word| WordTerm {
                        term: Term::from_field_text(title, word),
                        weight: 0.0,
                        tier: Tier::Near,
                    })
                    .chain([WordTerm {
                        term: Term::from_field_text(body, "the"),
                        weight: 0.0,
                        tier: Tier::Near,
                    }])
                    .collect(),
            );
            // Each query, and whether its pages leave matches unscored.
            let queries = [
                (vec![completions(Tier::Near)], vec![true], true),
                // One completion is the word itself, earning the exact tier; one a synonym.
                (vec![completions(Tier::Exact)], vec![true], true),
                (vec![completions(Tier::Synonym)], vec![true], true),
                // With a required word and with optional ones. An optional word of nearly
                // every product lifts the bound of its list, one of the longest, above
                // the page, so every match is scored.
                (vec![exact("filler"), completions(Tier::Near)], vec![true, true], true),
                (vec![completions(Tier::Near), exact("rare")], vec![true, false], true),
                (vec![completions(Tier::Near), exact("filler")], vec![true, false], false),
                (vec![even], vec![true], false),
            ];
            for (clauses, required, prunes) in queries {
                let words = WordsQuery::of_clauses(clauses.into(), required.into()).with_memo(memo.clone());
                let unscored = unscored_by_pages_of_every_match(&searcher, &ids, &words);
                assert_eq!(unscored > 0, prunes, "{unscored} matches left unscored by {words:?}");
            }
        }

        /// Asserts that `words` gives the pages scoring every match gives, at four offsets
        /// and sizes, and returns how many matches those four searches left unscored.
        fn unscored_by_pages_of_every_match(
            searcher: &Searcher,
            ids: &Arc<SegmentIds>,
            words: &WordsQuery,
        ) -> usize {
            let every_match = BooleanQuery::new(vec![
                (Occur::Must, Box::new(words.clone()) as Box<dyn Query>),
                (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))),
            ]);
            let before = matcher::matches_unscored();
            for (offset, limit) in [(0, 1), (0, 20), (7, 13), (480, 40)] {
                let top = relevance(offset, limit, ids.clone());
                let chosen = searcher.search(words, &top).unwrap();
                assert_eq!(
                    chosen,
                    searcher.search(&every_match, &top).unwrap(),
                    "{words:?} at {offset}+{limit}"
                );
            }
            matcher::matches_unscored() - before
        }

        #[test]
        fn a_word_in_two_fields_of_the_same_products_still_leaves_the_others_unscored() {
            // 20,000 products, each `made`: a third `pro` in both title and body, the rest one
            // of 40 completions of it in the title. The two `pro` lists hold 13,334
            // postings, more than half the matches, but only 6,667 products.
            let (index, title, body, product_id, mut writer) = empty();
            let completions: Vec<String> = (0..40).map(|i| format!("pro{i:02}")).collect();
            for id in 0..20_000u64 {
                let (title_text, body_text) = if id % 3 == 0 {
                    ("pro".to_owned(), "made pro")
                } else {
                    (completions[id as usize % 40].clone(), "made")
                };
                writer.add_document(doc!(title => title_text, body => body_text, product_id => id)).unwrap();
            }
            writer.commit().unwrap();
            let searcher = index.reader().unwrap().searcher();
            let ids = ProductIds::default().of(&searcher);
            let term = |field: Field, word: &str, weight: Score, tier: Tier| WordTerm {
                term: Term::from_field_text(field, word),
                weight,
                tier,
            };
            let made = Clause::any_of(vec![term(body, "made", 1.0, Tier::Exact)]);
            let pro = Clause::any_of(
                [term(title, "pro", 2.0, Tier::Exact), term(body, "pro", 1.0, Tier::Exact)]
                    .into_iter()
                    .chain(completions.iter().map(|word| term(title, word, 0.1, Tier::Near)))
                    .collect(),
            );
            let words = WordsQuery::of_clauses(vec![made, pro].into(), vec![true, true].into());
            let unscored = unscored_by_pages_of_every_match(&searcher, &ids, &words);
            assert_eq!(unscored, 4 * 13_333, "matches left unscored over four pages");
        }

        #[test]
        fn exact_matches_are_bounded_apart_from_near_terms_they_never_share_a_document_with() {
            let (index, title, _) = fixture();
            let searcher = index.reader().unwrap().searcher();
            let ids = ProductIds::default().of(&searcher);
            // `usual` titles (3%) earn the exact tier, all with the same score; the near term
            // `other` is every other title. Nearly every window holds both.
            let clause = Clause::any_of(vec![
                WordTerm { term: Term::from_field_text(title, "usual"), weight: 3.0, tier: Tier::Exact },
                WordTerm { term: Term::from_field_text(title, "other"), weight: 0.5, tier: Tier::Near },
            ]);
            let words = WordsQuery::of_clauses(vec![clause].into(), vec![true].into());
            let every_match = BooleanQuery::new(vec![
                (Occur::Must, Box::new(words.clone()) as Box<dyn Query>),
                (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))),
            ]);
            let top = relevance(0, 1, ids);
            let before = matcher::windows_left_out();
            let bounded = searcher.search(&words, &top).unwrap();
            let left_out = matcher::windows_left_out() - before;
            assert_eq!(bounded, searcher.search(&every_match, &top).unwrap());
            // 471 windows in three segments of 20,000. A bound that adds `other`'s best to
            // `usual`'s lies above the page's score wherever both are: it leaves out only the
            // dozen windows without a `usual` title.
            assert!(left_out > 100, "{left_out} of 471 windows left out");
        }

        #[test]
        fn window_bests_kept_before_a_write_do_not_bound_the_pages_after_it() {
            let (index, title, body) = fixture();
            let memo = Arc::new(matcher::ListMemo::default());
            let words = WordsQuery::of_clauses(
                vec![clause(title, body, "common", &["usual"])].into(),
                vec![true].into(),
            )
            .with_memo(memo.clone());
            let every_match = BooleanQuery::new(vec![
                (Occur::Must, Box::new(words.clone()) as Box<dyn Query>),
                (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0))),
            ]);
            let page = |searcher: &tantivy::Searcher, query: &dyn Query| {
                let top = relevance(0, 20, ProductIds::default().of(searcher));
                searcher.search(query, &top).unwrap()
            };
            let searcher = index.reader().unwrap().searcher();
            assert_eq!(page(&searcher, &words), page(&searcher, &every_match));
            // Documents without the words raise their weight (idf) and shorten the average
            // body: every score of the segments read before changes.
            let product_id = index.schema().get_field("product_id").unwrap();
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 50_000_000).unwrap();
            for id in 100_001..=160_000u64 {
                writer.add_document(doc!(title => "other", body => "filler", product_id => id)).unwrap();
            }
            writer.commit().unwrap();
            let searcher = index.reader().unwrap().searcher();
            assert_eq!(page(&searcher, &words), page(&searcher, &every_match));
        }

        #[test]
        fn documents_of_long_lists_kept_as_bitsets_match_as_the_lists_do() {
            let (index, title, body) = fixture();
            let memo = Arc::new(matcher::ListMemo::default());
            let queries = [
                vec![clause(title, body, "common", &[])],
                vec![clause(title, body, "usual", &["rare"])],
                vec![clause(title, body, "common", &[]), clause(title, body, "filler", &["usual"])],
                vec![clause(title, body, "rare", &[]), clause(title, body, "usual", &[])],
                // Few candidates (`usual` in titles, then `rare`) against a long list
                // (`filler`): they are looked up in its kept bitset rather than skipped to.
                vec![
                    Clause::any_of(vec![WordTerm {
                        term: Term::from_field_text(title, "usual"),
                        weight: 3.0,
                        tier: Tier::Exact,
                    }]),
                    clause(title, body, "rare", &[]),
                    clause(title, body, "filler", &[]),
                ],
            ];
            let check = |searcher: &tantivy::Searcher| {
                let ids = ProductIds::default().of(searcher);
                for clauses in &queries {
                    let required: Vec<bool> = vec![true; clauses.len()];
                    let read = WordsQuery::of_clauses(clauses.clone().into(), required.clone().into());
                    let kept = read.clone().with_memo(memo.clone());
                    let top = relevance(0, 30, ids.clone());
                    // Twice: the second search finds the bitsets the first one kept.
                    for _ in 0..2 {
                        let count = searcher.search(&kept, &tantivy::collector::Count).unwrap();
                        assert_eq!(count, searcher.search(&read, &tantivy::collector::Count).unwrap());
                        assert_eq!(
                            searcher.search(&kept, &top).unwrap(),
                            searcher.search(&read, &top).unwrap(),
                            "{clauses:?}"
                        );
                    }
                }
            };
            check(&index.reader().unwrap().searcher());
            // A write adds a segment and deletes in the others: no kept bitset stands for it.
            let product_id = index.schema().get_field("product_id").unwrap();
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 50_000_000).unwrap();
            for id in 100_001..=120_000u64 {
                writer.add_document(doc!(title => "other", body => "rare usual", product_id => id)).unwrap();
            }
            for id in (1..=60_000u64).step_by(5) {
                writer.delete_term(Term::from_field_u64(product_id, id));
            }
            writer.commit().unwrap();
            check(&index.reader().unwrap().searcher());
            assert!(memo.kept_docs() > 0, "{memo:?}");
        }
    }
}
