//! API keys: what a key may do, how its secret is kept (only a SHA-256 hash, never the
//! secret), how a new one is asked for and checked, and the ring of keys a replica knows.
//! Keys are written through the store and reach every replica through the feed, like
//! products; the ring is what the feed has brought so far.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key allows. `admin` allows everything.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Searches and product reads: safe in a browser.
    Search,
    /// Product writes and exports.
    Write,
    /// Keys (and everything else).
    Admin,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
}

/// Most keys a catalogue may hold.
pub const MAX_KEYS: usize = 1_000;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Highest per-key rate limit, in requests per second.
pub const MAX_RATE_LIMIT: u32 = 100_000;

/// A key as stored and carried by the feed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    /// SHA-256 of the secret, in hex.
    pub hash: String,
    /// Sorted, without repeats.
    pub actions: Vec<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Requests per second this key may make, on top of the per-client limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// When it was made, in seconds since the Unix epoch.
    pub created_at: u64,
    /// When it was revoked: a revoked key is kept, so a catalogue that ever had keys keeps
    /// enforcing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
}

impl ApiKey {
    pub fn allows(&self, action: Action) -> bool {
        self.revoked_at.is_none() && (self.actions.contains(&action) || self.actions.contains(&Action::Admin))
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A request for a new key, as validated from its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub actions: Vec<Action>,
    pub description: Option<String>,
    pub rate_limit: Option<u32>,
}

/// Why a key request was refused; worded for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidKey(pub String);

impl NewKey {
    /// Validates `{"actions": [...], "description": "...", "rate_limit": n}`; only `actions`
    /// is required, and no other field is accepted.
    pub fn from_json(body: &serde_json::Value) -> Result<Self, InvalidKey> {
        let invalid = |message: &str| Err(InvalidKey(message.to_owned()));
        let Some(fields) = body.as_object() else {
            return invalid("Invalid JSON: expected a JSON object");
        };
        if let Some(unknown) =
            fields.keys().find(|k| !["actions", "description", "rate_limit"].contains(&k.as_str()))
        {
            return Err(InvalidKey(format!(
                "{} is not a key field (actions, description, rate_limit)",
                bounded(unknown)
            )));
        }
        let Some(listed) = fields.get("actions").and_then(|a| a.as_array()) else {
            return invalid("actions is required: a list of search, write and admin");
        };
        let mut actions = Vec::new();
        for action in listed {
            match action.as_str() {
                Some("search") => actions.push(Action::Search),
                Some("write") => actions.push(Action::Write),
                Some("admin") => actions.push(Action::Admin),
                _ => return invalid("actions must hold only search, write and admin"),
            }
        }
        actions.sort_unstable();
        actions.dedup();
        if actions.is_empty() {
            return invalid("actions must hold at least one of search, write and admin");
        }
        let description = match fields.get("description") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(text))
                if (1..=MAX_DESCRIPTION_CHARS).contains(&text.chars().count()) && !text.contains('\0') =>
            {
                Some(text.clone())
            }
            Some(_) => {
                return Err(InvalidKey(format!(
                    "description must be a string of 1 to {MAX_DESCRIPTION_CHARS} characters, without NUL"
                )));
            }
        };
        let rate_limit = match fields.get("rate_limit") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => match value.as_u64() {
                Some(n) if (1..=u64::from(MAX_RATE_LIMIT)).contains(&n) => Some(n as u32),
                _ => {
                    return Err(InvalidKey(format!(
                        "rate_limit must be an integer from 1 to {MAX_RATE_LIMIT} (requests per second)"
                    )));
                }
            },
        };
        Ok(Self { actions, description, rate_limit })
    }

    /// The key to store, with a fresh id, and its secret (shown once, never stored). Ids are
    /// time-ordered (UUID version 7), so keys made within one second still list in the order
    /// they were made.
    pub fn issue(self, now: u64) -> (ApiKey, String) {
        let secret = random_hex();
        let key = ApiKey {
            id: uuid::Uuid::now_v7().to_string(),
            hash: hash(&secret),
            actions: self.actions,
            description: self.description,
            rate_limit: self.rate_limit,
            created_at: now,
            revoked_at: None,
        };
        (key, secret)
    }
}

/// A fresh secret: 32 bytes from the operating system's generator, in hex.
fn random_hex() -> String {
    let bytes = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of `secret`, in hex: how keys are stored and looked up.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A secret derived from `master` for one `purpose`: the same on every replica given the
/// same master key, and telling nothing of it.
pub fn derive(master: &str, purpose: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"product-search derived key\0");
    digest.update(purpose.as_bytes());
    digest.update(b"\0");
    digest.update(Sha256::digest(master.as_bytes()));
    hex(&digest.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn bounded(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The keys a replica knows, revoked ones included, by id; those in force by the hash of
/// their secret.
#[derive(Default)]
pub struct KeyRing {
    keys: RwLock<Keys>,
}

#[derive(Default)]
struct Keys {
    by_id: HashMap<String, Arc<ApiKey>>,
    in_force: HashMap<String, Arc<ApiKey>>,
}

impl KeyRing {
    /// A ring holding `keys`.
    pub fn with(keys: impl IntoIterator<Item = ApiKey>) -> Self {
        let ring = Self::default();
        for key in keys {
            ring.set(Arc::new(key));
        }
        ring
    }

    /// Puts `key` in place of the key with its id.
    pub fn set(&self, key: Arc<ApiKey>) {
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(old) = keys.by_id.remove(&key.id) {
            keys.in_force.remove(&old.hash);
        }
        if !key.is_revoked() {
            keys.in_force.insert(key.hash.clone(), Arc::clone(&key));
        }
        keys.by_id.insert(key.id.clone(), key);
    }

    /// Holds `keys` and no other, from one moment to the next.
    pub fn replace(&self, keys: Vec<ApiKey>) {
        let replacement = Self::with(keys).keys.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = replacement;
    }

    /// The key whose secret is `secret`, if it is known and not revoked.
    pub fn find(&self, secret: &str) -> Option<Arc<ApiKey>> {
        let keys = self.read();
        if keys.in_force.is_empty() {
            return None;
        }
        keys.in_force.get(&hash(secret)).cloned()
    }

    /// Whether the catalogue ever held a key (revoked ones count): then keys are enforced.
    pub fn ever_held_keys(&self) -> bool {
        !self.read().by_id.is_empty()
    }

    /// Every key in force, oldest first.
    pub fn list(&self) -> Vec<Arc<ApiKey>> {
        let mut keys: Vec<Arc<ApiKey>> = self.read().in_force.values().cloned().collect();
        keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        keys
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_new_key_names_its_actions_and_nothing_else() {
        let key =
            NewKey::from_json(&json!({"actions": ["write", "search", "write"], "rate_limit": 50})).unwrap();
        assert_eq!(key.actions, [Action::Search, Action::Write]);
        assert_eq!(key.rate_limit, Some(50));
        let error = |body| NewKey::from_json(&body).unwrap_err().0;
        assert!(error(json!({})).starts_with("actions is required"));
        assert!(error(json!({"actions": []})).starts_with("actions must hold at least one"));
        assert!(error(json!({"actions": ["delete"]})).starts_with("actions must hold only"));
        assert!(error(json!({"actions": ["search"], "rate_limit": 0})).starts_with("rate_limit"));
        assert!(error(json!({"actions": ["search"], "rate_limit": 1.5})).starts_with("rate_limit"));
        assert!(error(json!({"actions": ["search"], "description": "a\u{0}"})).starts_with("description"));
        assert!(
            error(json!({"actions": ["search"], "expires": 1})).starts_with("expires is not a key field")
        );
        assert!(error(json!([1])).starts_with("Invalid JSON"));
    }

    #[test]
    fn a_ring_finds_a_key_by_its_secret_until_it_is_revoked() {
        let (key, secret) =
            NewKey { actions: vec![Action::Search], description: None, rate_limit: None }.issue(1);
        assert_eq!(secret.len(), 64);
        assert_ne!(key.hash, secret, "the secret is never kept");
        let ring = KeyRing::with([key.clone()]);
        assert_eq!(ring.find(&secret).as_deref(), Some(&key));
        assert!(ring.find("not-a-key").is_none());
        ring.set(Arc::new(ApiKey { revoked_at: Some(2), ..key }));
        assert!(ring.find(&secret).is_none() && ring.list().is_empty());
        assert!(ring.ever_held_keys(), "a revoked key still says keys are in use");
    }

    #[test]
    fn keys_made_within_one_second_list_in_the_order_they_were_made() {
        let made: Vec<ApiKey> = (0..50)
            .map(|_| NewKey { actions: vec![Action::Search], description: None, rate_limit: None }.issue(7).0)
            .collect();
        let ring = KeyRing::with(made.iter().rev().cloned());
        let listed: Vec<String> = ring.list().iter().map(|key| key.id.clone()).collect();
        assert_eq!(listed, made.iter().map(|key| key.id.clone()).collect::<Vec<_>>());
    }

    #[test]
    fn admin_allows_everything_and_other_actions_only_themselves() {
        let key = |actions: Vec<Action>| ApiKey {
            id: "k".into(),
            hash: String::new(),
            actions,
            description: None,
            rate_limit: None,
            created_at: 0,
            revoked_at: None,
        };
        assert!(key(vec![Action::Admin]).allows(Action::Write));
        assert!(key(vec![Action::Write]).allows(Action::Write));
        assert!(!key(vec![Action::Write]).allows(Action::Search));
        assert!(!key(vec![Action::Search]).allows(Action::Admin));
    }

    #[test]
    fn derived_secrets_depend_on_the_master_and_the_purpose() {
        assert_eq!(derive("m", "page"), derive("m", "page"));
        assert_ne!(derive("m", "page"), derive("n", "page"));
        assert_ne!(derive("m", "page"), derive("m", "other"));
        assert_eq!(derive("m", "page").len(), 64);
    }
}
