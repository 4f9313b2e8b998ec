//! `GET /health`: for load balancer health checks.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{ApiError, AppState};

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    products: usize,
}

/// 200 with the product count; 503 once shutdown has begun, so balancers stop routing here.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    if state.draining.load(Ordering::SeqCst) {
        return Err(ApiError::Overloaded("shutting down"));
    }
    Ok(Json(Health { status: "ok", products: state.catalog.len() }))
}
