//! The oracle: for many generated queries, the set of matching products and `total_found`
//! equal a brute-force scan of the catalogue under the documented rules (README, "How
//! matching works"):
//!
//! - text splits on every character that is not a letter or digit and is lower-cased; each
//!   word is reduced to its singular by the light stemmer; stop words are set aside unless
//!   the query has nothing else (then they match as they are: no typos, no completions,
//!   but for a last word no field of words holds, which completes);
//! - each word is a clause. A product matches a word's clause through the word's stem in
//!   any field; with typo tolerance on, a term
//!   within 1 edit (stems of 5+ characters) or 2 edits (9+) in any field but the SKU, never
//!   for words with a digit; for the last word of 2+ characters, a term it begins, and for
//!   a last word of 1 character after other words, a term of the name, brand or category
//!   it begins; the stem of it joined with a neighbouring word; for a word no field
//!   of words holds, with no typo neighbour or completion either, the two field words it
//!   is most evenly made of (3+ characters each), both; and, for a word of a run of words a synonym group names, every other member of
//!   the group (a phrase: every word of it);
//! - a product matches when it matches every clause, or the whole query, stripped to
//!   letters and digits, equals its SKU so stripped; and every filter holds;
//! - when that finds nothing (and no SKU does), clauses that match no product go, then,
//!   while nothing matches, the clause whose removal leaves the most matches (of two, the
//!   later), until one clause is left.

use std::collections::{BTreeSet, HashMap, HashSet};

use product_model::Product;
use product_search::catalog::Catalog;
use product_search::search::analyzer::stem;
use product_search::search::{Filters, Language, MAX_LIMIT, Matching, SearchRequestBuilder, allowed_typos};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PRODUCTS: u64 = 3_000;
const QUERIES: usize = 300;
const SKU: usize = 4;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect()
}

fn field_values(p: &Product) -> [Option<&str>; 6] {
    [
        p.name.as_deref(),
        p.brand.as_deref(),
        p.category.as_deref(),
        p.manufacturer.as_deref(),
        p.sku.as_deref(),
        p.description.as_deref(),
    ]
}

/// Each product's index terms, per field.
struct Scanned {
    product: Product,
    fields: [HashSet<String>; 6],
}

fn scan(product: Product) -> Scanned {
    let fields = field_values(&product).map(|value| {
        value.map(|v| words(v).iter().map(|w| stem(w).into_owned()).collect()).unwrap_or_default()
    });
    Scanned { product, fields }
}

/// Optimal string alignment distance: Levenshtein plus swaps of neighbours.
fn osa(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

pub struct Oracle {
    products: Vec<Scanned>,
    /// Every term of every field, and every term of the fields of words (all but the SKU).
    vocabulary: BTreeSet<String>,
    word_vocabulary: BTreeSet<String>,
    language: Language,
}

/// What the oracle expects of one search.
pub struct Expected {
    pub ids: BTreeSet<u64>,
    pub partial: bool,
    /// Per clause: the products it matches, and whether it was still required.
    pub clauses: Vec<(HashSet<u64>, bool)>,
}

impl Oracle {
    pub fn new(products: Vec<Product>) -> Self {
        let products: Vec<Scanned> = products.into_iter().map(scan).collect();
        let vocabulary = products.iter().flat_map(|p| p.fields.iter().flatten().cloned()).collect();
        let word_vocabulary = products
            .iter()
            .flat_map(|p| {
                p.fields.iter().enumerate().filter(|(f, _)| *f != SKU).flat_map(|(_, t)| t.iter().cloned())
            })
            .collect();
        Self { products, vocabulary, word_vocabulary, language: Language::default() }
    }

    /// Products matching one query word on its own: its stem or a completion in any field
    /// (a one-letter prefix: in name, brand or category only), a typo in any field but the SKU.
    fn word_matches(&self, word: &str, prefix: bool, typos: bool) -> HashSet<u64> {
        let completions: HashSet<String> = match prefix {
            true => self.vocabulary.iter().filter(|t| t.starts_with(word)).cloned().collect(),
            false => HashSet::new(),
        };
        let (mut anywhere, not_sku) = self.word_terms(word, false, typos);
        if word.chars().count() > 1 {
            anywhere.extend(completions);
            let not_sku: HashSet<String> = not_sku.union(&anywhere).cloned().collect();
            return self.having(&anywhere, &not_sku);
        }
        let mut found = self.having(&anywhere, &not_sku);
        found.extend(
            self.products
                .iter()
                .filter(|p| p.fields[..3].iter().any(|terms| terms.iter().any(|t| completions.contains(t))))
                .map(|p| p.product.product_id),
        );
        found
    }

    /// The terms one query word matches on its own: in any field, and in the fields but the SKU.
    fn word_terms(&self, word: &str, prefix: bool, typos: bool) -> (HashSet<String>, HashSet<String>) {
        let stemmed = stem(word).into_owned();
        let mut anywhere: HashSet<String> = HashSet::from([stemmed.clone()]);
        if prefix {
            anywhere.extend(self.vocabulary.iter().filter(|t| t.starts_with(word)).cloned());
        }
        let mut not_sku = anywhere.clone();
        let budget = if typos { usize::from(allowed_typos(&stemmed)) } else { 0 };
        if budget > 0 {
            let len = stemmed.chars().count();
            not_sku.extend(
                self.vocabulary
                    .iter()
                    .filter(|t| t.chars().count().abs_diff(len) <= budget && osa(t, &stemmed) <= budget)
                    .cloned(),
            );
        }
        (anywhere, not_sku)
    }

    /// Products with one of `anywhere` in any field or one of `not_sku` in a field of words.
    fn having(&self, anywhere: &HashSet<String>, not_sku: &HashSet<String>) -> HashSet<u64> {
        self.products
            .iter()
            .filter(|p| {
                p.fields.iter().enumerate().any(|(f, terms)| {
                    let allowed = if f == SKU { anywhere } else { not_sku };
                    terms.iter().any(|t| allowed.contains(t))
                })
            })
            .map(|p| p.product.product_id)
            .collect()
    }

    /// Products with `term` in a field of words.
    fn in_words(&self, term: &str) -> HashSet<u64> {
        self.having(&HashSet::new(), &HashSet::from([term.to_owned()]))
    }

    fn every(&self, terms: &[String]) -> HashSet<u64> {
        let mut sets = terms.iter().map(|t| self.in_words(t));
        let first = sets.next().unwrap_or_default();
        sets.fold(first, |all, next| all.intersection(&next).copied().collect())
    }

    /// The split the rules name for a word no field of words holds.
    fn split(&self, word: &str) -> Option<(String, String)> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 6 {
            return None;
        }
        let mut cuts: Vec<usize> = (3..=chars.len() - 3).collect();
        cuts.sort_by_key(|&cut| (cut.abs_diff(chars.len() - cut), cut));
        cuts.into_iter().find_map(|cut| {
            let left = stem(&chars[..cut].iter().collect::<String>()).into_owned();
            let right = stem(&chars[cut..].iter().collect::<String>()).into_owned();
            (self.word_vocabulary.contains(&left) && self.word_vocabulary.contains(&right))
                .then_some((left, right))
        })
    }

    /// Each clause of `query` and the products it matches.
    fn clauses(&self, query: &str, typos: bool) -> Vec<HashSet<u64>> {
        let all_words = words(query);
        let content: Vec<&String> = all_words.iter().filter(|w| !self.language.is_stop_word(w)).collect();
        let only_stop = content.is_empty();
        let words: Vec<&String> = if only_stop { all_words.iter().collect() } else { content };
        let typos = typos && !only_stop;
        let stems: Vec<String> = words.iter().map(|w| stem(w).into_owned()).collect();
        let synonyms = self.language.synonyms();
        let last = words.len().saturating_sub(1);
        let last_completes = !only_stop
            || words.last().is_some_and(|word| !self.word_vocabulary.contains(stem(word).as_ref()));
        let prefix =
            |j: usize| last_completes && j == last && (words[j].chars().count() >= 2 || words.len() > 1);
        // Per word: the products it matches, and its stem.
        let mut clauses: Vec<(HashSet<u64>, Option<String>)> = (0..words.len())
            .map(|j| (self.word_matches(words[j], prefix(j), typos), Some(stems[j].clone())))
            .collect();
        for (run, members) in synonyms.runs(&stems) {
            for member in members {
                let with_member = self.every(member);
                for clause in &mut clauses[run.clone()] {
                    clause.0.extend(&with_member);
                }
            }
        }
        if !only_stop {
            for i in 1..clauses.len() {
                let (Some(left), Some(right)) = (&clauses[i - 1].1, &clauses[i].1) else { continue };
                let joined = stem(&format!("{left}{right}")).into_owned();
                let with_it = self.in_words(&joined);
                clauses[i - 1].0.extend(&with_it);
                clauses[i].0.extend(&with_it);
            }
            for (j, clause) in clauses.iter_mut().enumerate() {
                let Some(word) = &clause.1 else { continue };
                // Only a word with no typo neighbour and no completion either.
                let (anywhere, not_sku) = self.word_terms(words[j], prefix(j), typos);
                let expanded = anywhere.len() > 1 || not_sku.len() > 1;
                if !expanded
                    && !self.word_vocabulary.contains(word)
                    && let Some((left, right)) = self.split(word)
                {
                    clause.0.extend(self.every(&[left, right]));
                }
            }
        }
        clauses.into_iter().map(|(matched, _)| matched).collect()
    }

    pub fn matches(&self, query: &str, filters: &Filters, typos: bool) -> BTreeSet<u64> {
        self.expect(query, filters, typos, true).ids
    }

    /// The matching set of a search, widened as the rules say when `auto`.
    pub fn expect(&self, query: &str, filters: &Filters, typos: bool, auto: bool) -> Expected {
        self.expect_where(query, filters, typos, auto, &|_| true)
    }

    /// As [`Self::expect`], for the products `keep` keeps (a `filter` expression).
    pub fn expect_where(
        &self,
        query: &str,
        filters: &Filters,
        typos: bool,
        auto: bool,
        keep: &dyn Fn(&Product) -> bool,
    ) -> Expected {
        let passing: HashSet<u64> = self
            .products
            .iter()
            .filter(|p| passes(&p.product, filters) && keep(&p.product))
            .map(|p| p.product.product_id)
            .collect();
        if query.trim().is_empty() {
            return Expected { ids: passing.into_iter().collect(), partial: false, clauses: Vec::new() };
        }
        let key: String = words(query).concat();
        let sku: HashSet<u64> = self
            .products
            .iter()
            .filter(|p| !key.is_empty() && p.product.sku.as_deref().is_some_and(|s| words(s).concat() == key))
            .map(|p| p.product.product_id)
            .collect();
        let mut clauses: Vec<(HashSet<u64>, bool)> =
            self.clauses(query, typos).into_iter().map(|set| (set, true)).collect();
        let found = |clauses: &[(HashSet<u64>, bool)]| -> BTreeSet<u64> {
            let required: Vec<&HashSet<u64>> = clauses.iter().filter(|(_, r)| *r).map(|(s, _)| s).collect();
            passing
                .iter()
                .filter(|id| {
                    (!required.is_empty() && required.iter().all(|set| set.contains(id))) || sku.contains(id)
                })
                .copied()
                .collect()
        };
        let mut ids = found(&clauses);
        let mut partial = false;
        if auto && ids.is_empty() && sku.is_empty() && !clauses.is_empty() {
            partial = true;
            clauses.retain(|(set, _)| !set.is_empty());
            loop {
                let required: Vec<usize> = (0..clauses.len()).filter(|&c| clauses[c].1).collect();
                if required.len() <= 1 || !found(&clauses).is_empty() {
                    break;
                }
                let mut best: Option<(usize, usize)> = None;
                for &c in &required {
                    clauses[c].1 = false;
                    let left = found(&clauses).len();
                    clauses[c].1 = true;
                    if best.is_none_or(|(most, _)| left >= most) {
                        best = Some((left, c));
                    }
                }
                clauses[best.unwrap().1].1 = false;
            }
            ids = found(&clauses);
        }
        Expected { ids, partial, clauses }
    }
}

fn passes(p: &Product, f: &Filters) -> bool {
    let one_of = |value: &Option<Box<str>>, wanted: &[String]| {
        wanted.is_empty()
            || value
                .as_deref()
                .is_some_and(|v| wanted.iter().any(|w| w.trim().to_lowercase() == v.to_lowercase()))
    };
    one_of(&p.category, &f.categories)
        && one_of(&p.brand, &f.brands)
        && f.min_price.is_none_or(|min| p.price.is_some_and(|x| x >= min))
        && f.max_price.is_none_or(|max| p.price.is_some_and(|x| x <= max))
        && f.in_stock.is_none_or(|s| p.in_stock == Some(s))
        && f.min_rating.is_none_or(|min| p.rating.is_some_and(|r| r >= min))
}

/// A shopper's slip on one word: a letter dropped, doubled, swapped or replaced.
fn misspell(word: &str, rng: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 3 {
        return word.to_owned();
    }
    let i = rng.random_range(1..chars.len() - 1);
    match rng.random_range(0..4) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, chars[i]),
        2 => chars.swap(i, i + 1),
        _ => chars[i] = *b"aeioustr".choose(rng).unwrap() as char,
    }
    chars.into_iter().collect()
}

/// Queries the way shoppers type: words of real products, in any case, with punctuation,
/// plurals, typos, half-typed last words, SKUs in several spellings, and filters.
pub fn queries(products: &[Product], rng: &mut ChaCha8Rng) -> Vec<(String, Filters)> {
    let categories: Vec<String> =
        products.iter().filter_map(|p| p.category.as_deref().map(str::to_owned)).collect();
    let brands: Vec<String> = products.iter().filter_map(|p| p.brand.as_deref().map(str::to_owned)).collect();
    (0..QUERIES)
        .map(|i| {
            let product = products.choose(rng).unwrap();
            let own: Vec<String> = field_values(product).into_iter().flatten().flat_map(words).collect();
            let mut parts: Vec<String> =
                (0..rng.random_range(1..=3)).map(|_| own.choose(rng).unwrap().clone()).collect();
            let sku = product.sku.as_deref().unwrap().to_owned();
            let name_words = product.name.as_deref().map(words).unwrap_or_default();
            let other = products.choose(rng).unwrap();
            let other_words = other.name.as_deref().map(words).unwrap_or_default();
            let text = match i % 20 {
                0 => format!("{} zzyzx", parts.join(" ")),
                // Stop words around real words.
                12 => format!("the {} for {}", parts[0], parts.last().unwrap()),
                // The last word cut to one character, after other words.
                13 => {
                    let last = parts.last_mut().unwrap();
                    last.truncate(1);
                    parts.join(" ")
                }
                // Two words of a name written as one, or a word written as two.
                14 => name_words
                    .windows(2)
                    .map(|w| w.concat())
                    .collect::<Vec<_>>()
                    .choose(rng)
                    .cloned()
                    .unwrap_or_default(),
                15 => {
                    let word = name_words.iter().max_by_key(|w| w.len()).cloned().unwrap_or_default();
                    let cut = word.len() / 2;
                    format!("{} {}", &word[..cut], &word[cut..])
                }
                // A synonym of the product's type, and words of two products together.
                16 => ["skillet", "tee", "rucksack", "jumper", "couch", "earphones", "secateurs"]
                    .choose(rng)
                    .unwrap()
                    .to_string(),
                17 => format!("{} {}", parts[0], other_words.choose(rng).cloned().unwrap_or_default()),
                // Stop words alone, and nonsense with a real word.
                18 => ["the", "a for", "with of", "be", "the or"].choose(rng).unwrap().to_string(),
                19 => format!("qxzvkj {}", parts[0]),
                1 => sku,
                2 => sku.replace('-', "").to_lowercase(),
                3 => sku.replace('-', " "),
                4 => format!("{}!", parts.join(", ").to_uppercase()),
                5 => {
                    let last = parts.last_mut().unwrap();
                    let keep = rng.random_range(2..=last.len().max(2));
                    last.truncate(keep);
                    parts.join(" ")
                }
                6 | 7 => {
                    let j = rng.random_range(0..parts.len());
                    parts[j] = misspell(&parts[j], rng);
                    parts.join(" ")
                }
                8 => {
                    let last = parts.last_mut().unwrap();
                    last.push('s');
                    parts.join(" ")
                }
                9 => String::new(),
                _ => parts.join(" "),
            };
            let mut filters = Filters::default();
            if i % 20 == 9 || rng.random_bool(0.3) {
                match rng.random_range(0..5) {
                    0 => {
                        filters.categories = vec![categories.choose(rng).unwrap().to_uppercase()];
                        if rng.random_bool(0.5) {
                            filters.categories.push(categories.choose(rng).unwrap().clone());
                        }
                    }
                    1 => filters.brands = vec![brands.choose(rng).unwrap().to_lowercase()],
                    2 => {
                        filters.min_price = Some(f64::from(rng.random_range(0..200u32)));
                        filters.max_price =
                            Some(filters.min_price.unwrap() + f64::from(rng.random_range(0..500u32)));
                    }
                    3 => filters.in_stock = Some(rng.random_bool(0.5)),
                    _ => filters.min_rating = Some(f64::from(rng.random_range(10..=50u8)) / 10.0),
                }
            }
            (text, filters)
        })
        .collect()
}

/// Every match of a search, page by page: the total, the ids, whether it was widened, and
/// the first page's ids in rank order.
struct Found {
    total: u64,
    ids: BTreeSet<u64>,
    partial: bool,
    ranked: Vec<u64>,
}

fn all_matches(catalog: &Catalog, query: &str, filters: &Filters, typos: bool, matching: Matching) -> Found {
    let mut found = Found { total: 0, ids: BTreeSet::new(), partial: false, ranked: Vec::new() };
    for offset in (0..1_000).step_by(MAX_LIMIT) {
        let request = SearchRequestBuilder {
            text: Some(query.to_owned()),
            limit: Some(MAX_LIMIT as i64),
            offset: Some(offset as i64),
            filters: filters.clone(),
            typo_tolerance: Some(typos),
            matching,
            ..Default::default()
        }
        .build()
        .unwrap();
        let results = catalog.search(&request).unwrap();
        found.total = results.total;
        found.partial = results.partial;
        let page: Vec<u64> = results.hits.iter().map(|h| h.product.product_id).collect();
        if offset == 0 {
            found.ranked = page.clone();
        }
        let before = found.ids.len();
        found.ids.extend(&page);
        assert_eq!(found.ids.len(), before + page.len(), "pages of {query:?} overlap");
        if page.len() < MAX_LIMIT {
            break;
        }
    }
    found
}

#[test]
fn search_matches_a_brute_force_scan_with_typos_on_and_off() {
    let products = data_gen::generate(11, PRODUCTS);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let queries = queries(&products, &mut rng);
    let oracle = Oracle::new(products.clone());
    let catalog = Catalog::build(products).unwrap();

    let mut outcomes: HashMap<bool, (usize, usize)> = HashMap::new();
    let mut widened = 0;
    let runs = [(true, Matching::Auto), (false, Matching::Auto), (true, Matching::All)];
    for (query, filters) in &queries {
        for (typos, matching) in runs {
            let auto = matching == Matching::Auto;
            let expected = oracle.expect(query, filters, typos, auto);
            let found = all_matches(&catalog, query, filters, typos, matching);
            let case = format!("{query:?} {filters:?} typos {typos} {matching:?}");
            assert_eq!(found.total, expected.ids.len() as u64, "total_found for {case}");
            if expected.ids.len() <= 1_000 {
                assert_eq!(found.ids, expected.ids, "matching ids for {case}");
            }
            assert_eq!(found.partial, expected.partial, "widened or not: {case}");
            if expected.partial {
                widened += usize::from(!expected.ids.is_empty());
                // Products matching more of the words let go rank first.
                let matched = |id: &u64| expected.clauses.iter().filter(|(set, _)| set.contains(id)).count();
                let counts: Vec<usize> = found.ranked.iter().map(matched).collect();
                assert!(
                    counts.windows(2).all(|w| w[0] >= w[1]),
                    "{case}: words matched down the page {counts:?}"
                );
            }
            if matching == Matching::Auto {
                let seen = outcomes.entry(typos).or_default();
                seen.0 += usize::from(!expected.ids.is_empty());
                seen.1 += expected.ids.len();
            }
        }
    }
    let (with, without) = (outcomes[&true], outcomes[&false]);
    assert!(with.0 > QUERIES * 3 / 4, "the generated queries should mostly match something");
    assert!(with.1 > without.1, "typo tolerance should widen some matching sets");
    assert!(widened >= QUERIES / 20, "only {widened} searches were widened and found something");
}

#[test]
fn the_oracles_edit_distance_counts_swaps_as_one() {
    assert_eq!(osa("headphone", "haedphone"), 1);
    assert_eq!(osa("lamp", "lamp"), 0);
    assert_eq!(osa("lamp", "clamp"), 1);
    assert_eq!(osa("abc", "ca"), 3);
}
