//! Stateless tree search: naive DFS, preemption-bounded DFS and source-set DPOR with sleep
//! sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial order reduction",
//! POPL 2014, Algorithm 1; sleep sets after Godefroid 1996). Every execution re-runs the
//! program from scratch under a scheduler that replays the current path and then extends it.

use kmodel::{Access, SchedView, Scheduler, StepRecord, Stop, Tid};

use crate::exec::{run_one, ExecOutcome, Runner};
use crate::hb::{dependent, Hb};

/// How the tree is searched.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every enabled thread at every point.
    Dfs,
    /// Every enabled thread whose choice keeps the preemption count within the bound.
    Bounded(u32),
    /// Source-set DPOR with sleep sets.
    Dpor,
}

/// One state on the current path: the state before step `i` for `stack[i]`.
///
/// # Invariants
///
/// `done ⊆ backtrack`; `chosen ∈ done`; every bit of `done` names a thread enabled here
/// (blocked backtrack entries are dropped, not marked done); `sleep` lists threads enabled
/// here with their pending access, none of them in `done`.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub enabled: Vec<(Tid, Access)>,
    pub current: Option<Tid>,
    pub chosen: Tid,
    pub backtrack: u64,
    pub done: u64,
    pub sleep: Vec<(Tid, Access)>,
    /// Preemptions on the path before this state.
    pub preempt_before: u32,
}

fn bit(t: Tid) -> u64 {
    assert!(t.0 < 64, "the explorer supports at most 64 model threads");
    1u64 << t.0
}

impl Node {
    fn sleep_bits(&self) -> u64 {
        self.sleep.iter().fold(0, |b, (t, _)| b | bit(*t))
    }
    fn access_of(&self, t: Tid) -> Option<Access> {
        self.enabled.iter().find(|(u, _)| *u == t).map(|(_, a)| *a)
    }
    fn is_preemption(&self, t: Tid) -> bool {
        matches!(self.current, Some(c) if c != t && self.access_of(c).is_some())
    }
}

/// Per-search counters (summed over subtrees).
#[derive(Default, Clone, Debug)]
pub(crate) struct TreeCounts {
    pub executions: u64,
    pub complete: u64,
    pub sleep_blocked: u64,
    pub blocked_backtracks: u64,
    pub steps: u64,
}

/// A subtree: replay `prefix` (one thread per step), and the states at depths
/// `< floor` are never backtracked. The state at `prefix.len() - 1` carries `root_done` as
/// the threads already explored (or handed to other subtrees) there.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subtree {
    pub prefix: Vec<Tid>,
    pub root_done: u64,
}

/// The search engine for one subtree.
///
/// # Invariants
///
/// Between executions `stack` is the path of the next execution: `stack[i].chosen` is the
/// thread to run at step `i`, nodes below `floor` are never changed, and after an execution
/// `stack.len()` equals its number of steps (a sleep-blocked stop pushes no node).
pub(crate) struct Engine {
    pub mode: Mode,
    pub stack: Vec<Node>,
    floor: usize,
    /// The prefix still to be re-applied (set for a subtree's first execution).
    prefix: Vec<Tid>,
    root_done: u64,
    blocked_by_sleep: bool,
    hb: Hb,
    pub counts: TreeCounts,
    /// DPOR: threads that races ask to add to the backtrack set of the subtree's root state
    /// (the state at `floor - 1`), which the caller explores in a later wave.
    pub root_requests: u64,
    /// Popped nodes kept for reuse, and a scratch buffer.
    pool: Vec<Node>,
    allowed: Vec<Tid>,
    /// The first step of the next execution that differs from the previous one.
    replay_from: usize,
}

struct TreeSched<'a> {
    e: &'a mut Engine,
}

impl Scheduler for TreeSched<'_> {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let e = &mut *self.e;
        let i = view.step as usize;
        if i < e.stack.len() {
            return Some(e.stack[i].chosen);
        }
        // Nodes are recycled so a long search allocates nothing per state once warm.
        let mut node = e.pool.pop().unwrap_or_else(|| Node {
            enabled: Vec::new(),
            current: None,
            chosen: Tid(0),
            backtrack: 0,
            done: 0,
            sleep: Vec::new(),
            preempt_before: 0,
        });
        node.enabled.clear();
        node.enabled.extend(view.enabled());
        node.sleep.clear();
        node.current = view.current;
        node.chosen = Tid(0);
        node.backtrack = 0;
        node.done = 0;
        node.preempt_before = 0;
        if let Some(parent) = i.checked_sub(1).map(|p| &e.stack[p]) {
            let pc = parent.chosen;
            let pa = parent.access_of(pc).expect("chosen thread was enabled");
            if e.mode == Mode::Dpor {
                // Sleep set of the child (Godefroid): what slept here or was explored here
                // before, and is independent of the step just taken.
                for &(q, a) in &parent.sleep {
                    if !dependent(&a, &pa) {
                        node.sleep.push((q, a));
                    }
                }
                for &(q, a) in &parent.enabled {
                    if q != pc && parent.done & bit(q) != 0 && !dependent(&a, &pa) {
                        node.sleep.push((q, a));
                    }
                }
            }
            node.preempt_before = parent.preempt_before + parent.is_preemption(pc) as u32;
        }
        // Forced choice while re-applying a subtree's prefix.
        let forced = e.prefix.get(i).copied();
        let sleeping = node.sleep_bits();
        let mut allowed = std::mem::take(&mut e.allowed);
        allowed.clear();
        allowed.extend(
            node.enabled
                .iter()
                .map(|(t, _)| *t)
                .filter(|t| sleeping & bit(*t) == 0)
                .filter(|t| match e.mode {
                    Mode::Bounded(b) => node.preempt_before + node.is_preemption(*t) as u32 <= b,
                    _ => true,
                }),
        );
        let chosen = match forced {
            Some(t) => t,
            None => {
                // Prefer not to preempt: keep the current thread, else the lowest thread.
                let pick = match view.current {
                    Some(c) if allowed.contains(&c) => Some(c),
                    _ => allowed.first().copied(),
                };
                match pick {
                    Some(t) => t,
                    None => {
                        e.blocked_by_sleep = true;
                        e.pool.push(node);
                        e.allowed = allowed;
                        return None;
                    }
                }
            }
        };
        node.chosen = chosen;
        node.done = bit(chosen);
        node.backtrack = match e.mode {
            Mode::Dpor => bit(chosen),
            Mode::Dfs | Mode::Bounded(_) => allowed.iter().fold(0, |b, t| b | bit(*t)),
        };
        if forced.is_some() && i + 1 == e.prefix.len() {
            node.done |= e.root_done;
            node.backtrack |= e.root_done;
        }
        e.allowed = allowed;
        e.stack.push(node);
        Some(chosen)
    }
}

impl Engine {
    pub fn new(mode: Mode, sub: Subtree) -> Self {
        Engine {
            mode,
            stack: Vec::new(),
            floor: sub.prefix.len(),
            prefix: sub.prefix,
            root_done: sub.root_done,
            blocked_by_sleep: false,
            hb: Hb::default(),
            counts: TreeCounts::default(),
            root_requests: 0,
            pool: Vec::new(),
            allowed: Vec::new(),
            replay_from: 0,
        }
    }

    /// Run the next execution of this subtree. Returns `None` when the subtree is exhausted.
    pub fn next(&mut self, runner: &mut Runner) -> Option<ExecOutcome> {
        if self.counts.executions > 0 && !self.backtrack() {
            return None;
        }
        self.blocked_by_sleep = false;
        let (k, stop) = run_one(runner, &mut TreeSched { e: self });
        let class =
            k.with_steps(|steps| self.after(steps, runner.count_traces && stop == Stop::Finished));
        let out = ExecOutcome::from_kernel(&k, stop, class);
        self.counts.executions += 1;
        self.counts.steps += out.steps as u64;
        if self.blocked_by_sleep {
            self.counts.sleep_blocked += 1;
        } else if out.stop == Stop::Finished {
            self.counts.complete += 1;
        }
        Some(out)
    }

    /// Post-execution analysis: races (DPOR) and the trace hash (finished executions).
    fn after(&mut self, steps: &[StepRecord], hash: bool) -> Option<u128> {
        debug_assert_eq!(steps.len(), self.stack.len());
        let dpor = self.mode == Mode::Dpor;
        if !dpor && !hash {
            return None;
        }
        let floor = self.floor;
        let stack = &mut self.stack;
        let requests = &mut self.root_requests;
        self.hb.analyze(steps, self.replay_from, dpor, |_j, races| {
            for r in races {
                // States above the root have a single enabled thread: nothing to reverse.
                if r.i + 1 < floor {
                    continue;
                }
                let node = &mut stack[r.i];
                let root = r.i + 1 == floor;
                let covered = node.backtrack
                    | node.done
                    | node.sleep_bits()
                    | if root { *requests } else { 0 };
                if r.initials & covered != 0 {
                    continue;
                }
                // Add one initial, preferring one enabled at that state (any initial gives a
                // source set, Abdulla et al. Thm 4.4; an initial is always enabled there in a
                // deterministic program, so a blocked one is only counted, never chosen).
                let enabled_bits = node.enabled.iter().fold(0u64, |b, (t, _)| b | bit(*t));
                let pick = r.initials & enabled_bits;
                let pick = if pick != 0 { pick } else { r.initials };
                let pick = pick & pick.wrapping_neg();
                if root {
                    *requests |= pick;
                } else {
                    node.backtrack |= pick;
                }
            }
        });
        let finished = !self.blocked_by_sleep && steps.len() == self.stack.len();
        if hash && finished {
            Some(self.hb.class_hash(steps))
        } else {
            None
        }
    }

    /// Move to the next unexplored branch: the deepest state above the floor with a backtrack
    /// entry that is neither done nor asleep. Returns false when none is left.
    fn backtrack(&mut self) -> bool {
        while self.stack.len() > self.floor {
            let top = self.stack.last_mut().expect("non-empty");
            let enabled_bits = top.enabled.iter().fold(0u64, |b, (t, _)| b | bit(*t));
            let mut cand = top.backtrack & !top.done & !top.sleep_bits();
            let blocked = cand & !enabled_bits;
            if blocked != 0 {
                self.counts.blocked_backtracks += blocked.count_ones() as u64;
                top.backtrack &= !blocked;
                cand &= enabled_bits;
            }
            if cand != 0 {
                let t = Tid(cand.trailing_zeros());
                top.chosen = t;
                top.done |= bit(t);
                self.replay_from = self.stack.len() - 1;
                return true;
            }
            if let Some(n) = self.stack.pop() {
                self.pool.push(n);
            }
        }
        false
    }
}

/// The first branching state of a program (the first with two or more enabled threads)
/// under the default policy.
pub(crate) struct FirstBranch {
    /// The thread of every step before it.
    pub path: Vec<Tid>,
    /// Its enabled threads in the order a sequential search takes them: the current thread
    /// first, then by thread id.
    pub order: Vec<Tid>,
    pub current: Option<Tid>,
}

/// Find the [`FirstBranch`]; `None` when the program never branches.
pub(crate) fn first_branch(runner: &mut Runner) -> Option<FirstBranch> {
    struct Probe {
        path: Vec<Tid>,
        found: Option<FirstBranch>,
    }
    impl Scheduler for Probe {
        fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
            let en: Vec<Tid> = view.enabled().map(|(t, _)| t).collect();
            if en.len() >= 2 {
                let cur = view.current.filter(|c| view.is_enabled(*c));
                let mut order: Vec<Tid> = cur.into_iter().collect();
                order.extend(en.iter().copied().filter(|t| Some(*t) != cur));
                self.found = Some(FirstBranch {
                    path: std::mem::take(&mut self.path),
                    order,
                    current: view.current,
                });
                return None;
            }
            self.path.push(en[0]);
            Some(en[0])
        }
    }
    let mut p = Probe {
        path: Vec::new(),
        found: None,
    };
    run_one(runner, &mut p);
    p.found
}
