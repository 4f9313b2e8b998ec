//! `POST /keys`, `GET /keys` and `DELETE /keys/{key_id}`: API keys, managed with an admin
//! key (or the master key). A new key's secret is shown once, in the answer that makes it;
//! the store keeps only its hash. Creation and revocation are writes like any other: they
//! reach every replica through the feed, in order.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::products::{versioned, write};
use super::{ApiError, AppState};
use crate::keys::{Action, ApiKey, NewKey};
use crate::store::Write;

/// A key as listed: everything but its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyBody {
    id: String,
    actions: Vec<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// Requests per second this key may make.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<u32>,
    /// When it was made, in seconds since the Unix epoch.
    created_at: u64,
}

impl From<&ApiKey> for KeyBody {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id.clone(),
            actions: key.actions.clone(),
            description: key.description.clone(),
            rate_limit: key.rate_limit,
            created_at: key.created_at,
        }
    }
}

/// Every key this replica knows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyList {
    keys: Vec<KeyBody>,
}

/// The body of `POST /keys` (documentation only: the handler checks the JSON itself).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NewKeyBody {
    /// What the key may do: `search` (searches and product reads, safe in a browser),
    /// `write` (product writes and exports), `admin` (everything, keys included).
    #[schema(min_items = 1)]
    actions: Vec<Action>,
    #[schema(min_length = 1, max_length = 200)]
    description: Option<String>,
    /// Requests per second this key may make.
    #[schema(minimum = 1, maximum = 100000)]
    rate_limit: Option<u32>,
}

/// Makes a key; its secret is in the answer and nowhere else.
#[utoipa::path(
    post,
    path = "/keys",
    tag = "keys",
    request_body(content = NewKeyBody, description = "The key's actions, and optionally a description and a rate limit."),
    responses(
        (status = 201, description = "Made; `key` is its secret, shown this once", body = NewKeyAnswer),
        (status = 400, description = "INVALID_INPUT: the first bad field", body = super::error::ErrorBody),
        (status = 409, description = "CONFLICT: the catalogue holds 1,000 keys already", body = super::error::ErrorBody),
    ),
)]
pub async fn create_key(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let json: serde_json::Value =
        serde_json::from_slice(&body?).map_err(|e| ApiError::InvalidInput(format!("Invalid JSON: {e}")))?;
    let new = NewKey::from_json(&json).map_err(|e| ApiError::InvalidInput(e.0))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (key, secret) = new.issue(now);
    let answer = NewKeyAnswer { key: KeyBody::from(&key), secret };
    let committed = write(&state, Write::CreateKey(key)).await?;
    Ok(versioned((StatusCode::CREATED, Json(answer)).into_response(), &committed))
}

/// A key just made: the key as listed, and its secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewKeyAnswer {
    #[serde(flatten)]
    key: KeyBody,
    /// The secret to send as `Authorization: Bearer <key>`; shown this once.
    #[serde(rename = "key")]
    secret: String,
}

/// Every key, oldest first, without their secrets.
#[utoipa::path(
    get,
    path = "/keys",
    tag = "keys",
    responses((status = 200, description = "Every key", body = KeyList)),
)]
pub async fn list_keys(State(state): State<AppState>) -> Json<KeyList> {
    Json(KeyList {
        keys: state.catalog().keys().list().iter().map(|key| KeyBody::from(key.as_ref())).collect(),
    })
}

/// Revokes a key: every replica refuses it once it has applied this write (within
/// milliseconds; `min-catalog-version` to be sure).
#[utoipa::path(
    delete,
    path = "/keys/{key_id}",
    tag = "keys",
    params(("key_id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked; `catalog-version` is the write's version"),
        (status = 404, description = "NOT_FOUND: no key has this id", body = super::error::ErrorBody),
    ),
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(id)) = path else {
        return Err(ApiError::InvalidInput("key_id must be a key's id".into()));
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let committed = write(&state, Write::RevokeKey { id, at: now }).await?;
    Ok(versioned(StatusCode::NO_CONTENT.into_response(), &committed))
}
