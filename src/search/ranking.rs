//! Ranking rules (setting `ranking`): numbers that order products a search ranks equally
//! (the same score, or under a sort the same sort value and score) before the lower
//! product id does, as Algolia's `customRanking` or Meilisearch's `rating:desc` rules.
//! A rule is a field and a direction: `rating:desc`, `price:asc`, `in_stock:desc` (in stock
//! first) or `attributes.<name>:desc` over an attribute's numbers (a list ranks by its
//! highest number descending, its lowest ascending). Products without a value come after
//! those with one, whichever the direction.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{DocId, SegmentReader};

use super::facets::{ATTRIBUTE_COLUMN, FacetTerms, PRICE_COLUMN};
use super::filter::FilterField;
use super::schema::{FacetValue, RATING_COLUMN, facet_value, number_terms};

/// Most rules a ranking holds.
pub const MAX_RANKING_RULES: usize = 4;

/// One rule: a numeric field, and whether greater values rank first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RankingRule {
    pub field: FilterField,
    pub descending: bool,
}

impl RankingRule {
    /// Reads `field:asc` or `field:desc`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let shown: String = text.chars().take(80).collect();
        let Some((name, direction)) = text.rsplit_once(':') else {
            return Err(format!(
                "{shown:?} is not a rule; write a field and a direction, such as \"rating:desc\""
            ));
        };
        let descending = match direction {
            "desc" => true,
            "asc" => false,
            _ => return Err(format!("{shown:?}: the direction is asc or desc")),
        };
        let field = FilterField::parse(name).ok_or_else(|| {
            format!(
                "{shown:?}: {name:?} is not a field; a rule orders by price, rating, in_stock or \
                 attributes.<name> (lowercase letters, digits and _)"
            )
        })?;
        if matches!(field, FilterField::Brand | FilterField::Category) {
            return Err(format!(
                "{shown:?}: {field} is text; a rule orders by a number: price, rating, in_stock or an attribute's numbers"
            ));
        }
        Ok(Self { field, descending })
    }
}

impl fmt::Display for RankingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.field, if self.descending { "desc" } else { "asc" })
    }
}

/// A document's rule values, each oriented so that greater ranks first (a value missing is
/// below every other); rules not given are 0.
pub type TieKey = [f64; MAX_RANKING_RULES];

/// Each rule's values per document of a segment, read once: every match that may enter a
/// page, or that ties with its last, needs its values, and an array costs far less than
/// the column codec (or the attribute column's ordinals). 8 bytes a document a rule.
#[derive(Default)]
pub struct RuleColumns {
    segments: Mutex<HashMap<(SegmentId, RankingRule), Values>>,
}

/// One rule's values, by document.
type Values = Arc<[f64]>;

/// Rule columns kept at most; past it the cache starts over (segments come and go with
/// writes and merges, and rules with the settings).
const KEPT_COLUMNS: usize = 64;

impl RuleColumns {
    /// `rule`'s values of `segment`'s documents, oriented so that greater ranks first.
    fn of(
        &self,
        rule: &RankingRule,
        segment: &SegmentReader,
        terms: &FacetTerms,
    ) -> tantivy::Result<Arc<[f64]>> {
        let key = (segment.segment_id(), rule.clone());
        if let Some(values) = self.segments.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(Arc::clone(values));
        }
        let values: Arc<[f64]> = read_values(rule, segment, terms)?.into();
        let mut cache = self.segments.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= KEPT_COLUMNS {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&values));
        Ok(values)
    }
}

/// Every document's value under `rule`, oriented: negated when ascending, and below every
/// other when missing.
fn read_values(rule: &RankingRule, segment: &SegmentReader, terms: &FacetTerms) -> tantivy::Result<Vec<f64>> {
    let fast = segment.fast_fields();
    let docs = 0..segment.max_doc();
    let values: Vec<Option<f64>> = match &rule.field {
        FilterField::Price | FilterField::Rating => {
            let column: Column<f64> =
                fast.f64(if rule.field == FilterField::Price { PRICE_COLUMN } else { RATING_COLUMN })?;
            docs.map(|doc| column.first(doc)).collect()
        }
        FilterField::InStock => {
            let column: Column<bool> = fast.bool("in_stock")?;
            docs.map(|doc| column.first(doc).map(|flag| if flag { 1.0 } else { 0.0 })).collect()
        }
        FilterField::Attribute(name) => match fast.str(ATTRIBUTE_COLUMN)? {
            None => docs.map(|_| None).collect(),
            Some(column) => {
                let all = terms.of(segment, ATTRIBUTE_COLUMN, &column)?;
                let (start, end) = number_terms(name);
                let at = |key: &str| all.partition_point(|term| **term < *key) as u64;
                let ords = at(&start)..at(&end);
                let number = |ord: u64| match facet_value(&all[ord as usize]) {
                    Some((_, FacetValue::Number(number))) => Some(number),
                    _ => None,
                };
                docs.map(|doc| {
                    // A list's terms sort as its numbers: its highest is its last ordinal.
                    let own = column.term_ords(doc).filter(|ord| ords.contains(ord));
                    let ord = if rule.descending { own.max() } else { own.min() };
                    ord.and_then(number)
                })
                .collect()
            }
        },
        FilterField::Brand | FilterField::Category => unreachable!("rules over text are refused when read"),
    };
    Ok(values
        .into_iter()
        .map(|value| match value {
            // -0 is 0, so that equal values are equal to `==` as to `total_cmp`.
            Some(0.0) => 0.0,
            Some(value) if !value.is_nan() => {
                if rule.descending {
                    value
                } else {
                    -value
                }
            }
            _ => f64::NEG_INFINITY,
        })
        .collect())
}

/// The rules' values of one segment's documents.
#[derive(Default)]
pub struct RuleValues {
    columns: Vec<Arc<[f64]>>,
}

impl RuleValues {
    /// The values of `rules` over `segment`, from `columns` (read there if new); `terms`
    /// caches the attribute column's terms.
    pub fn new(
        rules: &[RankingRule],
        segment: &SegmentReader,
        columns: &RuleColumns,
        terms: &FacetTerms,
    ) -> tantivy::Result<Self> {
        let columns = rules
            .iter()
            .take(MAX_RANKING_RULES)
            .map(|rule| columns.of(rule, segment, terms))
            .collect::<tantivy::Result<_>>()?;
        Ok(Self { columns })
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// `doc`'s rule values.
    pub fn key(&self, doc: DocId) -> TieKey {
        let mut key = [0.0; MAX_RANKING_RULES];
        for (slot, values) in key.iter_mut().zip(&self.columns) {
            *slot = values[doc as usize];
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use product_model::{AttributeValue, Attributes, Product};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use serde_json::json;

    use super::*;
    use crate::search::{MatchingOptions, SearchIndex, SearchRequestBuilder, Sort};

    #[test]
    fn rules_read_a_numeric_field_and_a_direction() {
        assert_eq!(
            RankingRule::parse("rating:desc"),
            Ok(RankingRule { field: FilterField::Rating, descending: true })
        );
        let attribute = RankingRule::parse("attributes.storage_gb:asc").unwrap();
        assert_eq!(attribute.field, FilterField::Attribute("storage_gb".into()));
        assert_eq!(attribute.to_string(), "attributes.storage_gb:asc");
        assert!(RankingRule::parse("rating").unwrap_err().contains("write a field and a direction"));
        assert!(RankingRule::parse("rating:up").unwrap_err().contains("the direction is asc or desc"));
        assert!(RankingRule::parse("brand:asc").unwrap_err().contains("brand is text"));
        assert!(RankingRule::parse("popularity:desc").unwrap_err().contains("\"popularity\" is not a field"));
        assert!(RankingRule::parse("attributes.Big:desc").unwrap_err().contains("is not a field"));
    }

    /// 36,000 products, about half in two groups of equal score for `widget`: named so
    /// (ranked first) or `widget of a longer name`; the others `gadget`. Few distinct
    /// prices, ratings and popularities, some missing, some popularities lists or text: ties
    /// by the thousand, for the rules to break.
    fn catalogue() -> Vec<Product> {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        (1..=36_000u64)
            .map(|id| {
                let popularity = match rng.random_range(0..10) {
                    0 => json!({}),
                    1 => json!({"popularity": "high"}),
                    2 => json!({"popularity": [rng.random_range(0..20), rng.random_range(0..20)]}),
                    _ => json!({"popularity": rng.random_range(0..20)}),
                };
                Product {
                    name: Some(
                        ["widget", "widget of a longer name", "gadget"][rng.random_range(0..3)].into(),
                    ),
                    price: (rng.random_range(0..8) > 0).then(|| f64::from(rng.random_range(1..4u8))),
                    rating: (rng.random_range(0..8) > 0).then(|| f64::from(rng.random_range(1..=5u8))),
                    in_stock: (rng.random_range(0..8) > 0).then(|| rng.random_range(0..2) == 0),
                    attributes: Attributes::from_json(&popularity).unwrap(),
                    ..Product::bare(id)
                }
            })
            .collect()
    }

    /// `product`'s value under `rule`, oriented as [`RuleValues::key`] orients it.
    fn value(product: &Product, rule: &RankingRule) -> f64 {
        let value = match &rule.field {
            FilterField::Price => product.price,
            FilterField::Rating => product.rating,
            FilterField::InStock => product.in_stock.map(|flag| if flag { 1.0 } else { 0.0 }),
            FilterField::Attribute(name) => {
                let numbers: Vec<f64> = match product.attributes.get(name) {
                    Some(AttributeValue::Number(n)) => vec![n.as_f64().unwrap()],
                    Some(AttributeValue::Numbers(list)) => list.iter().filter_map(|n| n.as_f64()).collect(),
                    _ => Vec::new(),
                };
                let pick = if rule.descending { f64::max } else { f64::min };
                numbers.into_iter().reduce(pick)
            }
            FilterField::Brand | FilterField::Category => unreachable!(),
        };
        match value {
            Some(value) if rule.descending => value,
            Some(value) => -value,
            None => f64::NEG_INFINITY,
        }
    }

    #[test]
    fn pages_follow_score_then_the_rules_then_the_product_id() {
        let products = catalogue();
        let index = SearchIndex::build(&products, MatchingOptions::default()).unwrap();
        // One segment, so that every match of `widget` is in one and pages are bounded.
        index.wait_for_one_segment();
        let products: Vec<Product> =
            products.into_iter().filter(|p| p.name.as_deref() != Some("gadget")).collect();
        let rule_sets: [&[&str]; 5] = [
            &[],
            &["attributes.popularity:desc"],
            &["attributes.popularity:asc", "rating:desc"],
            &["in_stock:desc", "price:asc", "rating:desc"],
            &["rating:asc", "attributes.popularity:desc", "in_stock:desc", "price:desc"],
        ];
        let mut left_out = 0;
        for rules in rule_sets {
            let rules: Vec<RankingRule> = rules.iter().map(|r| RankingRule::parse(r).unwrap()).collect();
            index.set_matching(Arc::new(MatchingOptions {
                ranking: rules.clone().into(),
                ..MatchingOptions::default()
            }));
            for sort in [Sort::Relevance, Sort::PriceAsc] {
                // Under relevance the shorter name scores higher; under a price sort the
                // price comes first (missing last), then the score.
                let sorted_by = |p: &Product| match sort {
                    Sort::PriceAsc => p.price.map_or(f64::NEG_INFINITY, |price| -price),
                    _ => 0.0,
                };
                let mut expected: Vec<&Product> = products.iter().collect();
                expected.sort_by(|a, b| {
                    let short = |p: &Product| p.name.as_deref() == Some("widget");
                    let by_rules = rules
                        .iter()
                        .map(|rule| value(b, rule).total_cmp(&value(a, rule)))
                        .fold(Ordering::Equal, Ordering::then);
                    sorted_by(b)
                        .total_cmp(&sorted_by(a))
                        .then(short(b).cmp(&short(a)))
                        .then(by_rules)
                        .then(a.product_id.cmp(&b.product_id))
                });
                for (offset, limit) in [(0usize, 20usize), (35, 15), (960, 40)] {
                    let request = SearchRequestBuilder {
                        text: Some("widget".into()),
                        sort,
                        offset: Some(offset as i64),
                        limit: Some(limit as i64),
                        ..Default::default()
                    }
                    .build()
                    .unwrap();
                    let before = crate::search::matcher::windows_left_out();
                    let hits = index.search(&request).unwrap();
                    left_out += crate::search::matcher::windows_left_out() - before;
                    let want: Vec<u64> =
                        expected[offset..offset + limit].iter().map(|p| p.product_id).collect();
                    assert_eq!(hits.ids, want, "{rules:?} {sort:?} at {offset}+{limit}");
                    assert_eq!(hits.total, products.len() as u64);
                }
            }
        }
        // Relevance pages were bounded: windows whose ties all lose were left out.
        assert!(left_out > 0, "{left_out} windows left out");
    }
}
