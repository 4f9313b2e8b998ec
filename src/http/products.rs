//! `GET /products/{productId}` and `POST /products/{productId}/details`, with the exact
//! statuses and messages of the product API.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use data_gen::Product;

use super::{ApiError, AppState};
use crate::catalog::ProductDetails;

/// The whole product.
pub async fn get_product(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Arc<Product>>, ApiError> {
    let id = product_id(path)?;
    state.catalog.get(id).map(Json).ok_or_else(|| ApiError::product_not_found(id))
}

/// Sets the detail fields, creating the product if absent. Checks, in order: the token,
/// the path, the JSON, then each field.
pub async fn post_details(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    authorize(&state, &headers)?;
    let id = product_id(path)?;
    let body = body?;
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::InvalidInput(format!("Invalid JSON: {e}")))?;
    let details = ProductDetails::from_json(id, &json)?;
    let catalog = Arc::clone(&state.catalog);
    // A write commits the index: blocking work, kept off the async workers.
    tokio::task::spawn_blocking(move || catalog.upsert_details(id, details))
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;
    Ok(StatusCode::NO_CONTENT)
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

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.write_token.as_deref() else {
        return Ok(());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Compares without an early exit, so response time does not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
