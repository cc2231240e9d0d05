//! `linux/lockdep.h`: lock-order tracking by lock class.
//!
//! Like lockdep, this works on lock *classes* (a mutex's name), records every "held A while
//! acquiring B" edge of the execution, and reports an inversion as soon as an acquisition
//! would close a cycle, whether or not this interleaving deadlocks. `srcu_read_lock` never
//! blocks, so it adds no edge into its class, but a read section held while taking a mutex
//! does add an edge out of it; `synchronize_srcu` acquires its class for writing.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::ViolationKind;
use crate::sched::{Kernel, ObjId, Tid};

/// How a lock class is taken.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum LockMode {
    /// A mutex: blocks, excludes.
    Exclusive,
    /// An SRCU read section: never blocks.
    Read,
    /// `synchronize_srcu`: waits for readers, held for no time.
    Sync,
}

#[derive(Clone, Debug)]
struct Held {
    obj: ObjId,
    class: &'static str,
}

/// Where an edge was first recorded: the acquisition of its second lock.
#[derive(Clone, Debug)]
struct EdgeInfo {
    tid: Tid,
    step: u32,
    path: crate::trace::PathId,
}

#[derive(Default)]
pub(crate) struct Lockdep {
    held: Vec<Vec<Held>>,
    edges: BTreeMap<&'static str, BTreeMap<&'static str, EdgeInfo>>,
    reported: BTreeSet<(&'static str, &'static str)>,
}

impl Lockdep {
    fn held_mut(&mut self, t: Tid) -> &mut Vec<Held> {
        if self.held.len() <= t.index() {
            self.held.resize(t.index() + 1, Vec::new());
        }
        &mut self.held[t.index()]
    }

    /// A path of classes from `from` to `to`, if the graph has one.
    fn path(&self, from: &'static str, to: &'static str) -> Option<Vec<&'static str>> {
        let mut stack = vec![(from, vec![from])];
        let mut seen = BTreeSet::new();
        while let Some((c, p)) = stack.pop() {
            if c == to {
                return Some(p);
            }
            if !seen.insert(c) {
                continue;
            }
            if let Some(next) = self.edges.get(c) {
                for &n in next.keys() {
                    let mut q = p.clone();
                    q.push(n);
                    stack.push((n, q));
                }
            }
        }
        None
    }
}

impl Kernel {
    /// Check and record the acquisition of `obj` (class `class`) by the current thread.
    pub(crate) fn lockdep_acquire(&self, obj: ObjId, class: &'static str, mode: LockMode) {
        let Some(me) = self.st.borrow().sched.current else {
            return;
        };
        let mut reports: Vec<(ViolationKind, String, Vec<String>)> = Vec::new();
        {
            let mut st = self.st.borrow_mut();
            let step = st.sched.steps.len().saturating_sub(1) as u32;
            let path = st.site().path;
            let st = &mut *st;
            let ld = &mut st.lockdep;
            let trace = &st.trace;
            let held = ld.held_mut(me).clone();
            if mode != LockMode::Read {
                if let Some(h) = held.iter().find(|h| h.class == class) {
                    let what = if mode == LockMode::Sync {
                        "synchronize_srcu"
                    } else {
                        "mutex_lock"
                    };
                    reports.push((
                        ViolationKind::RecursiveLock,
                        format!(
                            "{what}({class}) while already holding {} (same class)",
                            h.class
                        ),
                        vec![format!(
                            "held: {}",
                            held.iter().map(|h| h.class).collect::<Vec<_>>().join(", ")
                        )],
                    ));
                }
                for h in &held {
                    if h.class == class {
                        continue;
                    }
                    if let Some(chain) = ld.path(class, h.class) {
                        if ld.reported.insert((h.class, class)) {
                            let mut details = vec![
                                format!("but task is already holding lock: {}", h.class),
                                "which lock already depends on the new lock.".to_string(),
                                "the existing dependency chain (in reverse order) is:".to_string(),
                            ];
                            // Each earlier acquisition with its call path, as lockdep
                            // prints the stack of every link of the chain.
                            for w in chain.windows(2) {
                                let e = &ld.edges[w[0]][w[1]];
                                details.push(format!(
                                    "  -> {} acquired while holding {} (thread {}, step {}), from:",
                                    w[1], w[0], e.tid, e.step
                                ));
                                let names = trace.path_names(e.path);
                                if names.is_empty() {
                                    details.push("       <thread body>".to_string());
                                }
                                details.extend(names.iter().rev().map(|n| format!("       {n}")));
                            }
                            details.push("Possible unsafe locking scenario:".to_string());
                            details.push(format!(
                                "  CPU0: lock({}); CPU1: lock({class}); CPU1: lock({}); CPU0: lock({class});",
                                h.class, h.class
                            ));
                            details.push(" *** DEADLOCK ***".to_string());
                            reports.push((
                                ViolationKind::LockInversion,
                                format!("trying to acquire {class} while holding {}", h.class),
                                details,
                            ));
                        }
                    }
                    ld.edges
                        .entry(h.class)
                        .or_default()
                        .entry(class)
                        .or_insert(EdgeInfo {
                            tid: me,
                            step,
                            path,
                        });
                }
            }
            if mode != LockMode::Sync {
                ld.held_mut(me).push(Held { obj, class });
            }
        }
        for (kind, msg, details) in reports {
            self.violation_with(kind, Some(obj), None, msg, details);
        }
    }

    /// Record the release of `obj` by the current thread.
    pub(crate) fn lockdep_release(&self, obj: ObjId) {
        let mut st = self.st.borrow_mut();
        let Some(me) = st.sched.current else { return };
        let held = st.lockdep.held_mut(me);
        if let Some(i) = held.iter().rposition(|h| h.obj == obj) {
            held.remove(i);
        }
    }

    /// The lock classes the current thread holds, outermost first.
    pub fn lockdep_held(&self) -> Vec<&'static str> {
        let mut st = self.st.borrow_mut();
        let Some(me) = st.sched.current else {
            return Vec::new();
        };
        st.lockdep.held_mut(me).iter().map(|h| h.class).collect()
    }
}
