//! Measuring relevance: a labelled query set built from the generator's ground truth (each
//! generated product's brand, type and SKU are known), and NDCG@10, MRR, zero-result rate
//! and latency per class of query.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use data_gen::taxonomy::classify;
use product_model::Product;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use product_search::catalog::Catalog;
use product_search::search::{Filters, SearchRequest, SearchRequestBuilder};

/// Results looked at for MRR.
const DEPTH: usize = 100;

/// The kinds of query shoppers send, each with its typo'd twin where one makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryClass {
    /// A product's whole name, as typed from a box or an ad.
    ExactName,
    /// The same with one realistic typo.
    ExactNameTypo,
    /// Brand and product type: "alpha headphones".
    BrandType,
    /// The same with one realistic typo.
    BrandTypeTypo,
    /// Brand and the product type half typed: "alpha headph".
    Prefix,
    /// Brand and the product type in the other number: "alpha speakers".
    PluralSingular,
    /// A SKU in one of its spellings: `ABC-123-XYZ`, `abc123xyz`, `ABC 123 XYZ`.
    Sku,
    /// A product type within a category filter, in stock only.
    FilterQuery,
    /// Brand and type with a word no product has: "alpha headphones qzxv".
    UnknownWord,
    /// A product's name with its last word cut to one character: "nova rechargeable tablet g".
    OneLetterPrefix,
    /// A product's name typed one key at a time; each keystroke is a search.
    TypeAhead,
    /// Brand and type with two words written as one: "alpha desklamp", "alphaheadphones".
    JoinedWords,
    /// Brand and type with one word written as two: "alpha head phones".
    SplitWords,
    /// Brand and a synonym of the type: "alpha skillet" for frying pans.
    Synonym,
    /// Brand and type among stop words: "the alpha headphones for".
    StopWords,
    /// Words no product has; must find nothing.
    Nonsense,
}

impl QueryClass {
    pub const ALL: [QueryClass; 16] = [
        Self::ExactName,
        Self::ExactNameTypo,
        Self::BrandType,
        Self::BrandTypeTypo,
        Self::Prefix,
        Self::PluralSingular,
        Self::Sku,
        Self::FilterQuery,
        Self::UnknownWord,
        Self::OneLetterPrefix,
        Self::TypeAhead,
        Self::JoinedWords,
        Self::SplitWords,
        Self::Synonym,
        Self::StopWords,
        Self::Nonsense,
    ];

    /// The clean class a typo class is measured against.
    pub fn clean_twin(self) -> Option<QueryClass> {
        match self {
            Self::ExactNameTypo => Some(Self::ExactName),
            Self::BrandTypeTypo => Some(Self::BrandType),
            _ => None,
        }
    }
}

impl fmt::Display for QueryClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::ExactName => "exact name",
            Self::ExactNameTypo => "exact name + typo",
            Self::BrandType => "brand + type",
            Self::BrandTypeTypo => "brand + type + typo",
            Self::Prefix => "prefix (as you type)",
            Self::PluralSingular => "plural/singular",
            Self::Sku => "sku spellings",
            Self::FilterQuery => "filter + query",
            Self::UnknownWord => "brand + type + unknown word",
            Self::OneLetterPrefix => "name, last word one letter",
            Self::TypeAhead => "name typed key by key",
            Self::JoinedWords => "joined words",
            Self::SplitWords => "split words",
            Self::Synonym => "synonym of the type",
            Self::StopWords => "stop words",
            Self::Nonsense => "nonsense",
        };
        f.write_str(name)
    }
}

/// A query with its relevance judgements: product id to grade (1 relevant; higher better).
#[derive(Debug, Clone)]
pub struct LabelledQuery {
    pub class: QueryClass,
    pub text: String,
    pub filters: Filters,
    pub relevant: HashMap<u64, u8>,
}

impl LabelledQuery {
    pub fn request(&self, limit: usize) -> SearchRequest {
        SearchRequestBuilder {
            text: Some(self.text.clone()),
            limit: Some(limit as i64),
            filters: self.filters.clone(),
            ..Default::default()
        }
        .build()
        .expect("labelled queries are valid requests")
    }
}

/// Builds `per_class` queries of every class from `products`, deterministically for `seed`.
pub fn query_set(products: &[Product], seed: u64, per_class: usize) -> Vec<LabelledQuery> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let typed: Vec<(&Product, &'static str, &'static str)> = products
        .iter()
        .filter_map(|p| {
            let (category, kind) = classify(p.category.as_deref()?, p.name.as_deref()?)?;
            Some((p, category.name, kind.noun))
        })
        .collect();
    assert!(!typed.is_empty(), "the relevance set needs generated products");
    let mut by_brand_type: HashMap<(&str, &str), Vec<u64>> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<u64>> = HashMap::new();
    for (p, _, noun) in &typed {
        by_brand_type.entry((p.brand.as_deref().unwrap_or(""), noun)).or_default().push(p.product_id);
        by_name.entry(p.name.as_deref().unwrap_or("")).or_default().push(p.product_id);
    }
    let grade = |ids: &[u64], g: u8| ids.iter().map(|&id| (id, g)).collect::<HashMap<u64, u8>>();
    let synonyms = product_search::search::Language::default();
    let synonym_of = |noun: &str| -> Option<String> {
        let words = product_search::search::analyzer::words(
            &mut product_search::search::analyzer::word_analyzer(),
            noun,
        );
        let stems: Vec<String> =
            words.iter().map(|w| product_search::search::analyzer::stem(w).into_owned()).collect();
        synonyms.synonyms().of(&stems).first().map(|member| member.join(" "))
    };
    let with_synonyms: Vec<(&Product, &'static str, &'static str)> =
        typed.iter().filter(|(_, _, noun)| synonym_of(noun).is_some()).copied().collect();

    let mut queries = Vec::new();
    for class in QueryClass::ALL {
        for _ in 0..per_class {
            let pool = if class == QueryClass::Synonym && !with_synonyms.is_empty() {
                &with_synonyms
            } else {
                &typed
            };
            let &(product, category, noun) = pool.choose(&mut rng).expect("non-empty");
            let brand = product.brand.as_deref().unwrap_or("");
            let name = product.name.as_deref().unwrap_or("");
            let same_type = &by_brand_type[&(brand, noun)];
            // Every word of a name must match, so only products of that very name can.
            let same_name = || grade(&by_name[name], 1);
            let (text, filters, relevant) = match class {
                QueryClass::ExactName => (name.to_owned(), Filters::default(), same_name()),
                QueryClass::ExactNameTypo => (misspell_one(name, &mut rng), Filters::default(), same_name()),
                QueryClass::BrandType => (format!("{brand} {noun}"), Filters::default(), grade(same_type, 1)),
                QueryClass::BrandTypeTypo => (
                    misspell_one(&format!("{brand} {noun}"), &mut rng),
                    Filters::default(),
                    grade(same_type, 1),
                ),
                QueryClass::Prefix => {
                    // The last word cut to about 60%: "alpha desk la", "alpha headph".
                    let (head, last) = noun.rsplit_once(' ').map_or(("", noun), |(h, l)| (h, l));
                    let keep = (last.len() * 3).div_ceil(5).clamp(2, last.len());
                    let text = format!("{brand} {head} {}", &last[..keep]).to_lowercase();
                    (
                        text.split_whitespace().collect::<Vec<_>>().join(" "),
                        Filters::default(),
                        grade(same_type, 1),
                    )
                }
                QueryClass::PluralSingular => {
                    (format!("{brand} {}", other_number(noun)), Filters::default(), grade(same_type, 1))
                }
                QueryClass::Sku => {
                    let sku = product.sku.as_deref().unwrap_or_default().to_owned();
                    let spelled = match rng.random_range(0..4) {
                        0 => sku,
                        1 => sku.replace('-', "").to_lowercase(),
                        2 => sku.replace('-', " "),
                        _ => sku.to_lowercase(),
                    };
                    (spelled, Filters::default(), grade(&[product.product_id], 1))
                }
                QueryClass::FilterQuery => {
                    let relevant = typed
                        .iter()
                        .filter(|(p, _, n)| *n == noun && p.in_stock == Some(true))
                        .map(|(p, _, _)| (p.product_id, 1))
                        .collect();
                    let filters = Filters {
                        categories: vec![category.to_owned()],
                        in_stock: Some(true),
                        ..Default::default()
                    };
                    (noun.to_lowercase(), filters, relevant)
                }
                QueryClass::UnknownWord => {
                    let unknown: String = nonsense(&mut rng).split(' ').next().unwrap_or("qzxv").to_owned();
                    (format!("{brand} {noun} {unknown}"), Filters::default(), grade(same_type, 1))
                }
                QueryClass::OneLetterPrefix => {
                    // Every product whose name has these words and a last word with this letter.
                    let (head, last) = name.rsplit_once(' ').unwrap_or(("", name));
                    let letter: String = last.chars().take(1).collect();
                    let relevant = typed
                        .iter()
                        .filter(|(p, _, _)| {
                            p.name.as_deref().and_then(|n| n.rsplit_once(' ')).is_some_and(|(h, l)| {
                                h == head && l.to_lowercase().starts_with(&letter.to_lowercase())
                            })
                        })
                        .map(|(p, _, _)| (p.product_id, 1))
                        .collect();
                    (format!("{head} {letter}").to_lowercase(), Filters::default(), relevant)
                }
                QueryClass::TypeAhead => {
                    (name.to_owned(), Filters::default(), grade(&[product.product_id], 1))
                }
                QueryClass::JoinedWords => {
                    let text = match noun.split_once(' ') {
                        Some((first, second)) => format!("{brand} {first}{second}"),
                        None => format!("{brand}{noun}"),
                    };
                    (text.to_lowercase(), Filters::default(), grade(same_type, 1))
                }
                QueryClass::SplitWords => {
                    let longest = noun.split(' ').max_by_key(|w| w.len()).unwrap_or(noun);
                    let cut = longest.char_indices().nth(longest.chars().count() / 2).map_or(0, |(i, _)| i);
                    let split = format!("{} {}", &longest[..cut], &longest[cut..]);
                    (
                        format!("{brand} {}", noun.replacen(longest, &split, 1)).to_lowercase(),
                        Filters::default(),
                        grade(same_type, 1),
                    )
                }
                QueryClass::Synonym => {
                    let synonym = synonym_of(noun).unwrap_or_else(|| noun.to_lowercase());
                    (format!("{brand} {synonym}"), Filters::default(), grade(same_type, 1))
                }
                QueryClass::StopWords => {
                    (format!("the {brand} {noun} for"), Filters::default(), grade(same_type, 1))
                }
                QueryClass::Nonsense => (nonsense(&mut rng), Filters::default(), HashMap::new()),
            };
            queries.push(LabelledQuery { class, text, filters, relevant });
        }
    }
    queries
}

/// One realistic slip in the longest word that may carry a typo (5+ letters, no digits):
/// a swap of neighbours, a dropped letter, a doubled letter or a neighbouring key.
fn misspell_one(text: &str, rng: &mut ChaCha8Rng) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let Some((index, word)) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.len() >= 5 && w.bytes().all(|b| b.is_ascii_alphabetic()))
        .max_by_key(|(_, w)| w.len())
    else {
        return text.to_owned();
    };
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.random_range(1..chars.len() - 1);
    match rng.random_range(0..4) {
        0 => chars.swap(at, at + 1),
        1 => {
            chars.remove(at);
        }
        2 => chars.insert(at, chars[at]),
        _ => chars[at] = keyboard_neighbour(chars[at]),
    }
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    out[index] = chars.into_iter().collect();
    out.join(" ")
}

fn keyboard_neighbour(c: char) -> char {
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let lower = c.to_ascii_lowercase();
    for row in ROWS {
        if let Some(i) = row.find(lower) {
            let next = row.as_bytes()[if i + 1 < row.len() { i + 1 } else { i - 1 }] as char;
            return if c.is_ascii_uppercase() { next.to_ascii_uppercase() } else { next };
        }
    }
    c
}

/// The product type noun in the other grammatical number: "Speaker" -> "speakers".
fn other_number(noun: &str) -> String {
    let lower = noun.to_lowercase();
    if let Some(stem) = lower.strip_suffix("ies") {
        format!("{stem}y")
    } else if lower.ends_with("ss") || lower.ends_with("ch") || lower.ends_with("sh") || lower.ends_with('x')
    {
        format!("{lower}es")
    } else if let Some(singular) = lower.strip_suffix('s') {
        singular.to_owned()
    } else if let Some(stem) = lower.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// Two words of rare letters, six or more long: no product has them, and they are far
/// from every real word.
fn nonsense(rng: &mut ChaCha8Rng) -> String {
    let word = |rng: &mut ChaCha8Rng| -> String {
        (0..rng.random_range(6..=9)).map(|_| *b"qxzjvkwf".choose(rng).expect("letters") as char).collect()
    };
    format!("{} {}", word(rng), word(rng))
}

/// The outcome of one class.
#[derive(Debug, Clone)]
pub struct ClassReport {
    pub class: QueryClass,
    pub queries: usize,
    /// Mean NDCG@10; `None` for classes with nothing relevant (nonsense).
    pub ndcg_at_10: Option<f64>,
    pub mrr: Option<f64>,
    pub zero_result_rate: f64,
    /// Unknown word: share of queries with a relevant product in the top 10. Typed key by
    /// key: share of keystrokes whose results hold the product in the top 20.
    pub success: Option<f64>,
    pub p50: Duration,
    pub p99: Duration,
}

/// Results a type-ahead keystroke must hold the product in.
const TYPE_AHEAD_DEPTH: usize = 20;

/// Runs every query against `catalog` and scores each class.
pub fn evaluate(catalog: &Catalog, queries: &[LabelledQuery]) -> anyhow::Result<Vec<ClassReport>> {
    let mut reports = Vec::new();
    for class in QueryClass::ALL {
        let of_class: Vec<&LabelledQuery> = queries.iter().filter(|q| q.class == class).collect();
        if of_class.is_empty() {
            continue;
        }
        let (mut ndcg, mut rr, mut zero, mut times) = (Vec::new(), Vec::new(), 0usize, Vec::new());
        let mut success = Vec::new();
        for query in &of_class {
            if class == QueryClass::TypeAhead {
                for typed in keystrokes(&query.text) {
                    let request = LabelledQuery { text: typed, ..(*query).clone() }.request(TYPE_AHEAD_DEPTH);
                    let started = Instant::now();
                    let results = catalog.search(&request)?;
                    times.push(started.elapsed());
                    let kept =
                        results.hits.iter().any(|h| query.relevant.contains_key(&h.product.product_id));
                    success.push(if kept { 1.0 } else { 0.0 });
                }
                continue;
            }
            let request = query.request(DEPTH);
            let started = Instant::now();
            let results = catalog.search(&request)?;
            times.push(started.elapsed());
            let ranked: Vec<u64> = results.hits.iter().map(|h| h.product.product_id).collect();
            zero += usize::from(results.total == 0);
            if !query.relevant.is_empty() {
                ndcg.push(ndcg_at(10, &ranked, &query.relevant));
                rr.push(reciprocal_rank(&ranked, &query.relevant));
            }
            if class == QueryClass::UnknownWord {
                let top = ranked.iter().take(10).any(|id| query.relevant.contains_key(id));
                success.push(if top { 1.0 } else { 0.0 });
            }
        }
        times.sort();
        reports.push(ClassReport {
            class,
            queries: of_class.len(),
            ndcg_at_10: mean(&ndcg),
            mrr: mean(&rr),
            zero_result_rate: zero as f64 / of_class.len() as f64,
            success: mean(&success),
            p50: percentile(&times, 0.50),
            p99: percentile(&times, 0.99),
        });
    }
    Ok(reports)
}

/// The texts a shopper's search box holds typing `text` one key at a time: every prefix
/// that ends in a character other than a space.
fn keystrokes(text: &str) -> Vec<String> {
    text.char_indices()
        .map(|(i, c)| text[..i + c.len_utf8()].to_owned())
        .filter(|typed| !typed.ends_with(' '))
        .collect()
}

/// Normalised discounted cumulative gain of the first `k` results, gains `2^grade - 1`.
pub fn ndcg_at(k: usize, ranked: &[u64], relevant: &HashMap<u64, u8>) -> f64 {
    let gain = |grade: u8| f64::from((1u32 << grade) - 1);
    let discount = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| gain(*relevant.get(id).unwrap_or(&0)) * discount(i))
        .sum();
    let mut ideal: Vec<u8> = relevant.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, g)| gain(*g) * discount(i)).sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// 1 / rank of the first relevant result, 0 if none is in the list.
pub fn reciprocal_rank(ranked: &[u64], relevant: &HashMap<u64, u8>) -> f64 {
    ranked.iter().position(|id| relevant.contains_key(id)).map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The reports as a Markdown table.
pub fn table(reports: &[ClassReport]) -> String {
    let score = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    let mut out = String::from(
        "| class | queries | NDCG@10 | MRR | success | zero-result rate | p50 | p99 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in reports {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.3} | {:.1?} | {:.1?} |\n",
            r.class,
            r.queries,
            score(r.ndcg_at_10),
            score(r.mrr),
            score(r.success),
            r.zero_result_rate,
            r.p50,
            r.p99
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        let relevant = HashMap::from([(1, 2), (2, 1)]);
        assert!((ndcg_at(10, &[1, 2, 3], &relevant) - 1.0).abs() < 1e-9);
        assert!(ndcg_at(10, &[2, 1, 3], &relevant) < 1.0);
        assert_eq!(ndcg_at(10, &[3, 4], &relevant), 0.0);
    }

    #[test]
    fn reciprocal_rank_finds_the_first_relevant() {
        let relevant = HashMap::from([(7, 1)]);
        assert_eq!(reciprocal_rank(&[1, 7], &relevant), 0.5);
        assert_eq!(reciprocal_rank(&[1, 2], &relevant), 0.0);
    }

    #[test]
    fn other_number_flips_plurals_and_singulars() {
        assert_eq!(other_number("Speaker"), "speakers");
        assert_eq!(other_number("Headphones"), "headphone");
        assert_eq!(other_number("Battery"), "batteries");
        assert_eq!(other_number("Dress"), "dresses");
    }

    #[test]
    fn a_misspelling_changes_one_long_word_by_one_edit() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let typo = misspell_one("Alpha Headphones X5", &mut rng);
            assert_ne!(typo, "Alpha Headphones X5");
            assert!(typo.starts_with("Alpha ") && typo.ends_with(" X5"), "{typo}");
        }
    }
}
