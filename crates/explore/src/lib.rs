//! bridgesim's interleaving explorer.
//!
//! A program is an entry closure ([`Program`]) re-run on a fresh [`kmodel::Kernel`] for every
//! execution. [`Explorer`] searches its interleavings with one of the [`Strategy`]s:
//!
//! - [`Strategy::Dfs`]: every choice at every point, no reduction (the oracle).
//! - [`Strategy::Dpor`]: source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas,
//!   POPL 2014): at least one execution per Mazurkiewicz trace, usually about one.
//! - [`Strategy::Pct`]: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).
//! - [`Strategy::Random`]: a uniformly random enabled thread at every point.
//!
//! [`Options::preemption_bound`] turns the tree strategies into CHESS-style iterative context
//! bounding (Musuvathi & Qadeer, PLDI 2007): bounds 0, 1, … are searched in turn with a
//! *naive* bounded DFS (no DPOR, no sleep sets: combining them with a bound is unsound
//! without extra backtracking, Coons et al. OOPSLA 2013), so the first counterexample has
//! the fewest preemptions.
//!
//! Every counterexample comes with a [`kmodel::Schedule`] string; [`replay`] reproduces the
//! execution byte for byte, and the reported schedule is first shrunk to the fewest
//! preemptions that still fail the same way ([`minimize`]).
//!
//! Parallelism: tree searches run as on one thread, and idle workers (`threads - 1` OS
//! threads, each with its own kernels) take unexplored subtrees from the running engines
//! ([`tree::Engine::offer`]); the owner merges each result where it would have explored the
//! subtree itself, so the verdict, the counterexample and every count but
//! [`Stats::handed_out`] are those of one thread. Random strategies give each execution its
//! own seeded RNG stream and hand out chunks of executions. Runs cut short by
//! `max_executions` or an interrupt cover a thread-count-dependent part of the space (each
//! worker may finish the execution it is in: up to `threads - 1` over budget).

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use kmodel::{Config, Kernel, Replay, Schedule, StepRecord, Stop, Violation, ViolationKind};
use serde::Serialize;

mod exec;
mod hb;
pub mod models;
mod random;
mod thread_set;
mod tree;

pub use exec::trace_ops;
pub use random::Rng;

use exec::{first_failure, run_one, Counting, ExecOutcome, Failure, Runner};
use random::{PctSched, RandomSched};
use tree::{Backtrack, Engine, Mode, Task, TreeCounts};

/// A program to explore: the entry closure of thread 0, run once per execution.
pub type Program = Arc<dyn Fn(&Kernel) + Send + Sync>;

/// How to search.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Naive depth-first search over every choice.
    Dfs,
    /// Source-set DPOR with sleep sets.
    Dpor,
    /// PCT with bug depth `depth` (≥ 1), seeded.
    Pct { depth: u32, seed: u64 },
    /// Uniform random scheduling, seeded.
    Random { seed: u64 },
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Dfs => f.write_str("dfs"),
            Strategy::Dpor => f.write_str("dpor"),
            Strategy::Pct { depth, seed } => write!(f, "pct:{depth}:{seed}"),
            Strategy::Random { seed } => write!(f, "random:{seed}"),
        }
    }
}

/// Parses `dfs`, `dpor`, `pct[:depth[:seed]]` (default depth 2, seed 0) and
/// `random[:seed]`, the forms `Display` prints (for the CLI's `--strategy`).
impl std::str::FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let num = |p: Option<&str>, default: u64| -> Result<u64, String> {
            p.map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| format!("bad number `{v}` in strategy `{s}`"))
            })
        };
        let strategy = match parts.next().unwrap_or_default() {
            "dfs" => Strategy::Dfs,
            "dpor" => Strategy::Dpor,
            "pct" => {
                let depth = num(parts.next(), 2)? as u32;
                Strategy::Pct {
                    depth,
                    seed: num(parts.next(), 0)?,
                }
            }
            "random" => Strategy::Random {
                seed: num(parts.next(), 0)?,
            },
            other => {
                return Err(format!(
                    "unknown strategy `{other}` (dfs, dpor, pct[:d[:seed]], random[:seed])"
                ))
            }
        };
        match parts.next() {
            Some(extra) => Err(format!("unexpected `{extra}` in strategy `{s}`")),
            None => Ok(strategy),
        }
    }
}

/// Search knobs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Stop after this many executions. Random strategies default to 10,000.
    pub max_executions: Option<u64>,
    /// Iterative preemption bounding up to this bound (tree strategies).
    pub preemption_bound: Option<u32>,
    /// OS threads to use (each runs its own kernels).
    pub threads: usize,
    /// Per-execution step limit (a livelock guard).
    pub max_steps: u32,
    /// Report objects still alive at the end of an execution.
    pub leak_check: bool,
    /// Count distinct Mazurkiewicz traces (a set of 128-bit hashes, capped at
    /// [`TRACE_SET_CAP`] entries so memory stays bounded).
    pub count_traces: bool,
    /// Shrink the counterexample to the fewest preemptions.
    pub minimize: bool,
    /// Show a progress bar (only ever drawn on a terminal).
    pub progress: bool,
    /// Set to stop the search; what was covered is returned (see [`ctrlc_flag`]).
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Return the trace hashes in [`Report::traces`] (tests compare them with the oracle's).
    pub keep_traces: bool,
    /// Tree strategies (DFS, DPOR): do not stop at the first violation. Executions run to
    /// their end, the search covers the whole space, and [`Report::findings`] lists every
    /// distinct violation (by kind and object) with the schedule that first showed it. The
    /// first is also reported, minimised, as the outcome. Ignored by PCT and random.
    pub collect: bool,
    /// Tree strategies on several threads: executions to run before idle workers get
    /// subtrees (small searches are faster on one thread). Does not change the result.
    pub offer_after: u64,
}

/// The machine's cores, read once: `available_parallelism` reads cgroup files on every call,
/// which used to cost more than a whole 10-execution search.
pub fn available_cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_executions: None,
            preemption_bound: None,
            threads: available_cores(),
            max_steps: 100_000,
            leak_check: true,
            count_traces: true,
            minimize: true,
            progress: true,
            interrupt: None,
            keep_traces: false,
            collect: false,
            offer_after: 64,
        }
    }
}

/// Beyond this many distinct traces the count stops growing (and is a lower bound).
pub const TRACE_SET_CAP: usize = 1 << 20;

/// What a search covered.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Executions started (complete, stopped by a violation, or blocked by sleep sets).
    pub executions: u64,
    /// Executions in which every thread returned.
    pub complete: u64,
    /// DPOR executions abandoned because every enabled thread was asleep (redundant).
    pub sleep_blocked: u64,
    /// DPOR backtrack entries naming a thread that was not enabled there (skipped).
    pub blocked_backtracks: u64,
    /// Distinct Mazurkiewicz traces among complete executions (0 when not counted).
    pub distinct_traces: u64,
    /// The trace set hit [`TRACE_SET_CAP`]; `distinct_traces` is a lower bound.
    pub traces_capped: bool,
    /// Scheduling points executed.
    pub steps: u64,
    pub wall_secs: f64,
    pub steps_per_sec: f64,
    pub executions_per_sec: f64,
    /// The whole space (within the bound, if any) was searched and found clean.
    pub exhaustive: bool,
    /// Stopped by `max_executions`.
    pub truncated: bool,
    /// Stopped by the interrupt flag.
    pub interrupted: bool,
    /// With a preemption bound: the last bound searched.
    pub bound_reached: Option<u32>,
    /// Executions spent minimising the counterexample (not in `executions`).
    pub minimize_executions: u64,
    /// PCT: the number of points with more than one enabled thread, learnt from the first
    /// execution (the `k` of the guarantee `1/(n·k^(d-1))`).
    pub pct_k: Option<u32>,
    /// PCT: the number of threads of the first execution (the `n` of the guarantee).
    pub pct_threads: Option<u32>,
    pub threads: usize,
    /// Tree strategies: subtrees other workers explored (varies from run to run; the other
    /// counts do not).
    pub handed_out: u64,
}

/// A failing execution, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    /// The (minimised) schedule; `bridgesim replay` reproduces it.
    pub schedule: String,
    /// The schedule as first found, before minimisation.
    pub found_schedule: String,
    pub kind: ViolationKind,
    /// The object's C type and name, as in the report.
    pub object: String,
    pub message: String,
    /// Preemptions of `schedule` and of `found_schedule`.
    pub preemptions: u32,
    pub found_preemptions: u32,
    /// Model operations up to and including the failing one ([`trace_ops`]).
    pub ops: u32,
    /// 1-based number of the execution that found it.
    pub execution: u64,
    /// The kernel-style report of the replayed schedule, with the replay command.
    pub report: String,
}

/// The verdict.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Outcome {
    /// No violation in what was covered (see [`Stats::exhaustive`]).
    Clean,
    Violation(Box<Counterexample>),
}

/// A violation found by a collecting search ([`Options::collect`]).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub kind: ViolationKind,
    /// The object's C type and name.
    pub object: String,
    pub message: String,
    /// The schedule of the first execution that showed it (not minimised).
    pub schedule: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub strategy: Strategy,
    pub stats: Stats,
    pub outcome: Outcome,
    /// With [`Options::collect`]: every distinct violation, in search order.
    pub findings: Vec<Finding>,
    /// The distinct trace hashes, sorted, when [`Options::keep_traces`] is set.
    #[serde(skip)]
    pub traces: Option<Vec<u128>>,
}

impl Report {
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match &self.outcome {
            Outcome::Violation(c) => Some(c),
            Outcome::Clean => None,
        }
    }
}

/// Runs one search.
pub struct Explorer {
    pub strategy: Strategy,
    pub options: Options,
}

/// A failure found during a search, with where it was found.
struct Found {
    failure: Failure,
    schedule: Schedule,
    execution: u64,
}

/// Shared state of the workers of one search.
struct Shared {
    total: AtomicU64,
    handed_out: AtomicU64,
    best: AtomicUsize,
    stop: AtomicBool,
    pb: indicatif::ProgressBar,
    budget: Option<u64>,
    interrupt: Option<Arc<AtomicBool>>,
    /// PCT's learnt (k, n).
    pct: Mutex<Option<(u32, u32)>>,
}

impl Shared {
    fn tick(&self) -> bool {
        self.tick_n(1)
    }

    /// Count `k` executions; false once the search must stop.
    fn tick_n(&self, k: u64) -> bool {
        let n = self.total.fetch_add(k, Ordering::Relaxed) + k;
        if n % 512 < k {
            self.pb.set_position(n);
        }
        if let Some(b) = self.budget {
            if n >= b {
                self.stop.store(true, Ordering::Relaxed);
            }
        }
        if self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            self.stop.store(true, Ordering::Relaxed);
        }
        !self.stop.load(Ordering::Relaxed)
    }
}

/// The result of one unit of work (a subtree or a chunk of random executions).
#[derive(Default)]
pub(crate) struct Part {
    counts: TreeCounts,
    classes: HashSet<u128>,
    found: Option<Found>,
    /// Collecting searches: the distinct violations, with the first execution showing each.
    collected: Vec<(Failure, Schedule, u64)>,
    finished: bool,
    /// A subtree's races against its owner's states ([`Engine::absorb`]).
    requests: Vec<(usize, thread_set::ThreadSet)>,
}

impl Part {
    /// Append `later`, the part that follows this one in search order.
    fn absorb(&mut self, later: Part) {
        let before = self.counts.executions;
        for (f, sched, execution) in later.collected {
            if !self.collected.iter().any(|(g, _, _)| same_finding(g, &f)) {
                self.collected.push((f, sched, before + execution));
            }
        }
        let c = &mut self.counts;
        c.executions += later.counts.executions;
        c.complete += later.counts.complete;
        c.sleep_blocked += later.counts.sleep_blocked;
        c.blocked_backtracks += later.counts.blocked_backtracks;
        c.steps += later.counts.steps;
        for h in later.classes {
            add_class(&mut self.classes, Some(h));
        }
        if let Some(mut f) = later.found {
            f.execution += before;
            self.found = Some(f);
        }
        self.finished &= later.finished;
    }
}

/// Idle workers, and the subtrees handed out to them (tree strategies with `threads > 1`).
#[derive(Default)]
struct Pool {
    queue: Mutex<std::collections::VecDeque<Arc<Task>>>,
    /// Signalled when a task is queued or finished, and at the end.
    cv: std::sync::Condvar,
    idle: AtomicUsize,
    queued: AtomicUsize,
    closed: AtomicBool,
}

impl Pool {
    /// Someone is waiting for work and nothing is queued.
    fn hungry(&self) -> bool {
        self.idle.load(Ordering::Relaxed) > 0 && self.queued.load(Ordering::Relaxed) == 0
    }
    fn push(&self, task: Arc<Task>) {
        let mut q = self.queue.lock().expect("no worker panicked");
        q.push_back(task);
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.cv.notify_all();
    }
    /// Wait for `ready` (then `None`) or, if `help`, for a queued task to take.
    fn pop_or_wait(&self, ready: &dyn Fn() -> bool, help: bool) -> Option<Arc<Task>> {
        let mut q = self.queue.lock().expect("no worker panicked");
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
            q = self.cv.wait(q).expect("no worker panicked");
            self.idle.fetch_sub(help as usize, Ordering::Relaxed);
        }
    }
    fn notify(&self) {
        let _q = self.queue.lock().expect("no worker panicked");
        self.cv.notify_all();
    }
}

/// Executions a tree worker runs between updates of the shared count (without a budget).
const TICK_BATCH: u64 = 32;

/// What the workers of one tree search share.
struct TreeCtx<'a> {
    explorer: &'a Explorer,
    shared: &'a Shared,
    mode: Mode,
    pool: Option<&'a Pool>,
}

fn add_class(set: &mut HashSet<u128>, h: Option<u128>) {
    if let Some(h) = h {
        if set.len() < TRACE_SET_CAP {
            set.insert(h);
        }
    }
}

impl Explorer {
    pub fn new(strategy: Strategy, options: Options) -> Self {
        Explorer { strategy, options }
    }

    fn config(&self) -> Config {
        config_for(&self.options)
    }

    /// Search `program` and report.
    pub fn run(&self, program: &Program) -> Report {
        let start = Instant::now();
        let threads = self.options.threads.max(1);
        let pb = if self.options.progress && std::io::stderr().is_terminal() {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} executions  {per_sec}  {elapsed}",
                )
                .expect("valid template"),
            );
            pb.enable_steady_tick(std::time::Duration::from_millis(200));
            pb
        } else {
            indicatif::ProgressBar::hidden()
        };
        let budget = match self.strategy {
            Strategy::Pct { .. } | Strategy::Random { .. } => {
                Some(self.options.max_executions.unwrap_or(10_000))
            }
            _ => self.options.max_executions,
        };
        let shared = Shared {
            total: AtomicU64::new(0),
            handed_out: AtomicU64::new(0),
            best: AtomicUsize::new(usize::MAX),
            stop: AtomicBool::new(false),
            pb,
            budget,
            interrupt: self.options.interrupt.clone(),
            pct: Mutex::new(None),
        };
        let mut stats = Stats {
            threads,
            ..Stats::default()
        };
        let (parts, complete_space) = match self.strategy {
            Strategy::Dfs | Strategy::Dpor => {
                let base = if self.strategy == Strategy::Dfs {
                    Mode::Dfs
                } else {
                    Mode::Dpor
                };
                match self.options.preemption_bound {
                    None => self.run_tree(program, base, threads, &shared),
                    Some(b) => {
                        let mut out = (Vec::new(), false);
                        for c in 0..=b {
                            let (parts, done) =
                                self.run_tree(program, Mode::Bounded(c), threads, &shared);
                            stats.bound_reached = Some(c);
                            let failed = parts.iter().any(|p| p.found.is_some());
                            out.0.extend(parts);
                            out.1 = done;
                            if failed || !done {
                                break;
                            }
                        }
                        out
                    }
                }
            }
            Strategy::Random { seed } => self.run_random(program, seed, None, threads, &shared),
            Strategy::Pct { depth, seed } => {
                self.run_random(program, seed, Some(depth.max(1)), threads, &shared)
            }
        };
        shared.pb.finish_and_clear();
        stats.handed_out = shared.handed_out.load(Ordering::Relaxed);
        if let Some((k, n)) = *shared.pct.lock().expect("no worker panicked") {
            stats.pct_k = Some(k);
            stats.pct_threads = Some(n);
        }
        // Aggregate in a fixed order; everything after the first failing part is dropped so
        // the counts do not depend on how the parts were spread over threads.
        let mut classes: HashSet<u128> = HashSet::new();
        let mut found: Option<(u64, Found)> = None;
        let mut collected: Vec<(u64, Failure, Schedule)> = Vec::new();
        let mut before = 0u64;
        let mut all_finished = true;
        for p in parts {
            for (f, sched, execution) in p.collected {
                if !collected.iter().any(|(_, g, _)| same_finding(g, &f)) {
                    collected.push((before + execution, f, sched));
                }
            }
            stats.executions += p.counts.executions;
            stats.complete += p.counts.complete;
            stats.sleep_blocked += p.counts.sleep_blocked;
            stats.blocked_backtracks += p.counts.blocked_backtracks;
            stats.steps += p.counts.steps;
            all_finished &= p.finished;
            if classes.len() < TRACE_SET_CAP {
                classes.extend(p.classes);
            }
            if let Some(f) = p.found {
                let n = if matches!(self.strategy, Strategy::Dfs | Strategy::Dpor) {
                    before + f.execution
                } else {
                    f.execution
                };
                found = Some((n, f));
                break;
            }
            before += p.counts.executions;
        }
        let collecting =
            self.options.collect && matches!(self.strategy, Strategy::Dfs | Strategy::Dpor);
        if collecting && found.is_none() {
            if let Some((n, f, sched)) = collected.first() {
                found = Some((
                    *n,
                    Found {
                        failure: f.clone(),
                        schedule: sched.clone(),
                        execution: *n,
                    },
                ));
            }
        }
        let findings: Vec<Finding> = collected
            .iter()
            .map(|(_, f, sched)| Finding {
                kind: f.kind,
                object: f.object.clone(),
                message: f.message.clone(),
                schedule: sched.to_string(),
            })
            .collect();
        stats.distinct_traces = if self.options.count_traces {
            classes.len() as u64
        } else {
            0
        };
        stats.traces_capped = classes.len() >= TRACE_SET_CAP;
        stats.interrupted = self
            .options
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed));
        stats.truncated = !stats.interrupted
            && (found.is_none() || collecting)
            && !(all_finished && complete_space);
        stats.exhaustive = (found.is_none() || collecting)
            && all_finished
            && complete_space
            && matches!(self.strategy, Strategy::Dfs | Strategy::Dpor);
        let outcome = match found {
            None => Outcome::Clean,
            Some((n, f)) => {
                let (cx, spent) = self.counterexample(program, f, n);
                stats.minimize_executions = spent;
                Outcome::Violation(Box::new(cx))
            }
        };
        stats.wall_secs = start.elapsed().as_secs_f64();
        if stats.wall_secs > 0.0 {
            stats.steps_per_sec = stats.steps as f64 / stats.wall_secs;
            stats.executions_per_sec = stats.executions as f64 / stats.wall_secs;
        }
        let traces = self.options.keep_traces.then(|| {
            let mut v: Vec<u128> = classes.into_iter().collect();
            v.sort_unstable();
            v
        });
        Report {
            strategy: self.strategy,
            stats,
            outcome,
            findings,
            traces,
        }
    }

    /// Tree search. With `threads > 1`, idle workers take subtrees from the running
    /// engines ([`Engine::offer`]) and each engine merges what it handed out at the point
    /// where it would have explored it itself, so the result is that of one thread.
    fn run_tree(
        &self,
        program: &Program,
        mode: Mode,
        threads: usize,
        shared: &Shared,
    ) -> (Vec<Part>, bool) {
        let pool = Pool::default();
        let ctx = TreeCtx {
            explorer: self,
            shared,
            mode,
            pool: (threads > 1).then_some(&pool),
        };
        let runner = || Runner::new(program.clone(), self.config(), self.options.count_traces);
        let part = std::thread::scope(|s| {
            for _ in 1..threads {
                let (ctx, pool, runner) = (&ctx, &pool, runner());
                s.spawn(move || {
                    let closed = || pool.closed.load(Ordering::Relaxed);
                    while let Some(task) = pool.pop_or_wait(&closed, true) {
                        ctx.run_task(&runner, &task);
                    }
                });
            }
            let part = ctx.explore(&runner(), Engine::new(mode), None);
            pool.closed.store(true, Ordering::Relaxed);
            pool.notify();
            part
        });
        (vec![part], true)
    }

    /// PCT (`depth = Some(d)`) or random search over numbered executions, in chunks.
    fn run_random(
        &self,
        program: &Program,
        seed: u64,
        depth: Option<u32>,
        threads: usize,
        shared: &Shared,
    ) -> (Vec<Part>, bool) {
        const CHUNK: u64 = 64;
        let budget = shared.budget.unwrap_or(10_000);
        let runner0 = Runner::new(program.clone(), self.config(), self.options.count_traces);
        let one = |runner: &Runner, i: u64, k: Option<u32>| -> (ExecOutcome, u32, u32) {
            let rng = Rng::for_execution(seed, i);
            let nthreads =
                |kr: &Kernel| kr.with_steps(|s| s.iter().map(|s| s.tid.0 + 1).max().unwrap_or(1));
            match depth {
                Some(d) => {
                    let mut s = PctSched::new(rng, d, k);
                    let (kr, stop) = run_one(runner, &mut s);
                    (
                        outcome_with_class(runner, &kr, stop),
                        s.count,
                        nthreads(&kr),
                    )
                }
                None => {
                    let mut s = RandomSched { rng };
                    let (kr, stop) = run_one(runner, &mut s);
                    (outcome_with_class(runner, &kr, stop), 0, nthreads(&kr))
                }
            }
        };
        // PCT learns k (points with more than one enabled thread) from execution 0.
        let mut first = Part::default();
        let (out0, k0, n0) = one(&runner0, 0, None);
        if depth.is_some() {
            *shared.pct.lock().expect("no worker panicked") = Some((k0.max(1), n0));
        }
        record(&mut first, &out0, 1);
        first.finished = true;
        shared.tick();
        if first.found.is_some() || budget <= 1 {
            return (vec![first], true);
        }
        let k = depth.map(|_| k0.max(1));
        let nchunks = (budget - 1).div_ceil(CHUNK) as usize;
        // Chunk results are folded in chunk order as soon as their predecessors are in, so
        // memory holds only the chunks in flight, never one record per chunk or execution.
        // Traces go to one map (trace -> first part that saw it): its size is the number of
        // distinct traces.
        let seen: Mutex<std::collections::HashMap<u128, usize>> =
            Mutex::new(first.classes.drain().map(|h| (h, 0)).collect());
        let fold = Mutex::new(Fold {
            next: 0,
            acc: Part {
                finished: true,
                ..Part::default()
            },
            pending: Default::default(),
            closed: false,
        });
        let next = AtomicUsize::new(0);
        let work = |runner: &Runner| loop {
            let c = next.fetch_add(1, Ordering::Relaxed);
            if c >= nchunks {
                break;
            }
            let mut part = Part::default();
            if c < shared.best.load(Ordering::Relaxed) && !shared.stop.load(Ordering::Relaxed) {
                part.finished = true;
                let lo = 1 + c as u64 * CHUNK;
                let hi = (lo + CHUNK).min(budget);
                for i in lo..hi {
                    let (out, _, _) = one(runner, i, k);
                    record(&mut part, &out, i + 1);
                    if part.found.is_some() {
                        shared.best.fetch_min(c, Ordering::Relaxed);
                        break;
                    }
                    let go_on = shared.tick();
                    if c > shared.best.load(Ordering::Relaxed) || (!go_on && i + 1 < hi) {
                        part.finished = false;
                        break;
                    }
                }
            }
            {
                let mut seen = seen.lock().expect("no worker panicked");
                for h in part.classes.drain() {
                    if seen.len() < TRACE_SET_CAP || seen.contains_key(&h) {
                        let e = seen.entry(h).or_insert(c + 1);
                        *e = (*e).min(c + 1);
                    }
                }
            }
            fold.lock().expect("no worker panicked").add(c, part);
        };
        if threads <= 1 {
            work(&runner0);
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    let work = &work;
                    let program = program.clone();
                    let config = self.config();
                    let count_traces = self.options.count_traces;
                    s.spawn(move || work(&Runner::new(program, config, count_traces)));
                }
            });
        }
        let fold = fold.into_inner().expect("no worker panicked");
        let mut acc = fold.acc;
        // Traces first seen after the failing chunk belong to dropped executions.
        let last = if acc.found.is_some() {
            fold.next
        } else {
            usize::MAX
        };
        for (h, c) in seen.into_inner().expect("no worker panicked") {
            if c == 0 {
                first.classes.insert(h);
            } else if c <= last {
                acc.classes.insert(h);
            }
        }
        (vec![first, acc], false)
    }

    /// Minimise, replay with events on and render.
    fn counterexample(&self, program: &Program, f: Found, execution: u64) -> (Counterexample, u64) {
        let found_schedule = f.schedule.clone();
        let (schedule, spent) = if self.options.minimize {
            minimize(program, &f.schedule, &self.options, 200_000)
        } else {
            (f.schedule.clone(), 0)
        };
        let r = replay_with(program, &schedule, &self.options);
        let found_r = replay_with(program, &found_schedule, &self.options);
        let v = first_failure_of(&r).unwrap_or_else(|| f.failure.clone());
        (
            Counterexample {
                schedule: schedule.to_string(),
                found_schedule: found_schedule.to_string(),
                kind: v.kind,
                object: v.object,
                message: v.message,
                preemptions: r.preemptions,
                found_preemptions: found_r.preemptions,
                ops: r.ops.unwrap_or(0),
                execution,
                report: r.report,
            },
            spent,
        )
    }
}

impl TreeCtx<'_> {
    /// Explore the subtree of `engine` to its end, the first violation (unless collecting),
    /// a stop, or `cancel`.
    fn explore(&self, runner: &Runner, mut engine: Engine, cancel: Option<&AtomicBool>) -> Part {
        let collect = self.explorer.options.collect;
        let mut part = Part {
            finished: true,
            ..Part::default()
        };
        let mut first = true;
        let mut unticked = 0;
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                part.finished = false;
                break;
            }
            if !first {
                let bt = engine.backtrack();
                if let Some(pool) = self.pool {
                    pool.queued
                        .fetch_sub(std::mem::take(&mut engine.reclaimed), Ordering::Relaxed);
                }
                match bt {
                    Backtrack::Run => {}
                    Backtrack::Done => break,
                    Backtrack::Wait(task) => {
                        let later = self.wait_for(runner, &task);
                        engine.absorb(&later.requests);
                        part.absorb(later);
                        if part.found.is_some() || !part.finished {
                            break;
                        }
                        continue;
                    }
                }
            }
            first = false;
            let (out, asleep) = engine.run(runner);
            let c = &mut part.counts;
            c.executions += 1;
            c.steps += out.steps as u64;
            if asleep {
                c.sleep_blocked += 1;
            } else if out.stop == Stop::Finished {
                c.complete += 1;
            }
            add_class(&mut part.classes, out.class);
            let execution = part.counts.executions;
            if collect {
                for f in &out.failures {
                    if !part.collected.iter().any(|(g, _, _)| same_finding(g, f)) {
                        let sched = out.schedule.clone().unwrap_or_default();
                        part.collected.push((f.clone(), sched, execution));
                    }
                }
            } else if let Some(f) = out.failure {
                part.found = Some(Found {
                    failure: f,
                    schedule: out.schedule.unwrap_or_default(),
                    execution,
                });
                break;
            }
            // Without a budget the shared count is bumped in batches: one counter written
            // by every worker on every execution costs more than the bookkeeping it serves.
            unticked += 1;
            if (self.shared.budget.is_some() || unticked == TICK_BATCH)
                && !self.shared.tick_n(std::mem::take(&mut unticked))
            {
                part.finished = false;
                break;
            }
            // Small searches stay on one thread: a worker's first task costs it fresh
            // coroutine stacks, more than a few dozen executions.
            let warm =
                self.shared.total.load(Ordering::Relaxed) >= self.explorer.options.offer_after;
            if let Some(pool) = self.pool.filter(|p| warm && p.hungry()) {
                if let Some(task) = engine.offer() {
                    pool.push(task);
                }
            }
        }
        self.shared.tick_n(unticked);
        // Whatever is still out comes later in search order than where this stopped.
        engine.cancel_offers();
        part.counts.blocked_backtracks += engine.blocked_backtracks;
        part.requests = std::mem::take(&mut engine.requests);
        part
    }

    fn run_task(&self, runner: &Runner, task: &Task) {
        let stack = task.take_stack();
        let part = if task.cancel.load(Ordering::Relaxed) {
            Part::default()
        } else {
            self.shared.handed_out.fetch_add(1, Ordering::Relaxed);
            self.explore(
                runner,
                Engine::from_stack(self.mode, stack),
                Some(&task.cancel),
            )
        };
        task.finish(part);
        if let Some(pool) = self.pool {
            pool.notify();
        }
    }

    /// The result of a handed-out subtree; meanwhile, explore other handed-out subtrees.
    ///
    /// Helping nests (a helped task may wait and help in turn), so it stops at
    /// `MAX_NESTING` levels on one OS thread to bound the stack; the task waited for is
    /// running (queued ones are taken back instead of waited for), so waiting always ends.
    fn wait_for(&self, runner: &Runner, task: &Task) -> Part {
        const MAX_NESTING: u32 = 24;
        thread_local! {
            static NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let pool = self.pool.expect("tasks exist only with workers");
        let help = NESTING.with(|n| n.get()) < MAX_NESTING;
        while let Some(other) = pool.pop_or_wait(&|| task.is_ready(), help) {
            NESTING.with(|n| n.set(n.get() + 1));
            self.run_task(runner, &other);
            NESTING.with(|n| n.set(n.get() - 1));
        }
        task.take_result()
    }
}

/// Chunk results of a random search, folded in chunk order.
///
/// # Invariants
///
/// `acc` sums chunks `0..next`; `pending` holds finished chunks `> next`; once a folded chunk
/// has a failure, `closed` is set and nothing more is folded (`next` is then that chunk + 1).
struct Fold {
    next: usize,
    acc: Part,
    pending: std::collections::BTreeMap<usize, Part>,
    closed: bool,
}

impl Fold {
    fn add(&mut self, c: usize, part: Part) {
        if self.closed {
            return;
        }
        self.pending.insert(c, part);
        while let Some(p) = self.pending.remove(&self.next) {
            self.next += 1;
            self.acc.counts.executions += p.counts.executions;
            self.acc.counts.complete += p.counts.complete;
            self.acc.counts.steps += p.counts.steps;
            self.acc.finished &= p.finished;
            if p.found.is_some() {
                self.acc.found = p.found;
                self.closed = true;
                self.pending.clear();
                return;
            }
        }
    }
}

fn record(part: &mut Part, out: &ExecOutcome, execution: u64) {
    part.counts.executions += 1;
    part.counts.steps += out.steps as u64;
    if out.stop == Stop::Finished {
        part.counts.complete += 1;
    }
    add_class(&mut part.classes, out.class);
    if let Some(f) = &out.failure {
        part.found = Some(Found {
            failure: f.clone(),
            schedule: out.schedule.clone().unwrap_or_default(),
            execution,
        });
    }
}

fn outcome_with_class(runner: &Runner, k: &Kernel, stop: Stop) -> ExecOutcome {
    let class = if runner.count_traces && stop == Stop::Finished {
        let mut hb = runner.hb.borrow_mut();
        k.with_steps(|s| {
            hb.analyze(s, 0, false, |_, _| {});
            Some(k.with_object_keys(|keys| hb.class_hash(s, keys)))
        })
    } else {
        None
    };
    ExecOutcome::from_kernel(k, stop, class)
}

/// Two violations are the same finding when they have the same kind and object.
fn same_finding(a: &Failure, b: &Failure) -> bool {
    a.kind == b.kind && a.object == b.object
}

fn config_for(o: &Options) -> Config {
    Config {
        stop_on_violation: !o.collect,
        leak_check: o.leak_check,
        max_steps: o.max_steps,
        record_events: false,
    }
}

/// One execution replayed from a schedule, with everything recorded.
#[derive(Clone, Debug)]
pub struct Replayed {
    pub stop: Stop,
    pub violations: Vec<Violation>,
    pub steps: Vec<StepRecord>,
    /// The event trace, `Trace::to_json_lines`.
    pub trace_json: String,
    /// The schedule of this execution (equal to the input unless it diverged).
    pub schedule: Schedule,
    pub preemptions: u32,
    /// The first step where the schedule named a thread that could not run.
    pub diverged: Option<u32>,
    /// Operations up to the first violation ([`trace_ops`]).
    pub ops: Option<u32>,
    /// The C type and name of the first violation's object (empty if none).
    pub object: String,
    /// The kernel-style report of the first violation, the schedule and the replay command;
    /// empty when the execution is clean.
    pub report: String,
}

fn first_failure_of(r: &Replayed) -> Option<Failure> {
    r.violations.first().map(|v| Failure {
        kind: v.kind,
        object: r.object.clone(),
        message: v.message.clone(),
        step: v.site.step,
    })
}

/// Replay `schedule` with the explorer's default kernel settings.
pub fn replay(program: &Program, schedule: &Schedule) -> Replayed {
    replay_with(program, schedule, &Options::default())
}

/// Replay `schedule` with the kernel settings of `options` (stop at the first violation,
/// leak check, step limit), recording events.
pub fn replay_with(program: &Program, schedule: &Schedule, options: &Options) -> Replayed {
    let mut config = config_for(options);
    config.record_events = true;
    let k = Kernel::new(config);
    let mut s = Counting {
        inner: Replay::new(schedule.clone()),
        preemptions: 0,
    };
    let p = program.clone();
    let stop = k.run(&mut s, move |k| p(k));
    let violations = k.violations();
    let sched = k.schedule();
    let mut report = String::new();
    let mut ops = None;
    let mut object = String::new();
    if let Some(v) = violations.first() {
        object = v.obj.map(|o| k.describe(o)).unwrap_or_default();
        let n = trace_ops(&k, v.site.step);
        ops = Some(n);
        report.push_str(&k.render(v));
        if !report.ends_with('\n') {
            report.push('\n');
        }
        report.push_str(&format!(
            "schedule: {sched} ({} preemptions, {n} operations)\nreplay: bridgesim replay --schedule '{sched}'\n",
            s.preemptions
        ));
    }
    Replayed {
        stop,
        violations,
        steps: k.steps(),
        trace_json: k.trace().to_json_lines(),
        schedule: sched,
        preemptions: s.preemptions,
        diverged: s.inner.diverged(),
        ops,
        object,
        report,
    }
}

/// Shrink a failing schedule to the fewest preemptions that still fail the same way (same
/// violation kind, same object): bounded DFS with bounds 0, 1, … below the schedule's own
/// count, stopping at the first execution that fails alike. Among equals it prefers the
/// non-preemptive choice at every point, so the result is also short. Gives up after
/// `budget` executions and keeps the best schedule found. Returns the schedule and the
/// executions spent.
pub fn minimize(
    program: &Program,
    schedule: &Schedule,
    options: &Options,
    budget: u64,
) -> (Schedule, u64) {
    let runner = Runner::new(program.clone(), config_for(options), false);
    let target = {
        let mut s = Counting {
            inner: Replay::new(schedule.clone()),
            preemptions: 0,
        };
        let (k, _) = run_one(&runner, &mut s);
        match first_failure(&k) {
            Some(f) => (f, s.preemptions),
            None => return (schedule.clone(), 1),
        }
    };
    let (want, have) = target;
    let mut spent = 1u64;
    for bound in 0..have {
        let mut engine = Engine::new(Mode::Bounded(bound));
        while let Some(out) = engine.next(&runner) {
            spent += 1;
            if let Some(f) = &out.failure {
                if f.kind == want.kind && f.object == want.object {
                    return (out.schedule.clone().unwrap_or_default(), spent);
                }
            }
            if spent >= budget {
                return (schedule.clone(), spent);
            }
        }
    }
    (schedule.clone(), spent)
}

/// A process-wide flag set by Ctrl-C (the handler is installed on first call). Pass it as
/// [`Options::interrupt`]; a second Ctrl-C is not intercepted differently.
pub fn ctrlc_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let f = Arc::new(AtomicBool::new(false));
        let g = f.clone();
        // Another handler may already be installed by the host program; then the flag just
        // never fires, which only loses the feature.
        let _ = ctrlc::set_handler(move || g.store(true, Ordering::SeqCst));
        f
    })
    .clone()
}

/// Peak resident set size of this process in KiB (`VmHWM`), on Linux.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Current resident set size of this process in KiB (`VmRSS`), on Linux.
pub fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_strings_round_trip() {
        for s in [
            Strategy::Dfs,
            Strategy::Dpor,
            Strategy::Pct { depth: 3, seed: 42 },
            Strategy::Random { seed: 7 },
        ] {
            assert_eq!(s.to_string().parse::<Strategy>(), Ok(s));
        }
        assert_eq!(
            "pct".parse::<Strategy>(),
            Ok(Strategy::Pct { depth: 2, seed: 0 })
        );
        assert!("bfs".parse::<Strategy>().is_err());
        assert!("random:x".parse::<Strategy>().is_err());
        assert!("dpor:1".parse::<Strategy>().is_err());
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng::for_execution(1, 5);
        let mut b = Rng::for_execution(1, 5);
        for _ in 0..100 {
            let x = a.below(7);
            assert_eq!(x, b.below(7));
            assert!(x < 7);
        }
        assert_ne!(
            Rng::for_execution(1, 5).next_u64(),
            Rng::for_execution(1, 6).next_u64()
        );
    }
}
