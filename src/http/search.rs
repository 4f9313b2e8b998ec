//! `GET /products/search`: parses the query string, runs the search on the bounded pool.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{RawQuery, State};
use data_gen::Product;
use serde::{Serialize, Serializer};

use super::{ApiError, AppState};
use crate::catalog::{Highlights, Hit};
use crate::observability;
use crate::pool::PoolError;
use crate::search::{
    FacetCounts, FacetRequest, Facets, Filters, PriceRange, SearchRequest, SearchRequestBuilder, Sort,
};

/// The query string as sent: every value still text. `category` and `brand` may repeat;
/// for every other parameter the first value counts. Unknown parameters are ignored.
#[derive(Debug, Default)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    categories: Vec<String>,
    brands: Vec<String>,
    min_price: Option<String>,
    max_price: Option<String>,
    in_stock: Option<String>,
    min_rating: Option<String>,
    sort: Option<String>,
    facets: Option<String>,
    highlight: Option<String>,
    typo_tolerance: Option<String>,
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
                "sort" => &mut params.sort,
                "facets" => &mut params.facets,
                "highlight" => &mut params.highlight,
                "typo_tolerance" => &mut params.typo_tolerance,
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
            sort: p.sort.as_deref().map(Sort::parse).transpose()?.unwrap_or_default(),
            facets: p.facets.as_deref().map(FacetRequest::parse).transpose()?.unwrap_or_default(),
            highlight: parse("highlight", p.highlight, "true or false")?.unwrap_or(false),
            typo_tolerance: parse("typo_tolerance", p.typo_tolerance, "true or false")?,
        };
        Ok(builder.build()?)
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: Option<String>, what: &str) -> Result<Option<T>, ApiError> {
    value
        .map(|v| v.trim().parse::<T>().map_err(|_| ApiError::InvalidInput(format!("{name} must be {what}"))))
        .transpose()
}

#[derive(Serialize)]
pub struct SearchResponse {
    products: Vec<ProductHit>,
    /// Exact number of matching products in the whole catalogue.
    total_found: u64,
    /// Time spent searching, e.g. `153.2µs`.
    search_time: String,
    limit: usize,
    offset: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<FacetsBody>,
}

#[derive(Serialize)]
struct ProductHit {
    #[serde(flatten)]
    product: Arc<Product>,
    #[serde(rename = "_highlights", skip_serializing_if = "Option::is_none")]
    highlights: Option<HighlightsBody>,
}

#[derive(Serialize)]
struct HighlightsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize)]
struct FacetsBody {
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ordered")]
    category: Option<FacetCounts>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ordered")]
    brand: Option<FacetCounts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<Option<PriceBody>>,
}

#[derive(Serialize)]
struct PriceBody {
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
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let request = SearchRequest::try_from(SearchParams::parse(raw.as_deref())?)?;
    let (limit, offset) = (request.limit, request.offset);
    let catalog = Arc::clone(state.catalog());
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
    Ok(Json(SearchResponse {
        products: results.hits.iter().cloned().map(ProductHit::from).collect(),
        total_found: results.total,
        search_time: format!("{took:.1?}"),
        limit,
        offset,
        facets: results.facets.clone().map(FacetsBody::from),
    }))
}
