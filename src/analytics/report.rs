//! What the analytics read back: queries by kind (the most searched, those that found
//! nothing, those whose results nobody opened) and products by clicks, over a range of
//! hours. The in-memory table sums its rows here; PostgreSQL does the same in SQL
//! (`super::postgres`), in the same order.

use std::collections::HashMap;

use super::query::Hour;
use super::tally::{ProductCounts, QueryCounts};

/// Which queries a report lists, and in what order (ties: by query, byte order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// The most searched.
    Top,
    /// Those with searches that found nothing, most such searches first.
    NoResults,
    /// Those that found products and whose results were never clicked, most searched first.
    NoClicks,
}

impl QueryKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "top" => Some(Self::Top),
            "no_results" => Some(Self::NoResults),
            "no_clicks" => Some(Self::NoClicks),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Top => "top",
            Self::NoResults => "no_results",
            Self::NoClicks => "no_clicks",
        }
    }

    /// Whether a query with these counts belongs in the report.
    pub fn lists(self, counts: &QueryCounts) -> bool {
        match self {
            Self::Top => counts.searches > 0,
            Self::NoResults => counts.no_results > 0,
            Self::NoClicks => counts.searches > counts.no_results && counts.clicks == 0,
        }
    }

    /// The count a report is ordered by, largest first.
    pub fn key(self, counts: &QueryCounts) -> u64 {
        match self {
            Self::Top | Self::NoClicks => counts.searches,
            Self::NoResults => counts.no_results,
        }
    }
}

/// The hours a report covers: `from` included, `to` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub from: Hour,
    pub to: Hour,
}

/// One query's counts summed over a report's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRow {
    pub query: String,
    pub counts: QueryCounts,
}

/// One product's counts summed over a report's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub product_id: u64,
    pub counts: ProductCounts,
}

/// Sums `rows` by query and keeps the first `limit` of the report `kind`.
pub fn queries<'a>(
    rows: impl Iterator<Item = (&'a str, &'a QueryCounts)>,
    kind: QueryKind,
    limit: usize,
) -> Vec<QueryRow> {
    let mut sums: HashMap<&str, QueryCounts> = HashMap::new();
    for (query, counts) in rows {
        sums.entry(query).or_default().add(counts);
    }
    let mut listed: Vec<QueryRow> = sums
        .into_iter()
        .filter(|(_, counts)| kind.lists(counts))
        .map(|(query, counts)| QueryRow { query: query.to_owned(), counts })
        .collect();
    listed.sort_unstable_by(|a, b| {
        kind.key(&b.counts).cmp(&kind.key(&a.counts)).then_with(|| a.query.cmp(&b.query))
    });
    listed.truncate(limit);
    listed
}

/// Sums `rows` by query and keeps the `limit` most searched whose searches all found
/// products and number at least `min_searches`.
pub fn popular<'a>(
    rows: impl Iterator<Item = (&'a str, &'a QueryCounts)>,
    min_searches: u64,
    limit: usize,
) -> Vec<(String, u64)> {
    let mut sums: HashMap<&str, QueryCounts> = HashMap::new();
    for (query, counts) in rows {
        sums.entry(query).or_default().add(counts);
    }
    let mut listed: Vec<(String, u64)> = sums
        .into_iter()
        .filter(|(_, counts)| counts.no_results == 0 && counts.searches >= min_searches)
        .map(|(query, counts)| (query.to_owned(), counts.searches))
        .collect();
    listed.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    listed.truncate(limit);
    listed
}

/// Sums `rows` by product and keeps the `limit` most clicked (then most bought, then by id).
pub fn products(rows: impl Iterator<Item = (u64, ProductCounts)>, limit: usize) -> Vec<ProductRow> {
    let mut sums: HashMap<u64, ProductCounts> = HashMap::new();
    for (id, counts) in rows {
        sums.entry(id).or_default().add(&counts);
    }
    let mut listed: Vec<ProductRow> =
        sums.into_iter().map(|(product_id, counts)| ProductRow { product_id, counts }).collect();
    listed.sort_unstable_by(|a, b| {
        (b.counts.clicks, b.counts.conversions)
            .cmp(&(a.counts.clicks, a.counts.conversions))
            .then(a.product_id.cmp(&b.product_id))
    });
    listed.truncate(limit);
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(searches: u64, no_results: u64, clicks: u64) -> QueryCounts {
        QueryCounts { searches, no_results, clicks, ..Default::default() }
    }

    #[test]
    fn each_kind_lists_its_queries_in_its_order() {
        let rows = [
            ("lamp", counts(5, 0, 2)),
            ("lamp", counts(1, 0, 0)),
            ("sofa", counts(6, 0, 0)),
            ("zzz", counts(3, 3, 0)),
            ("desk", counts(6, 1, 0)),
            ("clicked", counts(0, 0, 4)),
        ];
        let report = |kind| -> Vec<(String, u64)> {
            queries(rows.iter().map(|(q, c)| (*q, c)), kind, 10)
                .into_iter()
                .map(|row| (row.query, kind.key(&row.counts)))
                .collect()
        };
        let named = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
            list.iter().map(|(q, n)| ((*q).to_owned(), *n)).collect()
        };
        assert_eq!(report(QueryKind::Top), named(&[("desk", 6), ("lamp", 6), ("sofa", 6), ("zzz", 3)]));
        assert_eq!(report(QueryKind::NoResults), named(&[("zzz", 3), ("desk", 1)]));
        assert_eq!(report(QueryKind::NoClicks), named(&[("desk", 6), ("sofa", 6)]));
        assert_eq!(queries(rows.iter().map(|(q, c)| (*q, c)), QueryKind::Top, 2).len(), 2);
    }

    #[test]
    fn popular_queries_found_products_every_time_and_often_enough() {
        let rows = [
            ("lamp", counts(2, 0, 0)),
            ("lamp", counts(1, 0, 0)),
            ("sofa", counts(9, 1, 0)),
            ("desk", counts(2, 0, 0)),
            ("odd", counts(1, 0, 0)),
        ];
        assert_eq!(
            popular(rows.iter().map(|(q, c)| (*q, c)), 2, 10),
            vec![("lamp".to_owned(), 3), ("desk".to_owned(), 2)]
        );
    }

    #[test]
    fn products_are_listed_by_clicks_then_conversions_then_id() {
        let rows = [
            (3, ProductCounts { clicks: 1, conversions: 0 }),
            (1, ProductCounts { clicks: 1, conversions: 1 }),
            (2, ProductCounts { clicks: 1, conversions: 0 }),
            (3, ProductCounts { clicks: 1, conversions: 0 }),
        ];
        let ids: Vec<u64> = products(rows.into_iter(), 10).iter().map(|row| row.product_id).collect();
        assert_eq!(ids, vec![3, 1, 2]);
    }
}
