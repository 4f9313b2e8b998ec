//! The oracle: for many generated queries, the set of matching products and `total_found`
//! equal a brute-force scan of the catalogue under the same rules: text splits on every
//! character that is not a letter or digit, lower-cased; a product matches when every
//! query term is a term of at least one of its searchable fields.

use std::collections::{BTreeSet, HashSet};

use data_gen::Product;
use product_search::catalog::Catalog;
use product_search::search::{MAX_LIMIT, SearchRequest};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PRODUCTS: u64 = 3_000;
const QUERIES: usize = 400;

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect()
}

fn searchable(product: &Product) -> HashSet<String> {
    [
        &product.name,
        &product.brand,
        &product.category,
        &product.description,
        &product.sku,
        &product.manufacturer,
    ]
    .into_iter()
    .flatten()
    .flat_map(|field| tokens(field))
    .collect()
}

fn brute_force(catalogue: &[(u64, HashSet<String>)], query: &str) -> BTreeSet<u64> {
    let terms = tokens(query);
    if terms.is_empty() {
        return BTreeSet::new();
    }
    catalogue.iter().filter(|(_, words)| terms.iter().all(|t| words.contains(t))).map(|(id, _)| *id).collect()
}

/// Queries built the way shoppers type: words of real products, in any case, with
/// punctuation, sometimes with a word no product has.
fn queries(products: &[Product], rng: &mut ChaCha8Rng) -> Vec<String> {
    let words: Vec<String> =
        products.iter().take(500).flat_map(searchable).collect::<BTreeSet<_>>().into_iter().collect();
    (0..QUERIES)
        .map(|i| {
            let product = products.choose(rng).unwrap();
            let own: Vec<String> =
                searchable(product).into_iter().collect::<BTreeSet<_>>().into_iter().collect();
            let mut parts: Vec<String> = Vec::new();
            for _ in 0..rng.random_range(1..=3) {
                let word =
                    if rng.random_bool(0.8) { own.choose(rng).unwrap() } else { words.choose(rng).unwrap() };
                parts.push(if rng.random_bool(0.3) { word.to_uppercase() } else { word.clone() });
            }
            match i % 10 {
                0 => parts.push("zzyzx".into()),
                1 => return product.sku.clone().unwrap(),
                2 => return format!("{}!", parts.join(", ")),
                _ => {}
            }
            parts.join(" ")
        })
        .collect()
}

fn all_matches(catalog: &Catalog, query: &str) -> (u64, BTreeSet<u64>) {
    let mut ids = BTreeSet::new();
    let mut total = 0;
    for offset in (0..1_000).step_by(MAX_LIMIT) {
        let request =
            SearchRequest::new(Some(query.to_owned()), Some(MAX_LIMIT as i64), Some(offset as i64)).unwrap();
        let results = catalog.search(&request).unwrap();
        total = results.total;
        let page: Vec<u64> = results.products.iter().map(|p| p.product_id).collect();
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
fn search_matches_a_brute_force_scan() {
    let products = data_gen::generate(11, PRODUCTS);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let queries = queries(&products, &mut rng);
    let scanned: Vec<(u64, HashSet<String>)> =
        products.iter().map(|p| (p.product_id, searchable(p))).collect();
    let catalog = Catalog::build(products).unwrap();

    let mut non_empty = 0;
    for query in &queries {
        let expected = brute_force(&scanned, query);
        let (total, found) = all_matches(&catalog, query);
        assert_eq!(total, expected.len() as u64, "total_found for {query:?}");
        if expected.len() <= 1_000 {
            assert_eq!(found, expected, "matching ids for {query:?}");
        }
        non_empty += usize::from(!expected.is_empty());
    }
    assert!(non_empty > QUERIES / 2, "the generated queries should mostly match something");
}
