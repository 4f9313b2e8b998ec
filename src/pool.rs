//! A bounded pool for CPU-bound work (searches), off the async workers. It holds at most
//! `threads + queue` jobs; past that, work is refused at once so the caller can shed load
//! instead of queueing without bound.
//!
//! Its workers wait for work asleep, on a condition variable. A work-stealing pool (rayon)
//! spins and yields for a while after each job before it sleeps: at one search at a time
//! that cost a quarter more CPU per search, and it answered no more searches per second at
//! any load (benches/RESULTS.md, "A search pool that sleeps").

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

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
    workers: Arc<Workers>,
    admitted: Arc<AtomicUsize>,
    capacity: usize,
}

type Job = Box<dyn FnOnce() + Send>;

/// The jobs waiting, shared by the workers.
#[derive(Default)]
struct Queue {
    state: Mutex<Waiting>,
    ready: Condvar,
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<Job>,
    /// Workers asleep, waiting for a job: a job pushed while none is wakes nobody, for a
    /// condition variable's notice is a system call even when no thread waits.
    asleep: usize,
    /// Set when the last handle on the pool is dropped: the workers end once no job is left.
    closing: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // A job runs outside the lock, so a panic never poisons it; were it poisoned, the
        // queue would still be whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, job: Job) {
        let mut waiting = self.lock();
        waiting.jobs.push_back(job);
        // A worker not asleep looks at the queue before it sleeps, under the same lock.
        let wake = waiting.asleep > 0;
        drop(waiting);
        if wake {
            self.ready.notify_one();
        }
    }

    /// The next job, waiting for one; `None` once the pool is closing and no job is left.
    fn next(&self) -> Option<Job> {
        let mut waiting = self.lock();
        loop {
            if let Some(job) = waiting.jobs.pop_front() {
                return Some(job);
            }
            if waiting.closing {
                return None;
            }
            waiting.asleep += 1;
            waiting = self.ready.wait(waiting).unwrap_or_else(PoisonError::into_inner);
            waiting.asleep -= 1;
        }
    }

    fn close(&self) {
        self.lock().closing = true;
        self.ready.notify_all();
    }
}

/// The workers' queue, closed when the last handle on the pool is dropped.
struct Workers {
    queue: Arc<Queue>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl WorkPool {
    /// `threads` workers and room for `queue` jobs waiting behind them.
    pub fn new(threads: usize, queue: usize) -> anyhow::Result<Self> {
        let threads = threads.max(1);
        // Made first, so that the workers started end if a later one cannot start.
        let workers = Workers { queue: Arc::new(Queue::default()) };
        for i in 0..threads {
            let jobs = Arc::clone(&workers.queue);
            thread::Builder::new().name(format!("search-{i}")).spawn(move || {
                while let Some(job) = jobs.next() {
                    job();
                }
            })?;
        }
        Ok(Self {
            workers: Arc::new(workers),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: threads + queue,
        })
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
        self.workers.queue.push(Box::new(move || {
            // A panic must not end the worker.
            let outcome = catch_unwind(AssertUnwindSafe(job));
            // Free the place before answering, so a caller that got its answer sees it free.
            drop(admitted);
            let _ = tx.send(outcome);
        }));
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
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_returns_their_value() {
        let pool = WorkPool::new(2, 4).unwrap();
        assert_eq!(answered(pool.run(|| 6 * 7)).await, Ok(42));
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
        assert!(answered(first).await.unwrap().is_ok());
        assert!(answered(second).await.unwrap().is_ok());
        assert_eq!(pool.in_flight(), 0);
        assert_eq!(answered(pool.run(|| 1)).await, Ok(1));
    }

    #[tokio::test]
    async fn a_job_wakes_a_worker_asleep_and_waits_for_one_busy() {
        let pool = WorkPool::new(1, 1).unwrap();
        // Time for the worker to find the queue empty and fall asleep.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(answered(pool.run(|| 1)).await, Ok(1), "the worker asleep was woken");
        // A job queued behind a busy worker wakes nobody; the worker takes it when done.
        let (release, held) = mpsc::channel::<()>();
        let busy = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move || held.recv().is_ok()).await }
        });
        while pool.in_flight() < 1 {
            tokio::task::yield_now().await;
        }
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 2).await }
        });
        while pool.in_flight() < 2 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert_eq!(answered(busy).await.unwrap(), Ok(true));
        assert_eq!(answered(queued).await.unwrap(), Ok(2));
    }

    /// `job`'s output, or a failure after ten seconds: a job no worker takes fails the
    /// test instead of hanging it.
    async fn answered<T>(job: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), job).await.expect("answered within ten seconds")
    }

    #[tokio::test]
    async fn the_workers_end_when_the_last_handle_on_the_pool_is_dropped() {
        /// Signals when the thread that holds it ends, as its thread-locals are dropped.
        struct Ended(mpsc::Sender<()>);
        impl Drop for Ended {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        thread_local!(static ENDED: std::cell::RefCell<Option<Ended>> = const { std::cell::RefCell::new(None) });
        let pool = WorkPool::new(1, 0).unwrap();
        let (ended, worker_ended) = mpsc::channel();
        answered(pool.run(move || ENDED.with(|slot| *slot.borrow_mut() = Some(Ended(ended))))).await.unwrap();
        let other = pool.clone();
        drop(pool);
        assert_eq!(worker_ended.recv_timeout(Duration::from_millis(200)), Err(RecvTimeoutError::Timeout));
        drop(other);
        assert_eq!(worker_ended.recv_timeout(Duration::from_secs(10)), Ok(()));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_not_a_crash() {
        let pool = WorkPool::new(1, 0).unwrap();
        let outcome = answered(pool.run(|| -> u8 { panic!("boom") })).await;
        assert_eq!(outcome, Err(PoolError::Panicked));
        assert_eq!(answered(pool.run(|| 2)).await, Ok(2));
    }
}
