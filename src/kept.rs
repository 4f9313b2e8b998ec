//! Values kept by key across requests, up to a capacity, then cleared whole. For what is
//! read again and again and costs little to read afresh once in a while: clearing whole
//! needs no bookkeeping per entry, and also drops the entries a write made stale. Keys are
//! numbers (product ids, posting offsets), hashed with foldhash: a fast hash, seeded per
//! process.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

use foldhash::fast::RandomState;

pub struct Kept<K, V> {
    capacity: usize,
    held: Mutex<Held<K, V>>,
}

struct Held<K, V> {
    values: HashMap<K, V, RandomState>,
    /// The sizes given with the values held, summed.
    size: usize,
}

impl<K: Hash + Eq, V: Clone> Kept<K, V> {
    /// A store that holds values of sizes summing to `capacity` at most (in the unit the
    /// caller sizes values in).
    pub fn new(capacity: usize) -> Self {
        Self { capacity, held: Mutex::new(Held { values: HashMap::default(), size: 0 }) }
    }

    fn lock(&self) -> MutexGuard<'_, Held<K, V>> {
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The sizes of the values held, summed.
    pub fn size(&self) -> usize {
        self.lock().size
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.lock().values.get(key).cloned()
    }

    /// For each item, `found(item, value)` where a value is held under `key(item)`: the
    /// lookups take the lock once, and `found` sees each value in place, so it clones only
    /// what it keeps.
    pub fn get_each<T, R>(
        &self,
        items: &[T],
        key: impl Fn(&T) -> K,
        found: impl Fn(&T, &V) -> Option<R>,
    ) -> Vec<Option<R>> {
        let held = self.lock();
        items.iter().map(|item| held.values.get(&key(item)).and_then(|value| found(item, value))).collect()
    }

    /// Keeps `value` of `size` under `key`, clearing the store first if it would overflow.
    pub fn insert(&self, key: K, value: V, size: usize) {
        let mut held = self.lock();
        if held.size + size > self.capacity {
            held.values.clear();
            held.size = 0;
        }
        held.size += size;
        // A value replaced stays counted until the store is cleared: an overcount, which
        // only clears it sooner.
        held.values.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_until_the_capacity_would_be_passed_then_cleared_whole() {
        let kept = Kept::new(10);
        kept.insert("a", 1, 4);
        kept.insert("b", 2, 6);
        assert_eq!((kept.get(&"a"), kept.get(&"b"), kept.size()), (Some(1), Some(2), 10));
        let doubled =
            kept.get_each(&["a", "b", "z"], |key| *key, |_, value| (*value == 1).then(|| value * 2));
        assert_eq!(doubled, [Some(2), None, None]);
        kept.insert("c", 3, 1);
        assert_eq!((kept.get(&"a"), kept.get(&"b"), kept.get(&"c")), (None, None, Some(3)));
        assert_eq!(kept.size(), 1);
    }
}
