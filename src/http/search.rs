//! `GET /products/search`: parses the query string, runs the search on the bounded pool.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{RawQuery, State};
use data_gen::Product;
use serde::Serialize;

use super::{ApiError, AppState};
use crate::search::SearchRequest;

/// The query string as sent: every value still text.
#[derive(Debug, Default)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

impl SearchParams {
    /// Reads the query string; later repeats of a single-valued parameter are ignored,
    /// unknown parameters too.
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| ApiError::InvalidInput(format!("malformed query string: {e}")))?;
        let mut params = Self::default();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "q" => &mut params.q,
                "limit" => &mut params.limit,
                "offset" => &mut params.offset,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        Ok(params)
    }
}

impl TryFrom<SearchParams> for SearchRequest {
    type Error = ApiError;

    fn try_from(params: SearchParams) -> Result<Self, ApiError> {
        let limit = integer_param("limit", params.limit)?;
        let offset = integer_param("offset", params.offset)?;
        Ok(SearchRequest::new(params.q, limit, offset)?)
    }
}

fn integer_param(name: &str, value: Option<String>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| ApiError::InvalidInput(format!("{name} must be an integer")))
        })
        .transpose()
}

#[derive(Serialize)]
pub struct SearchResponse {
    products: Vec<Arc<Product>>,
    /// Exact number of matching products in the whole catalogue.
    total_found: u64,
    /// Time spent searching, e.g. `153.2µs`.
    search_time: String,
    limit: usize,
    offset: usize,
}

pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let request = SearchRequest::try_from(SearchParams::parse(raw.as_deref())?)?;
    let (limit, offset) = (request.limit, request.offset);
    let catalog = Arc::clone(&state.catalog);
    let (results, took) = state
        .pool
        .run(move || {
            let started = Instant::now();
            catalog.search(&request).map(|results| (results, started.elapsed()))
        })
        .await??;
    Ok(Json(SearchResponse {
        products: results.products,
        total_found: results.total,
        search_time: format!("{took:.1?}"),
        limit,
        offset,
    }))
}
