//! Counting facet values over a matching set in one pass, from fast columns: category and
//! brand value counts, and the price range.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::query::PriceRange;

/// Which of the facet columns to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct FacetCollector {
    pub category: bool,
    pub brand: bool,
    pub price: bool,
}

pub const CATEGORY_COLUMN: &str = "category_facet";
pub const BRAND_COLUMN: &str = "brand_facet";
pub const PRICE_COLUMN: &str = "price";

/// Raw facet counts: value to count, and the price range (if any price was seen).
#[derive(Debug, Default)]
pub struct FacetFruit {
    pub category: BTreeMap<String, u64>,
    pub brand: BTreeMap<String, u64>,
    pub price: Option<PriceRange>,
}

impl FacetFruit {
    fn merge(&mut self, other: FacetFruit) {
        for (mine, theirs) in [(&mut self.category, other.category), (&mut self.brand, other.brand)] {
            for (value, count) in theirs {
                *mine.entry(value).or_default() += count;
            }
        }
        self.price = match (self.price, other.price) {
            (Some(a), Some(b)) => Some(PriceRange { min: a.min.min(b.min), max: a.max.max(b.max) }),
            (a, b) => a.or(b),
        };
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
        }
    }
}
