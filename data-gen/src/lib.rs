//! Deterministic synthetic product catalogues, of the service's own [`Product`]s.
//!
//! `generate(seed, count)` returns the same products for the same seed and count on any
//! machine and with any number of threads: each product draws from its own RNG, derived from
//! the seed and the product's index, so rayon may build them in any order.

mod attributes;
pub mod taxonomy;

use std::fmt::Write;

use fake::locales::{Data, EN};
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

    // Texts are written into one buffer and copied out at their exact length: `format!`
    // grows its string as it writes and leaves up to twice the length allocated.
    let mut text = Text::default();
    let colour = category.coloured.then_some(colour);
    let name = match colour {
        Some(colour) if rng.random_bool(0.4) => {
            text.words(&[brand, " ", adjective, " ", colour, " ", kind.noun, " ", &model])
        }
        _ => text.words(&[brand, " ", adjective, " ", kind.noun, " ", &model]),
    };
    let description = {
        let buffer = text.start();
        for part in ["The ", brand, " ", &model, " is ", article(adjective), " "] {
            buffer.push_str(part);
        }
        push_lowercase(buffer, adjective);
        buffer.push(' ');
        push_lowercase(buffer, kind.noun);
        if let Some(colour) = colour {
            buffer.push_str(" in ");
            push_lowercase(buffer, colour);
        }
        for part in [", made from ", material, " for ", kind.purpose, ". "] {
            buffer.push_str(part);
        }
        catch_phrase(&mut rng, buffer);
        buffer.push('.');
        text.copy()
    };
    let (low, high) = kind.price;
    let price = (rng.random_range(low..high) * 100.0).round() / 100.0;
    let rating = f64::from(rng.random_range(10u8..=50)) / 10.0;
    let (light, heavy) = kind.weight;
    // Attributes draw from a stream of their own: the other fields never depend on them.
    let mut attribute_rng = ChaCha8Rng::seed_from_u64(splitmix64(splitmix64(seed ^ ATTRIBUTE_STREAM) ^ id));
    let attributes = attributes::attributes(&mut attribute_rng, category, kind, colour, material);

    Product {
        product_id: id,
        name: Some(name),
        brand: Some(brand.into()),
        category: Some(category.name.into()),
        description: Some(description),
        price: Some(price),
        rating: Some(rating),
        in_stock: Some(rng.random_bool(0.85)),
        sku: Some(sku(seed, id).into_boxed_str()),
        manufacturer: Some({
            company_name(&mut rng, text.start());
            text.copy()
        }),
        category_id: Some(category.id),
        weight: Some(rng.random_range(light..=heavy)),
        some_other_id: Some(rng.random_range(1..=1_000_000)),
        attributes,
    }
}

/// Tells the attributes' random stream apart from the product's own.
const ATTRIBUTE_STREAM: u64 = 0xA771_B075;

/// The buffer a product's texts are written in, each then copied out at its exact length.
struct Text(String);

impl Default for Text {
    fn default() -> Self {
        Self(String::with_capacity(256))
    }
}

impl Text {
    /// The buffer, emptied.
    fn start(&mut self) -> &mut String {
        self.0.clear();
        &mut self.0
    }

    /// What the buffer holds, in a string of its own holding no spare memory.
    fn copy(&self) -> Box<str> {
        self.0.as_str().into()
    }

    /// `parts` one after the other.
    fn words(&mut self, parts: &[&str]) -> Box<str> {
        let buffer = self.start();
        for part in parts {
            buffer.push_str(part);
        }
        self.copy()
    }
}

/// Appends `word` in lower case.
fn push_lowercase(text: &mut String, word: &str) {
    if word.is_ascii() {
        let start = text.len();
        text.push_str(word);
        text[start..].make_ascii_lowercase();
    } else {
        text.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// "an" before a word starting with a vowel as written (in any case), "a" otherwise.
fn article(word: &str) -> &'static str {
    let first = word.chars().next().and_then(|c| c.to_lowercase().next());
    if first.is_some_and(|c| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')) { "an" } else { "a" }
}

/// A company catch phrase (fake's English `CatchPhrase`), drawn as fake draws it, appended
/// to `text`: fake fills its template with one `replace` per word, a new string each.
fn catch_phrase(rng: &mut ChaCha8Rng, text: &mut String) {
    let head = *EN::COMPANY_BUZZWORD_HEAD.choose(rng).expect("buzzwords are listed");
    let middle = *EN::COMPANY_BUZZWORD_MIDDLE.choose(rng).expect("buzzwords are listed");
    let tail = *EN::COMPANY_BUZZWORD_TAIL.choose(rng).expect("buzzwords are listed");
    fill(EN::COMPANY_CATCH_PHASE_TPL, &[("{Head}", head), ("{Middle}", middle), ("{Tail}", tail)], text);
}

/// A company name (fake's English `CompanyName`), drawn as fake draws it (both last names
/// whatever the template uses), appended to `text`.
fn company_name(rng: &mut ChaCha8Rng, text: &mut String) {
    let template = *EN::COMPANY_NAME_TPLS.choose(rng).expect("templates are listed");
    let first = *EN::NAME_LAST_NAME.choose(rng).expect("names are listed");
    let second = *EN::NAME_LAST_NAME.choose(rng).expect("names are listed");
    let suffix = *EN::COMPANY_SUFFIX.choose(rng).expect("suffixes are listed");
    fill(template, &[("{Name_1}", first), ("{Name_2}", second), ("{Suffix}", suffix)], text);
}

/// Appends `template` with each of its `{Placeholder}`s replaced by its value.
fn fill(template: &str, values: &[(&str, &str)], text: &mut String) {
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        match values.iter().find(|(placeholder, _)| rest.starts_with(placeholder)) {
            Some((placeholder, value)) => {
                text.push_str(value);
                rest = &rest[placeholder.len()..];
            }
            None => {
                text.push('{');
                rest = &rest[1..];
            }
        }
    }
    text.push_str(rest);
}

fn model_designation(rng: &mut ChaCha8Rng) -> String {
    let series = *MODEL_SERIES.choose(rng).expect("model series are listed");
    let mut model = String::with_capacity(series.len() + 5);
    model.push_str(series);
    let number = match rng.random_range(0..3) {
        0 => rng.random_range(1..=9),
        1 => {
            model.push(' ');
            rng.random_range(1..=20) * 50
        }
        _ => {
            model.push('-');
            rng.random_range(100..=999)
        }
    };
    write!(model, "{number}").expect("a String takes any text");
    model
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
    let mut sku = String::with_capacity(11);
    sku.extend(letters[..3].iter().map(|&letter| char::from(letter)));
    sku.push('-');
    for digit in [digits / 100, digits / 10 % 10, digits % 10] {
        sku.push(char::from(b'0' + digit as u8));
    }
    sku.push('-');
    sku.extend(letters[3..].iter().map(|&letter| char::from(letter)));
    sku
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

    /// A seed names its catalogue for good: kept indexes, benchmarks and published figures
    /// rely on the same seed and count giving the same products from one version to the next.
    #[test]
    fn a_seed_gives_the_catalogue_it_always_gave() {
        let products = generate(42, 20_000);
        let json: Vec<String> =
            products.iter().map(|p| serde_json::to_string(p).expect("a product serialises")).collect();
        assert_eq!(
            json[..3],
            [
                r#"{"product_id":1,"name":"Summit Weatherproof Yellow Bird Feeder Ultra1","brand":"Summit","category":"Garden","description":"The Summit Ultra1 is a weatherproof bird feeder in yellow, made from cedar for visiting birds. Cross-platform reciprocal portal.","price":16.79,"rating":2.4,"in_stock":true,"sku":"AXS-073-DIM","manufacturer":"McGlynn and Sons","category_id":105,"weight":943,"some_other_id":752576,"attributes":{"color":"yellow","material":"cedar","weatherproof":true}}"#,
                r#"{"product_id":2,"name":"Redwood Advanced Chocolate Lite1","brand":"Redwood","category":"Food","description":"The Redwood Lite1 is an advanced chocolate, made from single-origin produce for an indulgent treat. Quality-focused demand-driven neural-net.","price":7.81,"rating":3.7,"in_stock":true,"sku":"RJP-074-QMS","manufacturer":"Larkin and Sons","category_id":109,"weight":287,"some_other_id":979921,"attributes":{"material":"single-origin produce","net_weight_g":900,"organic":false}}"#,
                r#"{"product_id":3,"name":"Aurora Remote-Control Olive Drone Ultra6","brand":"Aurora","category":"Toys","description":"The Aurora Ultra6 is a remote-control drone in olive, made from silicone for flying outdoors. Synergistic user-facing matrix.","price":324.89,"rating":3.7,"in_stock":true,"sku":"IWL-075-DRY","manufacturer":"Ortiz and Willms Inc","category_id":107,"weight":815,"some_other_id":441894,"attributes":{"age_min_years":1,"batteries_included":false,"color":"olive","material":"silicone"}}"#
            ]
        );
        // FNV-1a over every product's JSON, as the generator of 2026-12 wrote them.
        let digest =
            json.iter().flat_map(|line| line.bytes()).fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            });
        assert_eq!(digest, 0x8a08_56d2_49f5_1fbe);
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
