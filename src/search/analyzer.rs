//! How text becomes terms, for the index and for queries alike: split on every character
//! that is not a letter or digit, lower-case, fold accents to ASCII. `ABC-123-XYZ` is the
//! three terms `abc`, `123`, `xyz`; `Café` is `cafe`.

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, TokenStream};

/// Name under which the analyzer is registered with the index.
pub const ANALYZER: &str = "product";

pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// The terms of `text`, in order, as the index sees them.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str) -> Vec<String> {
        terms(&mut text_analyzer(), text)
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
}
