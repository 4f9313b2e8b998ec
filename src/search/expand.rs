//! Expanding one query word into the index terms it may match: its typo neighbours
//! (Damerau-Levenshtein, read from each segment's term dictionary with a Levenshtein
//! automaton) and, for the word being typed, the terms it begins.

use std::collections::{BTreeMap, HashMap};
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

/// Builds typo automata (the builders are costly, so one of each lives as long as the
/// index) and remembers each word's expansions for the index generation they were read
/// from: shoppers' words repeat far more than their queries do.
pub struct Expander {
    one_edit: LevenshteinAutomatonBuilder,
    two_edits: LevenshteinAutomatonBuilder,
    cache: Mutex<ExpansionCache>,
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

#[derive(Default)]
struct ExpansionCache {
    generation: u64,
    words: HashMap<WordKey, Arc<WordExpansion>>,
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
        }
    }
}

impl Expander {
    /// Everything `word` (stemmed: `stemmed`) may match in `fields` beyond itself: typo
    /// neighbours within `typos` edits in the fields that allow typos, and, when `prefix`,
    /// completions in every field. Served from the cache when the index has not changed.
    pub fn expand(
        &self,
        searcher: &Searcher,
        fields: &[(Field, bool)],
        word: &str,
        stemmed: &str,
        typos: u8,
        prefix: bool,
    ) -> Arc<WordExpansion> {
        if typos == 0 && !prefix {
            return Arc::default();
        }
        let generation = searcher.generation().generation_id();
        let key = WordKey { word: word.to_owned(), typos, prefix };
        if let Some(found) = self.cached(generation, &key) {
            return found;
        }
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
        let expansion = Arc::new(expansion);
        self.remember(generation, key, Arc::clone(&expansion));
        expansion
    }

    fn cached(&self, generation: u64, key: &WordKey) -> Option<Arc<WordExpansion>> {
        let cache = self.cache.lock().ok()?;
        (cache.generation == generation).then(|| cache.words.get(key).cloned()).flatten()
    }

    fn remember(&self, generation: u64, key: WordKey, expansion: Arc<WordExpansion>) {
        let Ok(mut cache) = self.cache.lock() else { return };
        // A newer index makes every remembered expansion suspect; an older searcher's
        // expansions must not replace a newer generation's.
        if generation > cache.generation || cache.words.len() >= CACHE_WORDS {
            cache.words.clear();
            cache.generation = cache.generation.max(generation);
        }
        if generation == cache.generation {
            cache.words.insert(key, expansion);
        }
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
    fn typo_budget_grows_with_length_and_never_touches_digits() {
        assert_eq!(allowed_typos("lamp"), 0);
        assert_eq!(allowed_typos("lampe"), 1);
        assert_eq!(allowed_typos("headphone"), 2);
        assert_eq!(allowed_typos("ultra12345"), 0);
    }
}
