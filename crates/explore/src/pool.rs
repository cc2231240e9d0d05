//! What the OS threads of one search share: the execution count, the stop flag, and the
//! queue of subtrees handed to idle workers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::options::{Progress, PROGRESS_EVERY};
use crate::tree::Task;

/// Shared state of the workers of one search.
pub(crate) struct Shared {
    pub total: AtomicU64,
    pub handed_out: AtomicU64,
    /// Random strategies: the lowest chunk with a failure.
    pub best: AtomicUsize,
    pub stop: AtomicBool,
    pub progress: Option<Progress>,
    pub budget: Option<u64>,
    pub interrupt: Option<Arc<AtomicBool>>,
    /// PCT's learnt (k, n).
    pub pct: Mutex<Option<(u32, u32)>>,
}

impl Shared {
    pub fn new(
        budget: Option<u64>,
        progress: Option<Progress>,
        interrupt: Option<Arc<AtomicBool>>,
    ) -> Self {
        Shared {
            total: AtomicU64::new(0),
            handed_out: AtomicU64::new(0),
            best: AtomicUsize::new(usize::MAX),
            stop: AtomicBool::new(false),
            progress,
            budget,
            interrupt,
            pct: Mutex::new(None),
        }
    }

    pub fn tick(&self) -> bool {
        self.tick_n(1)
    }

    /// Count `k` executions; false once the search must stop.
    pub fn tick_n(&self, k: u64) -> bool {
        let n = self.total.fetch_add(k, Ordering::Relaxed) + k;
        if let Some(p) = &self.progress {
            if n % PROGRESS_EVERY < k {
                p.report(n);
            }
        }
        if let Some(b) = self.budget {
            if n >= b {
                self.stop.store(true, Ordering::Relaxed);
            }
        }
        if self.interrupted() {
            self.stop.store(true, Ordering::Relaxed);
        }
        !self.stop.load(Ordering::Relaxed)
    }

    pub fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Idle workers, and the subtrees handed out to them (tree strategies with `threads > 1`).
#[derive(Default)]
pub(crate) struct Pool {
    queue: Mutex<VecDeque<Arc<Task>>>,
    /// Signalled when a task is queued or finished, and at the end.
    cv: Condvar,
    idle: AtomicUsize,
    pub queued: AtomicUsize,
    pub closed: AtomicBool,
}

impl Pool {
    /// Someone is waiting for work and nothing is queued.
    pub fn hungry(&self) -> bool {
        self.idle.load(Ordering::Relaxed) > 0 && self.queued.load(Ordering::Relaxed) == 0
    }

    pub fn push(&self, task: Arc<Task>) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.push_back(task);
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.cv.notify_all();
    }

    /// Wait for `ready` (then `None`) or, if `help`, for a queued task to take.
    pub fn pop_or_wait(&self, ready: &dyn Fn() -> bool, help: bool) -> Option<Arc<Task>> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if ready() {
                return None;
            }
            if help {
                if let Some(t) = q.pop_front() {
                    if t.take() {
                        self.queued.fetch_sub(1, Ordering::Relaxed);
                        return Some(t);
                    }
                    continue;
                }
            }
            self.idle.fetch_add(help as usize, Ordering::Relaxed);
            q = self.cv.wait(q).unwrap_or_else(|e| e.into_inner());
            self.idle.fetch_sub(help as usize, Ordering::Relaxed);
        }
    }

    pub fn notify(&self) {
        let _q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        self.cv.notify_all();
    }

    /// No more tasks: wake every waiting worker so it ends.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.notify();
    }
}
