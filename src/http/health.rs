//! `GET /health`: for load balancer health checks.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{ApiError, AppState};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
    products: usize,
    /// The feed version this replica has applied.
    catalog_version: u64,
    /// `none` (in-memory catalogue), `ok` or `down`. Reads keep working while it is down.
    #[schema(value_type = String, pattern = "^(none|ok|down)$")]
    database: &'static str,
    /// The index being rebuilt in the background for the attributes the settings search
    /// (`null`: none); searches keep the index in use until it is swapped in.
    index_rebuild: Option<IndexRebuild>,
}

/// Work in progress: an index built for other searched attributes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IndexRebuild {
    /// The attributes the new index searches.
    #[schema(example = json!(["attributes.material"]))]
    attributes: Vec<String>,
    /// Seconds since it started.
    seconds: u64,
}

/// 200 with the product count, the applied version, the database's state and any index
/// rebuild in progress (still 200 when
/// the database is down: this replica serves reads from memory); 503 once shutdown has begun,
/// so balancers stop routing here.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "Serving", body = Health),
        (status = 503, description = "OVERLOADED: shutting down, or CATALOG_BEHIND", body = super::error::ErrorBody),
    ),
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    if state.draining.load(Ordering::SeqCst) {
        return Err(ApiError::Overloaded("shutting down"));
    }
    let catalog = state.catalog();
    Ok(Json(Health {
        status: "ok",
        products: catalog.len(),
        catalog_version: catalog.version(),
        database: state.replica().database_state().as_str(),
        index_rebuild: catalog
            .rebuild_pending()
            .map(|pending| IndexRebuild { attributes: pending.attributes, seconds: pending.seconds }),
    }))
}
