//! A pool of threads for the CPU-bound part of a pass (HTML extraction,
//! analysis, signatures), as many as there are cores.
//!
//! The pass's tasks only wait on the network; a page that has arrived is
//! handed over here and the task ends. A thread takes jobs one after another
//! while there are any, so a busy pool is fed without waking anybody: a
//! sleeping thread is woken only when there is one.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// The pool; dropping it lets each thread finish the job it is on and
/// discards the jobs not yet started.
pub struct Analysts {
    shared: Arc<Shared>,
}

impl Analysts {
    /// A pool of `threads` threads (at least one).
    pub fn new(threads: usize) -> std::io::Result<Analysts> {
        let shared = Arc::new(Shared::default());
        for i in 0..threads.max(1) {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("analyst-{i}"))
                .spawn(move || work(&shared))?;
        }
        Ok(Analysts { shared })
    }

    /// A pool with one thread per core.
    pub fn per_core() -> std::io::Result<Analysts> {
        Analysts::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Queues a job; it runs on one of the pool's threads.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        let mut q = self.shared.queue.lock().expect("pool lock");
        q.jobs.push_back(Box::new(job));
        let wake = q.idle > 0;
        drop(q);
        if wake {
            self.shared.ready.notify_one();
        }
    }

    /// Jobs waiting for a thread.
    pub fn queued(&self) -> usize {
        self.shared.queue.lock().expect("pool lock").jobs.len()
    }
}

impl Drop for Analysts {
    fn drop(&mut self) {
        let mut q = self.shared.queue.lock().expect("pool lock");
        q.closed = true;
        q.jobs.clear();
        drop(q);
        self.shared.ready.notify_all();
    }
}

fn work(shared: &Shared) {
    let mut q = shared.queue.lock().expect("pool lock");
    loop {
        if q.closed {
            return;
        }
        if let Some(job) = q.jobs.pop_front() {
            drop(q);
            // a job that panics takes its result with it, not the thread
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            q = shared.queue.lock().expect("pool lock");
            continue;
        }
        q.idle += 1;
        q = shared.ready.wait(q).expect("pool lock");
        q.idle -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn every_job_runs_once_on_the_pool() {
        let pool = Analysts::new(3).unwrap();
        let (tx, rx) = mpsc::channel();
        for i in 0..1000 {
            let tx = tx.clone();
            pool.submit(move || {
                let name = std::thread::current().name().unwrap_or("").to_string();
                tx.send((i, name)).unwrap();
            });
        }
        drop(tx);
        let mut got: Vec<(i32, String)> = rx.iter().collect();
        got.sort();
        assert_eq!(got.len(), 1000);
        assert!(got.iter().enumerate().all(|(k, (i, _))| *i == k as i32));
        assert!(got.iter().all(|(_, n)| n.starts_with("analyst-")));
    }

    #[test]
    fn a_panicking_job_loses_only_itself() {
        let pool = Analysts::new(1).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(|| panic!("a bad page"));
        pool.submit(move || tx.send(7).unwrap());
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)), Ok(7));
    }

    #[test]
    fn dropping_the_pool_discards_what_has_not_started() {
        let pool = Analysts::new(1).unwrap();
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel();
        let first = tx.clone();
        pool.submit(move || {
            gate_rx.recv().unwrap();
            first.send(1).unwrap();
        });
        for _ in 0..10 {
            let tx = tx.clone();
            pool.submit(move || tx.send(2).unwrap());
        }
        drop(tx);
        // the thread is held in the first job while the pool goes away
        while pool.queued() != 10 {
            std::thread::yield_now();
        }
        drop(pool);
        gate_tx.send(()).unwrap();
        let got: Vec<i32> = rx.iter().collect();
        assert_eq!(got, vec![1]);
    }
}
