//! The tantivy index: its schema, the bulk build at start-up, single-product updates and
//! query execution. Products themselves live in the catalogue; the index answers with ids.
//!
//! Ranking is tiered through the score: a whole-SKU match adds [`SKU_TIER`], every query
//! term matched exactly (stemmed counts as exact) adds [`EXACT_TIER`](super::matcher::EXACT_TIER), and under those sits
//! field-weighted BM25, where typo and prefix matches score as the terms they matched,
//! discounted. Ties go to the ranking rules (setting `ranking`), then to the lower product id.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use arc_swap::ArcSwap;
use product_model::{Product, sku_key};
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    BitSet, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, TERMINATED, Term,
};

use super::analyzer::{self, ANALYZER, stem};
use super::expand::{Expander, LogPosition, allowed_typos};
use super::facets::{FacetCollector, FacetFruit, FacetTerms};
use super::filter::{Filter, FilterField};
use super::filter_query::filter_query;
use super::language::Language;
use super::matcher::{Clause, ClauseSets, ListMemo, Tier, Word, WordTerm, WordsQuery};
use super::merge_order::lowest_product_first;
use super::on_disk::{self, CaughtUp, Opened};
use super::query::{
    AttributeFacet, FacetRequest, Facets, Filters, Matching, Scope, SearchHits, SearchRequest, top_values,
};
use super::rank::{ProductIds, TopRanked};
use super::ranking::{RankingRule, RuleColumns};
use super::restriction::{Restriction, SegmentSets};
use super::schema::{Fields, ONE_LETTER_FIELDS, SKU_FIELD, TEXT_FIELDS, TextField, document, schema};

/// Memory for the bulk build, per indexing thread, for a catalogue of `products`. Up to
/// [`SMALL_CATALOGUE`] products the build's memory is a large share of start-up's peak, and
/// a smaller budget (a segment or two more per thread) takes it down at no cost in time
/// measured; above, it is a small share, and fewer, larger segments index faster
/// (benches/RESULTS.md, "Start-up: the store filled after a build, a smaller budget for
/// small catalogues").
fn build_budget(products: usize) -> usize {
    if products <= SMALL_CATALOGUE { 20_000_000 } else { 40_000_000 }
}
/// Largest catalogue built with the smaller budget.
const SMALL_CATALOGUE: usize = 200_000;

/// One indexing thread per core, up to four.
fn build_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// The writer that indexes a catalogue of `products` at once (a build, or a kept index's
/// catch-up): [`build_threads`] threads, each with the [`build_budget`].
fn build_writer(index: &Index, products: usize) -> tantivy::Result<IndexWriter> {
    let threads = build_threads();
    index.writer_with_num_threads(threads, threads * build_budget(products))
}

/// Memory for single-product updates: tantivy's minimum.
const UPDATE_BUDGET: usize = 15_000_000;

/// Score added by a whole-SKU match: above anything else a product can score.
const SKU_TIER: Score = 10_000_000.0;
/// Weight of a typo match per edit: one typo scores half, two a quarter.
const TYPO_DISCOUNT: Score = 0.5;
/// Weight of a prefix completion.
const PREFIX_DISCOUNT: Score = 0.6;
/// Weight of a synonym (which also earns a tier just below the word's own).
const SYNONYM_DISCOUNT: Score = 0.9;
/// Weight of two query words matched as one index word (`head phones`: `headphones`).
const JOINED_DISCOUNT: Score = 0.8;
/// Weight of the two index words one query word stands for (`bluetoothspeaker`).
const SPLIT_DISCOUNT: Score = 0.8;
/// Words whose presence is remembered per searcher generation; past this it starts over.
const KNOWN_WORDS: usize = 100_000;
/// Boosts whose documents are kept per searcher generation.
const MAX_BOOST_SETS: usize = 64;
/// Shortest part a query word is split into.
const MIN_SPLIT_PART: usize = 3;

/// An in-memory, always-consistent full-text index of the catalogue.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    expander: Expander,
    product_ids: ProductIds,
    /// What long posting lists give searches (window bests, documents), kept across them.
    list_memo: Arc<ListMemo>,
    /// Whether a word is in a field of words, for one searcher generation.
    known_words: Mutex<(u64, HashMap<String, bool>)>,
    /// Replaced whole when the settings change: each search reads one generation.
    matching: ArcSwap<MatchingOptions>,
    /// The facet columns' terms, per segment.
    facet_terms: Arc<FacetTerms>,
    /// The ranking rules' values, per segment and rule.
    rule_columns: Arc<RuleColumns>,
    /// Facets over the whole catalogue, per field, for one searcher generation: a shopper
    /// browsing by one attribute asks for them with every page.
    whole_catalogue: Mutex<(u64, HashMap<FilterField, FacetFruit>)>,
    /// The documents of each boost of the merchandising rules, per segment, for one
    /// searcher generation.
    boost_sets: Mutex<(u64, HashMap<String, Arc<SegmentSets>>)>,
}

/// How searches read their words; see [`Language`].
#[derive(Debug, Clone)]
pub struct MatchingOptions {
    pub language: Language,
    /// When fewer products than this match every word, the match is widened (1: only when
    /// none does).
    pub partial_below: u64,
    /// Per built-in text field, in the order of [`TEXT_FIELDS`]: its weight, or `None` when
    /// it is not searched.
    pub weights: Weights,
    /// The attributes searched, by name, with their weights. An index without a text field
    /// for one (built before the setting named it) leaves it out until rebuilt.
    pub attribute_weights: Vec<(String, Score)>,
    /// What orders products ranked equally, before the lower product id.
    pub ranking: Arc<[RankingRule]>,
}

/// Per text field: its weight, or `None` when searches leave it out.
pub type Weights = [Option<Score>; TEXT_FIELDS.len()];

/// The built-in weights of [`TEXT_FIELDS`], every field searched.
pub fn default_weights() -> Weights {
    TEXT_FIELDS.map(|(_, weight)| Some(weight))
}

impl Default for MatchingOptions {
    fn default() -> Self {
        Self {
            language: Language::default(),
            partial_below: 1,
            weights: default_weights(),
            attribute_weights: Vec::new(),
            ranking: Arc::new([]),
        }
    }
}

/// A query's text part, planned once and reused by every facet pass.
struct TextPlan {
    /// Blank text: every product.
    everything: bool,
    clauses: Arc<[Clause]>,
    /// Per clause: still required (partial matching lets clauses go).
    required: Vec<bool>,
    /// The query words each clause stands for.
    labels: Vec<String>,
    /// The whole text is this SKU.
    sku: Option<Term>,
    /// Set once the plan was widened.
    partial: bool,
    /// The words no longer required, in the order they were let go.
    not_required: Vec<String>,
    matched_terms: BTreeSet<String>,
    /// Built from the above by [`TextPlan::assemble`].
    query: Box<dyn Query>,
    /// The words alone, when they are the whole text query: term filters then join them.
    words: Option<WordsQuery>,
}

impl Default for TextPlan {
    fn default() -> Self {
        Self {
            everything: false,
            clauses: Arc::new([]),
            required: Vec::new(),
            labels: Vec::new(),
            sku: None,
            partial: false,
            not_required: Vec::new(),
            matched_terms: BTreeSet::new(),
            query: Box::new(EmptyQuery),
            words: None,
        }
    }
}

impl TextPlan {
    /// Builds the query from the clauses, the SKU and `everything`.
    fn assemble(&mut self) {
        if self.everything {
            self.query = Box::new(AllQuery);
            self.words = None;
            return;
        }
        let words = self
            .required
            .contains(&true)
            .then(|| WordsQuery::of_clauses(Arc::clone(&self.clauses), self.required.as_slice().into()));
        let words_query: Box<dyn Query> = match &words {
            Some(words) => Box::new(words.clone()),
            None => Box::new(EmptyQuery),
        };
        match &self.sku {
            None => {
                self.query = words_query;
                self.words = words;
            }
            Some(sku) => {
                let whole_sku = TermQuery::new(sku.clone(), IndexRecordOption::Basic);
                self.query = Box::new(BooleanQuery::new(vec![
                    (Occur::Should, words_query),
                    (Occur::Should, Box::new(ConstScoreQuery::new(Box::new(whole_sku), SKU_TIER))),
                ]));
                self.words = None;
            }
        }
    }

    /// Whether widening could find more: words to let go, and no SKU answering already.
    fn can_relax(&self) -> bool {
        !self.everything && self.sku.is_none() && !self.clauses.is_empty()
    }
}

/// One clause while it is planned: its word, the terms that match it alone, the groups whose
/// parts must all match, and its stem (for joining and splitting).
struct ClauseDraft {
    label: String,
    union: Word,
    groups: Vec<Vec<Word>>,
    stem: String,
    /// The word has typo neighbours or completions in the index.
    expanded: bool,
}

impl MatchingOptions {
    /// The attributes searched, by name.
    pub fn searched_attributes(&self) -> Vec<String> {
        self.attribute_weights.iter().map(|(name, _)| name.clone()).collect()
    }
}

impl SearchIndex {
    /// Indexes `products` in memory, in bulk with one indexing thread per core (up to four),
    /// with a text field for each attribute `options` searches.
    pub fn build<P: Borrow<Product>>(products: &[P], options: MatchingOptions) -> anyhow::Result<Self> {
        let (schema, fields) = schema(&options.searched_attributes());
        let index = Self::bulk(Index::create_in_ram(schema), &fields, products)?;
        Self::serve(index, fields, options, products.len())
    }

    /// The index of `products` kept in `dir` (see [`on_disk`]): the one found there,
    /// brought up to date with them, or one built there from scratch.
    pub fn open_or_build<P: Borrow<Product> + Sync>(
        products: &[P],
        options: MatchingOptions,
        dir: &Path,
    ) -> anyhow::Result<(Self, Opened)> {
        let (schema, mut fields) = schema(&options.searched_attributes());
        fields.digests = true;
        let stale = match on_disk::find(dir, &schema)? {
            on_disk::Found::Usable(index) => match Self::catch_up(&index, &fields, products)? {
                Some(caught_up) => {
                    let index = Self::serve(index, fields, options, products.len())?;
                    return Ok((index, Opened::Reopened(caught_up)));
                }
                None => Some("it differs from the catalogue in more than a quarter of the products"),
            },
            on_disk::Found::Stale(why) => Some(why),
            on_disk::Found::Nothing => None,
        };
        if stale.is_some() {
            on_disk::clear(dir)?;
        }
        let index = Index::create_in_dir(dir, schema)
            .with_context(|| format!("creating an index in {}", dir.display()))?;
        let index = Self::bulk(index, &fields, products)?;
        Ok((Self::serve(index, fields, options, products.len())?, Opened::Built { stale }))
    }

    /// Writes the products `index` lacks or holds otherwise, and deletes those it holds that
    /// `products` do not, in one commit; `None` (and nothing written) when building from
    /// scratch is the better way.
    fn catch_up<P: Borrow<Product> + Sync>(
        index: &Index,
        fields: &Fields,
        products: &[P],
    ) -> anyhow::Result<Option<CaughtUp>> {
        index.tokenizers().register(ANALYZER, analyzer::index_analyzer());
        let Some(differences) = on_disk::differences(index, products)? else {
            return Ok(None);
        };
        if !differences.worth_catching_up(products.len()) {
            return Ok(None);
        }
        let caught_up = differences.caught_up();
        // An index that matches the catalogue (the usual restart) needs no writer: making one
        // starts its indexing threads for nothing.
        if caught_up.written + caught_up.deleted == 0 {
            return Ok(Some(caught_up));
        }
        let mut writer = build_writer(index, products.len()).context("opening the kept index for writing")?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for id in &differences.deleted {
            writer.delete_term(Term::from_field_u64(fields.product_id, *id));
        }
        for &position in &differences.changed {
            let product = products[position].borrow();
            writer.delete_term(Term::from_field_u64(fields.product_id, product.product_id));
            writer.add_document(document(fields, product))?;
        }
        on_disk::commit(&mut writer).context("committing the catch-up")?;
        writer.wait_merging_threads().context("finishing the catch-up")?;
        Ok(Some(caught_up))
    }

    /// Adds `products` to the empty `index` with one indexing thread per core (up to four).
    fn bulk<P: Borrow<Product>>(index: Index, fields: &Fields, products: &[P]) -> anyhow::Result<Index> {
        index.tokenizers().register(ANALYZER, analyzer::index_analyzer());
        let mut writer = build_writer(&index, products.len()).context("creating the bulk index writer")?;
        // Segments are merged once, after the build: merging while indexing would take the
        // cores the indexing threads need, and merge most documents twice.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for product in products {
            writer.add_document(document(fields, product.borrow()))?;
        }
        on_disk::commit(&mut writer).context("committing the bulk build")?;
        writer.wait_merging_threads().context("finishing the bulk build")?;
        Ok(index)
    }

    /// Serves searches from `index`, a committed index of `documents` products, and takes
    /// its writes.
    fn serve(
        index: Index,
        fields: Fields,
        options: MatchingOptions,
        documents: usize,
    ) -> anyhow::Result<Self> {
        let mut writer: IndexWriter =
            index.writer_with_num_threads(1, UPDATE_BUDGET).context("creating the update writer")?;
        // Every commit adds a small segment that each search then visits; merging them four
        // at a time (not tantivy's eight) keeps their number low under a steady write load.
        let mut merges = LogMergePolicy::default();
        merges.set_min_num_segments(4);
        writer.set_merge_policy(Box::new(merges));
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("opening the index reader")?;
        // Each search visits every segment, so one segment answers faster than the several
        // the build's threads wrote. They are merged while the service already answers from
        // them, lowest product ids first; searches move to the merged segment once it is
        // committed.
        let built = lowest_product_first(&reader.searcher()).context("listing the built segments")?;
        if built.len() > 1 {
            let merge = writer.merge(&built);
            let reader = reader.clone();
            std::thread::Builder::new()
                .name("merge-built".into())
                .spawn(move || match merge.wait().and_then(|_| reader.reload()) {
                    Ok(()) => tracing::debug!(segments = built.len(), "built segments merged"),
                    Err(error) => {
                        tracing::warn!(%error, "merging the built segments failed; searches visit them all")
                    }
                })
                .context("starting the merge of the built segments")?;
        }
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            fields,
            expander: Expander::default(),
            product_ids: ProductIds::default(),
            list_memo: Arc::new(ListMemo::for_documents(documents)),
            known_words: Mutex::new((u64::MAX, HashMap::new())),
            matching: ArcSwap::from_pointee(options),
            facet_terms: Arc::default(),
            rule_columns: Arc::default(),
            whole_catalogue: Mutex::new((u64::MAX, HashMap::new())),
            boost_sets: Mutex::new((u64::MAX, HashMap::new())),
        })
    }

    /// Waits until the built segments are merged into one.
    #[cfg(test)]
    pub fn wait_for_one_segment(&self) {
        let started = std::time::Instant::now();
        while self.reader.searcher().segment_readers().len() > 1 {
            assert!(started.elapsed().as_secs() < 30, "the built segments were never merged");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// How searches that start from now on read their words.
    pub fn set_matching(&self, options: Arc<MatchingOptions>) {
        self.matching.store(options);
    }

    /// How searches read their words now.
    pub fn matching(&self) -> Arc<MatchingOptions> {
        self.matching.load_full()
    }

    /// Replaces the products with the same ids (or adds them) and removes the `deleted`
    /// ids, in one commit, and makes the change visible to every search that starts after
    /// this returns. All or nothing.
    pub fn apply(&self, products: &[&Product], deleted: &[u64]) -> anyhow::Result<()> {
        let mut writer = self.writer.lock().map_err(|_| anyhow::anyhow!("index writer poisoned"))?;
        // Tokenised before the expander's lock is taken: searches read that lock too.
        let mut analyzer = analyzer::index_analyzer();
        let terms: Vec<(usize, String)> =
            products.iter().flat_map(|p| self.fields.index_terms(&mut analyzer, p)).collect();
        self.expander.note_terms(terms);
        for id in deleted {
            writer.delete_term(Term::from_field_u64(self.fields.product_id, *id));
        }
        let mut staged = Ok(());
        for product in products {
            writer.delete_term(Term::from_field_u64(self.fields.product_id, product.product_id));
            if let Err(error) = writer.add_document(document(&self.fields, product)) {
                staged = Err(error);
                break;
            }
        }
        if let Err(error) = staged.and_then(|()| on_disk::commit(&mut writer).map(|_| ())) {
            let _ = writer.rollback();
            return Err(error).context("committing an update");
        }
        self.reader.reload().context("reloading the index reader")?;
        self.expander.noted_terms_committed();
        Ok(())
    }

    /// Runs `request`: the exact number of matches, one page of ids in the requested order,
    /// and the facets if asked for.
    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<SearchHits> {
        if !request.merchandising.is_empty() {
            return self.merchandised(request);
        }
        let pass = self.pass();
        Ok(self.find(&pass, request)?.hits(&request.facets))
    }

    /// What every pass of one search reads: the expansions' log position (read before the
    /// searcher opens, so they cover every term it holds), the searcher, the options.
    pub(super) fn pass(&self) -> Pass {
        let position = self.expander.position();
        Pass { position, searcher: self.reader.searcher(), matching: self.matching.load_full() }
    }

    /// Runs `request`, widening its match if too few products match every word, with its
    /// facets' raw counts.
    pub(super) fn find(&self, pass: &Pass, request: &SearchRequest) -> anyhow::Result<Found> {
        let (searcher, matching) = (&pass.searcher, &*pass.matching);
        let mut plan = self.plan_text(searcher, pass.position, matching, request);
        let (mut page, mut total, mut main_facets) = self.run(searcher, &plan, matching, request)?;
        let partial_below = matching.partial_below.max(1);
        if request.matching == Matching::Auto && (total as u64) < partial_below && plan.can_relax() {
            self.relax(searcher, &mut plan, request, partial_below)?;
            (page, total, main_facets) = self.run(searcher, &plan, matching, request)?;
        }
        let fruit = match main_facets {
            None => None,
            Some(mut fruit) => {
                // Each facet whose own filter is on is counted again, without that filter.
                for field in request.facets.fields() {
                    if !restricts(request, &field) {
                        continue;
                    }
                    let whole = plan.everything && request.scope == Scope::default();
                    let mut counted = if whole && self.only_filters_on(request, &field) {
                        self.whole_catalogue(searcher, &field)?
                    } else {
                        let mut only = FacetCollector::of(&field, &self.facet_terms);
                        only.restriction = self.restriction(searcher, request)?;
                        searcher.search(&self.with_filters(&plan, request, Some(&field)), &only)?
                    };
                    match field {
                        FilterField::Category => fruit.category = counted.category,
                        FilterField::Brand => fruit.brand = counted.brand,
                        FilterField::Price => fruit.price = counted.price,
                        FilterField::Attribute(name) => {
                            let own = counted.attributes.remove(&name).unwrap_or_default();
                            fruit.attributes.insert(name, own);
                        }
                        FilterField::Rating | FilterField::InStock => {}
                    }
                }
                Some(fruit)
            }
        };
        Ok(Found { ids: page, total: total as u64, fruit, plan })
    }

    /// One page and the total of `request` under the text plan of an earlier pass, so the
    /// passes of a merchandised search match the same words. No facets.
    pub(super) fn rerun(
        &self,
        pass: &Pass,
        plan: &Found,
        request: &SearchRequest,
    ) -> anyhow::Result<(Vec<u64>, u64)> {
        let mut request = request.clone();
        request.facets = FacetRequest::default();
        let (page, total, _) = self.run(&pass.searcher, &plan.plan, &pass.matching, &request)?;
        Ok((page, total as u64))
    }

    /// One page, the total, and the facets counted in the main pass (those whose own filter
    /// is off), for `plan`.
    fn run(
        &self,
        searcher: &Searcher,
        plan: &TextPlan,
        matching: &MatchingOptions,
        request: &SearchRequest,
    ) -> anyhow::Result<(Vec<u64>, usize, Option<FacetFruit>)> {
        let query = self.with_filters(plan, request, None);
        let top = TopRanked {
            offset: request.offset,
            limit: request.limit,
            sort: request.sort,
            ids: self.product_ids.of(searcher),
            rules: Arc::clone(&matching.ranking),
            rule_columns: Arc::clone(&self.rule_columns),
            terms: Arc::clone(&self.facet_terms),
            restriction: self.restriction(searcher, request)?,
        };
        if !request.facets.any() {
            let (page, total) = searcher.search(&query, &top)?;
            return Ok((page, total, None));
        }
        // Disjunctive facets: a facet whose own filter is on is counted in a pass without it.
        let wanted = &request.facets;
        let in_main_pass = FacetCollector {
            category: wanted.category && !restricts(request, &FilterField::Category),
            brand: wanted.brand && !restricts(request, &FilterField::Brand),
            price: wanted.price && !restricts(request, &FilterField::Price),
            terms: Arc::clone(&self.facet_terms),
            restriction: top.restriction.clone(),
            attributes: Arc::new(
                wanted
                    .attributes
                    .iter()
                    .filter(|name| !restricts(request, &FilterField::Attribute((*name).clone())))
                    .cloned()
                    .collect(),
            ),
        };
        let ((page, total), facets) = searcher.search(&query, &(top, in_main_pass))?;
        Ok((page, total, Some(facets)))
    }

    /// The text part of the query, as the README's "How matching works" tells: stop words
    /// set aside, then one clause per word, each matching
    /// its stem in every field, typo neighbours, completions of the last word, the word
    /// joined with a neighbour, the two words it may be written for, and its synonyms; or
    /// the whole text is a SKU. Every clause is required until [`Self::relax`] says otherwise.
    fn plan_text(
        &self,
        searcher: &Searcher,
        position: LogPosition,
        matching: &MatchingOptions,
        request: &SearchRequest,
    ) -> TextPlan {
        let language = &matching.language;
        let weights = &self.field_weights(matching);
        let mut plan = TextPlan::default();
        if request.text.trim().is_empty() {
            plan.everything = true;
            plan.assemble();
            return plan;
        }
        let all_words = analyzer::words(&mut analyzer::word_analyzer(), &request.text);
        let content: Vec<&String> = all_words.iter().filter(|w| !language.is_stop_word(w)).collect();
        // A query of stop words alone matches them as they are: no typos, no completions;
        // unless no product holds its last word, which is then still being typed (`be` on
        // the way to `beige`).
        let only_stop_words = content.is_empty();
        let words: Vec<&String> = if only_stop_words { all_words.iter().collect() } else { content };
        let typos_on = request.typo_tolerance && !only_stop_words;
        let last = words.len().saturating_sub(1);
        let last_completes =
            !only_stop_words || words.last().is_some_and(|word| !self.in_index(searcher, &stem(word)));
        // The last word is being typed: a prefix from two characters, or from one after
        // other words (`tablet g`, `lite-1`), when they narrow the candidates first.
        let is_prefix =
            |i: usize| last_completes && i == last && (words[i].chars().count() >= 2 || words.len() > 1);
        let fields: Vec<(Field, bool)> = self.fields.text.iter().map(|t| (t.field, t.typos)).collect();

        let stems: Vec<String> = words.iter().map(|w| stem(w).into_owned()).collect();
        let mut drafts: Vec<ClauseDraft> = (0..words.len())
            .map(|j| {
                let union =
                    self.word_terms(searcher, position, &fields, weights, words[j], is_prefix(j), typos_on);
                // Beyond its stem in every field searched: typo neighbours or completions.
                let expanded = union.len() > weights.iter().flatten().count();
                ClauseDraft {
                    label: words[j].clone(),
                    union,
                    groups: Vec::new(),
                    stem: stems[j].clone(),
                    expanded,
                }
            })
            .collect();
        // A run of words a synonym group names (`frying pan`): each of its words also
        // matches every other member, so a product with `skillet` matches them all.
        for (run, members) in language.synonyms().runs(&stems) {
            for member in members {
                let parts: Vec<Word> = member
                    .iter()
                    .map(|term| self.every_field(weights, term, SYNONYM_DISCOUNT, Tier::Synonym))
                    .collect();
                for draft in &mut drafts[run.clone()] {
                    match parts.as_slice() {
                        [one] => draft.union.extend(one.iter().cloned()),
                        _ => draft.groups.push(parts.clone()),
                    }
                }
            }
        }
        if !only_stop_words {
            self.add_joined_and_split(searcher, weights, &mut drafts);
        }
        let mut clauses = Vec::with_capacity(drafts.len());
        for draft in drafts {
            let mut clause = Clause::any_of(draft.union);
            for group in draft.groups {
                clause.or_all_of(group);
            }
            plan.labels.push(draft.label);
            clauses.push(clause);
        }
        plan.required = vec![true; clauses.len()];
        plan.clauses = clauses.into();
        if request.highlight {
            // Only highlighting reads them, and a prefix may expand to hundreds of terms.
            plan.matched_terms = plan
                .clauses
                .iter()
                .flat_map(|c| &c.terms)
                .filter_map(|t| t.term.value().as_str().map(str::to_owned))
                .collect();
        }
        let key = sku_key(&request.text);
        let sku_term = Term::from_field_text(self.fields.sku_key, &key);
        // Most queries are no SKU at all; leaving the clause out spares every match a union.
        if !key.is_empty() && searcher.doc_freq(&sku_term).unwrap_or(0) > 0 {
            plan.sku = Some(sku_term);
        }
        plan.assemble();
        plan
    }

    /// Adjacent words also match their concatenation (`head phones` finds `headphones`),
    /// and a word the index lacks, with no typo neighbour or completion there either, also
    /// matches the two index words it may be written for (`bluetoothspeaker`); both below
    /// exact matches.
    fn add_joined_and_split(
        &self,
        searcher: &Searcher,
        weights: &[Option<Score>],
        drafts: &mut [ClauseDraft],
    ) {
        for i in 1..drafts.len() {
            let joined = stem(&format!("{}{}", drafts[i - 1].stem, drafts[i].stem)).into_owned();
            if self.in_index(searcher, &joined) {
                let terms = self.every_field(weights, &joined, JOINED_DISCOUNT, Tier::Near);
                drafts[i - 1].union.extend(terms.iter().cloned());
                drafts[i].union.extend(terms);
            }
        }
        for draft in drafts.iter_mut() {
            let word = &draft.stem;
            // Cheap tests first: every split needs two parts of MIN_SPLIT_PART characters, and
            // a word with typo neighbours or completions is a misspelling or a prefix.
            if draft.expanded || word.chars().count() < 2 * MIN_SPLIT_PART || self.in_index(searcher, word) {
                continue;
            }
            if let Some((left, right)) = self.split(searcher, word) {
                let parts = vec![
                    self.every_field(weights, &left, SPLIT_DISCOUNT, Tier::Near),
                    self.every_field(weights, &right, SPLIT_DISCOUNT, Tier::Near),
                ];
                draft.groups.push(parts);
            }
        }
    }

    /// The two index words `word` is most evenly made of, each of [`MIN_SPLIT_PART`]
    /// characters or more.
    fn split(&self, searcher: &Searcher, word: &str) -> Option<(String, String)> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 2 * MIN_SPLIT_PART || !word.chars().all(|c| c.is_alphanumeric()) {
            return None;
        }
        let mut cuts: Vec<usize> = (MIN_SPLIT_PART..=chars.len() - MIN_SPLIT_PART).collect();
        // Most even first; of two equally even cuts, the earlier.
        cuts.sort_by_key(|&cut| (cut.abs_diff(chars.len() - cut), cut));
        cuts.into_iter().find_map(|cut| {
            let left: String = chars[..cut].iter().collect();
            let right: String = chars[cut..].iter().collect();
            let (left, right) = (stem(&left).into_owned(), stem(&right).into_owned());
            (self.in_index(searcher, &left) && self.in_index(searcher, &right)).then_some((left, right))
        })
    }

    /// Whether a field of words (not the SKU, whose letter groups are codes) holds `term`.
    /// Remembered per searcher generation: joining and splitting ask it of every query.
    fn in_index(&self, searcher: &Searcher, term: &str) -> bool {
        let generation = searcher.generation().generation_id();
        if let Ok(known) = self.known_words.lock()
            && known.0 == generation
            && let Some(&held) = known.1.get(term)
        {
            return held;
        }
        let held = self
            .word_fields()
            .any(|t| searcher.doc_freq(&Term::from_field_text(t.field, term)).unwrap_or(0) > 0);
        if let Ok(mut known) = self.known_words.lock() {
            if known.0 != generation || known.1.len() >= KNOWN_WORDS {
                *known = (generation, HashMap::new());
            }
            known.1.insert(term.to_owned(), held);
        }
        held
    }

    /// Per text field of this index, its weight under `matching`, or `None` when searches
    /// leave it out.
    fn field_weights(&self, matching: &MatchingOptions) -> Vec<Option<Score>> {
        let attributes = self.fields.searched_attributes.iter().map(|name| {
            matching
                .attribute_weights
                .iter()
                .find(|(searched, _)| searched == name)
                .map(|(_, weight)| *weight)
        });
        matching.weights.iter().copied().chain(attributes).collect()
    }

    /// The attributes this index has a text field for.
    pub fn searched_attributes(&self) -> &[String] {
        &self.fields.searched_attributes
    }

    fn word_fields(&self) -> impl Iterator<Item = &TextField> {
        self.fields.text.iter().enumerate().filter(|(i, _)| *i != SKU_FIELD).map(|(_, t)| t)
    }

    /// `term` in every field of words searched, at the field's weight times `discount`.
    fn every_field(&self, weights: &[Option<Score>], term: &str, discount: Score, tier: Tier) -> Word {
        self.fields
            .text
            .iter()
            .zip(weights)
            .enumerate()
            .filter(|(i, _)| *i != SKU_FIELD)
            .filter_map(|(_, (t, weight))| {
                Some(WordTerm {
                    term: Term::from_field_text(t.field, term),
                    weight: (*weight)? * discount,
                    tier,
                })
            })
            .collect()
    }

    /// The terms one word matches through, in the fields searched: its stem in every field
    /// (exact, at full field weight), its typo neighbours and completions (at discounted
    /// weight).
    #[allow(clippy::too_many_arguments)]
    fn word_terms(
        &self,
        searcher: &Searcher,
        position: LogPosition,
        fields: &[(Field, bool)],
        weights: &[Option<Score>],
        word: &str,
        prefix: bool,
        typo_tolerance: bool,
    ) -> Word {
        let stemmed = stem(word);
        let term = |position: usize, text: &str, weight: Score, tier: Tier| WordTerm {
            term: Term::from_field_text(self.fields.text[position].field, text),
            weight,
            tier,
        };
        let mut terms: Word = weights
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some(term(i, &stemmed, (*w)?, Tier::Exact)))
            .collect();

        let typos = if typo_tolerance { allowed_typos(&stemmed) } else { 0 };
        let expansion = self.expander.expand(searcher, position, fields, word, &stemmed, typos, prefix);
        for (position, candidate, distance) in &expansion.typos {
            let Some(weight) = weights[*position] else { continue };
            let weight = weight * TYPO_DISCOUNT.powi(i32::from(*distance));
            terms.push(term(*position, candidate, weight, Tier::Near));
        }
        // A one-letter prefix completes only in the fields shoppers type from (name, brand,
        // category): descriptions and manufacturers hold thousands of words per letter.
        let one_letter = prefix && word.chars().count() == 1;
        for (position, candidate) in
            expansion.completions.iter().filter(|(p, _)| !one_letter || *p < ONE_LETTER_FIELDS)
        {
            let Some(weight) = weights[*position] else { continue };
            terms.push(term(*position, candidate, weight * PREFIX_DISCOUNT, Tier::Near));
        }
        terms
    }

    /// Widens a plan whose clauses all together match too few products: clauses that match
    /// no product at all go first; then, while too few match, the required clause whose
    /// removal leaves the most matches (the least informative word; of two, the later),
    /// until one is left. Clauses let go keep ranking: products matching more of them first.
    /// Every count comes from the clauses' documents, read once. "Too few": under
    /// `partial_below`.
    fn relax(
        &self,
        searcher: &Searcher,
        plan: &mut TextPlan,
        request: &SearchRequest,
        partial_below: u64,
    ) -> anyhow::Result<()> {
        plan.partial = true;
        let sets = ClauseSets::read(
            searcher,
            &plan.clauses,
            &self.term_filters(&request.filters, None),
            &self.other_filters(request, None),
            Some(&self.list_memo),
        )?;
        let alone = |c: usize| {
            let mut only = vec![false; plan.clauses.len()];
            only[c] = true;
            sets.count(&only, false)
        };
        // Clauses by their position in the plan as it was; `kept` those still in it.
        let kept: Vec<usize> = (0..plan.clauses.len()).filter(|&c| alone(c) > 0).collect();
        let mut required = vec![false; plan.clauses.len()];
        kept.iter().for_each(|&c| required[c] = true);
        for (c, label) in plan.labels.iter().enumerate() {
            if !required[c] {
                plan.not_required.push(label.clone());
            }
        }
        loop {
            let left: Vec<usize> = (0..required.len()).filter(|&c| required[c]).collect();
            if left.len() <= 1 || sets.count(&required, true) >= partial_below {
                break;
            }
            let mut best: Option<(u64, usize)> = None;
            for &c in &left {
                required[c] = false;
                let count = sets.count(&required, true);
                required[c] = true;
                if best.is_none_or(|(most, _)| count >= most) {
                    best = Some((count, c));
                }
            }
            let (_, least) = best.expect("two or more required clauses");
            required[least] = false;
            plan.not_required.push(plan.labels[least].clone());
        }
        // Clauses that match nothing leave the plan; the others stay, required or not.
        plan.clauses = kept.iter().map(|&c| plan.clauses[c].clone()).collect();
        plan.labels = kept.iter().map(|&c| plan.labels[c].clone()).collect();
        plan.required = kept.iter().map(|&c| required[c]).collect();
        plan.assemble();
        Ok(())
    }

    /// Whether every filter of the request is on `field` alone (so its facet counts the
    /// whole catalogue, when the text is blank).
    fn only_filters_on(&self, request: &SearchRequest, field: &FilterField) -> bool {
        self.term_filters(&request.filters, Some(field)).is_empty()
            && self.other_filters(request, Some(field)).is_empty()
    }

    /// `field`'s facet over every product, counted once per searcher generation.
    fn whole_catalogue(&self, searcher: &Searcher, field: &FilterField) -> anyhow::Result<FacetFruit> {
        let generation = searcher.generation().generation_id();
        {
            let cached = self.whole_catalogue.lock().unwrap_or_else(|p| p.into_inner());
            if cached.0 == generation
                && let Some(fruit) = cached.1.get(field)
            {
                return Ok(fruit.clone());
            }
        }
        let fruit = searcher.search(&AllQuery, &FacetCollector::of(field, &self.facet_terms))?;
        let mut cached = self.whole_catalogue.lock().unwrap_or_else(|p| p.into_inner());
        if cached.0 != generation {
            *cached = (generation, HashMap::new());
        }
        cached.1.insert(field.clone(), fruit.clone());
        Ok(fruit)
    }

    /// The term filters (category, brand, stock) of `filters`, but `skip`'s: a product must
    /// have one term of each.
    fn term_filters(&self, filters: &Filters, skip: Option<&FilterField>) -> Vec<Vec<Term>> {
        let f = &self.fields;
        let values = |field: Field, values: &[String]| -> Vec<Term> {
            values.iter().map(|v| Term::from_field_text(field, &v.trim().to_lowercase())).collect()
        };
        let mut term_filters: Vec<Vec<Term>> = Vec::new();
        if !filters.categories.is_empty() && skip != Some(&FilterField::Category) {
            term_filters.push(values(f.category_key, &filters.categories));
        }
        if !filters.brands.is_empty() && skip != Some(&FilterField::Brand) {
            term_filters.push(values(f.brand_key, &filters.brands));
        }
        if let Some(in_stock) = filters.in_stock {
            term_filters.push(vec![Term::from_field_bool(f.in_stock, in_stock)]);
        }
        term_filters
    }

    /// The range filters (price, rating) of the request's parameters and its `filter`
    /// expression, each but what concerns `skip` alone.
    fn other_filters(&self, request: &SearchRequest, skip: Option<&FilterField>) -> Vec<Box<dyn Query>> {
        let (f, filters) = (&self.fields, &request.filters);
        let mut ranges: Vec<Box<dyn Query>> = Vec::new();
        if (filters.min_price.is_some() || filters.max_price.is_some()) && skip != Some(&FilterField::Price) {
            let bound = |v: Option<f64>| {
                v.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_f64(f.price, v)))
            };
            ranges.push(Box::new(RangeQuery::new(bound(filters.min_price), bound(filters.max_price))));
        }
        if let Some(min) = filters.min_rating {
            let lower = Bound::Included(Term::from_field_f64(f.rating, min));
            ranges.push(Box::new(RangeQuery::new(lower, Bound::Unbounded)));
        }
        let expression = match (&request.filter, skip) {
            (Some(filter), Some(field)) => filter.without(field),
            (filter, None) => filter.clone(),
            (None, _) => None,
        };
        if let Some(filter) = expression {
            ranges.push(filter_query(f, &filter));
        }
        ranges.extend(self.scope_clauses(&request.scope));
        ranges
    }

    /// What a pass's collectors keep: not the products its scope excludes, and with a boost,
    /// the products it matches or the others.
    fn restriction(&self, searcher: &Searcher, request: &SearchRequest) -> anyhow::Result<Restriction> {
        let within = match &request.scope.boosted {
            None => None,
            Some((boost, inside)) => Some((self.boost_sets(searcher, boost)?, *inside)),
        };
        Ok(Restriction::new(self.fields.product_id, &request.scope.exclude, within))
    }

    /// The documents `boost` matches, per segment of `searcher`: found once per searcher
    /// generation and boost (at most [`MAX_BOOST_SETS`] kept), since the same boost serves
    /// every search its rule applies to.
    fn boost_sets(&self, searcher: &Searcher, boost: &Filter) -> anyhow::Result<Arc<SegmentSets>> {
        let generation = searcher.generation().generation_id();
        let key = format!("{boost:?}");
        {
            let kept = self.boost_sets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if kept.0 == generation
                && let Some(sets) = kept.1.get(&key)
            {
                return Ok(Arc::clone(sets));
            }
        }
        let weight =
            filter_query(&self.fields, boost).weight(EnableScoring::disabled_from_searcher(searcher))?;
        let mut sets = SegmentSets::new();
        for reader in searcher.segment_readers() {
            let mut set = BitSet::with_max_value(reader.max_doc());
            let mut scorer = weight.scorer(reader, 1.0)?;
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                set.insert(doc);
                doc = scorer.advance();
            }
            sets.push((reader.segment_id(), Arc::new(set)));
        }
        let sets = Arc::new(sets);
        let mut kept = self.boost_sets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.0 != generation || kept.1.len() >= MAX_BOOST_SETS {
            *kept = (generation, HashMap::new());
        }
        kept.1.insert(key, Arc::clone(&sets));
        Ok(sets)
    }

    /// The clauses that keep a pass of a merchandised search to its scope.
    fn scope_clauses(&self, scope: &Scope) -> Vec<Box<dyn Query>> {
        // A few products, each found by its term: a term set query would walk the whole
        // dictionary of ids.
        let ids = |ids: &[u64]| -> Box<dyn Query> {
            let terms = ids.iter().map(|id| {
                let term = TermQuery::new(
                    Term::from_field_u64(self.fields.product_id, *id),
                    IndexRecordOption::Basic,
                );
                (Occur::Should, Box::new(term) as Box<dyn Query>)
            });
            Box::new(BooleanQuery::new(terms.collect()))
        };
        // `exclude` and `boosted` are the collectors' (see `restriction`).
        scope.only.iter().map(|only| ids(only)).collect()
    }

    /// The text query restricted by the request's filters, leaving out those of `skip` (for
    /// its facet). Term filters (category, brand, stock) join the words' own conjunction
    /// when the text is words alone; otherwise, and for the others, they are clauses around
    /// it.
    fn with_filters(
        &self,
        plan: &TextPlan,
        request: &SearchRequest,
        skip: Option<&FilterField>,
    ) -> Box<dyn Query> {
        let term_filters = self.term_filters(&request.filters, skip);
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        match &plan.words {
            Some(words) => must
                .push(Box::new(words.clone().with_filters(term_filters).with_memo(self.list_memo.clone()))),
            None => {
                must.push(plan.query.box_clone());
                for terms in term_filters {
                    let mut any: Vec<(Occur, Box<dyn Query>)> = terms
                        .into_iter()
                        .map(|t| {
                            (
                                Occur::Should,
                                Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                            )
                        })
                        .collect();
                    must.push(if any.len() == 1 {
                        any.pop().expect("one term").1
                    } else {
                        Box::new(BooleanQuery::new(any))
                    });
                }
            }
        }
        must.extend(self.other_filters(request, skip));
        if must.len() == 1 {
            return must.pop().expect("one clause");
        }
        // Filters narrow the set without changing any score.
        let clauses = must
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                (
                    Occur::Must,
                    if i == 0 { q } else { Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query> },
                )
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }
}

/// What the passes of one search share: they read one searcher, under one set of options.
pub(super) struct Pass {
    position: LogPosition,
    searcher: Searcher,
    matching: Arc<MatchingOptions>,
}

/// A pass's outcome before its facets are cut to their top values: a merchandised search
/// adds the counts of its passes together first.
pub(super) struct Found {
    pub ids: Vec<u64>,
    pub total: u64,
    pub fruit: Option<FacetFruit>,
    plan: TextPlan,
}

impl Found {
    /// The hits, with facets cut to what `wanted` asks and their top values.
    pub fn hits(self, wanted: &FacetRequest) -> SearchHits {
        SearchHits {
            ids: self.ids,
            total: self.total,
            facets: self.fruit.map(|fruit| facets_from(fruit, wanted)),
            matched_terms: self.plan.matched_terms.into_iter().collect(),
            partial: self.plan.partial,
            not_required: self.plan.not_required,
        }
    }
}

/// Whether the request filters on `field` alone somewhere: through its parameter, or a
/// conjunct of its `filter` that names it alone. Its facet is then counted without that.
fn restricts(request: &SearchRequest, field: &FilterField) -> bool {
    let filters = &request.filters;
    let by_parameter = match field {
        FilterField::Category => !filters.categories.is_empty(),
        FilterField::Brand => !filters.brands.is_empty(),
        FilterField::Price => filters.min_price.is_some() || filters.max_price.is_some(),
        _ => false,
    };
    by_parameter
        || request.filter.as_ref().is_some_and(|filter| filter.without(field).as_ref() != Some(filter))
}

fn facets_from(mut fruit: FacetFruit, wanted: &FacetRequest) -> Facets {
    let attributes = wanted
        .attributes
        .iter()
        .map(|name| {
            let counted = fruit.attributes.remove(name).unwrap_or_default();
            let facet = match counted.range {
                Some(range) if counted.values.is_empty() => AttributeFacet::Range(range),
                _ => AttributeFacet::Values(top_values(counted.values)),
            };
            (name.clone(), facet)
        })
        .collect();
    Facets {
        category: wanted.category.then(|| top_values(fruit.category)),
        brand: wanted.brand.then(|| top_values(fruit.brand)),
        price: wanted.price.then_some(fruit.price),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchRequestBuilder;
    use crate::search::schema::PRODUCT_ID_COLUMN;

    #[test]
    fn the_built_segments_are_merged_into_one_and_searches_find_the_same() {
        let products = data_gen::generate(3, 20_000);
        let index = SearchIndex::build(&products, MatchingOptions::default()).unwrap();
        let request = |text: &str| {
            SearchRequestBuilder { text: Some(text.to_owned()), limit: Some(50), ..Default::default() }
                .build()
                .unwrap()
        };
        let queries = ["for", "wireless headphones", "lamp desk", "a"];
        let before: Vec<(u64, Vec<u64>)> = queries
            .iter()
            .map(|q| index.search(&request(q)).map(|hits| (hits.total, hits.ids)).unwrap())
            .collect();
        index.wait_for_one_segment();
        let after: Vec<(u64, Vec<u64>)> = queries
            .iter()
            .map(|q| index.search(&request(q)).map(|hits| (hits.total, hits.ids)).unwrap())
            .collect();
        assert_eq!(before, after);
    }

    /// Product 1 is the first document the build hands to its indexing threads, so it is
    /// the first of whichever segment holds it, and the first of the merged segment only
    /// when that segment is merged first (see `merge_order`).
    #[test]
    fn the_built_segments_are_merged_lowest_product_id_first() {
        let mut seen_several = 0;
        for seed in 1..=3 {
            let products = data_gen::generate(seed, 3_000);
            let index = SearchIndex::build(&products, MatchingOptions::default()).unwrap();
            // Read as soon as the build returns; a merge that was quicker shows one segment.
            if index.reader.searcher().segment_readers().len() > 1 {
                seen_several += 1;
            }
            index.wait_for_one_segment();
            let searcher = index.reader.searcher();
            let ids = searcher.segment_reader(0).fast_fields().u64(PRODUCT_ID_COLUMN).unwrap();
            assert_eq!(ids.first(0), Some(1), "seed {seed}: the merged segment's first product");
        }
        // Otherwise product 1 would come first whatever the merge order.
        if build_threads() > 1 {
            assert!(
                seen_several > 0,
                "each indexing thread writes a segment, but no build showed more than one"
            );
        }
    }
}
