//! Full-text search over the catalogue: analysis, term expansion, the tantivy index,
//! facets, highlighting, and the search request with its bounds. Knows nothing of HTTP.

pub mod analyzer;
mod expand;
mod facets;
pub mod filter;
mod filter_query;
pub mod highlight;
mod index;
pub mod language;
pub(crate) mod matcher;
mod merchandised;
pub mod merchandising;
mod merge_order;
mod on_disk;
mod query;
mod rank;
pub mod ranking;
mod restriction;
mod schema;

pub use expand::{MAX_PREFIX_EXPANSIONS, allowed_typos};
pub use filter::{Filter, FilterField};
pub use index::{MatchingOptions, SearchIndex, Weights, default_weights};
pub use language::{Language, Synonyms, SynonymsError};
pub use merchandising::{Merchandising, Rules};
pub use on_disk::{CaughtUp, Opened};
pub use query::{
    AttributeFacet, DEFAULT_LIMIT, FacetCounts, FacetRequest, Facets, Filters, InvalidRequest,
    MAX_ATTRIBUTE_FACETS, MAX_FACET_VALUES, MAX_FILTER_VALUES, MAX_LIMIT, MAX_QUERY_CHARS, MAX_WINDOW,
    Matching, PriceRange, SearchHits, SearchRequest, SearchRequestBuilder, Sort,
};
pub use schema::TEXT_FIELDS;
