//! Rate limits: requests per second per client address (`--rate-limit-per-client`) and per
//! key (a key's `rate_limit`), as token buckets that refill continuously and hold one
//! second's worth. A request over a limit is answered 429 with `Retry-After` before any of
//! its work is done. Load balancers' health checks are never limited.
//!
//! The client's address is the connection's peer, or, behind `--forwarded-hops` proxies
//! that each append the address they saw to `X-Forwarded-For` (the ALB does), the entry that
//! many places from the right: the one the nearest trusted proxy wrote.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName};

use super::auth::Caller;
use super::{ApiError, server};
use crate::observability;

/// Buckets tracked per shard before idle ones are dropped; past twice that, all of them.
const SHARD_CAPACITY: usize = 8_192;
const SHARDS: usize = 16;
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The limits of one replica, and the buckets that enforce them.
pub struct RateLimits {
    per_client: u32,
    forwarded_hops: usize,
    clients: Buckets<IpAddr>,
    keys: Buckets<String>,
}

impl RateLimits {
    /// `per_client` requests per second per address (0: no limit).
    pub fn new(per_client: u32, forwarded_hops: usize) -> Self {
        Self { per_client, forwarded_hops, clients: Buckets::default(), keys: Buckets::default() }
    }

    /// Refuses a client over `--rate-limit-per-client`; health checks are never counted.
    pub fn check_client(&self, request: &Request) -> Result<(), ApiError> {
        let exempt = request.extensions().get::<MatchedPath>().is_some_and(|p| p.as_str() == "/health");
        if self.per_client == 0 || exempt {
            return Ok(());
        }
        let Some(client) = self.client(request) else { return Ok(()) };
        self.clients.take(client, self.per_client, Instant::now()).map_err(|wait| {
            metrics::counter!(observability::RATE_LIMITED, "scope" => "client").increment(1);
            ApiError::RateLimited { scope: "client", retry_after: wait }
        })
    }

    /// Refuses a key over its own `rate_limit`.
    pub fn check_key(&self, request: &Request) -> Result<(), ApiError> {
        let Some((id, limit)) = request.extensions().get::<Caller>().and_then(Caller::rate_limit) else {
            return Ok(());
        };
        self.keys.take(id.to_owned(), limit, Instant::now()).map_err(|wait| {
            metrics::counter!(observability::RATE_LIMITED, "scope" => "key").increment(1);
            ApiError::RateLimited { scope: "key", retry_after: wait }
        })
    }

    /// The address a request comes from; see the module documentation.
    fn client(&self, request: &Request) -> Option<IpAddr> {
        let peer = server::peer(request).map(|addr| addr.ip());
        if self.forwarded_hops == 0 {
            return peer;
        }
        forwarded_for(request.headers(), self.forwarded_hops).or(peer)
    }
}

/// The entry `hops` places from the right of every `X-Forwarded-For` the request carries.
fn forwarded_for(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let entry = entries.len().checked_sub(hops).map(|i| entries[i])?;
    entry.parse().ok()
}

/// Token buckets by key, in shards so that requests seldom wait for one another.
struct Buckets<K> {
    shards: Vec<Mutex<HashMap<K, Bucket>>>,
    hasher: foldhash::fast::RandomState,
}

impl<K> Default for Buckets<K> {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::default()).collect(), hasher: Default::default() }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq> Buckets<K> {
    /// Takes one token from `key`'s bucket, which holds and refills `rate` a second; or
    /// how long until one is there.
    fn take(&self, key: K, rate: u32, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(rate.max(1));
        let shard = &self.shards[self.hasher.hash_one(&key) as usize % SHARDS];
        let mut buckets = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= SHARD_CAPACITY && !buckets.contains_key(&key) {
            // Full buckets are those of clients idle for a second or more: forget them.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < rate);
            if buckets.len() >= 2 * SHARD_CAPACITY {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: rate, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(rate);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_bucket_allows_a_seconds_worth_then_refills_at_its_rate() {
        let buckets = Buckets::default();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(buckets.take("a", 5, start).is_ok());
        }
        let wait = buckets.take("a", 5, start).unwrap_err();
        assert!(wait <= Duration::from_millis(200) && wait > Duration::ZERO, "{wait:?}");
        assert!(buckets.take("b", 5, start).is_ok(), "another client has its own bucket");
        assert!(buckets.take("a", 5, start + Duration::from_millis(210)).is_ok());
        assert!(buckets.take("a", 5, start + Duration::from_millis(220)).is_err());
    }

    #[test]
    fn idle_clients_are_forgotten_when_a_shard_is_full() {
        let buckets = Buckets::default();
        let start = Instant::now();
        for i in 0..(SHARDS * SHARD_CAPACITY * 2) as u32 {
            let _ = buckets.take(i, 10, start);
        }
        let later = start + Duration::from_secs(2);
        assert!(buckets.take(u32::MAX, 10, later).is_ok());
        let held: usize = buckets.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= SHARDS * 2 * SHARD_CAPACITY, "{held} buckets held");
    }

    #[test]
    fn the_client_is_the_entry_the_nearest_trusted_proxy_wrote() {
        let mut headers = HeaderMap::new();
        headers.append(FORWARDED_FOR, HeaderValue::from_static("203.0.113.9, 198.51.100.7"));
        headers.append(FORWARDED_FOR, HeaderValue::from_static("192.0.2.1"));
        assert_eq!(forwarded_for(&headers, 1), "192.0.2.1".parse().ok());
        assert_eq!(forwarded_for(&headers, 2), "198.51.100.7".parse().ok());
        assert_eq!(forwarded_for(&headers, 4), None, "fewer entries than hops: the peer");
        headers.insert(FORWARDED_FOR, HeaderValue::from_static("not-an-address"));
        assert_eq!(forwarded_for(&headers, 1), None);
    }
}
