//! Expanding one query word into the index terms it may match: its typo neighbours
//! (Damerau-Levenshtein, read from each segment's term dictionary with a Levenshtein
//! automaton) and, for the word being typed, the terms it begins.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::Searcher;
use tantivy::schema::Field;
use tantivy_fst::Automaton;

/// Most terms one prefix may expand to in one field. A two-letter prefix in a catalogue of
/// 100,000 generated products expands to a few hundred; the cap only bounds the cost of a
/// pathological vocabulary, where the rarest completions are the ones left out.
pub const MAX_PREFIX_EXPANSIONS: usize = 5_000;

/// Words whose expansions are remembered; past this the cache starts over.
const CACHE_WORDS: usize = 20_000;
/// Terms written since the last fresh start of the cache; past this it starts over.
const MAX_ADDED_TERMS: usize = 1_000_000;

/// Builds typo automata (the builders are costly, so one of each lives as long as the
/// index) and remembers each word's expansions: shoppers' words repeat far more than their
/// queries do.
///
/// A remembered expansion stays true as the index changes, because the vocabulary only
/// grows: a term of a deleted product expands to nothing (a superset is harmless). Writes
/// note their terms here before their commit; an expansion read at one point of that log
/// is brought up to date by checking only the terms noted since, not by reading every
/// segment's dictionary again. So a steady write load, which commits a new segment every
/// few dozen milliseconds, leaves search as fast as it is without writes.
pub struct Expander {
    one_edit: LevenshteinAutomatonBuilder,
    two_edits: LevenshteinAutomatonBuilder,
    cache: Mutex<HashMap<WordKey, Remembered>>,
    added: Mutex<AddedTerms>,
}

/// What one query word may match beyond its exact stem, by field position.
#[derive(Debug, Default)]
pub struct WordExpansion {
    /// Typo neighbours: field, term, edits.
    pub typos: Vec<(usize, String, u8)>,
    /// Completions of the word being typed: field, term.
    pub completions: Vec<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WordKey {
    word: String,
    typos: u8,
    prefix: bool,
}

struct Remembered {
    expansion: Arc<WordExpansion>,
    /// The log position it covers: every term noted before it is in the expansion.
    seen: LogPosition,
}

/// A point in the log of written terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// Bumped when the log starts over; positions of another epoch say nothing.
    epoch: u64,
    len: usize,
}

/// The terms of written products, by field position, each once, in the order noted.
#[derive(Default)]
struct AddedTerms {
    epoch: u64,
    terms: Vec<(usize, String)>,
    known: HashSet<(usize, String)>,
    /// How many of `terms` belong to committed writes: a searcher opened after reading
    /// this sees every product whose terms come before it.
    committed: usize,
}

/// How many typos a term of this many characters may carry: none below 5, one from 5,
/// two from 9; none at all for terms with a digit (SKUs, model numbers).
pub fn allowed_typos(term: &str) -> u8 {
    if term.bytes().any(|b| b.is_ascii_digit()) {
        return 0;
    }
    match term.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

impl Default for Expander {
    fn default() -> Self {
        Self {
            one_edit: LevenshteinAutomatonBuilder::new(1, true),
            two_edits: LevenshteinAutomatonBuilder::new(2, true),
            cache: Mutex::default(),
            added: Mutex::default(),
        }
    }
}

impl Expander {
    /// Notes the index terms of products about to be committed, by field position.
    pub fn note_terms(&self, terms: impl IntoIterator<Item = (usize, String)>) {
        let mut added = self.added.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for term in terms {
            if added.known.insert(term.clone()) {
                added.terms.push(term);
            }
        }
    }

    /// Marks every term noted so far as committed: call once the commit is visible.
    pub fn noted_terms_committed(&self) {
        let mut added = self.added.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if added.terms.len() > MAX_ADDED_TERMS {
            // Start over: remembered expansions are read afresh from the index.
            let epoch = added.epoch + 1;
            *added = AddedTerms { epoch, ..Default::default() };
            if let Ok(mut cache) = self.cache.lock() {
                cache.clear();
            }
        }
        added.committed = added.terms.len();
    }

    /// The log position to read before opening a searcher: that searcher holds every
    /// product whose terms were noted before it.
    pub fn position(&self) -> LogPosition {
        let added = self.added.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        LogPosition { epoch: added.epoch, len: added.committed }
    }

    /// Everything `word` (stemmed: `stemmed`) may match in `fields` beyond itself: typo
    /// neighbours within `typos` edits in the fields that allow typos, and, when `prefix`,
    /// completions in every field. `searcher` was opened after `position` was read.
    #[allow(clippy::too_many_arguments)]
    pub fn expand(
        &self,
        searcher: &Searcher,
        position: LogPosition,
        fields: &[(Field, bool)],
        word: &str,
        stemmed: &str,
        typos: u8,
        prefix: bool,
    ) -> Arc<WordExpansion> {
        if typos == 0 && !prefix {
            return Arc::default();
        }
        let key = WordKey { word: word.to_owned(), typos, prefix };
        let remembered = self.cache.lock().ok().and_then(|cache| {
            cache
                .get(&key)
                .map(|r| (Arc::clone(&r.expansion), r.seen))
                .filter(|(_, seen)| seen.epoch == position.epoch)
        });
        let (expansion, seen) = match remembered {
            Some((expansion, seen)) if seen.len >= position.len => return expansion,
            Some((expansion, seen)) => {
                let extended = self.extend(&expansion, seen, position, fields, word, stemmed, typos, prefix);
                (extended.unwrap_or(expansion), position)
            }
            None => (Arc::new(self.read(searcher, fields, word, stemmed, typos, prefix)), position),
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_WORDS {
                cache.clear();
            }
            let newer = cache.get(&key).is_some_and(|r| r.seen.epoch == seen.epoch && r.seen.len > seen.len);
            if !newer {
                cache.insert(key, Remembered { expansion: Arc::clone(&expansion), seen });
            }
        }
        expansion
    }

    /// The expansion read from every segment of `searcher`.
    fn read(
        &self,
        searcher: &Searcher,
        fields: &[(Field, bool)],
        word: &str,
        stemmed: &str,
        typos: u8,
        prefix: bool,
    ) -> WordExpansion {
        let mut expansion = WordExpansion::default();
        if let Some(dfa) = self.typo_automaton(stemmed, typos) {
            for (position, &(field, _)) in fields.iter().enumerate().filter(|(_, (_, typos))| *typos) {
                for (term, distance) in self.typos(searcher, field, &dfa, stemmed) {
                    expansion.typos.push((position, term, distance));
                }
            }
        }
        if prefix {
            for (position, &(field, _)) in fields.iter().enumerate() {
                for term in self.completions(searcher, field, word, stemmed) {
                    expansion.completions.push((position, term));
                }
            }
        }
        expansion
    }

    /// `expansion` (true up to `from`) with the terms noted between `from` and `to`; `None`
    /// when none of them is a match.
    #[allow(clippy::too_many_arguments)]
    fn extend(
        &self,
        expansion: &WordExpansion,
        from: LogPosition,
        to: LogPosition,
        fields: &[(Field, bool)],
        word: &str,
        stemmed: &str,
        typos: u8,
        prefix: bool,
    ) -> Option<Arc<WordExpansion>> {
        // Most new terms match nothing: test them first, and only then look for duplicates.
        let mut more = WordExpansion::default();
        {
            let added = self.added.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let new = added.terms.get(from.len..to.len.min(added.terms.len())).unwrap_or_default();
            for (position, term) in new {
                if term == stemmed {
                    continue;
                }
                // A few terms: the edit distance directly is cheaper than building an automaton.
                if typos > 0
                    && fields[*position].1
                    && let Some(distance) = edits_within(stemmed, term, typos)
                {
                    more.typos.push((*position, term.clone(), distance));
                }
                if prefix && term.starts_with(word) {
                    more.completions.push((*position, term.clone()));
                }
            }
        }
        if !more.typos.is_empty() {
            let known: HashSet<(usize, &str)> =
                expansion.typos.iter().map(|(p, t, _)| (*p, t.as_str())).collect();
            more.typos.retain(|(p, t, _)| !known.contains(&(*p, t.as_str())));
        }
        if !more.completions.is_empty() {
            let known: HashSet<(usize, &str)> =
                expansion.completions.iter().map(|(p, t)| (*p, t.as_str())).collect();
            more.completions.retain(|(p, t)| !known.contains(&(*p, t.as_str())));
        }
        if more.typos.is_empty() && more.completions.is_empty() {
            return None;
        }
        let mut typos_out = expansion.typos.clone();
        typos_out.extend(more.typos);
        let mut completions_out = expansion.completions.clone();
        completions_out.extend(more.completions);
        Some(Arc::new(WordExpansion { typos: typos_out, completions: completions_out }))
    }

    /// The automaton accepting words within `max_edits` of `term`; `None` for no typos.
    /// Building one costs tens of microseconds, so a query builds one per word.
    fn typo_automaton(&self, term: &str, max_edits: u8) -> Option<DFA> {
        match max_edits {
            0 => None,
            1 => Some(self.one_edit.build_dfa(term)),
            _ => Some(self.two_edits.build_dfa(term)),
        }
    }

    /// Terms of `field` that `dfa` accepts, other than `term` itself, with their distance.
    fn typos(&self, searcher: &Searcher, field: Field, dfa: &DFA, term: &str) -> BTreeMap<String, u8> {
        let mut found = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let Ok(index) = segment.inverted_index(field) else { continue };
            let Ok(mut stream) = index.terms().search(Dfa(dfa)).into_stream() else { continue };
            while stream.advance() {
                let Ok(candidate) = std::str::from_utf8(stream.key()) else { continue };
                if candidate != term
                    && let Distance::Exact(distance) = dfa.eval(candidate)
                {
                    found.insert(candidate.to_owned(), distance);
                }
            }
        }
        found
    }

    /// Terms of `field` that begin with `prefix`, other than `exclude`.
    fn completions(&self, searcher: &Searcher, field: Field, prefix: &str, exclude: &str) -> Vec<String> {
        let mut found = std::collections::BTreeSet::new();
        for segment in searcher.segment_readers() {
            let Ok(index) = segment.inverted_index(field) else { continue };
            let Ok(mut stream) = index.terms().range().ge(prefix.as_bytes()).into_stream() else { continue };
            let mut taken = 0;
            while stream.advance() && taken < MAX_PREFIX_EXPANSIONS {
                let key = stream.key();
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                if let Ok(candidate) = std::str::from_utf8(key)
                    && candidate != exclude
                {
                    found.insert(candidate.to_owned());
                    taken += 1;
                }
            }
        }
        found.into_iter().collect()
    }
}

/// The optimal string alignment distance of `a` and `b` (Levenshtein plus swaps of
/// neighbours, as the typo automata count), if at most `max`.
fn edits_within(a: &str, b: &str, max: u8) -> Option<u8> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > usize::from(max) {
        return None;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    u8::try_from(d[a.len()][b.len()]).ok().filter(|&distance| distance <= max)
}

/// A Levenshtein DFA walked over the term dictionary's FST.
struct Dfa<'a>(&'a DFA);

impl Automaton for Dfa<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_within_counts_a_swap_as_one_and_stops_at_the_budget() {
        assert_eq!(edits_within("headphone", "haedphone", 2), Some(1));
        assert_eq!(edits_within("lamp", "clamp", 1), Some(1));
        assert_eq!(edits_within("lamp", "lamp", 1), Some(0));
        assert_eq!(edits_within("abc", "ca", 2), None);
        assert_eq!(edits_within("lantern", "lantrens", 1), None);
    }

    #[test]
    fn typo_budget_grows_with_length_and_never_touches_digits() {
        assert_eq!(allowed_typos("lamp"), 0);
        assert_eq!(allowed_typos("lampe"), 1);
        assert_eq!(allowed_typos("headphone"), 2);
        assert_eq!(allowed_typos("ultra12345"), 0);
    }
}
