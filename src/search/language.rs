//! The words a search treats specially: stop words, which never make a query fail, and
//! synonyms, groups of equivalent words or phrases applied at query time.

use std::collections::{HashMap, HashSet};

use super::analyzer::{self, stem};

/// English words too common to decide a query on their own.
pub const DEFAULT_STOP_WORDS: &str =
    "a,an,and,are,as,at,be,by,for,from,in,into,is,it,of,on,or,the,this,that,to,with";

/// The synonym groups used when no file is given, fitted to the generator's vocabulary.
pub const DEFAULT_SYNONYMS: &str = include_str!("../../synonyms.txt");

/// How a search reads its words beyond the analyzer.
#[derive(Debug, Clone)]
pub struct Language {
    stop_words: HashSet<String>,
    synonyms: Synonyms,
}

impl Default for Language {
    fn default() -> Self {
        let stop_words: Vec<&str> = DEFAULT_STOP_WORDS.split(',').collect();
        Self::new(&stop_words, Synonyms::parse(DEFAULT_SYNONYMS).expect("the default synonyms parse"))
    }
}

impl Language {
    /// `stop_words` are analysed like query text.
    pub fn new(stop_words: &[impl AsRef<str>], synonyms: Synonyms) -> Self {
        let mut analyzer = analyzer::word_analyzer();
        let stop_words = stop_words.iter().flat_map(|w| analyzer::words(&mut analyzer, w.as_ref())).collect();
        Self { stop_words, synonyms }
    }

    pub fn is_stop_word(&self, word: &str) -> bool {
        self.stop_words.contains(word)
    }

    pub fn synonyms(&self) -> &Synonyms {
        &self.synonyms
    }
}

/// A phrase of one or more analysed words (folded, lower-cased, stemmed).
pub type Phrase = Vec<String>;

/// Groups of equivalent phrases, looked up by any member.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Phrase>>,
    by_member: HashMap<Phrase, Vec<usize>>,
    /// The most words any member has.
    longest: usize,
}

/// A line of a synonyms file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SynonymsError {
    pub line: usize,
    pub message: String,
}

/// A group of synonyms that is not one, and why (its place is the caller's to name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GroupError(pub String);

/// Most words one member may have.
pub const MAX_PHRASE_WORDS: usize = 4;

/// The groups of a synonyms file, one per line, members as written (trimmed), each with its
/// line number. Blank lines and lines starting with `#` are skipped.
pub fn groups_of_file(text: &str) -> Vec<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(line, text)| (line, text.split(',').map(|m| m.trim().to_owned()).collect()))
        .collect()
}

impl Synonyms {
    /// One group per line: equivalent words or phrases separated by commas
    /// (`tv, television`). Blank lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> Result<Self, SynonymsError> {
        let mut synonyms = Self::default();
        let mut analyzer = analyzer::word_analyzer();
        for (line, group) in groups_of_file(text) {
            synonyms
                .add(&mut analyzer, &group)
                .map_err(|GroupError(message)| SynonymsError { line, message })?;
        }
        Ok(synonyms)
    }

    /// The groups given, each a list of equivalent words or phrases; the error names the
    /// first group that is not one by its place in the list (from 0).
    pub fn from_groups(groups: &[Vec<String>]) -> Result<Self, (usize, GroupError)> {
        let mut synonyms = Self::default();
        let mut analyzer = analyzer::word_analyzer();
        for (index, group) in groups.iter().enumerate() {
            synonyms.add(&mut analyzer, group).map_err(|error| (index, error))?;
        }
        Ok(synonyms)
    }

    /// Adds one group of members, analysed and stemmed; duplicates count once.
    fn add(
        &mut self,
        analyzer: &mut tantivy::tokenizer::TextAnalyzer,
        members: &[String],
    ) -> Result<(), GroupError> {
        let mut group: Vec<Phrase> = Vec::new();
        for member in members {
            let phrase: Phrase =
                analyzer::words(analyzer, member).iter().map(|w| stem(w).into_owned()).collect();
            if phrase.is_empty() {
                return Err(GroupError(format!(
                    "{member:?} has no letters or digits (members are separated by commas)"
                )));
            }
            if phrase.len() > MAX_PHRASE_WORDS {
                return Err(GroupError(format!("{member:?} has more than {MAX_PHRASE_WORDS} words")));
            }
            if !group.contains(&phrase) {
                group.push(phrase);
            }
        }
        if group.len() < 2 {
            return Err(GroupError("a group needs two or more different members".into()));
        }
        let id = self.groups.len();
        for phrase in &group {
            self.longest = self.longest.max(phrase.len());
            self.by_member.entry(phrase.clone()).or_default().push(id);
        }
        self.groups.push(group);
        Ok(())
    }

    /// The other members of every group `phrase` belongs to.
    pub fn of(&self, phrase: &[String]) -> Vec<&Phrase> {
        let mut out: Vec<&Phrase> = Vec::new();
        for &group in self.by_member.get(phrase).into_iter().flatten() {
            for member in &self.groups[group] {
                if member.as_slice() != phrase && !out.contains(&member) {
                    out.push(member);
                }
            }
        }
        out
    }

    /// The runs of `words` (analysed and stemmed) that a group names, each the longest from
    /// where it starts, with the group's other members; a run is not looked into further.
    pub fn runs<'a>(&'a self, words: &[String]) -> Vec<(std::ops::Range<usize>, Vec<&'a Phrase>)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let found = (1..=self.longest.min(words.len() - i))
                .rev()
                .map(|n| (n, self.of(&words[i..i + n])))
                .find(|(_, members)| !members.is_empty());
            match found {
                Some((n, members)) => {
                    runs.push((i..i + n, members));
                    i += n;
                }
                None => i += 1,
            }
        }
        runs
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(words: &[&str]) -> Phrase {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn groups_are_looked_up_by_any_member_analysed_and_stemmed() {
        let synonyms = Synonyms::parse("# a comment\n\ntv, Television\nTee, T-Shirts\n").unwrap();
        assert_eq!(synonyms.of(&phrase(&["television"])), vec![&phrase(&["tv"])]);
        assert_eq!(synonyms.of(&phrase(&["tee"])), vec![&phrase(&["t", "shirt"])]);
        assert_eq!(synonyms.of(&phrase(&["t", "shirt"])), vec![&phrase(&["tee"])]);
        assert!(synonyms.of(&phrase(&["lamp"])).is_empty());
        // The longest run wins where runs overlap; words of no group are left out.
        let words = phrase(&["red", "t", "shirt", "tv"]);
        let runs = synonyms.runs(&words);
        assert_eq!(runs.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>(), [1..3, 3..4]);
        assert_eq!(runs[0].1, vec![&phrase(&["tee"])]);
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number() {
        assert_eq!(Synonyms::parse("tv, television\nsofa\n").unwrap_err().line, 2);
        assert_eq!(Synonyms::parse("sofa, , couch").unwrap_err().line, 1);
        assert_eq!(Synonyms::parse("\n\nsofa, sofas").unwrap_err().line, 3);
        let message = Synonyms::parse("a b c d e, f").unwrap_err().to_string();
        assert!(message.starts_with("line 1: ") && message.contains("more than 4 words"), "{message}");
    }

    #[test]
    fn the_default_file_parses_and_stop_words_are_analysed() {
        let language = Language::default();
        assert!(!language.synonyms().is_empty());
        assert!(language.is_stop_word("the") && language.is_stop_word("with"));
        assert!(!language.is_stop_word("lamp"));
        assert!(Language::new(&[" The ", "FOR"], Synonyms::default()).is_stop_word("for"));
    }
}
