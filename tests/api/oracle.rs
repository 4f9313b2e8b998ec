//! The oracle: for many generated queries, the set of matching products and `total_found`
//! equal a brute-force scan of the catalogue under the documented rules:
//!
//! - text splits on every character that is not a letter or digit and is lower-cased; each
//!   word is reduced to its singular by the light stemmer;
//! - a product matches when every query word matches at least one term of one of its
//!   searchable fields: the word's stem exactly; or, with typo tolerance on, a term within
//!   1 edit (stems of 5+ characters) or 2 edits (9+) in any field but the SKU, never for
//!   words with a digit; or, for the last word of 2+ characters, a term it begins;
//! - or the whole query, stripped to letters and digits, equals the product's SKU so
//!   stripped;
//! - and every filter holds.

use std::collections::{BTreeSet, HashMap, HashSet};

use data_gen::Product;
use product_search::catalog::Catalog;
use product_search::search::analyzer::stem;
use product_search::search::{Filters, MAX_LIMIT, SearchRequestBuilder, allowed_typos};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PRODUCTS: u64 = 3_000;
const QUERIES: usize = 300;
const SKU: usize = 4;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect()
}

fn field_values(p: &Product) -> [Option<&String>; 6] {
    [
        p.name.as_ref(),
        p.brand.as_ref(),
        p.category.as_ref(),
        p.manufacturer.as_ref(),
        p.sku.as_ref(),
        p.description.as_ref(),
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
    /// Every term of every field but the SKU, and of the SKU field.
    vocabulary: BTreeSet<String>,
}

impl Oracle {
    pub fn new(products: Vec<Product>) -> Self {
        let products: Vec<Scanned> = products.into_iter().map(scan).collect();
        let vocabulary = products.iter().flat_map(|p| p.fields.iter().flatten().cloned()).collect();
        Self { products, vocabulary }
    }

    /// For one query word: the terms it matches in the SKU field and in the others.
    fn word_matches(&self, word: &str, last: bool, typos: bool) -> (HashSet<String>, HashSet<String>) {
        let stemmed = stem(word).into_owned();
        let mut anywhere: HashSet<String> = HashSet::from([stemmed.clone()]);
        if last && word.chars().count() >= 2 {
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

    pub fn matches(&self, query: &str, filters: &Filters, typos: bool) -> BTreeSet<u64> {
        let query_words = words(query);
        let per_word: Vec<_> = query_words
            .iter()
            .enumerate()
            .map(|(i, w)| self.word_matches(w, i + 1 == query_words.len(), typos))
            .collect();
        let key: String = words(query).concat();
        let blank = query.trim().is_empty();
        self.products
            .iter()
            .filter(|p| {
                let text = blank
                    || (!per_word.is_empty()
                        && per_word.iter().all(|(anywhere, not_sku)| {
                            p.fields.iter().enumerate().any(|(f, terms)| {
                                let allowed = if f == SKU { anywhere } else { not_sku };
                                terms.iter().any(|t| allowed.contains(t))
                            })
                        }));
                let sku =
                    !key.is_empty() && p.product.sku.as_deref().is_some_and(|s| words(s).concat() == key);
                (text || sku) && passes(&p.product, filters)
            })
            .map(|p| p.product.product_id)
            .collect()
    }
}

fn passes(p: &Product, f: &Filters) -> bool {
    let one_of = |value: &Option<String>, wanted: &[String]| {
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
    let categories: Vec<String> = products.iter().filter_map(|p| p.category.clone()).collect();
    let brands: Vec<String> = products.iter().filter_map(|p| p.brand.clone()).collect();
    (0..QUERIES)
        .map(|i| {
            let product = products.choose(rng).unwrap();
            let own: Vec<String> =
                field_values(product).into_iter().flatten().flat_map(|v| words(v)).collect();
            let mut parts: Vec<String> =
                (0..rng.random_range(1..=3)).map(|_| own.choose(rng).unwrap().clone()).collect();
            let sku = product.sku.clone().unwrap();
            let text = match i % 12 {
                0 => format!("{} zzyzx", parts.join(" ")),
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
            if i % 12 == 9 || rng.random_bool(0.3) {
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

fn all_matches(catalog: &Catalog, query: &str, filters: &Filters, typos: bool) -> (u64, BTreeSet<u64>) {
    let mut ids = BTreeSet::new();
    let mut total = 0;
    for offset in (0..1_000).step_by(MAX_LIMIT) {
        let request = SearchRequestBuilder {
            text: Some(query.to_owned()),
            limit: Some(MAX_LIMIT as i64),
            offset: Some(offset as i64),
            filters: filters.clone(),
            typo_tolerance: Some(typos),
            ..Default::default()
        }
        .build()
        .unwrap();
        let results = catalog.search(&request).unwrap();
        total = results.total;
        let page: Vec<u64> = results.hits.iter().map(|h| h.product.product_id).collect();
        let before = ids.len();
        ids.extend(&page);
        assert_eq!(ids.len(), before + page.len(), "pages of {query:?} overlap");
        if page.len() < MAX_LIMIT {
            break;
        }
    }
    (total, ids)
}

#[test]
fn search_matches_a_brute_force_scan_with_typos_on_and_off() {
    let products = data_gen::generate(11, PRODUCTS);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let queries = queries(&products, &mut rng);
    let oracle = Oracle::new(products.clone());
    let catalog = Catalog::build(products).unwrap();

    let mut outcomes: HashMap<bool, (usize, usize)> = HashMap::new();
    for (query, filters) in &queries {
        for typos in [true, false] {
            let expected = oracle.matches(query, filters, typos);
            let (total, found) = all_matches(&catalog, query, filters, typos);
            assert_eq!(total, expected.len() as u64, "total_found for {query:?} {filters:?} typos {typos}");
            if expected.len() <= 1_000 {
                assert_eq!(found, expected, "matching ids for {query:?} {filters:?} typos {typos}");
            }
            let seen = outcomes.entry(typos).or_default();
            seen.0 += usize::from(!expected.is_empty());
            seen.1 += expected.len();
        }
    }
    let (with, without) = (outcomes[&true], outcomes[&false]);
    assert!(with.0 > QUERIES / 2, "the generated queries should mostly match something");
    assert!(with.1 > without.1, "typo tolerance should widen some matching sets");
}

#[test]
fn the_oracles_edit_distance_counts_swaps_as_one() {
    assert_eq!(osa("headphone", "haedphone"), 1);
    assert_eq!(osa("lamp", "lamp"), 0);
    assert_eq!(osa("lamp", "clamp"), 1);
    assert_eq!(osa("abc", "ca"), 3);
}
