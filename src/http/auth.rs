//! Who may do what. Each route needs one action (or none: health checks, the page, the API
//! document); a request presents a key as `Authorization: Bearer <key>`.
//!
//! Keys are enforced once this replica has a master key or its catalogue holds any key
//! (keys reach every replica through the feed, so a replica started without flags on a
//! database with keys enforces them too). Then every route that needs an action needs a key
//! that has it: the master key has every action, `--write-token` is a `write` key, the
//! search page's key a `search` key. Until then searches and reads are open and writes need
//! `--write-token` when it is set, as before keys existed.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, Method, header};

use super::{ApiError, AppState};
use crate::keys::{self, Action, ApiKey};

/// The action each route needs, by method and route template; a route not named here needs
/// none. Every documented operation is named (a test holds the table to the document).
pub const ROUTE_ACTIONS: &[(&str, &str, Action)] = &[
    ("GET", "/products/search", Action::Search),
    ("GET", "/products/{product_id}", Action::Search),
    ("PUT", "/products/{product_id}", Action::Write),
    ("DELETE", "/products/{product_id}", Action::Write),
    ("POST", "/products/{product_id}/details", Action::Write),
    ("POST", "/products/bulk", Action::Write),
    ("GET", "/products/export", Action::Write),
    ("GET", "/analytics/queries", Action::Write),
    ("GET", "/analytics/products", Action::Write),
    ("POST", "/events", Action::Search),
    ("GET", "/suggestions", Action::Search),
    ("POST", "/keys", Action::Admin),
    ("GET", "/keys", Action::Admin),
    ("DELETE", "/keys/{key_id}", Action::Admin),
    ("GET", "/settings", Action::Search),
    ("PUT", "/settings", Action::Write),
    ("PATCH", "/settings", Action::Write),
];

/// The secrets this replica knows from its configuration, kept as hashes.
pub struct Credentials {
    master: Option<String>,
    write_token: Option<String>,
    /// The search page's key, as given to the page, and its hash.
    page_key: Option<(String, String)>,
}

/// Who presented a request, once known.
#[derive(Debug, Clone)]
pub enum Caller {
    Master,
    WriteToken,
    Page,
    Key(Arc<ApiKey>),
}

impl Caller {
    fn allows(&self, action: Action) -> bool {
        match self {
            Self::Master => true,
            Self::WriteToken => action == Action::Write,
            Self::Page => action == Action::Search,
            Self::Key(key) => key.allows(action),
        }
    }

    /// The requests per second this caller may make, when its key carries a limit.
    pub fn rate_limit(&self) -> Option<(&str, u32)> {
        match self {
            Self::Key(key) => key.rate_limit.map(|limit| (key.id.as_str(), limit)),
            _ => None,
        }
    }
}

impl Credentials {
    /// From `--master-key`, `--write-token` and `--ui-search-key`; without the last, the
    /// page's key is derived from the master key (the same on every replica).
    pub fn new(master: Option<&str>, write_token: Option<&str>, page_key: Option<&str>) -> Self {
        let page_key = page_key
            .map(str::to_owned)
            .or_else(|| master.map(|master| keys::derive(master, "search page")))
            .map(|key| {
                let hash = keys::hash(&key);
                (key, hash)
            });
        Self { master: master.map(keys::hash), write_token: write_token.map(keys::hash), page_key }
    }

    /// The key the search page sends with its searches, if it has one.
    pub fn page_key(&self) -> Option<&str> {
        self.page_key.as_ref().map(|(key, _)| key.as_str())
    }

    /// Who `secret` belongs to, among these credentials and the catalogue's keys.
    fn identify(&self, secret: &str, ring: &keys::KeyRing) -> Option<Caller> {
        let hash = keys::hash(secret);
        let is = |known: &Option<String>| {
            known.as_deref().is_some_and(|k| constant_time_eq(k.as_bytes(), hash.as_bytes()))
        };
        if is(&self.master) {
            Some(Caller::Master)
        } else if is(&self.write_token) {
            Some(Caller::WriteToken)
        } else if self.page_key.as_ref().is_some_and(|(_, h)| constant_time_eq(h.as_bytes(), hash.as_bytes()))
        {
            Some(Caller::Page)
        } else {
            ring.find(secret).map(Caller::Key)
        }
    }
}

/// The action a request needs, from its method and matched route.
fn required(method: &Method, route: &str) -> Option<Action> {
    let method = if *method == Method::HEAD { "GET" } else { method.as_str() };
    ROUTE_ACTIONS.iter().find(|(m, r, _)| *m == method && *r == route).map(|(_, _, action)| *action)
}

/// Lets a request through when its key may do what its route needs, with the caller in its
/// extensions; 401 without a valid key, 403 with a key that lacks the action.
pub fn check(state: &AppState, request: &mut Request) -> Result<(), ApiError> {
    let Some(action) = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|route| required(request.method(), route.as_str()))
    else {
        return Ok(());
    };
    let catalog = state.catalog();
    let ring = catalog.keys();
    let credentials = &state.credentials;
    let enforced = credentials.master.is_some() || ring.ever_held_keys();
    let caller = bearer(request.headers()).and_then(|secret| credentials.identify(secret, ring));
    let open = match action {
        Action::Search => !enforced,
        Action::Write => !enforced && credentials.write_token.is_none(),
        Action::Admin => false,
    };
    match caller {
        Some(caller) if caller.allows(action) => {
            request.extensions_mut().insert(caller);
            Ok(())
        }
        _ if open => Ok(()),
        Some(_) => Err(ApiError::Forbidden(format!("this key does not have the {} action", action.as_str()))),
        None => Err(ApiError::Unauthorized),
    }
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim()).filter(|s| !s.is_empty())
}

/// Compares without an early exit, so response time does not reveal how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes open to anyone whatever the keys: load balancers' health checks, the API
    /// document (the page and its assets are not in it).
    const OPEN_ROUTES: &[&str] = &["/health", "/openapi.json"];

    #[test]
    fn every_documented_operation_needs_an_action_or_is_open() {
        let document: serde_json::Value = serde_json::from_str(&super::super::openapi_document()).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                assert!(
                    required(&method, path).is_some() || OPEN_ROUTES.contains(&path.as_str()),
                    "{method} {path} is neither in ROUTE_ACTIONS nor open"
                );
            }
        }
    }

    #[test]
    fn the_master_may_do_anything_the_token_write_and_the_page_search() {
        let credentials = Credentials::new(Some("master"), Some("token"), None);
        let ring = keys::KeyRing::default();
        let caller = |secret: &str| credentials.identify(secret, &ring);
        assert!(matches!(caller("master"), Some(Caller::Master)));
        assert!(
            caller("token").unwrap().allows(Action::Write)
                && !caller("token").unwrap().allows(Action::Search)
        );
        let page = credentials.page_key().unwrap().to_owned();
        assert_ne!(page, "master");
        assert!(
            caller(&page).unwrap().allows(Action::Search) && !caller(&page).unwrap().allows(Action::Write)
        );
        assert!(caller("guess").is_none());
    }

    #[test]
    fn bearer_takes_the_secret_of_any_case_of_the_scheme() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
    }
}
