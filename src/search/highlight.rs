//! Marking the words of a text that a search matched, exactly, through a typo or as a
//! prefix, with `<mark>`; the rest of the text is HTML-escaped.

use std::collections::HashSet;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use super::analyzer::stem;

/// `text` with every word whose index term is in `matched` wrapped in `<mark>`.
pub fn mark(analyzer: &mut TextAnalyzer, text: &str, matched: &HashSet<&str>) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut copied = 0;
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        if matched.contains(stem(&token.text).as_ref()) {
            escape_into(&mut out, &text[copied..token.offset_from]);
            out.push_str("<mark>");
            escape_into(&mut out, &text[token.offset_from..token.offset_to]);
            out.push_str("</mark>");
            copied = token.offset_to;
        }
    }
    escape_into(&mut out, &text[copied..]);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::analyzer::word_analyzer;

    fn marked(text: &str, terms: &[&str]) -> String {
        mark(&mut word_analyzer(), text, &terms.iter().copied().collect())
    }

    #[test]
    fn marks_matched_words_keeping_their_case_and_plural() {
        assert_eq!(
            marked("Alpha Wireless Lamps", &["wireless", "lamp"]),
            "Alpha <mark>Wireless</mark> <mark>Lamps</mark>"
        );
    }

    #[test]
    fn escapes_the_rest() {
        assert_eq!(
            marked("<b>Tom & Jerry</b> lamp", &["lamp"]),
            "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; <mark>lamp</mark>"
        );
    }

    #[test]
    fn leaves_text_without_matches_as_it_was() {
        assert_eq!(marked("Nothing here", &["lamp"]), "Nothing here");
    }
}
