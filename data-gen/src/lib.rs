//! Deterministic synthetic product catalogues, of the service's own [`Product`]s.
//!
//! `generate(seed, count)` returns the same products for the same seed and count on any
//! machine and with any number of threads: each product draws from its own RNG, derived from
//! the seed and the product's index, so rayon may build them in any order.

mod attributes;
pub mod taxonomy;

use fake::Fake;
use fake::faker::company::en::{CatchPhrase, CompanyName};
use product_model::Product;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use taxonomy::{ADJECTIVES, BRANDS, CATEGORIES, COLOURS, MODEL_SERIES};

/// Generates products `1..=count` for `seed`, in id order, using rayon's current pool.
pub fn generate(seed: u64, count: u64) -> Vec<Product> {
    generate_range(seed, 1..=count)
}

/// Generates the products whose ids lie in `ids`; `generate_range(s, a..=b)` equals the
/// matching slice of `generate(s, n)`, which lets a writer stream huge catalogues in chunks.
pub fn generate_range(seed: u64, ids: std::ops::RangeInclusive<u64>) -> Vec<Product> {
    ids.into_par_iter().map(|id| product(seed, id)).collect()
}

/// Builds product `id` of the catalogue for `seed`.
pub fn product(seed: u64, id: u64) -> Product {
    let mut rng = ChaCha8Rng::seed_from_u64(splitmix64(seed ^ splitmix64(id)));
    let category = CATEGORIES.choose(&mut rng).expect("taxonomy has categories");
    let kind = category.types.choose(&mut rng).expect("every category has types");
    let brand = *BRANDS.choose(&mut rng).expect("brands are listed");
    let adjective = if rng.random_bool(0.5) {
        *category.adjectives.choose(&mut rng).expect("category adjectives")
    } else {
        *ADJECTIVES.choose(&mut rng).expect("adjectives are listed")
    };
    let colour = *COLOURS.choose(&mut rng).expect("colours are listed");
    let material = *category.materials.choose(&mut rng).expect("category materials");
    let model = model_designation(&mut rng);

    let colour = category.coloured.then_some(colour);
    let name = match colour {
        Some(colour) if rng.random_bool(0.4) => format!("{brand} {adjective} {colour} {} {model}", kind.noun),
        _ => format!("{brand} {adjective} {} {model}", kind.noun),
    };
    let in_colour = colour.map(|c| format!(" in {}", c.to_lowercase())).unwrap_or_default();
    let catch_phrase: String = CatchPhrase().fake_with_rng(&mut rng);
    let adjective_lower = adjective.to_lowercase();
    let description = format!(
        "The {brand} {model} is {} {adjective_lower} {}{in_colour}, made from {material} for {}. {catch_phrase}.",
        article(&adjective_lower),
        kind.noun.to_lowercase(),
        kind.purpose,
    );
    let (low, high) = kind.price;
    let price = (rng.random_range(low..high) * 100.0).round() / 100.0;
    let rating = f64::from(rng.random_range(10u8..=50)) / 10.0;
    let (light, heavy) = kind.weight;
    // Attributes draw from a stream of their own: the other fields never depend on them.
    let mut attribute_rng = ChaCha8Rng::seed_from_u64(splitmix64(splitmix64(seed ^ ATTRIBUTE_STREAM) ^ id));
    let attributes = attributes::attributes(&mut attribute_rng, category, kind, colour, material);

    Product {
        product_id: id,
        name: Some(exact(name)),
        brand: Some(brand.to_owned()),
        category: Some(category.name.to_owned()),
        description: Some(exact(description)),
        price: Some(price),
        rating: Some(rating),
        in_stock: Some(rng.random_bool(0.85)),
        sku: Some(exact(sku(seed, id))),
        manufacturer: Some(exact(CompanyName().fake_with_rng(&mut rng))),
        category_id: Some(category.id),
        weight: Some(rng.random_range(light..=heavy)),
        some_other_id: Some(rng.random_range(1..=1_000_000)),
        attributes,
    }
}

/// Tells the attributes' random stream apart from the product's own.
const ATTRIBUTE_STREAM: u64 = 0xA771_B075;

/// `text` holding no more memory than its length: `format!` leaves up to twice that, a
/// third of a generated catalogue's text.
fn exact(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// "an" before a vowel sound as written, "a" otherwise.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

fn model_designation(rng: &mut ChaCha8Rng) -> String {
    let series = *MODEL_SERIES.choose(rng).expect("model series are listed");
    match rng.random_range(0..3) {
        0 => format!("{series}{}", rng.random_range(1..=9)),
        1 => format!("{series} {}", rng.random_range(1..=20) * 50),
        _ => format!("{series}-{}", rng.random_range(100..=999)),
    }
}

/// Number of distinct SKUs of the form `AAA-000-AAA`.
const SKU_SPACE: u64 = 26u64.pow(6) * 1000;
/// A product of two primes other than 2, 5 and 13, hence coprime with `SKU_SPACE`
/// (2^9 * 5^3 * 13^6): multiplying by it permutes the SKU space, so distinct ids get
/// distinct SKUs.
const SKU_STRIDE: u64 = 48_271 * 7_919;

/// The SKU of product `id` for `seed`: unique for every id below 308 billion.
pub fn sku(seed: u64, id: u64) -> String {
    let offset = splitmix64(seed) % SKU_SPACE;
    let mut n =
        ((u128::from(id) * u128::from(SKU_STRIDE) + u128::from(offset)) % u128::from(SKU_SPACE)) as u64;
    let mut letters = [0u8; 6];
    for letter in &mut letters {
        *letter = b'A' + (n % 26) as u8;
        n /= 26;
    }
    let digits = n; // 0..1000
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("ASCII letters");
    format!("{}-{digits:03}-{}", text(&letters[..3]), text(&letters[3..]))
}

/// A strong 64-bit mix, so that neighbouring ids and seeds get unrelated RNG streams.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use product_model::{check_product, sku_key};

    use super::*;
    use std::collections::HashSet;

    fn with_threads(threads: usize, seed: u64, count: u64) -> Vec<Product> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
            .install(|| generate(seed, count))
    }

    #[test]
    fn same_seed_gives_identical_products_whatever_the_thread_count() {
        let one = with_threads(1, 7, 2_000);
        let four = with_threads(4, 7, 2_000);
        assert_eq!(one, four);
    }

    #[test]
    fn generated_text_holds_no_spare_memory() {
        for p in generate(11, 500) {
            let texts = [&p.name, &p.brand, &p.category, &p.description, &p.sku, &p.manufacturer];
            for text in texts.into_iter().flatten() {
                assert_eq!(text.capacity(), text.len(), "{text:?} of product {}", p.product_id);
            }
        }
    }

    #[test]
    fn different_seeds_give_different_catalogues() {
        assert_ne!(generate(1, 50), generate(2, 50));
    }

    #[test]
    fn ids_run_from_one_to_count() {
        let ids: Vec<u64> = generate(3, 500).iter().map(|p| p.product_id).collect();
        assert_eq!(ids, (1..=500).collect::<Vec<_>>());
    }

    #[test]
    fn skus_are_unique_and_shaped_like_abc_123_xyz() {
        let products = generate(42, 100_000);
        let keys: HashSet<String> = products.iter().filter_map(|p| p.sku.as_deref().map(sku_key)).collect();
        assert_eq!(keys.len(), products.len(), "two SKUs are the same by the catalogue's SKU rule");
        let skus: HashSet<&str> = products.iter().filter_map(|p| p.sku.as_deref()).collect();
        for sku in skus.iter().take(1_000) {
            let parts: Vec<&str> = sku.split('-').collect();
            assert_eq!(parts.len(), 3, "{sku}");
            assert!(parts[0].len() == 3 && parts[0].chars().all(|c| c.is_ascii_uppercase()), "{sku}");
            assert!(parts[1].len() == 3 && parts[1].chars().all(|c| c.is_ascii_digit()), "{sku}");
            assert!(parts[2].len() == 3 && parts[2].chars().all(|c| c.is_ascii_uppercase()), "{sku}");
        }
    }

    #[test]
    fn attributes_agree_with_the_description_and_some_hold_several_values() {
        use product_model::AttributeValue;
        let products = generate(8, 3_000);
        let mut several = 0;
        for p in &products {
            let description = p.description.as_deref().unwrap();
            let Some(AttributeValue::Text(material)) = p.attributes.get("material") else {
                panic!("no material: {p:?}")
            };
            assert!(description.contains(&format!("made from {material}")), "{description}");
            let coloured = CATEGORIES.iter().any(|c| c.coloured && Some(c.name) == p.category.as_deref());
            match p.attributes.get("color") {
                Some(AttributeValue::Text(colour)) => {
                    assert!(coloured && description.contains(&format!(" in {colour}")), "{description}")
                }
                _ => assert!(!coloured, "{p:?}"),
            }
            several += p
                .attributes
                .pairs()
                .iter()
                .any(|(_, v)| matches!(v, AttributeValue::Texts(t) if t.len() > 1))
                as usize;
        }
        assert!(
            several > products.len() / 10,
            "{several} of {} have a multi-valued attribute",
            products.len()
        );
    }

    #[test]
    fn a_range_equals_the_same_slice_of_the_whole_catalogue() {
        let whole = generate(9, 300);
        assert_eq!(generate_range(9, 101..=200), whole[100..200].to_vec());
    }

    #[test]
    fn every_field_is_present_and_within_its_range() {
        for p in generate(5, 2_000) {
            assert_eq!(check_product(&p), Ok(()), "{p:?}");
            let price = p.price.unwrap();
            assert!(price > 0.0 && (price * 100.0).round() / 100.0 == price, "{price}");
            let rating = p.rating.unwrap();
            assert!((1.0..=5.0).contains(&rating));
            assert!(p.weight.unwrap() > 0);
            assert!(p.some_other_id.unwrap() >= 1);
            assert!(CATEGORIES.iter().any(|c| c.id == p.category_id.unwrap()));
            assert!(!p.manufacturer.unwrap().is_empty());
            let name = p.name.unwrap();
            assert!(name.starts_with(p.brand.as_deref().unwrap()), "{name}");
            assert!(!p.description.unwrap().contains("Lorem"));
        }
    }

    #[test]
    fn the_catalogue_holds_the_classic_brands_and_categories() {
        let products = generate(42, 20_000);
        for brand in ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta"] {
            assert!(products.iter().any(|p| p.brand.as_deref() == Some(brand)), "{brand}");
        }
        for category in ["Electronics", "Books", "Home", "Garden", "Sports", "Toys", "Clothing", "Food"] {
            assert!(products.iter().any(|p| p.category.as_deref() == Some(category)), "{category}");
        }
    }
}
