//! Full-text search over the catalogue: analysis, the tantivy index and the search request
//! with its bounds. Knows nothing of HTTP.

pub mod analyzer;
mod index;
mod query;

pub use index::SearchIndex;
pub use query::{
    DEFAULT_LIMIT, InvalidRequest, MAX_LIMIT, MAX_QUERY_CHARS, MAX_WINDOW, SearchHits, SearchRequest,
};
