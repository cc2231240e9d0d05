//! What to search with: the [`Strategy`] and the [`Options`], with the hooks a front end
//! passes in (an interrupt flag, a progress callback).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Serialize;

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

impl Strategy {
    /// DFS and DPOR search a tree of executions and can cover it all; PCT and random sample.
    pub fn is_tree(self) -> bool {
        matches!(self, Strategy::Dfs | Strategy::Dpor)
    }
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

/// How DPOR orders the operations on one refcount (`kref_get`, `kref_put`).
///
/// Both rules order a put that releases (reaches zero), an operation on a zero or saturated
/// count and a `kref_read` against every operation on that count, and a get and a put
/// naming the same owner against each other (the put of a reference not held is reported).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KrefRule {
    /// Gets commute with each other and with puts that do not release, unless the order
    /// could decide which put releases: a put that does not release is ordered after the
    /// gets of other threads before it only when, without them, it could have released
    /// (its count minus those gets is at most 1). Puts are ordered among themselves.
    #[default]
    Release,
    /// A put offered at count 3 or more ([`kmodel::AccessKind::RefDec`]) commutes with
    /// another such put; every other pair of a get and a put is ordered (session 5).
    Decrement,
}

impl std::fmt::Display for KrefRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KrefRule::Release => "release",
            KrefRule::Decrement => "decrement",
        })
    }
}

/// How DPOR orders a `kfree` ([`kmodel::AccessKind::Free`]) against the other accesses to
/// its object.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeRule {
    /// A free commutes with every access but another free of its object, and each
    /// use-after-free a reordering would show is predicted from happens-before and replayed
    /// (module `predict`).
    #[default]
    Predict,
    /// A free conflicts with every access to its object, as a whole-object write (the search
    /// before prediction; kept to measure and check it against).
    Conflict,
}

impl std::fmt::Display for FreeRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FreeRule::Predict => "predict",
            FreeRule::Conflict => "conflict",
        })
    }
}

/// A progress callback: called with the number of executions so far, every few hundred
/// executions, from any search thread. The explorer draws nothing itself.
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(u64) + Send + Sync>);

impl Progress {
    pub fn new(f: impl Fn(u64) + Send + Sync + 'static) -> Self {
        Progress(Arc::new(f))
    }
    pub(crate) fn report(&self, executions: u64) {
        (self.0)(executions)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Executions between two calls of the [`Progress`] callback.
pub const PROGRESS_EVERY: u64 = 512;

/// Search knobs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Stop after this many executions. Random strategies default to
    /// [`DEFAULT_SAMPLES`].
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
    /// Called with the number of executions so far (see [`Progress`]).
    pub progress: Option<Progress>,
    /// Set to stop the search; what was covered is returned, with
    /// [`crate::Coverage::Interrupted`].
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Return the trace hashes in [`crate::Report::traces`] (tests compare them with the
    /// oracle's).
    pub keep_traces: bool,
    /// Tree strategies (DFS, DPOR): do not stop at the first violation. Executions run to
    /// their end, the search covers the whole space, and [`crate::Report::findings`] lists
    /// every distinct violation (by kind and object) with the schedule that first showed it.
    /// The first is also reported, minimised, as the outcome. Ignored by PCT and random.
    pub collect: bool,
    /// Tree strategies on several threads: executions to run before idle workers get
    /// subtrees (small searches are faster on one thread). Does not change the result.
    pub offer_after: u64,
    /// How finely accesses are told apart: per field (default) or per whole object.
    pub granularity: kmodel::Granularity,
    /// How refcount operations are ordered ([`KrefRule`]; at `object` granularity every
    /// get, put and read of one refcount is ordered as before either rule).
    pub kref: KrefRule,
    /// How a free is ordered against the accesses to its object ([`FreeRule`]).
    pub free: FreeRule,
    /// Tree strategies: count, per pair of racing operations, the backtrack entries it
    /// creates ([`crate::Stats::races`]). Exact on one thread; with workers, a race found in
    /// a handed-out subtree against its owner's states may be counted by both.
    pub race_stats: bool,
    /// DPOR: explore only this part of a deterministic split of the space
    /// ([`crate::Shard`]; the module `shard` describes the split). One OS thread per shard.
    pub shard: Option<crate::Shard>,
}

/// Executions of PCT and random without [`Options::max_executions`].
pub const DEFAULT_SAMPLES: u64 = 10_000;

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
            progress: None,
            interrupt: None,
            keep_traces: false,
            collect: false,
            offer_after: 64,
            granularity: kmodel::Granularity::default(),
            kref: KrefRule::default(),
            free: FreeRule::default(),
            race_stats: false,
            shard: None,
        }
    }
}

/// Beyond this many distinct traces the count stops growing (and is a lower bound).
pub const TRACE_SET_CAP: usize = 1 << 20;
