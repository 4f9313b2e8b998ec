//! A bounded pool for CPU-bound work (searches), off the async workers. It holds at most
//! `threads + queue` jobs; past that, work is refused at once so the caller can shed load
//! instead of queueing without bound.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::oneshot;

/// Why a job did not produce a value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoolError {
    #[error("the search pool is full")]
    Saturated,
    #[error("a search job panicked")]
    Panicked,
}

#[derive(Clone)]
pub struct WorkPool {
    pool: Arc<rayon::ThreadPool>,
    admitted: Arc<AtomicUsize>,
    capacity: usize,
}

impl WorkPool {
    /// `threads` workers and room for `queue` jobs waiting behind them.
    pub fn new(threads: usize, queue: usize) -> anyhow::Result<Self> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("search-{i}"))
            .build()?;
        Ok(Self { pool: Arc::new(pool), admitted: Arc::new(AtomicUsize::new(0)), capacity: threads + queue })
    }

    /// Jobs running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.admitted.load(Ordering::Relaxed)
    }

    /// Runs `job` on the pool, or refuses it at once when the pool is full.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let admitted = Admission::claim(&self.admitted, self.capacity).ok_or(PoolError::Saturated)?;
        let (tx, rx) = oneshot::channel();
        self.pool.spawn(move || {
            // A panic must not unwind into rayon, which would abort the process.
            let outcome = catch_unwind(AssertUnwindSafe(job));
            // Free the place before answering, so a caller that got its answer sees it free.
            drop(admitted);
            let _ = tx.send(outcome);
        });
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) | Err(_) => Err(PoolError::Panicked),
        }
    }
}

/// A place in the pool, given back when the job ends, however it ends.
struct Admission(Arc<AtomicUsize>);

impl Admission {
    fn claim(counter: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < capacity).then_some(n + 1))
            .ok()
            .map(|_| Self(Arc::clone(counter)))
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test]
    async fn runs_jobs_and_returns_their_value() {
        let pool = WorkPool::new(2, 4).unwrap();
        assert_eq!(pool.run(|| 6 * 7).await, Ok(42));
        assert_eq!(pool.in_flight(), 0);
    }

    #[tokio::test]
    async fn refuses_work_at_once_when_full() {
        let pool = WorkPool::new(1, 1).unwrap();
        let (release, blocked) = mpsc::channel::<()>();
        let blocked = Arc::new(std::sync::Mutex::new(blocked));
        let hold =
            |blocked: Arc<std::sync::Mutex<mpsc::Receiver<()>>>| move || blocked.lock().unwrap().recv().ok();
        let first = tokio::spawn({
            let pool = pool.clone();
            let job = hold(Arc::clone(&blocked));
            async move { pool.run(job).await }
        });
        let second = tokio::spawn({
            let pool = pool.clone();
            let job = hold(Arc::clone(&blocked));
            async move { pool.run(job).await }
        });
        while pool.in_flight() < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.run(|| ()).await, Err(PoolError::Saturated));
        release.send(()).unwrap();
        release.send(()).unwrap();
        assert!(first.await.unwrap().is_ok());
        assert!(second.await.unwrap().is_ok());
        assert_eq!(pool.in_flight(), 0);
        assert_eq!(pool.run(|| 1).await, Ok(1));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_not_a_crash() {
        let pool = WorkPool::new(1, 0).unwrap();
        let outcome = pool.run(|| -> u8 { panic!("boom") }).await;
        assert_eq!(outcome, Err(PoolError::Panicked));
        assert_eq!(pool.run(|| 2).await, Ok(2));
    }
}
