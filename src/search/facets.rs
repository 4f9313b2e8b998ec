//! Counting facet values over a matching set in one pass, from fast columns: category and
//! brand value counts, the price range, and per attribute asked for, its text values'
//! counts and its numbers' range.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::filter::FilterField;
use super::query::PriceRange;
use super::schema::{FacetValue, facet_value};

/// Which of the facet columns to read.
#[derive(Debug, Clone, Default)]
pub struct FacetCollector {
    pub category: bool,
    pub brand: bool,
    pub price: bool,
    /// The attributes to count, by name.
    pub attributes: Arc<BTreeSet<String>>,
}

pub const CATEGORY_COLUMN: &str = "category_facet";
pub const BRAND_COLUMN: &str = "brand_facet";
pub const PRICE_COLUMN: &str = "price";
pub const ATTRIBUTE_COLUMN: &str = "attribute_facet";

/// Raw facet counts: value to count, and the price range (if any price was seen).
#[derive(Debug, Default)]
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
    fn merge(&mut self, other: FacetFruit) {
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
    pub fn of(field: &FilterField) -> Self {
        let mut only = Self::default();
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
        let strings = |wanted: bool, name: &str| -> tantivy::Result<Option<StrCounts>> {
            Ok(if wanted { fast.str(name)?.map(StrCounts::new) } else { None })
        };
        Ok(FacetSegmentCollector {
            category: strings(self.category, CATEGORY_COLUMN)?,
            brand: strings(self.brand, BRAND_COLUMN)?,
            price: if self.price { Some(fast.f64(PRICE_COLUMN)?) } else { None },
            range: None,
            attributes: if self.attributes.is_empty() {
                None
            } else {
                fast.str(ATTRIBUTE_COLUMN)?
                    .map(|column| (StrCounts::new(column), Arc::clone(&self.attributes)))
            },
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
    counts: Vec<u64>,
}

impl StrCounts {
    fn new(column: StrColumn) -> Self {
        let counts = vec![0; column.num_terms()];
        Self { column, counts }
    }

    fn collect(&mut self, doc: DocId) {
        for ord in self.column.term_ords(doc) {
            self.counts[ord as usize] += 1;
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let mut value = String::new();
        for (ord, count) in self.counts.into_iter().enumerate() {
            if count > 0 && self.column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                out.insert(value.clone(), count);
            }
        }
        out
    }
}

pub struct FacetSegmentCollector {
    category: Option<StrCounts>,
    brand: Option<StrCounts>,
    price: Option<Column<f64>>,
    range: Option<PriceRange>,
    /// Every attribute value's count, and the attributes wanted of them.
    attributes: Option<(StrCounts, Arc<BTreeSet<String>>)>,
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(counts) = &mut self.category {
            counts.collect(doc);
        }
        if let Some(counts) = &mut self.brand {
            counts.collect(doc);
        }
        if let Some((counts, _)) = &mut self.attributes {
            counts.collect(doc);
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
            attributes: self
                .attributes
                .map(|(counts, wanted)| attribute_fruits(counts.harvest(), &wanted))
                .unwrap_or_default(),
        }
    }
}

/// The counts of the `wanted` attributes among every attribute value's count.
fn attribute_fruits(
    counts: BTreeMap<String, u64>,
    wanted: &BTreeSet<String>,
) -> BTreeMap<String, AttributeFruit> {
    let mut out: BTreeMap<String, AttributeFruit> =
        wanted.iter().map(|name| (name.clone(), AttributeFruit::default())).collect();
    for (entry, count) in counts {
        let Some((name, value)) = facet_value(&entry) else { continue };
        let Some(fruit) = out.get_mut(name) else { continue };
        match value {
            FacetValue::Text(text) => {
                fruit.values.insert(text.to_owned(), count);
            }
            FacetValue::Number(number) => {
                fruit.range = widen(fruit.range, Some(PriceRange { min: number, max: number }));
            }
        }
    }
    out
}
