//! A [`Filter`] as a tantivy query over the schema's fields: text and boolean conditions
//! are terms, numeric ones ranges (of the fast price and rating columns, or of an
//! attribute's order-keeping number terms), `NOT` is everything but its inner query.

use std::ops::Bound;

use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScorer, EnableScoring, Explanation, InvertedIndexRangeQuery, Occur, Query,
    Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, TERMINATED, TantivyError, Term};

use super::filter::{Comparison, Filter, FilterField, Literal};
use super::schema::{Fields, all_terms, number_term, number_terms, text_term};

/// The query that matches exactly the products `filter` keeps.
pub fn filter_query(fields: &Fields, filter: &Filter) -> Box<dyn Query> {
    match filter {
        Filter::Compare(field, comparison, literal) => compare(fields, field, *comparison, literal),
        Filter::In(field, values) => {
            any_of(values.iter().map(|v| compare(fields, field, Comparison::Equal, v)).collect())
        }
        Filter::Exists(field) => exists(fields, field),
        Filter::Not(inner) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
            (Occur::MustNot, filter_query(fields, inner)),
        ])),
        Filter::And(all) => {
            Box::new(BooleanQuery::new(all.iter().map(|f| (Occur::Must, filter_query(fields, f))).collect()))
        }
        Filter::Or(all) => any_of(all.iter().map(|f| filter_query(fields, f)).collect()),
    }
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

fn any_of(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1 {
        return queries.pop().expect("one query");
    }
    Box::new(BooleanQuery::new(queries.into_iter().map(|q| (Occur::Should, q)).collect()))
}

/// A key field (brand, category) holds its values trimmed and lower-cased.
fn key(field: Field, literal: &Literal) -> Box<dyn Query> {
    term(Term::from_field_text(field, &literal.text().trim().to_lowercase()))
}

/// The bounds of `comparison` against `value`.
fn bounds<T: Clone>(comparison: Comparison, value: T) -> (Bound<T>, Bound<T>) {
    match comparison {
        Comparison::Equal => (Bound::Included(value.clone()), Bound::Included(value)),
        Comparison::Less => (Bound::Unbounded, Bound::Excluded(value)),
        Comparison::LessOrEqual => (Bound::Unbounded, Bound::Included(value)),
        Comparison::Greater => (Bound::Excluded(value), Bound::Unbounded),
        Comparison::GreaterOrEqual => (Bound::Included(value), Bound::Unbounded),
    }
}

fn compare(
    fields: &Fields,
    field: &FilterField,
    comparison: Comparison,
    literal: &Literal,
) -> Box<dyn Query> {
    let number = match literal {
        Literal::Number(number, _) => Some(*number),
        _ => None,
    };
    match field {
        FilterField::Brand => key(fields.brand_key, literal),
        FilterField::Category => key(fields.category_key, literal),
        FilterField::InStock => {
            term(Term::from_field_bool(fields.in_stock, matches!(literal, Literal::Bool(true))))
        }
        FilterField::Price | FilterField::Rating => {
            // The parser lets only numbers through for these fields.
            let (lower, upper) = bounds(comparison, number.unwrap_or(f64::NAN));
            Box::new(ColumnRange::new(field, lower, upper))
        }
        FilterField::Attribute(name) => {
            let text = |value: &str| Term::from_field_text(fields.attribute_filter, value);
            match (comparison, number) {
                (Comparison::Equal, Some(number)) => any_of(vec![
                    term(text(&number_term(name, number))),
                    term(text(&text_term(name, literal.text()))),
                ]),
                (Comparison::Equal, None) => term(text(&text_term(name, literal.text()))),
                (_, number) => {
                    let (lower, upper) =
                        bounds(comparison, text(&number_term(name, number.unwrap_or(f64::NAN))));
                    // An open end stops at the first or last of `name`'s numbers.
                    let (first, past) = number_terms(name);
                    let lower = match lower {
                        Bound::Unbounded => Bound::Included(text(&first)),
                        bound => bound,
                    };
                    let upper = match upper {
                        Bound::Unbounded => Bound::Excluded(text(&past)),
                        bound => bound,
                    };
                    Box::new(InvertedIndexRangeQuery::new(lower, upper))
                }
            }
        }
    }
}

fn exists(fields: &Fields, field: &FilterField) -> Box<dyn Query> {
    let every_key = |field: Field| -> Box<dyn Query> {
        Box::new(InvertedIndexRangeQuery::new(
            Bound::Included(Term::from_field_text(field, "")),
            Bound::Unbounded,
        ))
    };
    match field {
        FilterField::Brand => every_key(fields.brand_key),
        FilterField::Category => every_key(fields.category_key),
        FilterField::InStock => any_of(vec![
            term(Term::from_field_bool(fields.in_stock, true)),
            term(Term::from_field_bool(fields.in_stock, false)),
        ]),
        FilterField::Price | FilterField::Rating => {
            Box::new(ColumnRange::new(field, Bound::Unbounded, Bound::Unbounded))
        }
        FilterField::Attribute(name) => {
            let (first, past) = all_terms(name);
            let term = |text: &str| Term::from_field_text(fields.attribute_filter, text);
            Box::new(InvertedIndexRangeQuery::new(
                Bound::Included(term(&first)),
                Bound::Excluded(term(&past)),
            ))
        }
    }
}

/// The products whose price or rating lies in a range (any, for two unbounded ends: those
/// that have one), read from the fast column. Intersected with a search's words it is only
/// asked about their candidates, one lookup each; alone it scans the column. tantivy's own
/// range query over a fast column is not used: under `NOT` and `OR` it is sought backwards,
/// which it does not expect.
#[derive(Debug, Clone)]
struct ColumnRange {
    column: &'static str,
    values: std::ops::RangeInclusive<f64>,
}

impl ColumnRange {
    fn new(field: &FilterField, lower: Bound<f64>, upper: Bound<f64>) -> Self {
        let column = if *field == FilterField::Price {
            super::facets::PRICE_COLUMN
        } else {
            super::schema::RATING_COLUMN
        };
        let low = match lower {
            Bound::Included(v) => v,
            Bound::Excluded(v) => next_up(v),
            Bound::Unbounded => f64::NEG_INFINITY,
        };
        let high = match upper {
            Bound::Included(v) => v,
            Bound::Excluded(v) => -next_up(-v),
            Bound::Unbounded => f64::INFINITY,
        };
        Self { column, values: low..=high }
    }

    fn docs(&self, reader: &SegmentReader) -> tantivy::Result<RangeDocs> {
        let column = reader.fast_fields().f64(self.column)?;
        Ok(RangeDocs::new(column, self.values.clone(), reader.max_doc()))
    }
}

/// The documents of one segment whose column value lies in `values`, in order.
struct RangeDocs {
    column: Column<f64>,
    values: std::ops::RangeInclusive<f64>,
    max_doc: DocId,
    doc: DocId,
}

impl RangeDocs {
    fn new(column: Column<f64>, values: std::ops::RangeInclusive<f64>, max_doc: DocId) -> Self {
        let mut docs = Self { column, values, max_doc, doc: 0 };
        docs.doc = docs.first_from(0);
        docs
    }

    fn holds(&self, doc: DocId) -> bool {
        self.column.values_for_doc(doc).any(|value| self.values.contains(&value))
    }

    /// The first matching document from `doc` on.
    fn first_from(&self, mut doc: DocId) -> DocId {
        while doc < self.max_doc {
            if self.holds(doc) {
                return doc;
            }
            doc += 1;
        }
        TERMINATED
    }
}

impl DocSet for RangeDocs {
    fn advance(&mut self) -> DocId {
        self.doc = if self.doc == TERMINATED { TERMINATED } else { self.first_from(self.doc + 1) };
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target > self.doc {
            self.doc = self.first_from(target);
        }
        self.doc
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target >= self.max_doc {
            self.doc = TERMINATED;
            return SeekDangerResult::SeekLowerBound(TERMINATED);
        }
        if self.holds(target) {
            self.doc = target;
            SeekDangerResult::Found
        } else {
            SeekDangerResult::SeekLowerBound(target + 1)
        }
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.max_doc
    }
}

impl Query for ColumnRange {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for ColumnRange {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(self.docs(reader)?, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if doc >= reader.max_doc() || !self.docs(reader)?.holds(doc) {
            return Err(TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        Ok(Explanation::new("ColumnRange", 1.0))
    }
}

/// The least number above `v` (`f64::next_up`, which the supported Rust predates).
fn next_up(v: f64) -> f64 {
    if v.is_nan() || v == f64::INFINITY {
        return v;
    }
    if v == 0.0 {
        return f64::from_bits(1);
    }
    let bits = v.to_bits();
    f64::from_bits(if v > 0.0 { bits + 1 } else { bits - 1 })
}

#[cfg(test)]
mod tests {
    use super::next_up;

    #[test]
    fn next_up_is_the_least_number_above() {
        for v in [-3.5, -f64::MIN_POSITIVE, -0.0, 0.0, 1.0, 19.99, f64::MAX] {
            let up = next_up(v);
            assert!(up > v, "{v}");
            assert!((v + up) / 2.0 == v || (v + up) / 2.0 == up, "nothing between {v} and {up}");
        }
        assert_eq!(-next_up(-1.0), 1.0f64 - f64::EPSILON / 2.0);
    }
}
