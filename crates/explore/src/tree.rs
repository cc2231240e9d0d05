//! Stateless tree search: naive DFS, preemption-bounded DFS and source-set DPOR with sleep
//! sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial order reduction",
//! POPL 2014, Algorithm 1; sleep sets after Godefroid 1996). Every execution re-runs the
//! program from scratch under a scheduler that replays the current path and then extends it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use kmodel::{Access, SchedView, Schedule, Scheduler, StepRecord, Stop, Tid};

use crate::exec::{run_one, ExecOutcome, Runner};
use crate::hb::{Hb, Relation};
use crate::options::FreeRule;
use crate::predict::predict;
use crate::report::{InternalError, Part};
use crate::thread_set::ThreadSet;

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
/// Backtrack entries are explored in the order they were added (`queue`, first in first
/// out). Abdulla et al.'s Algorithm 1 lets a search take them in any order; this one makes the
/// threads explored before an entry — hence its sleep set — fixed when the entry is added,
/// so another worker can explore it early and get the very same subtree ([`Engine::offer`]).
///
/// # Invariants
///
/// `backtrack` has the bits of `queue`, each enabled here, each once; `done ⊆ backtrack`
/// holds the entries up to `cursor` that were explored (here or by a worker) and `chosen`;
/// every bit of `done` names a thread enabled here; `sleep` lists threads enabled here with
/// their pending access, none of them in `done`; `stolen` names entries after `cursor`.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub enabled: Vec<(Tid, Access)>,
    pub current: Option<Tid>,
    pub chosen: Tid,
    pub backtrack: ThreadSet,
    pub done: ThreadSet,
    pub queue: Vec<Tid>,
    pub cursor: usize,
    pub sleep: Vec<(Tid, Access)>,
    /// Preemptions on the path before this state.
    pub preempt_before: u32,
    /// The states before this one with two or more awake threads: with a [`Split`], the
    /// state lies in the prefix while this is below [`Split::depth`].
    pub branchings: u32,
    /// Entries handed to other workers, with their tasks.
    pub stolen: Vec<(Tid, Arc<Task>)>,
}

impl Node {
    /// The sleep set of the state after this one's chosen step, where `enabled` are the
    /// threads enabled there with the accesses they offer (Godefroid): what slept here or
    /// was explored here before, and is independent of the step just taken.
    ///
    /// A thread stays asleep only if it offers there the very access it slept with. kmodel
    /// classes a pending `kref_put` by the count when it is offered (a commuting `RefDec`
    /// at 3 or more): a put that slept as a `RefDec` may be a plain `RefPut` after another
    /// put, and that one no longer commutes with what follows, so it wakes. With that,
    /// every step keeps its class across the swaps that make two executions equivalent,
    /// which is what the sleep set argument needs (a sleeper's step commutes past each step
    /// taken since).
    pub(crate) fn child_sleep_into(
        &self,
        enabled: &[(Tid, Access)],
        rel: Relation,
        out: &mut Vec<(Tid, Access)>,
    ) {
        out.clear();
        let pc = self.chosen;
        let pa = self.access_of(pc).expect("chosen thread was enabled");
        let offers = |q: Tid, a: &Access| enabled.iter().any(|(u, b)| *u == q && b == a);
        for &(q, a) in &self.sleep {
            if !rel.dependent(&a, &pa) && offers(q, &a) {
                out.push((q, a));
            }
        }
        for &(q, a) in &self.enabled {
            if q != pc && self.done.contains(q) && !rel.dependent(&a, &pa) && offers(q, &a) {
                out.push((q, a));
            }
        }
    }

    fn is_asleep(&self, t: Tid) -> bool {
        self.sleep.iter().any(|(u, _)| *u == t)
    }
    /// Whether two or more threads enabled here are not asleep.
    fn branches(&self) -> bool {
        self.enabled
            .iter()
            .filter(|(t, _)| !self.is_asleep(*t))
            .nth(1)
            .is_some()
    }
    /// Whether one of `threads` is queued, explored or asleep here.
    fn covers_any(&self, threads: &ThreadSet) -> bool {
        threads.intersects(&self.backtrack)
            || threads.intersects(&self.done)
            || self.sleep.iter().any(|(t, _)| threads.contains(*t))
    }
    fn access_of(&self, t: Tid) -> Option<Access> {
        self.enabled.iter().find(|(u, _)| *u == t).map(|(_, a)| *a)
    }
    fn is_preemption(&self, t: Tid) -> bool {
        matches!(self.current, Some(c) if c != t && self.access_of(c).is_some())
    }
    /// A race asks for one of `initials` to run here: add the lowest unless one is already
    /// explored, queued or asleep (any initial gives a source set, Abdulla et al. Thm 4.4).
    /// An initial is always enabled there in a deterministic program; if none is, nothing
    /// can be added and the request is only counted (returns false).
    fn request(&mut self, initials: &ThreadSet) -> bool {
        if self.covers_any(initials) {
            return true;
        }
        let pick = self
            .enabled
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| initials.contains(*t))
            .min();
        let Some(t) = pick else {
            return false;
        };
        self.backtrack.insert(t);
        self.queue.push(t);
        true
    }
    /// A copy for another worker: everything but the tasks.
    fn snapshot(&self) -> Node {
        Node {
            enabled: self.enabled.clone(),
            current: self.current,
            chosen: self.chosen,
            backtrack: self.backtrack.clone(),
            done: self.done.clone(),
            queue: self.queue.clone(),
            cursor: self.cursor,
            sleep: self.sleep.clone(),
            preempt_before: self.preempt_before,
            branchings: self.branchings,
            stolen: Vec::new(),
        }
    }
}

/// A search split into *leaves* (the `shard` module): the states with fewer than `depth`
/// branching states (two or more awake threads) before them form the prefix, searched as
/// naive DFS with sleep sets (every awake thread, the current one first, then the others in
/// thread order); a *leaf* is the subtree of the first state past the prefix on a path (its
/// root), searched with source-set DPOR, or an execution that ends inside the prefix. Leaves
/// are numbered in the order the search reaches them. An execution that reaches the root of
/// a leaf that is not taken is cut there.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Split {
    pub depth: u32,
    pub take: Take,
}

/// The leaves a split search explores.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// Every leaf (the unsharded search in leaf order).
    All,
    /// Leaves `index, index + count, …`.
    Shard(crate::Shard),
    /// None: only count them (`shard::depth`).
    Nothing,
}

impl Split {
    fn searches(&self, leaf: u64) -> bool {
        match self.take {
            Take::All => true,
            Take::Shard(s) => leaf % s.count as u64 == s.index as u64,
            Take::Nothing => false,
        }
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
    /// Predicted use-after-frees replayed (module `predict`).
    pub predicted: u64,
    /// A shard's executions outside its leaves ([`Engine::outside`]): not in `executions`.
    pub prefix_executions: u64,
}

/// A subtree handed to another worker: the path to a state, whose `chosen` is the entry
/// taken, and the slot its result comes back in.
pub(crate) struct Task {
    stack: Mutex<Option<Vec<Node>>>,
    /// Set by the owner when the result is no longer wanted (a violation or a stop came
    /// first in search order).
    pub cancel: AtomicBool,
    result: Mutex<Option<Part>>,
    ready: AtomicBool,
    /// `QUEUED`, then `TAKEN` by a worker or `RECLAIMED` by the owner, whichever is first.
    state: AtomicU8,
}

const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const RECLAIMED: u8 = 2;

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Task")
    }
}

impl Task {
    /// The path, for the worker that explores it (once).
    pub fn take_stack(&self) -> Vec<Node> {
        self.stack
            .lock()
            .expect("no worker panicked")
            .take()
            .expect("a task is explored once")
    }
    /// A worker takes the task; false if its owner took it back first.
    pub fn take(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
    /// The owner takes the task back; false if a worker took it first.
    fn reclaim(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, RECLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
    pub fn finish(&self, part: Part) {
        *self.result.lock().expect("no worker panicked") = Some(part);
        self.ready.store(true, Ordering::Release);
    }
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
    pub fn take_result(&self) -> Part {
        self.result
            .lock()
            .expect("no worker panicked")
            .take()
            .expect("the result of a ready task")
    }
}

/// Add one at `k`, growing `v` as needed.
fn bump(v: &mut Vec<u64>, k: usize) {
    if v.len() <= k {
        v.resize(k + 1, 0);
    }
    v[k] += 1;
}

/// What [`Engine::backtrack`] found to do next.
pub(crate) enum Backtrack {
    /// Run the next execution.
    Run,
    /// The next entry was handed to a worker: merge its result ([`Engine::absorb`]) and
    /// backtrack again.
    Wait(Arc<Task>),
    /// The subtree is exhausted.
    Done,
}

/// The search engine for one subtree.
///
/// # Invariants
///
/// Between executions `stack` is the path of the next execution: `stack[i].chosen` is the
/// thread to run at step `i`, nodes below `floor` are never backtracked (races against them
/// become `requests`, applied by the owner of those nodes), and after an execution
/// `stack.len()` equals its number of steps (a sleep-blocked stop pushes no node).
pub(crate) struct Engine {
    pub mode: Mode,
    pub stack: Vec<Node>,
    floor: usize,
    blocked_by_sleep: bool,
    hb: Hb,
    pub blocked_backtracks: u64,
    /// Races against states below the floor, in the order found: (depth, initials).
    pub requests: Vec<(usize, ThreadSet)>,
    requested: HashSet<(usize, ThreadSet)>,
    /// Popped nodes kept for reuse, and a scratch buffer.
    pool: Vec<Node>,
    allowed: Vec<Tid>,
    /// The first step of the next execution that differs from the previous one.
    replay_from: usize,
    executions: u64,
    /// With race statistics: the pairs of accesses (earlier, later) behind the backtrack
    /// entries the last execution added.
    new_races: Vec<(Access, Access)>,
    race_stats: bool,
    /// Tasks taken back from the queue ([`Engine::backtrack`]); the pool's count of queued
    /// tasks is lowered by the caller.
    pub reclaimed: usize,
    /// The use-after-frees predicted in this subtree so far, by object and thread.
    predicted: HashSet<(String, Tid)>,
    /// The split of the search into leaves, if any ([`Split`]).
    pub split: Option<Split>,
    /// With a split: the leaves reached so far (the next leaf's number), and the leaf of the
    /// last execution (none for one that ended asleep inside the prefix). Meaningful on one
    /// OS thread only (a worker's subtree does not know the leaves before it).
    pub leaves_reached: u64,
    pub leaf: Option<u64>,
    /// With a split: the states reached whose parent branches, by their number of branching
    /// states before them (`k`: the roots of the leaves of a split of depth `k`, for every
    /// `k` up to this split's), and the executions that ended inside the prefix, by the
    /// branching states before their last state (one ending at `b` is a leaf of every split
    /// deeper than `b`). So one search counts the leaves of every shallower split
    /// ([`Engine::leaves_at`]).
    pub roots_at: Vec<u64>,
    pub ended_at: Vec<u64>,
    /// The last execution lies outside this shard's leaves: cut at another leaf's root, ended
    /// inside the prefix as another leaf, or ended asleep inside the prefix (a prefix
    /// execution, not one of the shard's).
    pub outside: bool,
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
            backtrack: ThreadSet::default(),
            done: ThreadSet::default(),
            queue: Vec::new(),
            cursor: 0,
            sleep: Vec::new(),
            preempt_before: 0,
            branchings: 0,
            stolen: Vec::new(),
        });
        node.enabled.clear();
        node.enabled.extend(view.enabled());
        node.sleep.clear();
        node.queue.clear();
        node.stolen.clear();
        node.cursor = 0;
        node.current = view.current;
        node.preempt_before = 0;
        node.branchings = 0;
        if let Some(parent) = i.checked_sub(1).map(|p| &e.stack[p]) {
            if e.mode == Mode::Dpor {
                parent.child_sleep_into(&node.enabled, e.hb.relation, &mut node.sleep);
            }
            node.preempt_before =
                parent.preempt_before + parent.is_preemption(parent.chosen) as u32;
            if let Some(split) = e.split {
                node.branchings = parent.branchings;
                if parent.branches() {
                    node.branchings += 1;
                    if node.branchings <= split.depth {
                        bump(&mut e.roots_at, node.branchings as usize);
                    }
                }
            }
        }
        // With a split: a state of the prefix, or the root of a leaf (the first state past it).
        let mut prefix = false;
        if let Some(split) = e.split {
            prefix = node.branchings < split.depth;
            let after_prefix = i == 0 || e.stack[i - 1].branchings < split.depth;
            if !prefix && after_prefix {
                let leaf = e.leaves_reached;
                e.leaves_reached += 1;
                e.leaf = Some(leaf);
                if !split.searches(leaf) {
                    e.outside = true;
                    e.pool.push(node);
                    return None;
                }
            }
        }
        let mut allowed = std::mem::take(&mut e.allowed);
        allowed.clear();
        allowed.extend(
            node.enabled
                .iter()
                .map(|(t, _)| *t)
                .filter(|t| !node.is_asleep(*t))
                .filter(|t| match e.mode {
                    Mode::Bounded(b) => node.preempt_before + node.is_preemption(*t) as u32 <= b,
                    _ => true,
                }),
        );
        // Prefer not to preempt: keep the current thread, else the lowest thread.
        let pick = match view.current {
            Some(c) if allowed.contains(&c) => Some(c),
            _ => allowed.first().copied(),
        };
        let Some(chosen) = pick else {
            e.blocked_by_sleep = true;
            e.pool.push(node);
            e.allowed = allowed;
            return None;
        };
        node.chosen = chosen;
        node.done.clear();
        node.done.insert(chosen);
        node.queue.push(chosen);
        if e.mode != Mode::Dpor || prefix {
            // Naive and bounded DFS, and the prefix of a split: every allowed thread, the
            // chosen one first.
            node.queue
                .extend(allowed.iter().copied().filter(|t| *t != chosen));
        }
        node.backtrack.clear();
        for &t in &node.queue {
            node.backtrack.insert(t);
        }
        e.allowed = allowed;
        e.stack.push(node);
        Some(chosen)
    }
}

impl Engine {
    /// The engine of a whole search.
    pub fn new(mode: Mode) -> Self {
        Engine::from_stack(mode, Vec::new())
    }

    /// The engine of a subtree handed over by [`Engine::offer`]: `stack` is the path to it.
    pub fn from_stack(mode: Mode, stack: Vec<Node>) -> Self {
        Engine {
            mode,
            floor: stack.len(),
            stack,
            blocked_by_sleep: false,
            hb: Hb::default(),
            blocked_backtracks: 0,
            requests: Vec::new(),
            requested: HashSet::new(),
            pool: Vec::new(),
            allowed: Vec::new(),
            replay_from: 0,
            executions: 0,
            new_races: Vec::new(),
            race_stats: false,
            reclaimed: 0,
            predicted: HashSet::new(),
            split: None,
            leaves_reached: 0,
            leaf: None,
            roots_at: Vec::new(),
            ended_at: Vec::new(),
            outside: false,
        }
    }

    /// The leaves of a split of depth `k`, at most this engine's split's, once its search
    /// has ended ([`Engine::roots_at`]).
    pub fn leaves_at(&self, k: u32) -> u64 {
        let k = k as usize;
        let roots = self.roots_at.get(k).copied().unwrap_or(0);
        roots + self.ended_at.iter().take(k).sum::<u64>()
    }

    /// The same engine searching in leaves ([`Split`]).
    pub fn with_split(mut self, split: Option<Split>) -> Self {
        self.split = split;
        self
    }

    /// Run the next execution of this subtree, for a search without workers. Returns `None`
    /// when the subtree is exhausted.
    pub fn next(&mut self, runner: &Runner) -> Option<Result<ExecOutcome, InternalError>> {
        if self.executions > 0 {
            match self.backtrack() {
                Backtrack::Run => {}
                Backtrack::Done => return None,
                Backtrack::Wait(_) => unreachable!("nothing is handed out without workers"),
            }
        }
        Some(self.run(runner).map(|(out, _)| out))
    }

    /// Run the execution `stack` describes (then extend it). Also returns whether every
    /// enabled thread was asleep at its end (a redundant execution). A host panic during
    /// the execution comes back as an [`InternalError`] with the schedule it was on; the
    /// engine is then spent.
    pub fn run(&mut self, runner: &Runner) -> Result<(ExecOutcome, bool), InternalError> {
        self.blocked_by_sleep = false;
        self.outside = false;
        self.executions += 1;
        self.hb.relation = runner.relation;
        self.race_stats = runner.race_stats;
        let (k, stop) = match run_one(runner, &mut TreeSched { e: self }) {
            Ok(r) => r,
            Err(message) => {
                // The path so far is the schedule up to the panicking step.
                let choices = self
                    .stack
                    .iter()
                    .filter(|n| n.enabled.len() > 1)
                    .map(|n| n.chosen)
                    .collect();
                return Err(InternalError {
                    message,
                    schedule: Some(Schedule(choices).to_string()),
                });
            }
        };
        if let Some(split) = self.split {
            // An execution that never left the prefix: a leaf of its own unless it ended
            // asleep (a redundant order, no leaf).
            let in_prefix = self.stack.last().is_none_or(|n| n.branchings < split.depth);
            if in_prefix && !self.outside {
                if self.blocked_by_sleep {
                    self.leaf = None;
                    self.outside = split.take != Take::All;
                } else {
                    let leaf = self.leaves_reached;
                    self.leaves_reached += 1;
                    self.leaf = Some(leaf);
                    self.outside = !split.searches(leaf);
                    let b = self.stack.last().map_or(0, |n| n.branchings) as usize;
                    bump(&mut self.ended_at, b);
                }
            }
        }
        let class = k.with_steps(|steps| {
            k.with_object_keys(|keys| {
                self.after(steps, keys, runner.count_traces && stop == Stop::Finished)
            })
        });
        let mut out = ExecOutcome::from_kernel(&k, stop, class);
        // A shard's prefix execution is another shard's: it predicts there.
        if self.mode == Mode::Dpor && runner.relation.free == FreeRule::Predict && !self.outside {
            let seen = &mut self.predicted;
            out.predicted = k.with_steps(|steps| predict(&self.hb, steps, |o| k.describe(o), seen));
        }
        out.races = self
            .new_races
            .drain(..)
            .map(|(a, b)| crate::exec::race_pair(&k, &a, &b))
            .collect();
        Ok((out, self.blocked_by_sleep))
    }

    /// Post-execution analysis: races (DPOR) and the trace hash (finished executions).
    fn after(&mut self, steps: &[StepRecord], keys: &[u64], hash: bool) -> Option<u128> {
        debug_assert_eq!(steps.len(), self.stack.len());
        let dpor = self.mode == Mode::Dpor;
        if !dpor && !hash {
            return None;
        }
        let floor = self.floor;
        let stack = &mut self.stack;
        let (requests, requested) = (&mut self.requests, &mut self.requested);
        let blocked = &mut self.blocked_backtracks;
        let (new_races, race_stats) = (&mut self.new_races, self.race_stats);
        self.hb.analyze(steps, self.replay_from, dpor, |j, races| {
            for r in races {
                let node = &mut stack[r.i];
                if r.i >= floor {
                    let before = node.queue.len();
                    *blocked += !node.request(&r.initials) as u64;
                    if race_stats && node.queue.len() > before {
                        new_races.push((steps[r.i].access, steps[j].access));
                    }
                    continue;
                }
                // A state of the owner's: pass the race up unless this copy already covers
                // it (the owner's state only grows, so it covers it too).
                if !node.covers_any(&r.initials) && requested.insert((r.i, r.initials.clone())) {
                    requests.push((r.i, r.initials.clone()));
                }
            }
        });
        let finished = !self.blocked_by_sleep && steps.len() == self.stack.len();
        if hash && finished {
            Some(self.hb.class_hash(steps, keys))
        } else {
            None
        }
    }

    /// Move to the next unexplored entry: the next in queue order at the deepest state
    /// above the floor that has one.
    pub fn backtrack(&mut self) -> Backtrack {
        while self.stack.len() > self.floor {
            let depth = self.stack.len() - 1;
            let top = &mut self.stack[depth];
            while top.cursor + 1 < top.queue.len() {
                top.cursor += 1;
                let t = top.queue[top.cursor];
                if top.done.contains(t) || top.is_asleep(t) {
                    continue;
                }
                top.done.insert(t);
                if let Some(k) = top.stolen.iter().position(|(u, _)| *u == t) {
                    let task = top.stolen.swap_remove(k).1;
                    // Still queued: cheaper to explore here than to wait for a worker.
                    if !task.reclaim() {
                        return Backtrack::Wait(task);
                    }
                    self.reclaimed += 1;
                }
                top.chosen = t;
                self.replay_from = depth;
                return Backtrack::Run;
            }
            if let Some(n) = self.stack.pop() {
                self.pool.push(n);
            }
        }
        Backtrack::Done
    }

    /// Merge the races of a subtree explored by a worker (after [`Backtrack::Wait`]), in
    /// the order it found them, as if this engine had explored it.
    pub fn absorb(&mut self, requests: &[(usize, ThreadSet)]) {
        for (i, initials) in requests {
            let i = *i;
            if i >= self.floor {
                self.blocked_backtracks += !self.stack[i].request(initials) as u64;
            } else if self.requested.insert((i, initials.clone())) {
                self.requests.push((i, initials.clone()));
            }
        }
    }

    /// Hand the first unexplored entry of the shallowest state that has one to another
    /// worker. The task's path is this one up to that state, with the entry chosen and, as
    /// `done`, every entry queue order puts before it: exactly the state this engine would
    /// be in when it got there, so the worker's subtree is the one this engine would explore.
    pub fn offer(&mut self) -> Option<Arc<Task>> {
        for d in self.floor..self.stack.len() {
            let node = &self.stack[d];
            let mut before = node.done.clone();
            for j in node.cursor + 1..node.queue.len() {
                let t = node.queue[j];
                if before.contains(t) || node.is_asleep(t) {
                    continue;
                }
                before.insert(t);
                if node.stolen.iter().any(|(u, _)| *u == t) {
                    continue;
                }
                let mut path: Vec<Node> = self.stack[..=d].iter().map(Node::snapshot).collect();
                let last = path.last_mut().expect("non-empty path");
                last.chosen = t;
                last.done = before;
                last.cursor = j;
                let task = Arc::new(Task {
                    stack: Mutex::new(Some(path)),
                    cancel: AtomicBool::new(false),
                    result: Mutex::new(None),
                    ready: AtomicBool::new(false),
                    state: AtomicU8::new(QUEUED),
                });
                self.stack[d].stolen.push((t, task.clone()));
                return Some(task);
            }
        }
        None
    }

    /// Cancel every task still out (their results would come after a stop): a queued one is
    /// taken back (counted in `reclaimed`), one a worker has taken is told to stop and
    /// returned, so that the caller can wait for what it explored until then.
    pub fn cancel_offers(&mut self) -> Vec<Arc<Task>> {
        let mut running = Vec::new();
        for n in &mut self.stack {
            for (_, task) in n.stolen.drain(..) {
                task.cancel.store(true, Ordering::Relaxed);
                if task.reclaim() {
                    self.reclaimed += 1;
                } else {
                    running.push(task);
                }
            }
        }
        running
    }
}
