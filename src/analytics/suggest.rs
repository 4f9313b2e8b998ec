//! Query suggestions as a shopper types: popular past queries that begin with what was
//! typed (or nearly, after a typo), most searched first. A query is suggested only when its
//! searches found products every time and number at least `--suggestions-min-searches`,
//! so one shopper's odd query is never shown to others. The catalogue's categories, brands
//! and product names fill in after them, and stand alone before there is any history.
//!
//! Both lists are kept in memory and replaced whole every `--suggestions-refresh-ms`, so a
//! keystroke never waits for the database.

use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};
use tokio::task::JoinHandle;

use super::{Analytics, normalise};
use crate::catalog::Catalog;
use crate::search::allowed_typos;

/// Suggestions one answer holds at most.
pub const MAX_SUGGESTIONS: usize = 20;
/// Past queries kept for suggesting, the most searched.
pub const MAX_HISTORY: usize = 20_000;
/// Catalogue texts kept for suggesting: every category and brand, then product names.
pub const MAX_CATALOGUE: usize = 50_000;

/// Where a suggestion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Shoppers' past queries.
    History,
    /// The catalogue's categories, brands and names.
    Catalogue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub query: String,
    /// Searches that found products (history); products that hold it (catalogue).
    pub weight: u64,
    pub source: Source,
}

/// Texts in byte order, each with its weight.
#[derive(Debug, Default)]
struct Candidates {
    entries: Vec<(Box<str>, u64)>,
}

impl Candidates {
    /// The `keep` heaviest of `entries` (then by text), each text once.
    fn new(mut entries: Vec<(String, u64)>, keep: usize) -> Self {
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut seen = std::collections::HashSet::new();
        entries.retain(|(text, _)| seen.insert(text.clone()));
        entries.truncate(keep);
        let mut entries: Vec<(Box<str>, u64)> =
            entries.into_iter().map(|(text, w)| (text.into(), w)).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Self { entries }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries that begin with `prefix`.
    fn prefixed(&self, prefix: &str) -> &[(Box<str>, u64)] {
        let start = self.entries.partition_point(|(text, _)| &**text < prefix);
        let end = start + self.entries[start..].partition_point(|(text, _)| text.starts_with(prefix));
        &self.entries[start..end]
    }

    /// The entries that do not begin with `prefix` but begin with a text within the
    /// automaton's edits of it.
    fn nearly_prefixed<'a>(
        &'a self,
        prefix: &'a str,
        dfa: &'a DFA,
    ) -> impl Iterator<Item = &'a (Box<str>, u64)> {
        self.entries.iter().filter(move |(text, _)| {
            !text.starts_with(prefix) && matches!(dfa.eval(text.as_bytes()), Distance::Exact(_))
        })
    }
}

/// The suggestions a replica answers with: the two lists, replaced whole when refreshed.
pub struct Suggester {
    history: ArcSwap<Candidates>,
    catalogue: ArcSwap<Candidates>,
    /// The catalogue version the catalogue's list was made at.
    catalogue_version: std::sync::atomic::AtomicU64,
    one_edit: LevenshteinAutomatonBuilder,
    two_edits: LevenshteinAutomatonBuilder,
    /// Searches a past query needs before it is suggested.
    min_searches: u64,
}

impl Suggester {
    pub fn new(min_searches: u64) -> Self {
        Self {
            history: ArcSwap::from_pointee(Candidates::default()),
            catalogue: ArcSwap::from_pointee(Candidates::default()),
            catalogue_version: std::sync::atomic::AtomicU64::new(u64::MAX),
            one_edit: LevenshteinAutomatonBuilder::new(1, true),
            two_edits: LevenshteinAutomatonBuilder::new(2, true),
            min_searches,
        }
    }

    /// Up to `limit` suggestions for what was typed: past queries before the catalogue's
    /// texts; within each, those beginning with it before those that nearly do (a typo in
    /// five letters or more, two in nine or more), heaviest first.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<Suggestion> {
        let Some(prefix) = normalise(typed) else { return Vec::new() };
        let dfa = match allowed_typos(&prefix) {
            0 => None,
            1 => Some(self.one_edit.build_prefix_dfa(&prefix)),
            _ => Some(self.two_edits.build_prefix_dfa(&prefix)),
        };
        let mut out: Vec<Suggestion> = Vec::with_capacity(limit);
        for (source, candidates) in
            [(Source::History, self.history.load()), (Source::Catalogue, self.catalogue.load())]
        {
            take(&mut out, candidates.prefixed(&prefix).iter().collect(), source, limit);
            if let Some(dfa) = &dfa
                && out.len() < limit
            {
                take(&mut out, candidates.nearly_prefixed(&prefix, dfa).collect(), source, limit);
            }
        }
        out
    }

    /// Replaces the past queries with those of `analytics` that qualify.
    pub async fn refresh_history(&self, analytics: &Analytics) -> Result<usize, super::AnalyticsError> {
        let popular = analytics.popular(self.min_searches, MAX_HISTORY).await?;
        let candidates = Candidates::new(popular, MAX_HISTORY);
        let kept = candidates.len();
        self.history.store(Arc::new(candidates));
        Ok(kept)
    }

    /// Makes the catalogue's list again if the catalogue changed since it was made.
    pub fn refresh_catalogue(&self, catalog: &Catalog) {
        use std::sync::atomic::Ordering;
        let version = catalog.version();
        if self.catalogue_version.load(Ordering::Relaxed) == version {
            return;
        }
        self.catalogue.store(Arc::new(catalogue_candidates(catalog)));
        self.catalogue_version.store(version, Ordering::Relaxed);
    }

    /// Refreshes both lists now and every `every` after, until the suggester is dropped.
    pub fn start(
        self: &Arc<Self>,
        analytics: Option<Arc<Analytics>>,
        catalog: Arc<Catalog>,
        every: Duration,
    ) -> JoinHandle<()> {
        let suggester: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(current) = suggester.upgrade() else { return };
                if let Some(analytics) = &analytics
                    && let Err(error) = current.refresh_history(analytics).await
                {
                    tracing::warn!(%error, "suggestions keep the past queries they had");
                }
                let catalog = Arc::clone(&catalog);
                let refreshed = Arc::clone(&current);
                let _ = tokio::task::spawn_blocking(move || refreshed.refresh_catalogue(&catalog)).await;
                drop(current);
                tokio::time::sleep(every).await;
            }
        })
    }
}

/// Adds `found` to `out`, heaviest first, each text once, until `out` holds `limit`.
fn take(out: &mut Vec<Suggestion>, mut found: Vec<&(Box<str>, u64)>, source: Source, limit: usize) {
    found.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (text, weight) in found {
        if out.len() == limit {
            return;
        }
        if !out.iter().any(|s| *s.query == **text) {
            out.push(Suggestion { query: text.to_string(), weight: *weight, source });
        }
    }
}

/// The catalogue's categories and brands (weighted by the products that hold them), then
/// its product names (weight 1), normalised, up to [`MAX_CATALOGUE`].
fn catalogue_candidates(catalog: &Catalog) -> Candidates {
    // Counted as written first: a catalogue has few categories and brands, and each is
    // analysed once, not once per product.
    let products = catalog.products();
    let mut written: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    let mut names = Vec::new();
    for product in &products {
        for text in [product.category.as_deref(), product.brand.as_deref()].into_iter().flatten() {
            *written.entry(text).or_default() += 1;
        }
        if names.len() < MAX_CATALOGUE
            && let Some(name) = product.name.as_deref().and_then(normalise)
        {
            names.push(name);
        }
    }
    let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for (text, count) in written {
        if let Some(text) = normalise(text) {
            *counts.entry(text).or_default() += count;
        }
    }
    // Names weigh 1, below any category or brand that more than one product holds.
    let mut entries: Vec<(String, u64)> = counts.into_iter().collect();
    entries.extend(names.into_iter().map(|name| (name, 1)));
    Candidates::new(entries, MAX_CATALOGUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggester(history: &[(&str, u64)], catalogue: &[(&str, u64)]) -> Suggester {
        let suggester = Suggester::new(2);
        let list = |entries: &[(&str, u64)]| {
            Arc::new(Candidates::new(entries.iter().map(|(t, w)| ((*t).to_owned(), *w)).collect(), 100))
        };
        suggester.history.store(list(history));
        suggester.catalogue.store(list(catalogue));
        suggester
    }

    fn texts(suggestions: &[Suggestion]) -> Vec<(&str, Source)> {
        suggestions.iter().map(|s| (s.query.as_str(), s.source)).collect()
    }

    #[test]
    fn past_queries_come_first_heaviest_first_then_the_catalogue() {
        let suggester = suggester(
            &[("wireless charger", 3), ("wireless headphones", 9), ("desk lamp", 20)],
            &[("wireless", 40), ("wireless headphones", 12), ("wood", 7)],
        );
        assert_eq!(
            texts(&suggester.suggest("Wire", 10)),
            [
                ("wireless headphones", Source::History),
                ("wireless charger", Source::History),
                ("wireless", Source::Catalogue),
            ]
        );
        assert_eq!(texts(&suggester.suggest("wire", 1)), [("wireless headphones", Source::History)]);
        assert!(suggester.suggest("  !! ", 10).is_empty());
    }

    #[test]
    fn a_typo_in_what_was_typed_still_finds_them_after_the_exact_ones() {
        let suggester = suggester(&[("wireless headphones", 9), ("wirelss adapter", 2)], &[]);
        // "wirelss" has 7 letters: one typo allowed.
        assert_eq!(
            texts(&suggester.suggest("wirelss", 10)),
            [("wirelss adapter", Source::History), ("wireless headphones", Source::History)]
        );
        // Four letters or fewer: no typo.
        assert!(suggester.suggest("wirl", 10).is_empty());
    }

    #[test]
    fn the_list_keeps_the_heaviest_texts_once_each() {
        let list =
            Candidates::new(vec![("b".into(), 1), ("a".into(), 5), ("c".into(), 3), ("a".into(), 2)], 2);
        assert_eq!(list.entries, vec![("a".into(), 5), ("c".into(), 3)]);
    }
}
