//! The oracle of `filter` expressions and attribute facets: random expressions (nested,
//! negated, over multi-valued and missing attributes, numbers, booleans and the built-in
//! fields) are written as text, searched, and compared with a brute-force scan of the
//! catalogue under the rules README "Filters and facets" gives:
//!
//! - a text value equals a text or boolean value of the attribute, case-insensitively; a
//!   number equals a number of it, or a text value spelled as the number was written;
//! - `<`, `<=`, `>`, `>=` and `low TO high` compare numbers; `IN` is any of its values;
//! - a list meets a condition when one of its values does; a product without the field
//!   meets none, and so meets every `NOT` (and `!=`);
//! - `brand` and `category` compare trimmed and lower-cased;
//! - a facet is counted over the products matching everything but the top-level
//!   conjuncts that name its field alone: text values by product, largest count first,
//!   ties by value, 20 at most; an attribute with only numbers there gives their range.

use std::collections::{BTreeMap, BTreeSet};

use product_model::{AttributeValue, Attributes, Product};
use product_search::catalog::Catalog;
use product_search::search::{
    AttributeFacet, FacetRequest, Facets, Filters, MAX_LIMIT, Matching, PriceRange, SearchRequestBuilder,
};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::oracle::Oracle;

const PRODUCTS: u64 = 2_000;
const EXPRESSIONS: usize = 250;

#[derive(Debug, Clone)]
enum Value {
    /// Written quoted.
    Quoted(String),
    /// Written bare: a plain word, no keyword, no number.
    Word(String),
    Number(f64, String),
    Bool(bool),
}

impl Value {
    fn render(&self) -> String {
        match self {
            Self::Quoted(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
            Self::Word(text) | Self::Number(_, text) => text.clone(),
            Self::Bool(flag) => if *flag { "TRUE" } else { "false" }.to_owned(),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Quoted(text) | Self::Word(text) | Self::Number(_, text) => text.clone(),
            Self::Bool(flag) => flag.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Expr {
    Cmp(String, Op, Value),
    In(String, Vec<Value>, bool),
    Exists(String, bool),
    Range(String, f64, f64),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    fn render(&self) -> String {
        match self {
            Self::Cmp(field, op, value) => {
                let op = match op {
                    Op::Eq => "=",
                    Op::Ne => "!=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                };
                format!("{field} {op} {}", value.render())
            }
            Self::In(field, values, negated) => {
                let values: Vec<String> = values.iter().map(Value::render).collect();
                format!("{field} {}IN [{}]", if *negated { "NOT " } else { "" }, values.join(", "))
            }
            Self::Exists(field, negated) => format!("{field} {}EXISTS", if *negated { "not " } else { "" }),
            Self::Range(field, low, high) => format!("{field} {low} TO {high}"),
            Self::Not(inner) => format!("NOT ({})", inner.render()),
            Self::And(all) => {
                all.iter().map(|e| format!("({})", e.render())).collect::<Vec<_>>().join(" AND ")
            }
            Self::Or(all) => all.iter().map(|e| format!("({})", e.render())).collect::<Vec<_>>().join(" or "),
        }
    }

    /// The fields it names.
    fn fields(&self) -> BTreeSet<String> {
        match self {
            Self::Cmp(field, ..) | Self::In(field, ..) | Self::Exists(field, _) | Self::Range(field, ..) => {
                BTreeSet::from([field.clone()])
            }
            Self::Not(inner) => inner.fields(),
            Self::And(all) | Self::Or(all) => all.iter().flat_map(Expr::fields).collect(),
        }
    }
}

/// A field's values on one product: texts (booleans as `true`/`false`) and numbers;
/// `None` when the product lacks it.
fn values_of(product: &Product, field: &str) -> Option<(Vec<String>, Vec<f64>)> {
    let text = |value: &Option<Box<str>>| value.as_deref().map(|v| (vec![v.to_owned()], Vec::new()));
    let number = |value: Option<f64>| value.map(|v| (Vec::new(), vec![v]));
    match field {
        "brand" => text(&product.brand),
        "category" => text(&product.category),
        "price" => number(product.price),
        "rating" => number(product.rating),
        "in_stock" => product.in_stock.map(|v| (vec![v.to_string()], Vec::new())),
        _ => {
            let name = field.strip_prefix("attributes.").expect("an attribute");
            Some(match product.attributes.get(name)? {
                AttributeValue::Text(text) => (vec![text.to_string()], Vec::new()),
                AttributeValue::Bool(flag) => (vec![flag.to_string()], Vec::new()),
                AttributeValue::Texts(texts) => (texts.iter().map(|t| t.to_string()).collect(), Vec::new()),
                AttributeValue::Number(n) => (Vec::new(), vec![n.as_f64().unwrap()]),
                AttributeValue::Numbers(ns) => (Vec::new(), ns.iter().map(|n| n.as_f64().unwrap()).collect()),
            })
        }
    }
}

fn equals(product: &Product, field: &str, value: &Value) -> bool {
    let Some((texts, numbers)) = values_of(product, field) else { return false };
    let key = matches!(field, "brand" | "category");
    let fold = |text: &str| if key { text.trim().to_lowercase() } else { text.to_lowercase() };
    let wanted = fold(&value.text());
    let number_equal = match value {
        Value::Number(n, _) => numbers.contains(n),
        _ => false,
    };
    number_equal || texts.iter().any(|text| fold(text) == wanted)
}

fn holds(product: &Product, expr: &Expr) -> bool {
    match expr {
        Expr::Cmp(field, Op::Eq, value) => equals(product, field, value),
        Expr::Cmp(field, Op::Ne, value) => !equals(product, field, value),
        Expr::Cmp(field, op, value) => {
            let Value::Number(n, _) = value else { panic!("a range compares numbers") };
            let numbers = values_of(product, field).map(|(_, numbers)| numbers).unwrap_or_default();
            numbers.iter().any(|x| match op {
                Op::Lt => x < n,
                Op::Le => x <= n,
                Op::Gt => x > n,
                _ => x >= n,
            })
        }
        Expr::In(field, values, negated) => values.iter().any(|v| equals(product, field, v)) != *negated,
        Expr::Exists(field, negated) => values_of(product, field).is_some() != *negated,
        Expr::Range(field, low, high) => {
            let numbers = values_of(product, field).map(|(_, numbers)| numbers).unwrap_or_default();
            // Each bound on its own: one value may meet the lower and another the upper.
            numbers.iter().any(|x| x >= low) && numbers.iter().any(|x| x <= high)
        }
        Expr::Not(inner) => !holds(product, inner),
        Expr::And(all) => all.iter().all(|e| holds(product, e)),
        Expr::Or(all) => all.iter().any(|e| holds(product, e)),
    }
}

/// The catalogue: generated products, and some with hand-made attributes the generator
/// never writes (mixed case, numbers and text under one name, empty lists, lists of
/// numbers).
fn catalogue() -> Vec<Product> {
    let mut products = data_gen::generate(17, PRODUCTS);
    let odd = [
        json!({"color": "Red", "size": 42, "tags": ["New", "sale"], "volume": [1.5, 3]}),
        json!({"color": "RED", "size": "42", "tags": [], "volume": 2}),
        json!({"color": "red", "size": ["M", "L"], "wireless": false, "volume": -4.25}),
        json!({"color": "blue green", "size": 38.5, "tags": ["sale"]}),
        json!({"color": "it's", "tags": ["a\\b"], "wireless": true}),
    ];
    for (i, attributes) in odd.iter().cycle().take(60).enumerate() {
        let mut product = products[i * 7].clone();
        product.product_id = PRODUCTS + 1 + i as u64;
        product.sku = Some(format!("ODD-{i:04}").into());
        product.attributes = Attributes::from_json(attributes).unwrap();
        products.push(product);
    }
    products
}

/// Values of `field` as written in filters: drawn from the catalogue, in any case, and
/// some no product has.
fn some_value(products: &[Product], field: &str, rng: &mut ChaCha8Rng) -> Value {
    for _ in 0..20 {
        let product = products.choose(rng).unwrap();
        let Some((texts, numbers)) = values_of(product, field) else { continue };
        if let Some(number) = numbers.choose(rng) {
            return Value::Number(*number, number.to_string());
        }
        let Some(text) = texts.choose(rng) else { continue };
        if field == "in_stock" || text == "true" || text == "false" {
            return Value::Bool(text == "true");
        }
        let text = if rng.random_bool(0.3) { text.to_uppercase() } else { text.clone() };
        let plain = text.chars().all(|c| c.is_ascii_alphabetic())
            && !["and", "or", "not", "in", "exists", "to", "true", "false", "inf", "nan"]
                .contains(&text.to_lowercase().as_str());
        return if plain && rng.random_bool(0.5) { Value::Word(text) } else { Value::Quoted(text) };
    }
    match field {
        "price" | "rating" | "in_stock" => Value::Number(1.0, "1".into()),
        _ => Value::Quoted("nothing has this".into()),
    }
}

const FIELDS: [&str; 16] = [
    "brand",
    "category",
    "price",
    "rating",
    "in_stock",
    "attributes.color",
    "attributes.size",
    "attributes.material",
    "attributes.screen_in",
    "attributes.formats",
    "attributes.shoe_size_eu",
    "attributes.wireless",
    "attributes.tags",
    "attributes.volume",
    "attributes.pages",
    "attributes.missing",
];

fn is_numeric(products: &[Product], field: &str) -> bool {
    matches!(field, "price" | "rating")
        || products.iter().any(|p| values_of(p, field).is_some_and(|(_, numbers)| !numbers.is_empty()))
}

fn condition(products: &[Product], rng: &mut ChaCha8Rng) -> Expr {
    let field = FIELDS.choose(rng).unwrap().to_string();
    let numeric = is_numeric(products, &field) && field != "in_stock";
    let text_only = matches!(field.as_str(), "brand" | "category" | "in_stock");
    match rng.random_range(0..10) {
        0 => Expr::Exists(field, rng.random_bool(0.3)),
        1 | 2 => {
            let values = (0..rng.random_range(1..=4)).map(|_| some_value(products, &field, rng)).collect();
            Expr::In(field, values, rng.random_bool(0.25))
        }
        3 | 4 if numeric && !text_only => {
            let Value::Number(n, _) = some_value(products, &field, rng) else {
                return Expr::Exists(field, false);
            };
            let op = *[Op::Lt, Op::Le, Op::Gt, Op::Ge].choose(rng).unwrap();
            Expr::Cmp(field, op, Value::Number(n, n.to_string()))
        }
        5 if numeric && !text_only => {
            let (Value::Number(a, _), Value::Number(b, _)) =
                (some_value(products, &field, rng), some_value(products, &field, rng))
            else {
                return Expr::Exists(field, true);
            };
            Expr::Range(field, a.min(b), a.max(b))
        }
        _ => {
            let op = if rng.random_bool(0.2) { Op::Ne } else { Op::Eq };
            Expr::Cmp(field.clone(), op, some_value(products, &field, rng))
        }
    }
}

fn expression(products: &[Product], rng: &mut ChaCha8Rng, depth: u32) -> Expr {
    if depth == 0 || rng.random_bool(0.4) {
        return condition(products, rng);
    }
    let n = rng.random_range(2..=3);
    match rng.random_range(0..5) {
        0 => Expr::Not(Box::new(expression(products, rng, depth - 1))),
        1 | 2 => Expr::Or((0..n).map(|_| expression(products, rng, depth - 1)).collect()),
        _ => Expr::And((0..n).map(|_| expression(products, rng, depth - 1)).collect()),
    }
}

/// Every id of a search, page by page, and its total and facets.
fn search_all(
    catalog: &Catalog,
    text: &str,
    filters: &Filters,
    filter: &str,
    facets: &str,
) -> (u64, BTreeSet<u64>, Option<Facets>) {
    let mut ids = BTreeSet::new();
    let (mut total, mut found_facets) = (0, None);
    for offset in (0..1_000).step_by(MAX_LIMIT) {
        let request = SearchRequestBuilder {
            text: Some(text.to_owned()),
            limit: Some(MAX_LIMIT as i64),
            offset: Some(offset as i64),
            filters: filters.clone(),
            filter: Some(filter.to_owned()),
            facets: FacetRequest::parse(facets).unwrap(),
            matching: Matching::Auto,
            ..Default::default()
        }
        .build()
        .unwrap_or_else(|e| panic!("{filter}: {e}"));
        let results = catalog.search(&request).unwrap();
        total = results.total;
        if offset == 0 {
            found_facets = results.facets.clone();
        }
        let page: Vec<u64> = results.hits.iter().map(|h| h.product.product_id).collect();
        ids.extend(&page);
        if page.len() < MAX_LIMIT {
            break;
        }
    }
    (total, ids, found_facets)
}

#[test]
fn filter_expressions_match_a_brute_force_scan() {
    let products = catalogue();
    let oracle = Oracle::new(products.clone());
    let catalog = Catalog::build(products.clone()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let (mut empty, mut some, mut negated_missing) = (0, 0, 0);
    for i in 0..EXPRESSIONS {
        let expr = expression(&products, &mut rng, 3);
        let text = match i % 5 {
            0 => {
                products.choose(&mut rng).unwrap().name.clone().unwrap().split(' ').next().unwrap().to_owned()
            }
            1 => "lamp".to_owned(),
            _ => String::new(),
        };
        let filters = match i % 7 {
            0 => Filters { in_stock: Some(true), ..Default::default() },
            1 => Filters { min_price: Some(20.0), ..Default::default() },
            _ => Filters::default(),
        };
        let rendered = expr.render();
        let keep = |p: &Product| holds(p, &expr);
        let expected = oracle.expect_where(&text, &filters, true, true, &keep).ids;
        let (total, ids, _) = search_all(&catalog, &text, &filters, &rendered, "");
        let case = format!("q={text:?} {filters:?} filter={rendered}");
        assert_eq!(total, expected.len() as u64, "total_found for {case}");
        if expected.len() <= 1_000 {
            assert_eq!(ids, expected, "matching ids for {case}");
        }
        if expected.is_empty() {
            empty += 1;
        } else {
            some += 1;
        }
        negated_missing += usize::from(rendered.contains("attributes.missing") && !expected.is_empty());
    }
    assert!(
        some > EXPRESSIONS / 3,
        "only {some} of the expressions matched anything ({empty} matched nothing)"
    );
    assert!(empty > 5, "some expressions should match nothing");
    assert!(negated_missing > 0, "a missing attribute under NOT should keep products");
}

/// What a facet of `field` holds over `products`.
fn expected_facet(products: &[&Product], field: &str) -> (BTreeMap<String, u64>, Option<PriceRange>) {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut range: Option<PriceRange> = None;
    for product in products {
        let Some((texts, numbers)) = values_of(product, field) else { continue };
        for text in texts.into_iter().collect::<BTreeSet<String>>() {
            *counts.entry(text).or_default() += 1;
        }
        for n in numbers {
            range = Some(match range {
                None => PriceRange { min: n, max: n },
                Some(r) => PriceRange { min: r.min.min(n), max: r.max.max(n) },
            });
        }
    }
    (counts, range)
}

fn top(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut values: Vec<(String, u64)> = counts.into_iter().collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    values.truncate(20);
    values
}

#[test]
fn attribute_facets_count_the_matching_set_without_their_own_conditions() {
    let products = catalogue();
    let catalog = Catalog::build(products.clone()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(78);
    let facet_fields = [
        "attributes.color",
        "attributes.size",
        "attributes.screen_in",
        "attributes.tags",
        "attributes.volume",
        "brand",
        "price",
    ];
    let facets = facet_fields.join(",");
    let mut disjunctive = 0;
    for _ in 0..60 {
        // A conjunction, as a shopper's choices are: some of them on one facet's field.
        let conjuncts: Vec<Expr> = (0..rng.random_range(1..=3))
            .map(|_| {
                let field = facet_fields.choose(&mut rng).unwrap().to_string();
                if rng.random_bool(0.6) {
                    let values = (0..rng.random_range(1..=2))
                        .map(|_| some_value(&products, &field, &mut rng))
                        .collect();
                    Expr::In(field, values, false)
                } else {
                    expression(&products, &mut rng, 1)
                }
            })
            .collect();
        let expr = Expr::And(conjuncts.clone());
        let (total, _, found) = search_all(&catalog, "", &Filters::default(), &expr.render(), &facets);
        let matching: Vec<&Product> = products.iter().filter(|p| holds(p, &expr)).collect();
        assert_eq!(total, matching.len() as u64, "total for {}", expr.render());
        let found = found.expect("facets asked for");
        for field in facet_fields {
            let others: Vec<&Expr> =
                conjuncts.iter().filter(|c| c.fields() != BTreeSet::from([field.to_owned()])).collect();
            disjunctive += usize::from(others.len() < conjuncts.len());
            let counted: Vec<&Product> =
                products.iter().filter(|p| others.iter().all(|c| holds(p, c))).collect();
            let (counts, range) = expected_facet(&counted, field);
            let case = format!("facet {field} under {}", expr.render());
            match field {
                "brand" => assert_eq!(found.brand.clone().unwrap(), top(counts), "{case}"),
                "price" => assert_eq!(found.price.unwrap(), range, "{case}"),
                _ => {
                    let name = field.strip_prefix("attributes.").unwrap();
                    let facet = found.attributes.iter().find(|(n, _)| n == name).map(|(_, f)| f.clone());
                    let wanted = match range {
                        Some(range) if counts.is_empty() => AttributeFacet::Range(range),
                        _ => AttributeFacet::Values(top(counts)),
                    };
                    assert_eq!(facet, Some(wanted), "{case}");
                }
            }
        }
    }
    assert!(disjunctive > 20, "only {disjunctive} facets were counted without their own condition");
}
