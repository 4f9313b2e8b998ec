//! `GET /products/search`: parses the query string, runs the search on the bounded pool.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use product_model::Product;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::{ApiError, AppState};
use crate::analytics::{self, QueryId};
use crate::catalog::{Highlights, Hit};
use crate::observability;
use crate::pool::PoolError;
use crate::search::{
    AttributeFacet, FacetCounts, FacetRequest, Facets, Filters, Matching, PriceRange, SearchRequest,
    SearchRequestBuilder, Sort,
};

/// The query string as sent: every value still text. `category` and `brand` may repeat;
/// for every other parameter the first value counts. Unknown parameters are ignored.
///
/// The document's bounds are literals (the derive takes no constants); a test holds them
/// to the constants the request is checked against.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// The words to look for, in any field: each word exactly, with a typo, joined with its
    /// neighbour, split in two, through a synonym, or (the last one) as a prefix; stop words
    /// never fail a query; a whole SKU also matches. Required unless a filter is given.
    #[param(value_type = Option<String>, max_length = 256)]
    q: Option<String>,
    /// Results per page.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, default = 20)]
    limit: Option<String>,
    /// Results to skip; `offset + limit` is at most 1000.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 999, default = 0)]
    offset: Option<String>,
    /// Only these categories (any of them, case-insensitive); repeat for more.
    #[param(rename = "category", value_type = Option<Vec<String>>, max_items = 20)]
    categories: Vec<String>,
    /// Only these brands (any of them, case-insensitive); repeat for more.
    #[param(rename = "brand", value_type = Option<Vec<String>>, max_items = 20)]
    brands: Vec<String>,
    /// Lowest price, inclusive.
    #[param(value_type = Option<f64>, minimum = 0)]
    min_price: Option<String>,
    /// Highest price, inclusive; at least `min_price`.
    #[param(value_type = Option<f64>, minimum = 0)]
    max_price: Option<String>,
    /// Only products in stock (`true`) or out of stock (`false`).
    #[param(value_type = Option<bool>)]
    in_stock: Option<String>,
    /// Lowest rating, inclusive.
    #[param(value_type = Option<f64>, minimum = 0, maximum = 5)]
    min_rating: Option<String>,
    /// An expression over the built-in fields (`brand`, `category`, `price`, `rating`,
    /// `in_stock`) and the filterable attributes (`attributes.<name>`): `=`, `!=`, `<`,
    /// `<=`, `>`, `>=`, `IN [a, b]`, `EXISTS`, `low TO high`, joined with `AND`, `OR`,
    /// `NOT` and parentheses; values quoted with `'` or `"` when they hold spaces or
    /// symbols. It applies together with the other filters. See README "Filters and facets".
    #[param(value_type = Option<String>, max_length = 2000, example = "attributes.color IN [red, blue] AND price < 50")]
    filter: Option<String>,
    /// The order of results; ties go to the lower product id.
    #[param(value_type = Option<Sort>)]
    sort: Option<String>,
    /// Facets to count over the matching set, comma-separated: `category`, `brand`,
    /// `price`, and up to 20 filterable attributes as `attributes.<name>`.
    #[param(
        value_type = Option<String>,
        pattern = "^(category|brand|price|attributes\\.[a-z0-9_]{1,64})(,(category|brand|price|attributes\\.[a-z0-9_]{1,64}))*$"
    )]
    facets: Option<String>,
    /// Mark the matched words of names and descriptions with `<mark>` in `_highlights`.
    #[param(value_type = Option<bool>, default = false)]
    highlight: Option<String>,
    /// Let words of five letters or more match with one typo, nine or more with two.
    #[param(value_type = Option<bool>, default = true)]
    typo_tolerance: Option<String>,
    /// `auto`: when no product matches every word, words are let go, least informative
    /// first, and products matching more of them rank first; `all`: every word must match.
    #[param(value_type = Option<Matching>, default = "auto")]
    matching: Option<String>,
}

/// What the answer's matching set required.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum MatchingOutcome {
    /// Every product matches every word (stop words aside).
    All,
    /// Too few did: the words in `not_required` need not match.
    Partial,
}

impl SearchParams {
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| ApiError::InvalidInput(format!("malformed query string: {e}")))?;
        let mut params = Self::default();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "category" => {
                    params.categories.push(value);
                    continue;
                }
                "brand" => {
                    params.brands.push(value);
                    continue;
                }
                "q" => &mut params.q,
                "limit" => &mut params.limit,
                "offset" => &mut params.offset,
                "min_price" => &mut params.min_price,
                "max_price" => &mut params.max_price,
                "in_stock" => &mut params.in_stock,
                "min_rating" => &mut params.min_rating,
                "filter" => &mut params.filter,
                "sort" => &mut params.sort,
                "facets" => &mut params.facets,
                "highlight" => &mut params.highlight,
                "typo_tolerance" => &mut params.typo_tolerance,
                "matching" => &mut params.matching,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        Ok(params)
    }
}

impl TryFrom<SearchParams> for SearchRequest {
    type Error = ApiError;

    fn try_from(p: SearchParams) -> Result<Self, ApiError> {
        let builder = SearchRequestBuilder {
            text: p.q,
            limit: parse("limit", p.limit, "an integer")?,
            offset: parse("offset", p.offset, "an integer")?,
            filters: Filters {
                categories: p.categories,
                brands: p.brands,
                min_price: parse("min_price", p.min_price, "a number")?,
                max_price: parse("max_price", p.max_price, "a number")?,
                in_stock: parse("in_stock", p.in_stock, "true or false")?,
                min_rating: parse("min_rating", p.min_rating, "a number")?,
            },
            filter: p.filter,
            sort: p.sort.as_deref().map(Sort::parse).transpose()?.unwrap_or_default(),
            facets: p.facets.as_deref().map(FacetRequest::parse).transpose()?.unwrap_or_default(),
            highlight: parse("highlight", p.highlight, "true or false")?.unwrap_or(false),
            typo_tolerance: parse("typo_tolerance", p.typo_tolerance, "true or false")?,
            matching: p.matching.as_deref().map(Matching::parse).transpose()?.unwrap_or_default(),
        };
        Ok(builder.build()?)
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: Option<String>, what: &str) -> Result<Option<T>, ApiError> {
    value
        .map(|v| v.trim().parse::<T>().map_err(|_| ApiError::InvalidInput(format!("{name} must be {what}"))))
        .transpose()
}

/// One page of results.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// The page, best first (or in the requested order).
    #[schema(value_type = Vec<ProductHit>)]
    products: Vec<HitBody>,
    /// Exact number of matching products in the whole catalogue.
    total_found: u64,
    /// Time spent searching, e.g. `153.2µs`.
    #[schema(example = "153.2µs")]
    search_time: String,
    limit: usize,
    offset: usize,
    /// Whether the matching set is every word's or was widened.
    matching: MatchingOutcome,
    /// The query words products need not match, in the order they were let go; they still
    /// rank. Empty unless `matching` is `partial`.
    not_required: Vec<String>,
    /// Present when `facets` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<FacetsBody>,
    /// Names this search in `POST /events`. Present when analytics are on and `q` has
    /// words (a query that looks like an email address or a long number is not recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    query_id: Option<String>,
    /// The ids of the merchandising rules that applied (settings `rules`), in their order.
    rules_applied: Vec<String>,
}

/// Bytes a page's JSON holds beside its products: the total, the time, facets.
const PAGE_OVERHEAD_BYTES: usize = 1024;

impl IntoResponse for SearchResponse {
    /// The page's JSON, written into a buffer sized for it: the products' kept JSON is
    /// most of a page, and a buffer grown from a few bytes copies it over and over.
    fn into_response(self) -> Response {
        let products: usize = self
            .products
            .iter()
            .map(|hit| match hit {
                HitBody::Product(json) => json.get().len() + 1,
                HitBody::Highlighted(_) => 0,
            })
            .sum();
        let mut body = Vec::with_capacity(products + PAGE_OVERHEAD_BYTES);
        match serde_json::to_writer(&mut body, &self) {
            Ok(()) => {
                ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
            }
            Err(error) => ApiError::Internal(error.into()).into_response(),
        }
    }
}

/// A matching product, with its highlights when `highlight=true`.
#[derive(Serialize, utoipa::ToSchema)]
struct ProductHit {
    #[serde(flatten)]
    #[schema(value_type = Product)]
    product: Arc<Product>,
    #[serde(rename = "_highlights", skip_serializing_if = "Option::is_none")]
    highlights: Option<HighlightsBody>,
}

/// A hit as written: a product's kept JSON when there are no highlights to add to it.
#[derive(Serialize)]
#[serde(untagged)]
enum HitBody {
    Product(Arc<RawValue>),
    Highlighted(ProductHit),
}

/// HTML-escaped text with each matched word wrapped in `<mark>`.
#[derive(Serialize, utoipa::ToSchema)]
struct HighlightsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

/// Counts over the matching set. Each facet ignores its own filter, so its other values
/// keep their counts while one is chosen.
#[derive(Serialize, utoipa::ToSchema)]
struct FacetsBody {
    /// Up to 20 categories, largest count first.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ordered")]
    #[schema(value_type = Option<std::collections::HashMap<String, u64>>)]
    category: Option<FacetCounts>,
    /// Up to 20 brands, largest count first.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ordered")]
    #[schema(value_type = Option<std::collections::HashMap<String, u64>>)]
    brand: Option<FacetCounts>,
    /// The lowest and highest price, or `null` when no match has a price.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable)]
    price: Option<Option<PriceBody>>,
    /// Per attribute asked for, under `attributes.<name>`: up to 20 text (or boolean)
    /// values, largest count first; or, when the matching products hold only numbers for
    /// it, `{"min": ..., "max": ...}`; `{}` when none has it.
    #[serde(flatten)]
    #[schema(value_type = std::collections::HashMap<String, AttributeFacetBody>)]
    attributes: AttributeFacetsBody,
}

/// Attribute facets, keyed `attributes.<name>`, in the order asked.
struct AttributeFacetsBody(Vec<(String, AttributeFacet)>);

impl Serialize for AttributeFacetsBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .map(|(name, facet)| (format!("attributes.{name}"), AttributeFacetBody::from(facet))),
        )
    }
}

/// One attribute's facet: value counts, or the range of its numbers.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(super) enum AttributeFacetBody {
    #[schema(value_type = std::collections::HashMap<String, u64>)]
    Values(#[serde(serialize_with = "ordered_counts")] FacetCounts),
    Range(PriceBody),
}

impl From<&AttributeFacet> for AttributeFacetBody {
    fn from(facet: &AttributeFacet) -> Self {
        match facet {
            AttributeFacet::Values(counts) => Self::Values(counts.clone()),
            AttributeFacet::Range(PriceRange { min, max }) => Self::Range(PriceBody { min: *min, max: *max }),
        }
    }
}

fn ordered_counts<S: Serializer>(counts: &FacetCounts, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(counts.iter().map(|(value, count)| (value, count)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct PriceBody {
    min: f64,
    max: f64,
}

/// Facet counts as a JSON object whose keys keep their order: largest count first.
fn ordered<S: Serializer>(counts: &Option<FacetCounts>, serializer: S) -> Result<S::Ok, S::Error> {
    let counts = counts.as_deref().unwrap_or_default();
    serializer.collect_map(counts.iter().map(|(value, count)| (value, count)))
}

impl From<Hit> for ProductHit {
    fn from(hit: Hit) -> Self {
        Self {
            product: hit.product,
            highlights: hit
                .highlights
                .map(|Highlights { name, description }| HighlightsBody { name, description }),
        }
    }
}

impl From<Facets> for FacetsBody {
    fn from(f: Facets) -> Self {
        Self {
            category: f.category,
            brand: f.brand,
            price: f.price.map(|range| range.map(|PriceRange { min, max }| PriceBody { min, max })),
            attributes: AttributeFacetsBody(f.attributes),
        }
    }
}

/// Full-text search over the whole catalogue.
#[utoipa::path(
    get,
    path = "/products/search",
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "One page of results and the exact total", body = SearchResponse),
        (status = 400, description = "INVALID_INPUT: the message names the parameter and its bound", body = super::error::ErrorBody),
        (status = 503, description = "OVERLOADED (too many searches in progress) or CATALOG_BEHIND", body = super::error::ErrorBody),
    ),
)]
pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<SearchResponse, ApiError> {
    let request = SearchRequest::try_from(SearchParams::parse(raw.as_deref())?)?;
    let (limit, offset) = (request.limit, request.offset);
    let recorded =
        state.analytics().and_then(|analytics| Some((analytics, analytics::normalise(&request.text)?)));
    let catalog = Arc::clone(state.catalog());
    catalog.check_filterable(&request)?;
    let outcome = state
        .pool
        .run(move || {
            let started = Instant::now();
            catalog.search(&request).map(|results| (results, started.elapsed()))
        })
        .await;
    if matches!(outcome, Err(PoolError::Saturated)) {
        metrics::counter!(observability::SEARCHES_SHED).increment(1);
    }
    let (results, took) = outcome??;
    metrics::histogram!(observability::SEARCH_DURATION).record(took.as_secs_f64());
    if results.total == 0 {
        metrics::counter!(observability::SEARCHES_NO_RESULTS).increment(1);
    }
    // A shopper's search is its first page; the pages after it are the same search.
    let first_page = offset == 0;
    let query_id = recorded.map(|(analytics, query)| {
        let hour =
            if first_page { analytics.search(&query, results.total) } else { analytics::current_hour() };
        QueryId { hour, query }.encode()
    });
    let highlighted = results.hits.iter().any(|hit| hit.highlights.is_some());
    let products = if highlighted {
        results.hits.iter().cloned().map(|hit| HitBody::Highlighted(ProductHit::from(hit))).collect()
    } else {
        let products: Vec<&Arc<Product>> = results.hits.iter().map(|hit| &hit.product).collect();
        let json = state.product_json.of(&products).map_err(|e| ApiError::Internal(e.into()))?;
        json.into_iter().map(HitBody::Product).collect()
    };
    Ok(SearchResponse {
        products,
        total_found: results.total,
        search_time: format!("{took:.1?}"),
        limit,
        offset,
        matching: if results.partial { MatchingOutcome::Partial } else { MatchingOutcome::All },
        not_required: results.not_required.clone(),
        facets: results.facets.clone().map(FacetsBody::from),
        query_id,
        rules_applied: results.rules_applied.clone(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::search::{MAX_FILTER_VALUES, MAX_LIMIT, MAX_QUERY_CHARS, MAX_WINDOW};

    const NAMES: [&str; 15] = [
        "q",
        "limit",
        "offset",
        "category",
        "brand",
        "min_price",
        "max_price",
        "in_stock",
        "min_rating",
        "filter",
        "sort",
        "facets",
        "highlight",
        "typo_tolerance",
        "matching",
    ];

    /// Parses a query string the way the handler does.
    fn request(raw: &str) -> Result<SearchRequest, ApiError> {
        SearchRequest::try_from(SearchParams::parse(Some(raw))?)
    }

    /// A request that parsed keeps every bound; one that did not names what to fix.
    fn holds(raw: &str) -> Result<(), TestCaseError> {
        match request(raw) {
            Ok(r) => {
                prop_assert!((1..=MAX_LIMIT).contains(&r.limit));
                prop_assert!(r.offset + r.limit <= MAX_WINDOW);
                prop_assert!(r.text.chars().count() <= MAX_QUERY_CHARS);
                prop_assert!(r.filters.categories.len() <= MAX_FILTER_VALUES);
                prop_assert!(r.filters.brands.len() <= MAX_FILTER_VALUES);
                prop_assert!(!r.text.trim().is_empty() || !r.filters.is_empty() || r.filter.is_some());
                if let (Some(min), Some(max)) = (r.filters.min_price, r.filters.max_price) {
                    prop_assert!(min <= max);
                }
            }
            Err(ApiError::InvalidInput(message)) => {
                let named = NAMES.iter().any(|name| message.starts_with(name))
                    || message.starts_with("malformed query string")
                    || message.starts_with("offset + limit");
                prop_assert!(named, "{:?} names no parameter", message);
            }
            Err(other) => prop_assert!(false, "{:?} is not a 400", other),
        }
        Ok(())
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,12}",
            "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
            "[0-9]{15,25}",
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("NaN".to_owned()),
            Just("inf".to_owned()),
            Just("category,brand,price".to_owned()),
            Just("attributes.color,brand".to_owned()),
            Just("attributes.size IN [S, M] AND NOT (price > 10 OR brand = 'a b')".to_owned()),
            Just("(((attributes.x EXISTS".to_owned()),
            Just("price_desc".to_owned()),
            "\\PC{250,260}",
        ]
    }

    proptest! {
        #[test]
        fn any_raw_query_string_is_a_request_or_a_named_error(raw in "\\PC{0,200}") {
            holds(&raw)?;
        }

        #[test]
        fn any_mix_of_known_parameters_is_a_request_or_a_named_error(
            pairs in proptest::collection::vec((proptest::sample::select(&NAMES[..]), value()), 0..30)
        ) {
            let raw = serde_urlencoded::to_string(&pairs).unwrap();
            holds(&raw)?;
        }
    }
}
