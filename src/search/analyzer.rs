//! How text becomes terms, for the index and for queries alike: split on every character
//! that is not a letter or digit, lower-case, fold accents to ASCII, then reduce English
//! plurals to their singular with a light stemmer (see [`stem`]). `ABC-123-XYZ` is the
//! three terms `abc`, `123`, `xyz`; `Cafés` is `cafe`; `batteries` is `battery`.

use std::borrow::Cow;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// Name under which the indexing analyzer (with stemming) is registered.
pub const ANALYZER: &str = "product";

/// The analyzer of indexed text: words, lower-cased, folded, stemmed.
pub fn index_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(LightStemmer)
        .build()
}

/// The analyzer of query text before stemming: queries need the word as typed (for
/// prefixes) as well as its stem.
pub fn word_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// The words of `text`, lower-cased and folded but not stemmed, in order.
pub fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Words that end like plurals but are not.
const NOT_PLURAL: &[&str] = &["series", "species", "news", "physics", "always", "perhaps"];

/// Reduces an English plural to its singular; leaves everything else alone. A deliberately
/// light stemmer (an "S-stemmer" that also knows sibilants): shoppers expect `lamps` to find
/// `lamp` and `batteries` to find `battery`, not `running` to find `run`. Words of three
/// letters or fewer, and words with anything but ASCII letters, are kept as they are.
pub fn stem(word: &str) -> Cow<'_, str> {
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) || NOT_PLURAL.contains(&word) {
        return Cow::Borrowed(word);
    }
    let ends = |suffix: &str| word.ends_with(suffix);
    let cut = |n: usize| Cow::Borrowed(&word[..word.len() - n]);
    if ends("ies") && !ends("eies") && !ends("aies") && word.len() > 4 {
        return Cow::Owned(format!("{}y", &word[..word.len() - 3]));
    }
    if ends("sses") || ends("xes") || ends("zes") || ends("ches") || ends("shes") {
        return cut(2);
    }
    if ends("s") && !ends("ss") && !ends("us") && !ends("is") {
        return cut(1);
    }
    Cow::Borrowed(word)
}

/// The token filter that applies [`stem`] at indexing time.
#[derive(Clone)]
pub struct LightStemmer;

impl TokenFilter for LightStemmer {
    type Tokenizer<T: Tokenizer> = LightStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> Self::Tokenizer<T> {
        LightStemmerFilter { tokenizer }
    }
}

#[derive(Clone)]
pub struct LightStemmerFilter<T> {
    tokenizer: T,
}

impl<T: Tokenizer> Tokenizer for LightStemmerFilter<T> {
    type TokenStream<'a> = LightStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        LightStemmerStream { tail: self.tokenizer.token_stream(text) }
    }
}

pub struct LightStemmerStream<T> {
    tail: T,
}

impl<T: TokenStream> TokenStream for LightStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let text = &mut self.tail.token_mut().text;
        // A stem is either a prefix of the word (truncate in place) or a new string.
        let stemmed = match stem(text) {
            Cow::Borrowed(prefix) => Err(prefix.len()),
            Cow::Owned(replacement) => Ok(replacement),
        };
        match stemmed {
            Ok(replacement) => *text = replacement,
            Err(len) => text.truncate(len),
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str) -> Vec<String> {
        let mut analyzer = index_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn splits_skus_on_punctuation_and_lowercases() {
        assert_eq!(analyze("ABC-123-XYZ"), ["abc", "123", "xyz"]);
    }

    #[test]
    fn folds_accents_and_drops_punctuation() {
        assert_eq!(analyze("  Café, crème!  "), ["cafe", "creme"]);
    }

    #[test]
    fn keeps_letters_and_digits_together() {
        assert_eq!(analyze("Ultra1 X-500"), ["ultra1", "x", "500"]);
    }

    #[test]
    fn plurals_and_singulars_meet() {
        for (plural, singular) in [
            ("lamps", "lamp"),
            ("batteries", "battery"),
            ("boxes", "box"),
            ("dresses", "dress"),
            ("benches", "bench"),
            ("brushes", "brush"),
            ("shoes", "shoe"),
            ("headphones", "headphone"),
            ("candles", "candle"),
        ] {
            assert_eq!(stem(plural), stem(singular), "{plural} / {singular}");
        }
    }

    proptest::proptest! {
        /// Any text, in any script: the index's terms are the query's words, stemmed, one for
        /// one, so whatever a product's text holds, typing that text finds it.
        #[test]
        fn any_text_gives_words_and_their_stems_one_for_one(text in "\\PC{0,120}") {
            let words = words(&mut word_analyzer(), &text);
            let terms = analyze(&text);
            proptest::prop_assert_eq!(words.len(), terms.len());
            for (word, term) in words.iter().zip(&terms) {
                proptest::prop_assert!(!word.is_empty());
                // Folding may turn a symbol into punctuation (`⑴` is `(1)`), never into a space.
                proptest::prop_assert!(!word.chars().any(char::is_whitespace), "{:?}", word);
                let stemmed = stem(word);
                proptest::prop_assert_eq!(stemmed.as_ref(), term.as_str());
            }
        }

        /// Shop-like text: letters, digits, punctuation and accents.
        #[test]
        fn shop_text_is_split_on_punctuation_and_lower_cased(text in "[A-Za-z0-9 ,.;:/()'+&éÉèüÜßñ-]{0,80}") {
            for word in words(&mut word_analyzer(), &text) {
                proptest::prop_assert!(word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{:?}", word);
            }
        }
    }

    #[test]
    fn leaves_non_plurals_alone() {
        for word in ["glass", "wireless", "cactus", "chassis", "bus", "gas", "x5", "pro", "series"] {
            assert_eq!(stem(word), word, "{word}");
        }
    }
}
