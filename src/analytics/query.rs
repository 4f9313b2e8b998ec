//! A search's query as analytics keep it, and the `query_id` a search answer carries.
//!
//! A query is kept as the analyzer's words joined by single spaces, so `Wireless  Headphones`
//! and `wireless headphones!` are one query. A query that looks like an email address or a
//! long number (a phone, card or order number) is not kept at all.
//!
//! A query id holds the query and the hour it was searched in. A click sent to any replica
//! is counted against the search that led to it, and nothing is kept between the two.

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tantivy::tokenizer::TextAnalyzer;

use crate::search::analyzer;

/// Hours since the Unix epoch: the grain analytics are kept at.
pub type Hour = i64;

/// Digits that make a number too long to keep: 8 and more is a phone, card or order number.
const LONG_NUMBER_DIGITS: usize = 8;
/// Characters a number may hold between its digits and still be one number (`555-123-4567`).
const NUMBER_JOINERS: &str = "-./()+";
/// Digits a space-separated group needs to continue a number (`4111 1111 1111 1111`), so
/// `iphone 15 2024 128` stays three numbers.
const GROUP_DIGITS: usize = 3;
/// Longest query id accepted: a 256-character query of three-byte characters, encoded.
pub const MAX_QUERY_ID_CHARS: usize = 1_100;

thread_local! {
    static WORDS: RefCell<TextAnalyzer> = RefCell::new(analyzer::word_analyzer());
}

/// The query as analytics keep it, or `None`: no words, or it looks private.
pub fn normalise(text: &str) -> Option<String> {
    if looks_like_email(text) || holds_long_number(text) {
        return None;
    }
    // Folding can make what analysis would change again (`ᴊ` folds to `J`, `⒜` to `(a)`):
    // analysed until nothing changes, a query is its own normal form.
    let mut query = words_of(text);
    // ASCII words, lower-cased, are their own normal form already.
    let passes = if text.is_ascii() { 0 } else { MAX_PASSES };
    for _ in 0..passes {
        let again = words_of(&query);
        if again == query {
            break;
        }
        query = again;
    }
    // Punctuation gone, `555!123!4567` is a phone number too.
    (!query.is_empty() && !holds_long_number(&query)).then_some(query)
}

/// Passes of analysis after the first, at most: one is all that real text needs.
const MAX_PASSES: usize = 3;

/// The analyzer's words of `text`, joined by single spaces.
fn words_of(text: &str) -> String {
    WORDS.with(|words| analyzer::words(&mut words.borrow_mut(), text)).join(" ")
}

/// A word with text before an `@` and a dotted domain after it.
fn looks_like_email(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        word.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.split('.').filter(|part| !part.is_empty()).count() >= 2
                && !domain.ends_with('.')
        })
    })
}

/// Whether `text` holds [`LONG_NUMBER_DIGITS`] digits or more in one number: joined by
/// [`NUMBER_JOINERS`], or by spaces between groups of [`GROUP_DIGITS`] digits or more.
fn holds_long_number(text: &str) -> bool {
    let mut chained = 0;
    for token in text.split_whitespace() {
        let mut run = 0;
        let mut longest = 0;
        for c in token.chars() {
            if c.is_ascii_digit() {
                run += 1;
                longest = longest.max(run);
            } else if !NUMBER_JOINERS.contains(c) {
                run = 0;
            }
        }
        if longest >= LONG_NUMBER_DIGITS {
            return true;
        }
        let numeric = token.chars().all(|c| c.is_ascii_digit() || NUMBER_JOINERS.contains(c));
        chained = if numeric && longest >= GROUP_DIGITS { chained + longest } else { 0 };
        if chained >= LONG_NUMBER_DIGITS {
            return true;
        }
    }
    false
}

/// A search as a click or conversion names it: its query and the hour it was made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryId {
    pub hour: Hour,
    pub query: String,
}

impl QueryId {
    /// The id a search answer carries: the hour in hexadecimal, a dot, the query in URL-safe
    /// base64.
    pub fn encode(&self) -> String {
        format!("{:x}.{}", self.hour, URL_SAFE_NO_PAD.encode(&self.query))
    }

    /// The search an id names, or `None` when the id was not made by [`QueryId::encode`] for a
    /// normalised query.
    pub fn decode(id: &str) -> Option<Self> {
        if id.len() > MAX_QUERY_ID_CHARS {
            return None;
        }
        let (hour, query) = id.split_once('.')?;
        if hour.is_empty() || hour.len() > 12 || !hour.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let hour = Hour::from_str_radix(hour, 16).ok()?;
        let query = String::from_utf8(URL_SAFE_NO_PAD.decode(query).ok()?).ok()?;
        (normalise(&query).as_deref() == Some(query.as_str())).then_some(Self { hour, query })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_query_is_its_words_lower_cased_folded_and_single_spaced() {
        assert_eq!(normalise("  Wireless   Headphones!").as_deref(), Some("wireless headphones"));
        assert_eq!(normalise("wireless headphones").as_deref(), Some("wireless headphones"));
        assert_eq!(normalise("Café USB-C").as_deref(), Some("cafe usb c"));
        assert_eq!(normalise(" -- !! "), None);
        assert_eq!(normalise(""), None);
    }

    #[test]
    fn email_addresses_and_long_numbers_are_not_kept() {
        for private in [
            "jane.doe@example.com",
            "order for bob@mail.example.org",
            "+1 (555) 123-4567",
            "555 123 4567",
            "4111 1111 1111 1111",
            "4111111111111111",
            "order ORD-20261203-77",
            "tracking 1Z999AA10123456784",
        ] {
            assert_eq!(normalise(private), None, "{private}");
        }
        for kept in
            ["iphone 15 2024 128gb", "65 inch tv 2024", "usb-c 3.1 hub", "@home", "a@b", "sku 1234567"]
        {
            assert!(normalise(kept).is_some(), "{kept}");
        }
    }

    #[test]
    fn a_query_id_names_its_query_and_hour_and_nothing_else_decodes() {
        let id = QueryId { hour: 494_000, query: "wireless headphones".into() };
        assert_eq!(QueryId::decode(&id.encode()), Some(id.clone()));
        let encoded = id.encode();
        for bad in [
            "",
            ".",
            "zz.d2lyZWxlc3M",
            "+1.d2lyZWxlc3M",
            "78a50.%%%",
            // "Wireless" is not normalised: no search made this id.
            &format!("78a50.{}", URL_SAFE_NO_PAD.encode("Wireless")),
            &encoded[..encoded.len() - 1],
        ] {
            assert_eq!(QueryId::decode(bad), None, "{bad:?}");
        }
        assert_eq!(QueryId::decode(&"a".repeat(MAX_QUERY_ID_CHARS + 1)), None);
    }

    proptest! {
        #[test]
        fn normalising_twice_changes_nothing(text in "\\PC{0,80}") {
            if let Some(query) = normalise(&text) {
                prop_assert_eq!(normalise(&query), Some(query.clone()));
                let id = QueryId { hour: 1, query };
                prop_assert_eq!(QueryId::decode(&id.encode()), Some(id));
            }
        }
    }
}
