//! Counts by hour: per query (searches, results, clicks) and per product (clicks,
//! conversions). A batch waiting to be flushed is a tally; so is the in-memory table.
//! Either holds a bounded number of rows.

use std::collections::{BTreeMap, HashMap};

use super::query::{Hour, QueryId};

type Rows<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What one query was searched and clicked in one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryCounts {
    pub searches: u64,
    /// Searches that found no product.
    pub no_results: u64,
    /// Products found, summed over the searches.
    pub results: u64,
    pub clicks: u64,
    /// The clicked results' positions (1: the first), summed, for their average.
    pub click_positions: u64,
    pub conversions: u64,
}

impl QueryCounts {
    pub fn add(&mut self, other: &Self) {
        self.searches = self.searches.saturating_add(other.searches);
        self.no_results = self.no_results.saturating_add(other.no_results);
        self.results = self.results.saturating_add(other.results);
        self.clicks = self.clicks.saturating_add(other.clicks);
        self.click_positions = self.click_positions.saturating_add(other.click_positions);
        self.conversions = self.conversions.saturating_add(other.conversions);
    }
}

/// What one product was clicked and bought in one hour, from search results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProductCounts {
    pub clicks: u64,
    pub conversions: u64,
}

impl ProductCounts {
    pub fn add(&mut self, other: &Self) {
        self.clicks = self.clicks.saturating_add(other.clicks);
        self.conversions = self.conversions.saturating_add(other.conversions);
    }
}

/// What a shopper did with a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Opened it, from the given position (1: the first).
    Click { position: u32 },
    /// Bought it.
    Conversion,
}

/// A shopper's event on one search's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub search: QueryId,
    pub product_id: u64,
}

/// Counts by hour, up to a number of rows.
#[derive(Debug)]
pub struct Tally {
    queries: BTreeMap<Hour, Rows<Box<str>, QueryCounts>>,
    products: BTreeMap<Hour, Rows<u64, ProductCounts>>,
    rows: usize,
    capacity: usize,
}

impl Tally {
    pub fn new(capacity: usize) -> Self {
        Self { queries: BTreeMap::new(), products: BTreeMap::new(), rows: 0, capacity }
    }

    /// Rows held: one per query and hour, one per product and hour.
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Searches, clicks and conversions counted (an event, on its query's row).
    pub fn records(&self) -> u64 {
        self.queries
            .values()
            .flat_map(|rows| rows.values())
            .map(|c| c.searches + c.clicks + c.conversions)
            .sum()
    }

    /// Counts a search for `query` that found `found` products; false when the tally is full
    /// and it was not counted.
    pub fn search(&mut self, hour: Hour, query: &str, found: u64) -> bool {
        let added = QueryCounts {
            searches: 1,
            no_results: u64::from(found == 0),
            results: found,
            ..Default::default()
        };
        self.add_query(hour, query, &added)
    }

    /// Counts an event against its search's query and its product; false when the tally is
    /// full and it was not counted.
    pub fn event(&mut self, event: &Event) -> bool {
        let (query, product) = match event.kind {
            EventKind::Click { position } => (
                QueryCounts { clicks: 1, click_positions: u64::from(position), ..Default::default() },
                ProductCounts { clicks: 1, conversions: 0 },
            ),
            EventKind::Conversion => (
                QueryCounts { conversions: 1, ..Default::default() },
                ProductCounts { clicks: 0, conversions: 1 },
            ),
        };
        let hour = event.search.hour;
        // Both rows or neither, so a query's clicks and its products' clicks agree.
        let new_rows = usize::from(!self.has_query(hour, &event.search.query))
            + usize::from(!self.products.get(&hour).is_some_and(|rows| rows.contains_key(&event.product_id)));
        if self.rows + new_rows > self.capacity {
            return false;
        }
        self.add_query(hour, &event.search.query, &query)
            && self.add_product(hour, event.product_id, &product)
    }

    fn has_query(&self, hour: Hour, query: &str) -> bool {
        self.queries.get(&hour).is_some_and(|rows| rows.contains_key(query))
    }

    /// Adds `counts` to the query's row of `hour`, making it when there is room.
    pub fn add_query(&mut self, hour: Hour, query: &str, counts: &QueryCounts) -> bool {
        let full = self.rows >= self.capacity;
        let rows = self.queries.entry(hour).or_default();
        if let Some(row) = rows.get_mut(query) {
            row.add(counts);
            return true;
        }
        if full {
            if rows.is_empty() {
                self.queries.remove(&hour);
            }
            return false;
        }
        rows.insert(query.into(), *counts);
        self.rows += 1;
        true
    }

    /// Adds `counts` to the product's row of `hour`, making it when there is room.
    pub fn add_product(&mut self, hour: Hour, product_id: u64, counts: &ProductCounts) -> bool {
        let full = self.rows >= self.capacity;
        let rows = self.products.entry(hour).or_default();
        if let Some(row) = rows.get_mut(&product_id) {
            row.add(counts);
            return true;
        }
        if full {
            if rows.is_empty() {
                self.products.remove(&hour);
            }
            return false;
        }
        rows.insert(product_id, *counts);
        self.rows += 1;
        true
    }

    /// Every query row, by hour then query (the order rows are written in, so two replicas
    /// flushing at once take their row locks in the same order).
    pub fn query_rows(&self) -> Vec<(Hour, &str, &QueryCounts)> {
        let mut rows: Vec<_> = self
            .queries
            .iter()
            .flat_map(|(hour, rows)| rows.iter().map(move |(query, counts)| (*hour, &**query, counts)))
            .collect();
        rows.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        rows
    }

    /// Every product row, by hour then product id.
    pub fn product_rows(&self) -> Vec<(Hour, u64, &ProductCounts)> {
        let mut rows: Vec<_> = self
            .products
            .iter()
            .flat_map(|(hour, rows)| rows.iter().map(move |(id, counts)| (*hour, *id, counts)))
            .collect();
        rows.sort_unstable_by_key(|row| (row.0, row.1));
        rows
    }

    /// The query rows of the hours in `from..to`.
    pub fn queries_between(&self, from: Hour, to: Hour) -> impl Iterator<Item = (&str, &QueryCounts)> {
        self.queries.range(from..to.max(from)).flat_map(|(_, rows)| rows.iter().map(|(q, c)| (&**q, c)))
    }

    /// The product rows of the hours in `from..to`.
    pub fn products_between(&self, from: Hour, to: Hour) -> impl Iterator<Item = (u64, &ProductCounts)> {
        self.products.range(from..to.max(from)).flat_map(|(_, rows)| rows.iter().map(|(id, c)| (*id, c)))
    }

    /// Adds every row of `other`, making room by forgetting the oldest hours: the in-memory
    /// table keeps the most recent rows it can hold.
    pub fn absorb(&mut self, other: &Tally) {
        let needed = other.rows;
        while self.rows + needed > self.capacity {
            if self.forget_oldest_hour() == 0 {
                break;
            }
        }
        for (hour, query, counts) in other.query_rows() {
            self.add_query(hour, query, counts);
        }
        for (hour, id, counts) in other.product_rows() {
            self.add_product(hour, id, counts);
        }
    }

    /// Forgets the oldest hour's rows; returns how many.
    fn forget_oldest_hour(&mut self) -> usize {
        let oldest =
            [self.queries.keys().next(), self.products.keys().next()].into_iter().flatten().min().copied();
        let Some(hour) = oldest else { return 0 };
        let gone = self.queries.remove(&hour).map_or(0, |rows| rows.len())
            + self.products.remove(&hour).map_or(0, |rows| rows.len());
        self.rows -= gone;
        gone
    }

    /// Forgets every row of an hour before `hour`; returns how many.
    pub fn forget_before(&mut self, hour: Hour) -> usize {
        let kept_queries = self.queries.split_off(&hour);
        let kept_products = self.products.split_off(&hour);
        let gone = self.queries.values().map(|rows| rows.len()).sum::<usize>()
            + self.products.values().map(|rows| rows.len()).sum::<usize>();
        self.queries = kept_queries;
        self.products = kept_products;
        self.rows -= gone;
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click(hour: Hour, query: &str, product_id: u64, position: u32) -> Event {
        Event {
            kind: EventKind::Click { position },
            search: QueryId { hour, query: query.into() },
            product_id,
        }
    }

    #[test]
    fn searches_and_events_add_up_per_query_and_hour() {
        let mut tally = Tally::new(100);
        assert!(tally.search(10, "lamp", 3));
        assert!(tally.search(10, "lamp", 0));
        assert!(tally.search(11, "lamp", 5));
        assert!(tally.event(&click(10, "lamp", 7, 2)));
        assert!(tally.event(&Event { kind: EventKind::Conversion, ..click(10, "lamp", 7, 0) }));
        let rows = tally.query_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            (
                10,
                "lamp",
                &QueryCounts {
                    searches: 2,
                    no_results: 1,
                    results: 3,
                    clicks: 1,
                    click_positions: 2,
                    conversions: 1
                }
            )
        );
        assert_eq!(rows[1], (11, "lamp", &QueryCounts { searches: 1, results: 5, ..Default::default() }));
        assert_eq!(tally.product_rows(), vec![(10, 7, &ProductCounts { clicks: 1, conversions: 1 })]);
        assert_eq!(tally.rows(), 3);
    }

    #[test]
    fn a_full_tally_counts_only_rows_it_holds() {
        let mut tally = Tally::new(2);
        assert!(tally.search(1, "a", 1));
        assert!(tally.search(1, "b", 1));
        assert!(!tally.search(1, "c", 1));
        assert!(tally.search(1, "a", 1));
        // An event needing a new row is refused whole: its query row is not counted either.
        assert!(!tally.event(&click(1, "a", 9, 1)));
        assert_eq!(tally.query_rows()[0].2.clicks, 0);
        assert_eq!(tally.rows(), 2);
    }

    #[test]
    fn absorbing_past_capacity_forgets_the_oldest_hours_first() {
        let mut table = Tally::new(3);
        let mut batch = Tally::new(10);
        batch.search(1, "old", 1);
        batch.search(2, "mid", 1);
        table.absorb(&batch);
        let mut next = Tally::new(10);
        next.search(3, "new", 1);
        next.search(3, "newer", 1);
        table.absorb(&next);
        let hours: Vec<Hour> = table.query_rows().iter().map(|row| row.0).collect();
        assert_eq!(hours, vec![2, 3, 3]);
    }

    #[test]
    fn forgetting_before_an_hour_keeps_that_hour_and_later() {
        let mut table = Tally::new(10);
        for hour in 1..=4 {
            table.search(hour, "q", 1);
            table.event(&click(hour, "q", 5, 1));
        }
        assert_eq!(table.forget_before(3), 4);
        let hours: Vec<Hour> = table.query_rows().iter().map(|row| row.0).collect();
        assert_eq!(hours, vec![3, 4]);
        assert_eq!(table.product_rows().len(), 2);
        assert_eq!(table.rows(), 4);
    }
}
