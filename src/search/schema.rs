//! The index's schema: which fields a product is indexed into and how, the searchable text
//! fields and their weights, and the terms a product's attributes become.
//!
//! The text fields are the six built-in ones, then one per attribute the settings search
//! (`searchable_attributes`), holding its text values and its numbers as written: an index
//! is built for one set of searched attributes, and another set needs another index.
//!
//! Every attribute is indexed, whatever the settings say is filterable: the settings then
//! decide what a client may filter and facet on, and a change to them needs no rebuild.
//! An attribute `name` becomes these terms:
//!
//! - `name%value`: a text or boolean value (`true`, `false`), lower-cased for filters and
//!   as given for facets;
//! - `name#` and 16 hex digits: a number, written so that the terms of one attribute sort
//!   in the numbers' order (so a range of numbers is a range of terms, and a facet's
//!   lowest and highest number are its first and last terms);
//! - `name!`: an empty list, which has no value but is there.
//!
//! A list gives a term per distinct value. The marks after the name sort below the digits,
//! letters and `_` a longer name may go on with, so one attribute's terms are a range of
//! their own: all of them from `name!` to `name&` (`EXISTS`), its numbers from `name#` to
//! `name$`, its texts from `name%` to `name&`.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher};

use product_model::{AttributeValue, Product, sku_key};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{RAW_TOKENIZER_NAME, TextAnalyzer};
use tantivy::{Score, TantivyDocument};

use super::analyzer::ANALYZER;
use super::facets::{ATTRIBUTE_COLUMN, BRAND_COLUMN, CATEGORY_COLUMN, PRICE_COLUMN};

/// Each product's id, indexed and in a column: pages, the kept index's check and the
/// merge order read it.
pub const PRODUCT_ID_COLUMN: &str = "product_id";
pub const RATING_COLUMN: &str = "rating";
pub const CONTENT_DIGEST_COLUMN: &str = "content_digest";

/// A digest of everything a product holds, the same in every process of this build: equal
/// digests, equal products. Each field is written with its presence and length, so no two
/// products write the same bytes; a field added to [`Product`] does not compile here until
/// it is written too.
pub fn content_digest(product: &Product) -> u64 {
    let Product {
        product_id,
        name,
        brand,
        category,
        description,
        price,
        rating,
        in_stock,
        sku,
        manufacturer,
        category_id,
        weight,
        some_other_id,
        attributes,
    } = product;
    let mut digest = foldhash::quality::FixedState::with_seed(DIGEST_SEED).build_hasher();
    digest.write_u64(*product_id);
    for text in [name, brand, category, description, sku, manufacturer] {
        write_text(&mut digest, text.as_deref());
    }
    let numbers = [
        price.map(f64::to_bits),
        rating.map(f64::to_bits),
        in_stock.map(u64::from),
        *category_id,
        *weight,
        *some_other_id,
    ];
    for number in numbers {
        match number {
            None => digest.write_u8(0),
            Some(number) => {
                digest.write_u8(1);
                digest.write_u64(number);
            }
        }
    }
    // The attributes' compact JSON, which lists them sorted by name.
    write_text(&mut digest, Some(attributes.json()));
    digest.finish()
}

/// Writes whether `text` is there, and if so its length and bytes.
fn write_text(digest: &mut impl Hasher, text: Option<&str>) {
    match text {
        None => digest.write_u8(0),
        Some(text) => {
            digest.write_u8(1);
            digest.write_usize(text.len());
            digest.write(text.as_bytes());
        }
    }
}

/// Fixed, so digests written by one process are the ones the next computes.
const DIGEST_SEED: u64 = 0x7072_6f64_7563_7473;

/// The searchable text fields and their default weights (setting `searchable_attributes`):
/// what a shopper types is most often the name or the brand; descriptions are long and say
/// everything, so they count least.
pub const TEXT_FIELDS: [(&str, Score); 6] = [
    ("name", 3.0),
    ("brand", 3.0),
    ("category", 2.0),
    ("manufacturer", 1.5),
    ("sku", 3.0),
    ("description", 1.0),
];
pub const SKU_FIELD: usize = 4;
/// Fields a one-letter prefix completes in: the first three (name, brand, category).
pub const ONE_LETTER_FIELDS: usize = 3;

#[derive(Debug, Clone, Copy)]
pub struct TextField {
    pub field: Field,
    /// Typos never apply to SKUs: a near miss of a part number is a different part.
    pub typos: bool,
}

#[derive(Debug, Clone)]
pub struct Fields {
    pub product_id: Field,
    /// A digest of the product as indexed (see [`content_digest`]): an index kept on disk
    /// is checked against the catalogue with it at start-up.
    pub content_digest: Field,
    /// Whether documents hold their digest: only an index kept on disk reads them.
    pub digests: bool,
    /// name, brand, category, manufacturer, sku, description, in that order; then one per
    /// attribute searched, in the order of `searched_attributes`.
    pub text: Vec<TextField>,
    /// The attributes with a text field, by name.
    pub searched_attributes: Vec<String>,
    /// The SKU with everything but letters and digits removed, lower-cased.
    pub sku_key: Field,
    /// Lower-cased category and brand, for case-insensitive filters.
    pub category_key: Field,
    pub brand_key: Field,
    /// Category and brand as given, for facet counts.
    pub category_facet: Field,
    pub brand_facet: Field,
    pub price: Field,
    pub rating: Field,
    pub in_stock: Field,
    /// Per attribute: each text or boolean value lower-cased, each number
    /// in an order-keeping form (see [`attribute_terms`]); for filters.
    pub attribute_filter: Field,
    /// Per attribute: each value as given, numbers in their order-keeping form; for facets.
    pub attribute_facet: Field,
}

/// A field of whole values found by their terms (filters, deletes) and never scored: no
/// field lengths, which only scoring reads.
fn keys() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(RAW_TOKENIZER_NAME)
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic),
    )
}

/// A number found by its terms and never scored (see [`keys`]).
fn looked_up() -> NumericOptions {
    NumericOptions::default().set_indexed()
}

/// The schema with a text field for each of `searched_attributes` (names without
/// `attributes.`).
pub fn schema(searched_attributes: &[String]) -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let product_id = builder.add_u64_field(PRODUCT_ID_COLUMN, looked_up().set_fast());
    let content_digest = builder.add_u64_field(CONTENT_DIGEST_COLUMN, FAST);
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
    );
    let mut text: Vec<TextField> = TEXT_FIELDS
        .iter()
        .enumerate()
        .map(|(position, (name, _))| TextField {
            field: builder.add_text_field(name, text_options.clone()),
            typos: position != SKU_FIELD,
        })
        .collect();
    for name in searched_attributes {
        let field = builder.add_text_field(&format!("attribute_text_{name}"), text_options.clone());
        text.push(TextField { field, typos: true });
    }
    let fields = Fields {
        product_id,
        content_digest,
        digests: false,
        text,
        searched_attributes: searched_attributes.to_vec(),
        sku_key: builder.add_text_field("sku_key", keys()),
        category_key: builder.add_text_field("category_key", keys()),
        brand_key: builder.add_text_field("brand_key", keys()),
        category_facet: builder.add_text_field(CATEGORY_COLUMN, FAST),
        brand_facet: builder.add_text_field(BRAND_COLUMN, FAST),
        price: builder.add_f64_field(PRICE_COLUMN, FAST),
        rating: builder.add_f64_field(RATING_COLUMN, FAST),
        in_stock: builder.add_bool_field("in_stock", looked_up().set_fast()),
        attribute_filter: builder.add_text_field("attribute_filter", keys()),
        attribute_facet: builder.add_text_field(ATTRIBUTE_COLUMN, FAST),
    };
    (builder.build(), fields)
}

/// The product's built-in searchable text, in the order of [`TEXT_FIELDS`].
fn text_values(product: &Product) -> [Option<&str>; 6] {
    [
        product.name.as_deref(),
        product.brand.as_deref(),
        product.category.as_deref(),
        product.manufacturer.as_deref(),
        product.sku.as_deref(),
        product.description.as_deref(),
    ]
}

impl Fields {
    /// Every searchable text of `product` with its field's position: the built-in fields',
    /// then each searched attribute's values (texts, and numbers as written) out of `pairs`,
    /// the product's attributes.
    fn texts<'a>(
        &self,
        product: &'a Product,
        pairs: &'a [(Box<str>, AttributeValue)],
    ) -> Vec<(usize, Cow<'a, str>)> {
        let mut texts: Vec<(usize, Cow<'a, str>)> = text_values(product)
            .into_iter()
            .enumerate()
            .filter_map(|(position, value)| Some((position, Cow::Borrowed(value?))))
            .collect();
        if self.searched_attributes.is_empty() {
            return texts;
        }
        for (name, value) in pairs {
            let Some(i) = self.searched_attributes.iter().position(|searched| **searched == **name) else {
                continue;
            };
            let position = TEXT_FIELDS.len() + i;
            match value {
                AttributeValue::Text(text) => texts.push((position, Cow::Borrowed(&**text))),
                AttributeValue::Texts(list) => {
                    texts.extend(list.iter().map(|t| (position, Cow::Borrowed(&**t))))
                }
                AttributeValue::Number(number) => texts.push((position, Cow::Owned(number.to_string()))),
                AttributeValue::Numbers(list) => {
                    texts.extend(list.iter().map(|n| (position, Cow::Owned(n.to_string()))));
                }
                AttributeValue::Bool(_) => {}
            }
        }
        texts
    }

    /// The terms the index holds for `product`, by field position.
    pub fn index_terms(&self, analyzer: &mut TextAnalyzer, product: &Product) -> Vec<(usize, String)> {
        let pairs = if self.searched_attributes.is_empty() { Vec::new() } else { product.attributes.pairs() };
        let mut terms = Vec::new();
        for (position, value) in self.texts(product, &pairs) {
            let mut stream = analyzer.token_stream(&value);
            while stream.advance() {
                terms.push((position, stream.token().text.clone()));
            }
        }
        terms
    }
}

pub fn document(fields: &Fields, product: &Product) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.product_id, product.product_id);
    if fields.digests {
        doc.add_u64(fields.content_digest, content_digest(product));
    }
    let pairs = product.attributes.pairs();
    for (position, value) in fields.texts(product, &pairs) {
        doc.add_text(fields.text[position].field, value);
    }
    if let Some(sku) = &product.sku {
        doc.add_text(fields.sku_key, sku_key(sku));
    }
    if let Some(category) = &product.category {
        doc.add_text(fields.category_key, category.trim().to_lowercase());
        doc.add_text(fields.category_facet, category);
    }
    if let Some(brand) = &product.brand {
        doc.add_text(fields.brand_key, brand.trim().to_lowercase());
        doc.add_text(fields.brand_facet, brand);
    }
    if let Some(price) = product.price {
        doc.add_f64(fields.price, price);
    }
    if let Some(rating) = product.rating {
        doc.add_f64(fields.rating, rating);
    }
    if let Some(in_stock) = product.in_stock {
        doc.add_bool(fields.in_stock, in_stock);
    }
    attribute_terms(&pairs, |target, term| {
        let field = match target {
            Target::Filter => fields.attribute_filter,
            Target::Facet => fields.attribute_facet,
        };
        doc.add_text(field, term);
    });
    doc
}

/// The term of attribute `name` given as an empty list.
fn empty_list_term(name: &str) -> String {
    term(name, '!', 0)
}

/// The term of a text (or boolean) value of attribute `name`, as the filter field holds it.
pub fn text_term(name: &str, value: &str) -> String {
    let mut term = term(name, '%', value.len());
    if value.is_ascii() {
        let start = term.len();
        term.push_str(value);
        term[start..].make_ascii_lowercase();
    } else {
        term.push_str(&value.to_lowercase());
    }
    term
}

/// The term of a text (or boolean) value of attribute `name`, as the facet column holds it.
fn facet_term(name: &str, value: &str) -> String {
    let mut term = term(name, '%', value.len());
    term.push_str(value);
    term
}

/// `name` and `mark`, with room for `rest` more bytes. Terms are built this way rather than
/// with `format!`: every product's attributes make several at indexing time.
fn term(name: &str, mark: char, rest: usize) -> String {
    let mut term = String::with_capacity(name.len() + 1 + rest);
    term.push_str(name);
    term.push(mark);
    term
}

/// Where `name`'s terms lie: every term (`[start, end)`), its numbers, its texts.
pub fn all_terms(name: &str) -> (String, String) {
    (format!("{name}!"), format!("{name}&"))
}

pub fn number_terms(name: &str) -> (String, String) {
    (format!("{name}#"), format!("{name}$"))
}

pub fn text_terms(name: &str) -> (String, String) {
    (format!("{name}%"), format!("{name}&"))
}

/// The term of a number of attribute `name`: terms of one attribute sort as their numbers.
pub fn number_term(name: &str, value: f64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = sortable(value);
    let mut term = term(name, '#', 16);
    term.extend((0..16).rev().map(|digit| char::from(HEX[(bits >> (digit * 4) & 0xf) as usize])));
    term
}

/// `value`'s bits, flipped so that unsigned order is numeric order (`-0` is `0`).
fn sortable(value: f64) -> u64 {
    let bits = if value == 0.0 { 0.0f64.to_bits() } else { value.to_bits() };
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

fn unsortable(bits: u64) -> f64 {
    f64::from_bits(if bits >> 63 == 1 { bits & !(1 << 63) } else { !bits })
}

/// One value of the facet column, read back.
#[derive(Debug, Clone, PartialEq)]
pub enum FacetValue<'a> {
    Text(&'a str),
    Number(f64),
}

/// The attribute and value of a facet column entry.
pub fn facet_value(entry: &str) -> Option<(&str, FacetValue<'_>)> {
    let split = entry.find(['%', '#'])?;
    let (name, rest) = (&entry[..split], &entry[split + 1..]);
    if entry.as_bytes()[split] == b'%' {
        return Some((name, FacetValue::Text(rest)));
    }
    let bits = u64::from_str_radix(rest, 16).ok()?;
    Some((name, FacetValue::Number(unsortable(bits))))
}

/// Which field an attribute term goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Filter,
    Facet,
}

/// The terms of a product's attributes (`pairs`), each handed to `emit` with the field it
/// goes to; a list's values once each.
pub fn attribute_terms(pairs: &[(Box<str>, AttributeValue)], mut emit: impl FnMut(Target, String)) {
    for (name, value) in pairs {
        let name = &**name;
        if matches!(value, AttributeValue::Texts(v) if v.is_empty())
            || matches!(value, AttributeValue::Numbers(v) if v.is_empty())
        {
            emit(Target::Filter, empty_list_term(name));
            continue;
        }
        let mut text = |value: &str| {
            emit(Target::Filter, text_term(name, value));
            emit(Target::Facet, facet_term(name, value));
        };
        let numbers: &[serde_json::Number] = match value {
            AttributeValue::Text(value) => {
                text(value);
                &[]
            }
            AttributeValue::Bool(flag) => {
                text(if *flag { "true" } else { "false" });
                &[]
            }
            AttributeValue::Texts(values) => {
                for (i, value) in values.iter().enumerate() {
                    if !values[..i].contains(value) {
                        text(value);
                    }
                }
                &[]
            }
            AttributeValue::Number(number) => std::slice::from_ref(number),
            AttributeValue::Numbers(numbers) => numbers,
        };
        for (i, number) in numbers.iter().enumerate() {
            let Some(value) = number.as_f64().filter(|_| !numbers[..i].contains(number)) else { continue };
            let term = number_term(name, value);
            emit(Target::Facet, term.clone());
            emit(Target::Filter, term);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use product_model::Attributes;

    use super::*;

    #[test]
    fn a_digest_changes_with_any_field_and_only_with_a_change() {
        let product = data_gen::product(3, 17);
        assert_eq!(content_digest(&product), content_digest(&product.clone()));
        type Change = (&'static str, fn(&mut Product));
        let changes: Vec<Change> = vec![
            ("product_id", |p| p.product_id += 1),
            ("name", |p| p.name = Some("Other".into())),
            ("brand", |p| p.brand = None),
            ("category", |p| p.category = Some("Toys".into())),
            ("description", |p| p.description = p.description.take().map(|d| format!("{d}!").into())),
            ("price", |p| p.price = p.price.map(|x| x + 0.01)),
            ("rating", |p| p.rating = None),
            ("in_stock", |p| p.in_stock = p.in_stock.map(|b| !b)),
            ("sku", |p| p.sku = Some("ZZZ-000-ZZZ".into())),
            ("manufacturer", |p| p.manufacturer = None),
            ("category_id", |p| p.category_id = Some(999)),
            ("weight", |p| p.weight = p.weight.map(|w| w + 1)),
            ("some_other_id", |p| p.some_other_id = None),
            ("attributes", |p| {
                p.attributes = Attributes::new([("colour", AttributeValue::Text("red".into()))])
            }),
        ];
        let mut seen = BTreeSet::from([content_digest(&product)]);
        for (field, change) in changes {
            let mut changed = product.clone();
            change(&mut changed);
            assert!(seen.insert(content_digest(&changed)), "changing {field} left the digest as it was");
        }
        // The same text in another field is another product.
        let mut named = Product::bare(1);
        named.name = Some("Acme".into());
        let mut branded = Product::bare(1);
        branded.brand = Some("Acme".into());
        assert_ne!(content_digest(&named), content_digest(&branded));
    }

    #[test]
    fn terms_are_the_name_a_mark_and_the_value_as_written() {
        for n in [-1e9, -2.5, -0.0, 0.0, 1e-9, 15.6, 1e300, f64::MAX] {
            assert_eq!(number_term("shoe_eu", n), format!("shoe_eu#{:016x}", sortable(n)));
        }
        for value in ["Red", "red", "Off-White 2", "ÉCLAIR", "ΟΔΟΣ", "İstanbul", ""] {
            assert_eq!(text_term("color", value), format!("color%{}", value.to_lowercase()), "{value}");
            assert_eq!(facet_term("color", value), format!("color%{value}"));
        }
        assert_eq!(empty_list_term("tags"), "tags!");
    }

    #[test]
    fn number_terms_sort_as_their_numbers() {
        let numbers = [-1e9, -2.5, -1.0, -0.0, 0.0, 1e-9, 0.5, 1.0, 15.6, 1024.0, 1e300];
        let terms: Vec<String> = numbers.iter().map(|n| number_term("x", *n)).collect();
        assert!(terms.windows(2).all(|w| w[0] <= w[1]), "{terms:?}");
        assert_eq!(terms[3], terms[4], "-0 and 0 are one number");
        for n in numbers {
            assert_eq!(
                facet_value(&number_term("x", n)),
                Some(("x", FacetValue::Number(if n == 0.0 { 0.0 } else { n })))
            );
        }
    }

    #[test]
    fn an_attribute_gives_each_distinct_value_and_an_empty_list_a_mark() {
        let attributes = Attributes::from_json(&serde_json::json!({
            "color": "Red", "sizes": ["M", "L", "M"], "wireless": true, "screen_in": 15.6, "shoe": [40, 41]
        }))
        .unwrap();
        let (mut filter, mut facet) = (Vec::new(), Vec::new());
        attribute_terms(&attributes.pairs(), |target, term| match target {
            Target::Filter => filter.push(term),
            Target::Facet => facet.push(term),
        });
        assert_eq!((filter.len(), facet.len()), (7, 7), "a list's values once each: {filter:?} {facet:?}");
        let filter: BTreeSet<String> = filter.into_iter().collect();
        let facet: BTreeSet<String> = facet.into_iter().collect();
        for term in ["color%red", "sizes%m", "sizes%l", "wireless%true"] {
            assert!(filter.contains(term), "{term} in {filter:?}");
        }
        assert!(filter.contains(&number_term("shoe", 41.0)));
        assert_eq!((filter.len(), facet.len()), (7, 7), "no term twice");
        assert!(facet.contains("color%Red") && facet.contains("sizes%M"));
        assert_eq!(facet_value("color%Red"), Some(("color", FacetValue::Text("Red"))));
        let mut empty = Vec::new();
        attribute_terms(
            &Attributes::from_json(&serde_json::json!({"tags": []})).unwrap().pairs(),
            |target, term| empty.push((target, term)),
        );
        assert_eq!(empty, [(Target::Filter, "tags!".to_owned())], "an empty list is there, with no value");
        // Each name's terms are a range of their own, even beside longer names.
        let (start, end) = all_terms("size");
        for other in ["size2%m", "size_eu#0", "sizes%m", "siz%e"] {
            assert!(!(start.as_str()..end.as_str()).contains(&other), "{other}");
        }
        for own in ["size!", "size%m", &number_term("size", -3.0), "size%"] {
            assert!((start.as_str()..end.as_str()).contains(&own), "{own}");
        }
    }
}
