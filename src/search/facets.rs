//! Counting facet values over a matching set in one pass, from fast columns: category and
//! brand value counts, the price range, and per attribute asked for, its text values'
//! counts and its numbers' range.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::filter::FilterField;
use super::query::PriceRange;
use super::restriction::{Restriction, SegmentRestriction};
use super::schema::{FacetValue, facet_value, number_terms, text_terms};

/// Which of the facet columns to read.
#[derive(Clone, Default)]
pub struct FacetCollector {
    pub category: bool,
    pub brand: bool,
    pub price: bool,
    /// The attributes to count, by name.
    pub attributes: Arc<BTreeSet<String>>,
    /// The columns' terms, decoded once per segment.
    pub terms: Arc<FacetTerms>,
    /// The matches counted.
    pub restriction: Restriction,
}

/// The terms of the facet columns, per segment, decoded once: a column's dictionary
/// decompresses a block for every lookup, which cost a search more than its counting.
#[derive(Default)]
pub struct FacetTerms {
    segments: Mutex<HashMap<(SegmentId, &'static str), Terms>>,
}

/// A column's terms, by ordinal.
type Terms = Arc<[Box<str>]>;

/// Columns decoded at most; past it the cache starts over (segments come and go with writes
/// and merges, and are decoded again when next met).
const DECODED_COLUMNS: usize = 96;

impl FacetTerms {
    /// The terms of `segment`'s column `name`, by ordinal.
    pub(super) fn of(
        &self,
        segment: &SegmentReader,
        name: &'static str,
        column: &StrColumn,
    ) -> tantivy::Result<Arc<[Box<str>]>> {
        let key = (segment.segment_id(), name);
        if let Some(terms) = self.segments.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(Arc::clone(terms));
        }
        let mut terms = Vec::with_capacity(column.num_terms());
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            terms.push(String::from_utf8_lossy(stream.key()).into());
        }
        let terms: Terms = terms.into();
        let mut cache = self.segments.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= DECODED_COLUMNS {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&terms));
        Ok(terms)
    }
}

pub const CATEGORY_COLUMN: &str = "category_facet";
pub const BRAND_COLUMN: &str = "brand_facet";
pub const PRICE_COLUMN: &str = "price";
pub const ATTRIBUTE_COLUMN: &str = "attribute_facet";

/// Raw facet counts: value to count, and the price range (if any price was seen).
#[derive(Debug, Default, Clone)]
pub struct FacetFruit {
    pub category: BTreeMap<String, u64>,
    pub brand: BTreeMap<String, u64>,
    pub price: Option<PriceRange>,
    /// Per attribute counted: its text values' counts and its numbers' range.
    pub attributes: BTreeMap<String, AttributeFruit>,
}

/// One attribute's counts over a matching set.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AttributeFruit {
    /// Products per text (or boolean) value, as given.
    pub values: BTreeMap<String, u64>,
    /// The lowest and highest number, if any product has one.
    pub range: Option<PriceRange>,
}

fn widen(range: Option<PriceRange>, other: Option<PriceRange>) -> Option<PriceRange> {
    match (range, other) {
        (Some(a), Some(b)) => Some(PriceRange { min: a.min.min(b.min), max: a.max.max(b.max) }),
        (a, b) => a.or(b),
    }
}

fn add_counts(mine: &mut BTreeMap<String, u64>, theirs: BTreeMap<String, u64>) {
    for (value, count) in theirs {
        *mine.entry(value).or_default() += count;
    }
}

impl FacetFruit {
    /// Adds the counts of a disjoint set of products.
    pub fn merge(&mut self, other: FacetFruit) {
        add_counts(&mut self.category, other.category);
        add_counts(&mut self.brand, other.brand);
        self.price = widen(self.price, other.price);
        for (name, theirs) in other.attributes {
            let mine = self.attributes.entry(name).or_default();
            add_counts(&mut mine.values, theirs.values);
            mine.range = widen(mine.range, theirs.range);
        }
    }
}

impl FacetCollector {
    /// The collector of one field's facet alone.
    pub fn of(field: &FilterField, terms: &Arc<FacetTerms>) -> Self {
        let mut only = Self { terms: Arc::clone(terms), ..Self::default() };
        match field {
            FilterField::Category => only.category = true,
            FilterField::Brand => only.brand = true,
            FilterField::Price => only.price = true,
            FilterField::Attribute(name) => only.attributes = Arc::new(BTreeSet::from([name.clone()])),
            FilterField::Rating | FilterField::InStock => {}
        }
        only
    }
}

impl Collector for FacetCollector {
    type Fruit = FacetFruit;
    type Child = FacetSegmentCollector;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let fast = segment.fast_fields();
        let strings = |wanted: bool, name: &'static str| -> tantivy::Result<Option<StrCounts>> {
            if !wanted {
                return Ok(None);
            }
            let Some(column) = fast.str(name)? else { return Ok(None) };
            let terms = self.terms.of(segment, name, &column)?;
            Ok(Some(StrCounts::new(column, terms)))
        };
        let attributes = match fast.str(ATTRIBUTE_COLUMN)? {
            Some(column) if !self.attributes.is_empty() => {
                let terms = self.terms.of(segment, ATTRIBUTE_COLUMN, &column)?;
                Some(AttributeCounts::new(column, terms, &self.attributes))
            }
            _ => None,
        };
        Ok(FacetSegmentCollector {
            restriction: self.restriction.segment(segment)?,
            category: strings(self.category, CATEGORY_COLUMN)?,
            brand: strings(self.brand, BRAND_COLUMN)?,
            price: if self.price { Some(fast.f64(PRICE_COLUMN)?) } else { None },
            range: None,
            attributes,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<FacetFruit> {
        let mut merged = FacetFruit::default();
        for fruit in fruits {
            merged.merge(fruit);
        }
        Ok(merged)
    }
}

/// Counts per term ordinal of one string column in one segment.
pub struct StrCounts {
    column: StrColumn,
    terms: Terms,
    counts: Vec<u64>,
}

impl StrCounts {
    fn new(column: StrColumn, terms: Terms) -> Self {
        let counts = vec![0; terms.len()];
        Self { column, terms, counts }
    }

    fn collect(&mut self, doc: DocId) {
        for ord in self.column.term_ords(doc) {
            self.counts[ord as usize] += 1;
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let terms = &self.terms;
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(ord, count)| (terms[ord].to_string(), *count))
            .collect()
    }
}

/// The attribute column in one segment, and per attribute wanted, where its text values
/// and its numbers lie among the column's sorted terms, the counts of its text values, and
/// the lowest and highest of its number terms seen.
pub struct AttributeCounts {
    column: StrColumn,
    terms: Terms,
    wanted: Vec<WantedAttribute>,
}

struct WantedAttribute {
    name: String,
    texts: Range<usize>,
    /// Per text value (by ordinal from `texts.start`): products counted.
    counts: Vec<u32>,
    numbers: Range<usize>,
    /// The first and last number terms seen (their order is the numbers').
    seen: Option<(usize, usize)>,
}

impl AttributeCounts {
    fn new(column: StrColumn, terms: Terms, wanted: &BTreeSet<String>) -> Self {
        let at = |key: String| terms.partition_point(|term| **term < *key);
        let range = |(start, end): (String, String)| at(start)..at(end);
        let wanted = wanted
            .iter()
            .map(|name| {
                let texts = range(text_terms(name));
                let numbers = range(number_terms(name));
                let counts = vec![0; texts.len()];
                WantedAttribute { name: name.clone(), texts, counts, numbers, seen: None }
            })
            .collect();
        Self { column, terms, wanted }
    }

    fn collect(&mut self, doc: DocId) {
        for ord in self.column.term_ords(doc) {
            let ord = ord as usize;
            for wanted in &mut self.wanted {
                if wanted.texts.contains(&ord) {
                    wanted.counts[ord - wanted.texts.start] += 1;
                } else if wanted.numbers.contains(&ord) {
                    wanted.seen =
                        Some(wanted.seen.map_or((ord, ord), |(low, high)| (low.min(ord), high.max(ord))));
                }
            }
        }
    }

    /// Each wanted attribute's value counts and the range of its numbers.
    fn harvest(self) -> BTreeMap<String, AttributeFruit> {
        let terms = &self.terms;
        let mut out = BTreeMap::new();
        for wanted in self.wanted {
            let mut fruit = AttributeFruit::default();
            for (i, count) in wanted.counts.iter().enumerate().filter(|(_, count)| **count > 0) {
                if let Some((_, FacetValue::Text(text))) = facet_value(&terms[wanted.texts.start + i]) {
                    fruit.values.insert(text.to_owned(), u64::from(*count));
                }
            }
            if let Some((low, high)) = wanted.seen {
                for ord in [low, high] {
                    if let Some((_, FacetValue::Number(number))) = facet_value(&terms[ord]) {
                        fruit.range = widen(fruit.range, Some(PriceRange { min: number, max: number }));
                    }
                }
            }
            out.insert(wanted.name, fruit);
        }
        out
    }
}

pub struct FacetSegmentCollector {
    restriction: SegmentRestriction,
    category: Option<StrCounts>,
    brand: Option<StrCounts>,
    price: Option<Column<f64>>,
    range: Option<PriceRange>,
    attributes: Option<AttributeCounts>,
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        if !self.restriction.is_empty() && !self.restriction.keeps(doc) {
            return;
        }
        if let Some(counts) = &mut self.category {
            counts.collect(doc);
        }
        if let Some(counts) = &mut self.brand {
            counts.collect(doc);
        }
        if let Some(attributes) = &mut self.attributes {
            attributes.collect(doc);
        }
        if let Some(price) = self.price.as_ref().and_then(|column| column.first(doc)) {
            self.range = Some(match self.range {
                Some(r) => PriceRange { min: r.min.min(price), max: r.max.max(price) },
                None => PriceRange { min: price, max: price },
            });
        }
    }

    fn harvest(self) -> FacetFruit {
        FacetFruit {
            category: self.category.map(StrCounts::harvest).unwrap_or_default(),
            brand: self.brand.map(StrCounts::harvest).unwrap_or_default(),
            price: self.range,
            attributes: self.attributes.map(AttributeCounts::harvest).unwrap_or_default(),
        }
    }
}
