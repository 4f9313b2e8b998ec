//! How text becomes terms, for the index and for queries alike: split on every character
//! that is not a letter or digit, lower-case, fold accents to ASCII, then reduce English
//! plurals to their singular with a light stemmer (see [`stem`]). `ABC-123-XYZ` is the
//! three terms `abc`, `123`, `xyz`; `Cafés` is `cafe`; `batteries` is `battery`.

use std::borrow::Cow;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, SimpleTokenizer, TextAnalyzer, Token, TokenStream,
    Tokenizer,
};

/// Name under which the indexing analyzer (with stemming) is registered.
pub const ANALYZER: &str = "product";

/// The analyzer of indexed text: words, lower-cased, folded, stemmed.
pub fn index_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(ProductTokenizer::default())
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
    // Every plural this reduces ends in `s`: most words are settled by their last letter.
    if word.len() <= 3
        || !word.ends_with('s')
        || !word.bytes().all(|b| b.is_ascii_lowercase())
        || NOT_PLURAL.contains(&word)
    {
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

/// The tokenizer of indexed text: [`word_analyzer`]'s words, each stemmed, in one pass over
/// the text. A word of ASCII letters and digits is lower-cased as it is copied out; any other
/// word goes through tantivy's lower-caser and ASCII folding, as [`word_analyzer`] would.
#[derive(Clone)]
pub struct ProductTokenizer {
    token: Token,
    /// Lower-cases and folds one word that is not plain ASCII.
    fold: TextAnalyzer,
}

impl Default for ProductTokenizer {
    fn default() -> Self {
        Self {
            token: Token::default(),
            fold: TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .build(),
        }
    }
}

impl Tokenizer for ProductTokenizer {
    type TokenStream<'a> = ProductTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ProductTokenStream<'a> {
        self.token.reset();
        ProductTokenStream { text, at: 0, token: &mut self.token, fold: &mut self.fold }
    }
}

pub struct ProductTokenStream<'a> {
    text: &'a str,
    /// Where the next word is looked for.
    at: usize,
    token: &'a mut Token,
    fold: &'a mut TextAnalyzer,
}

impl ProductTokenStream<'_> {
    /// The length of the character at byte `at` (a character boundary) that is not ASCII,
    /// and whether it is a letter or digit.
    #[cold]
    fn wide_char_at(&self, at: usize) -> (usize, bool) {
        let c = self.text[at..].chars().next().unwrap_or_default();
        (c.len_utf8(), c.is_alphanumeric())
    }
}

impl TokenStream for ProductTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        let end = bytes.len();
        let mut at = self.at;
        // Up to the next letter or digit.
        while at < end {
            let byte = bytes[at];
            if byte.is_ascii() {
                if byte.is_ascii_alphanumeric() {
                    break;
                }
                at += 1;
            } else {
                let (len, in_word) = self.wide_char_at(at);
                if in_word {
                    break;
                }
                at += len;
            }
        }
        if at == end {
            self.at = end;
            return false;
        }
        let from = at;
        let mut ascii = true;
        // Up to the end of the word.
        while at < end {
            let byte = bytes[at];
            if byte.is_ascii() {
                if !byte.is_ascii_alphanumeric() {
                    break;
                }
                at += 1;
            } else {
                let (len, in_word) = self.wide_char_at(at);
                if !in_word {
                    break;
                }
                ascii = false;
                at += len;
            }
        }
        self.at = at;
        let token = &mut *self.token;
        token.position = token.position.wrapping_add(1);
        token.offset_from = from;
        token.offset_to = at;
        token.text.clear();
        let word = &self.text[from..at];
        if ascii {
            token.text.push_str(word);
            token.text.make_ascii_lowercase();
        } else {
            let mut folded = self.fold.token_stream(word);
            while folded.advance() {
                token.text.push_str(&folded.token().text);
            }
        }
        // A stem is either a prefix of the word (truncate in place) or a new string.
        let stemmed = match stem(&token.text) {
            Cow::Borrowed(prefix) => Err(prefix.len()),
            Cow::Owned(replacement) => Ok(replacement),
        };
        match stemmed {
            Ok(replacement) => token.text = replacement,
            Err(len) => token.text.truncate(len),
        }
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().clone());
        }
        out
    }

    fn analyze(text: &str) -> Vec<String> {
        tokens(&mut index_analyzer(), text).into_iter().map(|token| token.text).collect()
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
            let words = tokens(&mut word_analyzer(), &text);
            let terms = tokens(&mut index_analyzer(), &text);
            proptest::prop_assert_eq!(words.len(), terms.len());
            for (word, term) in words.iter().zip(&terms) {
                proptest::prop_assert!(!word.text.is_empty());
                // Folding may turn a symbol into punctuation (`⑴` is `(1)`), never into a space.
                proptest::prop_assert!(!word.text.chars().any(char::is_whitespace), "{:?}", word);
                let stemmed = stem(&word.text);
                proptest::prop_assert_eq!(stemmed.as_ref(), term.text.as_str());
                proptest::prop_assert_eq!(
                    (word.offset_from, word.offset_to, word.position, word.position_length),
                    (term.offset_from, term.offset_to, term.position, term.position_length)
                );
            }
        }

        /// Shop-like text with symbols, accents and scripts mixed in: the same as any text.
        #[test]
        fn mixed_text_gives_words_and_their_stems_one_for_one(
            text in "([A-Za-z0-9]{1,8}|[ ,.;:/()'+&-]{1,3}|[éÉèüÜßñæŒİı⑴ǅﬁΣσς字]){0,30}"
        ) {
            let words = tokens(&mut word_analyzer(), &text);
            let terms = tokens(&mut index_analyzer(), &text);
            let stemmed: Vec<(String, usize, usize, usize)> = words
                .iter()
                .map(|w| (stem(&w.text).into_owned(), w.offset_from, w.offset_to, w.position))
                .collect();
            let indexed: Vec<(String, usize, usize, usize)> =
                terms.iter().map(|t| (t.text.clone(), t.offset_from, t.offset_to, t.position)).collect();
            proptest::prop_assert_eq!(stemmed, indexed);
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
