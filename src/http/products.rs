//! The product API: `GET`, `PUT` and `DELETE /products/{productId}`,
//! `POST /products/{productId}/details` (with the exact statuses and messages of the
//! original API), `POST /products/bulk` and `GET /products/export`. Every write goes through
//! the replica's one write path and answers with its `catalog-version`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use product_model::{Product, ProductDetails, product_from_json};
use serde::Serialize;

use super::{ApiError, AppState, CATALOG_VERSION};
use crate::store::{Committed, Write};

/// The whole product.
#[utoipa::path(
    get,
    path = "/products/{product_id}",
    tag = "products",
    params(("product_id" = i64, Path, minimum = 1, description = "The product's id")),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 400, description = "INVALID_INPUT: `productId must be an integer` or `productId must be >= 1`", body = super::error::ErrorBody),
        (status = 404, description = "NOT_FOUND: `product with ID <id> not found`", body = super::error::ErrorBody),
    ),
)]
pub async fn get_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Arc<Product>>, ApiError> {
    let id = product_id(path)?;
    state.catalog().get(id).map(Json).ok_or_else(|| ApiError::product_not_found(id))
}

/// Sets the detail fields, creating the product if absent. Checks, in order: the token,
/// the path, the JSON, then each field.
#[utoipa::path(
    post,
    path = "/products/{product_id}/details",
    tag = "products",
    params(("product_id" = i64, Path, minimum = 1, description = "The product's id")),
    request_body(content = DetailsBody, description = "Every field is required; unknown fields are ignored. \
        The first invalid field is reported, in this order."),
    responses(
        (status = 204, description = "Stored; `catalog-version` is the write's version"),
        (status = 400, description = "INVALID_INPUT: `Invalid JSON: ...`, or the first invalid field, e.g. `sku must be 1 to 100 characters`", body = super::error::ErrorBody),
        (status = 409, description = "CONFLICT: another product has this SKU", body = super::error::ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = super::error::ErrorBody),
    ),
)]
pub async fn post_details(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (id, json) = write_request(path, body)?;
    let details = ProductDetails::from_json(id, &json)?;
    let committed = write(&state, Write::Details { id, details }).await?;
    Ok(versioned(StatusCode::NO_CONTENT.into_response(), &committed))
}

/// Creates or replaces the whole product; answers with it as stored.
#[utoipa::path(
    put,
    path = "/products/{product_id}",
    tag = "products",
    params(("product_id" = i64, Path, minimum = 1, description = "The product's id")),
    request_body(content = Product, description = "The whole product; only `product_id` is required, and it must equal the path's."),
    responses(
        (status = 200, description = "Stored; the product as stored", body = Product),
        (status = 400, description = "INVALID_INPUT: `Invalid JSON: ...`, or the first invalid field", body = super::error::ErrorBody),
        (status = 409, description = "CONFLICT: another product has this SKU", body = super::error::ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = super::error::ErrorBody),
    ),
)]
pub async fn put_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (id, json) = write_request(path, body)?;
    let product = product_from_json(&json, Some(id))?;
    let committed = write(&state, Write::Put(product.clone())).await?;
    Ok(versioned(Json(product).into_response(), &committed))
}

/// Removes the product from every replica's GET, search, totals and facets.
#[utoipa::path(
    delete,
    path = "/products/{product_id}",
    tag = "products",
    params(("product_id" = i64, Path, minimum = 1, description = "The product's id")),
    responses(
        (status = 204, description = "Removed from every replica's reads, search, totals and facets"),
        (status = 400, description = "INVALID_INPUT: the id is not a positive integer", body = super::error::ErrorBody),
        (status = 404, description = "NOT_FOUND: `product with ID <id> not found`", body = super::error::ErrorBody),
    ),
)]
pub async fn delete_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = product_id(path)?;
    let committed = write(&state, Write::Delete(id)).await?;
    Ok(versioned(StatusCode::NO_CONTENT.into_response(), &committed))
}

/// The outcome of a bulk write.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkWritten {
    /// Products written.
    written: usize,
    /// The write's version, also in the `catalog-version` header.
    catalog_version: u64,
}

/// The body of `POST /products/{product_id}/details` (documentation only: the handler
/// checks the JSON itself, field by field in this order, with the original API's messages).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DetailsBody {
    /// Must equal the path's id.
    #[schema(minimum = 1)]
    product_id: i64,
    #[schema(min_length = 1, max_length = 100, example = "ABC-123-XYZ")]
    sku: String,
    #[schema(min_length = 1, max_length = 200, example = "Acme Corporation")]
    manufacturer: String,
    #[schema(minimum = 1)]
    category_id: i64,
    /// Grams.
    #[schema(minimum = 0)]
    weight: i64,
    #[schema(minimum = 1)]
    some_other_id: i64,
}

/// Creates or replaces every product of an NDJSON body (one product per line, blank lines
/// skipped) in one write: all of them, or, if any line is invalid, none.
#[utoipa::path(
    post,
    path = "/products/bulk",
    tag = "products",
    request_body(content = Vec<Product>, content_type = "application/x-ndjson", description = "The products, each \
        on its own line as one JSON object (blank lines are skipped), at most 16 MiB in all. All are written in one \
        write, or none if any line is invalid."),
    responses(
        (status = 200, description = "Every product written", body = BulkWritten),
        (status = 400, description = "INVALID_INPUT: the first invalid line, e.g. `line 3: price must be >= 0`", body = super::error::ErrorBody),
        (status = 409, description = "CONFLICT: another product has this SKU", body = super::error::ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = super::error::ErrorBody),
    ),
)]
pub async fn bulk(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let (products, lines) = parse_ndjson(&body)?;
    let committed = write(&state, Write::Bulk { products, lines }).await?;
    let written = BulkWritten { written: committed.written, catalog_version: committed.version };
    Ok(versioned(Json(written).into_response(), &committed))
}

/// Streams the whole catalogue as NDJSON, ordered by id: the format `--catalog` loads;
/// gzip-compressed when the client accepts it. Needs the write token when one is set.
#[utoipa::path(
    get,
    path = "/products/export",
    tag = "products",
    responses(
        (status = 200, description = "Every product, ordered by id, one JSON object per line: the format `--catalog` loads",
            content_type = "application/x-ndjson", body = String),
        (status = 503, description = "OVERLOADED: four exports are running already", body = super::error::ErrorBody),
    ),
)]
pub async fn export(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let catalog = Arc::clone(state.catalog());
    // Sorting a million products' ids takes a while: not on an async worker.
    let products = tokio::task::spawn_blocking(move || catalog.products())
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    state.exports.stream(products, &headers)
}

pub(super) async fn write(state: &AppState, write: Write) -> Result<Committed, ApiError> {
    Ok(state.replica().write(write, state.write_patience).await?)
}

/// A write's answer carries the write's own version.
pub(super) fn versioned(mut response: Response, committed: &Committed) -> Response {
    response.headers_mut().insert(CATALOG_VERSION, HeaderValue::from(committed.version));
    response
}

/// The id and JSON body of a write to one product, checked in the contract's order (the
/// key was checked before the handler): the path, then the JSON.
fn write_request(
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(u64, serde_json::Value), ApiError> {
    let id = product_id(path)?;
    let json =
        serde_json::from_slice(&body?).map_err(|e| ApiError::InvalidInput(format!("Invalid JSON: {e}")))?;
    Ok((id, json))
}

/// The products of an NDJSON body with their line numbers; the first bad line is named.
fn parse_ndjson(body: &[u8]) -> Result<(Vec<Product>, Vec<usize>), ApiError> {
    let mut products = Vec::new();
    let mut lines = Vec::new();
    let mut first_line_of: HashMap<u64, usize> = HashMap::new();
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let invalid = |message: String| ApiError::InvalidInput(format!("line {number}: {message}"));
        let json: serde_json::Value =
            serde_json::from_slice(line).map_err(|e| invalid(format!("Invalid JSON: {e}")))?;
        let product = product_from_json(&json, None).map_err(|e| invalid(e.0))?;
        if let Some(first) = first_line_of.insert(product.product_id, number) {
            return Err(invalid(format!("product_id {} is also on line {first}", product.product_id)));
        }
        products.push(product);
        lines.push(number);
    }
    if products.is_empty() {
        return Err(ApiError::InvalidInput("the body holds no products (one JSON product per line)".into()));
    }
    Ok((products, lines))
}

fn product_id(path: Result<Path<String>, PathRejection>) -> Result<u64, ApiError> {
    let Ok(Path(raw)) = path else {
        return Err(ApiError::InvalidInput("productId must be an integer".into()));
    };
    match raw.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id as u64),
        Ok(_) => Err(ApiError::InvalidInput("productId must be >= 1".into())),
        Err(_) => Err(ApiError::InvalidInput("productId must be an integer".into())),
    }
}
