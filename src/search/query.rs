//! What a search asks for and what it gets back, with the bounds every search obeys.

use std::fmt;

/// Results per page when the client does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Most results one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Deepest result a client may page to (`offset + limit`): deep pages cost a heap of
/// `offset + limit` entries per search and nobody reads them.
pub const MAX_WINDOW: usize = 1_000;
/// Longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 256;

/// A validated search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query text; every term must match.
    pub text: String,
    pub limit: usize,
    pub offset: usize,
}

/// Why a search request was refused; the message names the parameter and its bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest(pub String);

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidRequest {}

impl SearchRequest {
    /// Checks every bound; `limit` and `offset` default to 20 and 0.
    pub fn new(
        text: Option<String>,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Self, InvalidRequest> {
        let text = text.unwrap_or_default();
        if text.trim().is_empty() {
            return Err(InvalidRequest("q is required and must not be blank".into()));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(InvalidRequest(format!("q must be at most {MAX_QUERY_CHARS} characters")));
        }
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => {
                return Err(InvalidRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
            }
        };
        let offset = match offset {
            None => 0,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            Some(_) => return Err(InvalidRequest("offset must be >= 0".into())),
        };
        if offset.saturating_add(limit) > MAX_WINDOW {
            return Err(InvalidRequest(format!("offset + limit must be at most {MAX_WINDOW}")));
        }
        Ok(Self { text, limit, offset })
    }
}

/// One page of matching product ids, best first, and the exact number of matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHits {
    pub ids: Vec<u64>,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(q: &str, limit: Option<i64>, offset: Option<i64>) -> Result<SearchRequest, InvalidRequest> {
        SearchRequest::new(Some(q.to_owned()), limit, offset)
    }

    #[test]
    fn defaults_to_twenty_results_from_the_top() {
        let r = request("lamp", None, None).unwrap();
        assert_eq!((r.limit, r.offset), (20, 0));
    }

    #[test]
    fn rejects_blank_or_missing_text() {
        assert!(SearchRequest::new(None, None, None).is_err());
        assert!(request("   ", None, None).unwrap_err().0.starts_with("q "));
    }

    #[test]
    fn rejects_each_bound_naming_it() {
        assert!(request("a", Some(0), None).unwrap_err().0.starts_with("limit"));
        assert!(request("a", Some(101), None).unwrap_err().0.starts_with("limit"));
        assert!(request("a", None, Some(-1)).unwrap_err().0.starts_with("offset"));
        assert!(request("a", Some(100), Some(901)).unwrap_err().0.starts_with("offset + limit"));
        assert!(request(&"a".repeat(257), None, None).unwrap_err().0.starts_with("q "));
    }

    #[test]
    fn accepts_the_deepest_allowed_page_and_the_longest_query() {
        assert!(request("a", Some(100), Some(900)).is_ok());
        assert!(request(&"é".repeat(256), None, None).is_ok());
    }
}
