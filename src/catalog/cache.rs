//! Whole search results by request, for repeated queries; every change empties it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::SearchResults;
use crate::observability;

/// Whole search results by request, for repeated queries; every write empties it.
pub(super) struct ResultCache {
    pub(super) capacity: usize,
    /// Bumped by every write; a result computed under an older generation is not stored.
    pub(super) generation: AtomicU64,
    entries: Mutex<HashMap<String, Arc<SearchResults>>>,
}

impl ResultCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self { capacity, generation: AtomicU64::new(0), entries: Mutex::default() }
    }

    pub(super) fn get(&self, key: &str) -> Option<Arc<SearchResults>> {
        let found = self.entries.lock().ok()?.get(key).cloned();
        let name = if found.is_some() { observability::CACHE_HITS } else { observability::CACHE_MISSES };
        metrics::counter!(name).increment(1);
        found
    }

    pub(super) fn put(&self, key: String, generation: u64, results: Arc<SearchResults>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        // Checked under the lock that `invalidate` also takes: no stale result slips in.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, results);
    }

    pub(super) fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.clear();
        }
    }
}
