//! The service's allocator, mimalloc, and the one setting of it the service changes: how
//! soon freed memory goes back to the system.
//!
//! mimalloc returns a page a thread freed 10 ms later, but only when that thread next
//! allocates or frees. Start-up frees most of what it allocates on threads that then sleep
//! (the catalogue generator's) or end (the index build's), so the pages stayed resident: at
//! 100,000 products the process held 150 MB five seconds after ready, and 123 MB with them
//! returned. [`FreedAtOnce`] returns freed pages at once while it lives; the service holds
//! one while it builds its catalogue and index, and one while it rebuilds the index for
//! other searched attributes (after such rebuilds, 100,000 products held 140-188
//! MB without it, 112-127 MB with it). It is not left on: a search allocates and frees
//! pages all the time, and returning each at once cost searches a sixth of their throughput
//! (`benches/RESULTS.md`, "What start-up leaves resident", and "Index rebuilds" for what a
//! rebuild costs the searches that run meanwhile).
//!
//! The workspace forbids `unsafe` code; setting an option of mimalloc is a call into its C
//! interface, so it lives in this crate alone.

use std::sync::Mutex;

pub use mimalloc::MiMalloc;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// mimalloc's `mi_option_purge_delay` (`mimalloc.h`, v2): milliseconds before freed memory
/// is returned, 0 for at once. The bindings do not name it.
const PURGE_DELAY: mi_option_t = 15;

/// Freed memory goes back to the system at once while one of these lives; when the last one
/// is dropped, the delay is what it was before the first (mimalloc's 10 ms, or
/// `MIMALLOC_PURGE_DELAY`). Holders may overlap (start-up and an index rebuild on threads of
/// their own), in any order.
#[must_use = "the delay is restored when the last one is dropped"]
pub struct FreedAtOnce(());

/// How many [`FreedAtOnce`] live, and the delay before the first of them.
static HOLDERS: Mutex<(usize, std::ffi::c_long)> = Mutex::new((0, 0));

fn holders() -> std::sync::MutexGuard<'static, (usize, std::ffi::c_long)> {
    // The count is whole whenever the lock is let go, even by a panic.
    HOLDERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FreedAtOnce {
    pub fn new() -> Self {
        let mut holders = holders();
        if holders.0 == 0 {
            holders.1 = purge_delay_ms();
            // SAFETY: sets one integer option of the allocator; mimalloc reads it when it
            // next considers returning memory, from whichever thread.
            unsafe { mi_option_set(PURGE_DELAY, 0) };
        }
        holders.0 += 1;
        Self(())
    }
}

impl Default for FreedAtOnce {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FreedAtOnce {
    fn drop(&mut self) {
        let mut holders = holders();
        holders.0 -= 1;
        if holders.0 == 0 {
            // SAFETY: as in `new`.
            unsafe { mi_option_set(PURGE_DELAY, holders.1) };
        }
    }
}

/// How long mimalloc waits before it returns freed memory, in milliseconds.
pub fn purge_delay_ms() -> std::ffi::c_long {
    // SAFETY: reads one integer option of the allocator.
    unsafe { mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_returned_at_once_while_any_is_held_and_with_the_delay_it_had_after() {
        let default = purge_delay_ms();
        // SAFETY: as in `FreedAtOnce::new`.
        unsafe { mi_option_set(PURGE_DELAY, 25) };
        let at_once = FreedAtOnce::new();
        assert_eq!(purge_delay_ms(), 0);
        drop(at_once);
        assert_eq!(purge_delay_ms(), 25);
        // Overlapping, let go first to last: the delay comes back only with the last.
        let first = FreedAtOnce::new();
        let second = FreedAtOnce::new();
        drop(first);
        assert_eq!(purge_delay_ms(), 0, "one is still held");
        drop(second);
        assert_eq!(purge_delay_ms(), 25);
        // SAFETY: as above.
        unsafe { mi_option_set(PURGE_DELAY, default) };
    }
}
