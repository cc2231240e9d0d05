//! What a search answers: the [`Report`] with its [`Stats`], its [`Coverage`] and its
//! [`Outcome`], and the one place partial results are added up ([`Part::absorb`]).

use std::collections::HashSet;

use kmodel::{Schedule, ViolationKind};
use serde::Serialize;

use crate::exec::Failure;
use crate::options::{Strategy, TRACE_SET_CAP};
use crate::thread_set::ThreadSet;
use crate::tree::TreeCounts;

/// What a search covered: the one wording of every result, exhaustive or not.
///
/// `Display` gives the text every front end prints; the JSON form (`Serialize`) carries the
/// same words in `text`, next to the kind and its numbers, so the two cannot drift apart.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every execution of the space (DFS or DPOR, run to its end).
    Exhaustive,
    /// Every execution with at most `bound` preemptions (iterative preemption bounding).
    UpToPreemptions { bound: u32 },
    /// Stopped at the first violation, after `executions` executions.
    FirstViolation { executions: u64 },
    /// Stopped by the interrupt flag (Ctrl-C).
    Interrupted { executions: u64 },
    /// Stopped by the execution budget (`Options::max_executions`) before the space ended.
    Truncated { executions: u64, limit: u64 },
    /// PCT or random: `executions` sampled executions.
    Sampled { executions: u64 },
    /// One execution (a given schedule or thread order), no search.
    OneExecution,
    /// Ended by an internal error (a host panic) after `executions` executions.
    Aborted { executions: u64 },
    /// One shard `index/count` of a split search, run to its end: exhaustive only once
    /// every shard is merged (`bridgesim merge`).
    Shard {
        index: u32,
        count: u32,
        executions: u64,
    },
}

impl Coverage {
    /// Whether the whole space (with no bound) was covered.
    pub fn is_exhaustive(self) -> bool {
        self == Coverage::Exhaustive
    }

    fn kind(self) -> &'static str {
        match self {
            Coverage::Exhaustive => "exhaustive",
            Coverage::UpToPreemptions { .. } => "up_to_preemptions",
            Coverage::FirstViolation { .. } => "first_violation",
            Coverage::Interrupted { .. } => "interrupted",
            Coverage::Truncated { .. } => "truncated",
            Coverage::Sampled { .. } => "sampled",
            Coverage::OneExecution => "one_execution",
            Coverage::Aborted { .. } => "aborted",
            Coverage::Shard { .. } => "shard",
        }
    }
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Coverage::Exhaustive => f.write_str("exhaustive"),
            Coverage::UpToPreemptions { bound } => {
                write!(f, "up to {bound} preemption{}", plural(bound as u64))
            }
            Coverage::FirstViolation { executions } => write!(
                f,
                "stopped at the first violation, execution {executions}: not exhaustive"
            ),
            Coverage::Interrupted { executions } => write!(
                f,
                "interrupted after {executions} execution{}: not exhaustive",
                plural(executions)
            ),
            Coverage::Truncated { executions, limit } => write!(
                f,
                "stopped after {executions} execution{} (limit {limit}): not exhaustive",
                plural(executions)
            ),
            Coverage::Sampled { executions } => write!(
                f,
                "{executions} sampled execution{}: not exhaustive",
                plural(executions)
            ),
            Coverage::OneExecution => f.write_str("one execution: not a search"),
            Coverage::Shard {
                index,
                count,
                executions,
            } => write!(
                f,
                "shard {index}/{count}, {executions} execution{}: not exhaustive until every \
                 shard is merged",
                plural(executions)
            ),
            Coverage::Aborted { executions } => write!(
                f,
                "aborted by an internal error after {executions} execution{}: not exhaustive",
                plural(executions)
            ),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Serialize for Coverage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Repr {
            kind: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            bound: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            executions: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            limit: Option<u64>,
            text: String,
        }
        let (mut bound, mut executions, mut limit) = (None, None, None);
        match *self {
            Coverage::UpToPreemptions { bound: b } => bound = Some(b),
            Coverage::FirstViolation { executions: n }
            | Coverage::Interrupted { executions: n }
            | Coverage::Sampled { executions: n }
            | Coverage::Aborted { executions: n }
            | Coverage::Shard { executions: n, .. } => executions = Some(n),
            Coverage::Truncated {
                executions: n,
                limit: l,
            } => {
                executions = Some(n);
                limit = Some(l);
            }
            Coverage::Exhaustive | Coverage::OneExecution => {}
        }
        Repr {
            kind: self.kind(),
            bound,
            executions,
            limit,
            text: self.to_string(),
        }
        .serialize(s)
    }
}

/// What a search covered, in numbers.
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
    /// The whole space was searched (no bound): [`Coverage::Exhaustive`].
    pub exhaustive: bool,
    /// Stopped by `max_executions`: [`Coverage::Truncated`].
    pub truncated: bool,
    /// Stopped by the interrupt flag: [`Coverage::Interrupted`].
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
    /// How finely accesses were told apart (`field` or `object`).
    pub granularity: kmodel::Granularity,
    /// How refcount operations were ordered (`release` or `decrement`).
    pub kref: crate::KrefRule,
    /// How a free was ordered (`predict` or `conflict`).
    pub free: crate::FreeRule,
    /// DPOR under [`crate::FreeRule::Predict`]: use-after-frees predicted from
    /// happens-before and replayed (once per object and thread in each subtree; not
    /// executions). Varies with the thread count, as `handed_out` does.
    pub predicted: u64,
    /// With [`crate::Options::race_stats`]: the pairs of operations (kind, object, part)
    /// whose races created backtrack entries, with how many each created, most first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub races: Vec<RaceCount>,
    /// A sharded search: which part, and where its first violation lies in search order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardStats>,
}

/// What one shard of a sharded search covered ([`crate::Options::shard`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShardStats {
    pub shard: crate::Shard,
    /// The split's `L` (the `shard` module): every shard of one merge has the same.
    pub split: u64,
    /// Leaves of the split the search reached (every leaf when it ran to its end).
    pub leaves: u64,
    /// Leaves of this shard explored to their end.
    pub explored: u64,
    /// Executions outside this shard's leaves, cut at another shard's leaf (not in
    /// `executions`).
    pub prefix_executions: u64,
    /// The leaf (in search order, over all shards) of the reported violation: the merge
    /// reports the violation of the lowest leaf, the first in the sharded search order.
    pub first_leaf: Option<u64>,
    /// Whether the shard collected every violation (`--all`); shards of one merge agree.
    pub all: bool,
}

/// One line of [`Stats::races`].
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RaceCount {
    /// `earlier <> later`, each `Kind object.part`.
    pub pair: String,
    pub backtracks: u64,
}

/// A failing execution, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    /// The (minimised) schedule; it replays the execution ([`crate::replay`]).
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
    /// Model operations up to and including the failing one ([`crate::trace_ops`]).
    pub ops: u32,
    /// 1-based number of the execution that found it.
    pub execution: u64,
    /// The kernel-style report of the replayed schedule, with the schedule.
    pub report: String,
}

/// A host panic during a search: a bug of the model or of the explorer, not a finding.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct InternalError {
    /// The panic message.
    pub message: String,
    /// The schedule of the execution that panicked, when the panic came from one; it
    /// replays the panic.
    pub schedule: Option<String>,
}

impl std::fmt::Display for InternalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "internal error: {}", self.message)?;
        if let Some(s) = &self.schedule {
            write!(f, " (schedule: {s})")?;
        }
        Ok(())
    }
}

/// The verdict.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Outcome {
    /// No violation in what was covered (see [`Report::coverage`]).
    Clean,
    Violation(Box<Counterexample>),
    /// The search ended on a host panic.
    InternalError(InternalError),
}

/// A violation found by a collecting search ([`crate::Options::collect`]).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub kind: ViolationKind,
    /// The object's C type and name.
    pub object: String,
    pub message: String,
    /// The schedule of the first execution that showed it (not minimised).
    pub schedule: String,
    /// Preemptions of `schedule`, measured by replaying it.
    pub preemptions: u32,
    /// Model operations up to and including the violation ([`crate::trace_ops`]).
    pub ops: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub strategy: Strategy,
    pub stats: Stats,
    pub coverage: Coverage,
    pub outcome: Outcome,
    /// With [`crate::Options::collect`]: every distinct violation, in search order.
    pub findings: Vec<Finding>,
    /// The distinct trace hashes, sorted, when [`crate::Options::keep_traces`] is set.
    #[serde(skip)]
    pub traces: Option<Vec<u128>>,
}

impl Counterexample {
    /// The violation as a [`Finding`]: its minimised schedule, the preemptions and operations.
    pub fn finding(&self) -> Finding {
        Finding {
            kind: self.kind,
            object: self.object.clone(),
            message: self.message.clone(),
            schedule: self.schedule.clone(),
            preemptions: self.preemptions,
            ops: self.ops,
        }
    }
}

impl Report {
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match &self.outcome {
            Outcome::Violation(c) => Some(c),
            Outcome::Clean | Outcome::InternalError(_) => None,
        }
    }

    pub fn internal_error(&self) -> Option<&InternalError> {
        match &self.outcome {
            Outcome::InternalError(e) => Some(e),
            _ => None,
        }
    }
}

/// A failure found during a search, with where it was found.
pub(crate) struct Found {
    pub failure: Failure,
    pub schedule: Schedule,
    /// 1-based, within the part that holds it.
    pub execution: u64,
}

/// The result of one unit of work (a subtree, a chunk of random executions, a bound), and
/// of the whole search once the units are absorbed in search order.
#[derive(Default)]
pub(crate) struct Part {
    pub counts: TreeCounts,
    pub classes: HashSet<u128>,
    pub found: Option<Found>,
    /// Collecting searches: the distinct violations, with the first execution showing each.
    pub collected: Vec<(Failure, Schedule, u64)>,
    pub finished: bool,
    /// A subtree's races against its owner's states ([`crate::tree::Engine::absorb`]).
    pub requests: Vec<(usize, ThreadSet)>,
    /// A host panic that ended this part.
    pub panic: Option<InternalError>,
    /// With race statistics: backtrack entries per pair of racing operations.
    pub races: std::collections::BTreeMap<String, u64>,
    /// A split search ([`crate::tree::Split`]): the leaf of the first violation (`found`, or
    /// the first of `collected`).
    pub leaf: Option<u64>,
}

impl Part {
    /// An empty part that has not been cut short.
    pub fn finished() -> Part {
        Part {
            finished: true,
            ..Part::default()
        }
    }

    /// Whether the search must not go on after this part.
    pub fn ends_search(&self) -> bool {
        self.found.is_some() || self.panic.is_some()
    }

    /// Count one execution.
    pub fn record(&mut self, steps: u32, finished: bool, class: Option<u128>) {
        self.counts.executions += 1;
        self.counts.steps += steps as u64;
        self.counts.complete += finished as u64;
        add_class(&mut self.classes, class);
    }

    /// Append `later`, the part that follows this one in search order. Execution numbers
    /// of `later` are shifted past this part's.
    pub fn absorb(&mut self, later: Part) {
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
        c.predicted += later.counts.predicted;
        c.prefix_executions += later.counts.prefix_executions;
        for h in later.classes {
            add_class(&mut self.classes, Some(h));
        }
        if let Some(mut f) = later.found {
            f.execution += before;
            self.found = Some(f);
        }
        if self.panic.is_none() {
            self.panic = later.panic;
        }
        self.leaf = self.leaf.or(later.leaf);
        self.finished &= later.finished;
        for (pair, n) in later.races {
            *self.races.entry(pair).or_default() += n;
        }
    }
}

pub(crate) fn add_class(set: &mut HashSet<u128>, h: Option<u128>) {
    if let Some(h) = h {
        if set.len() < TRACE_SET_CAP {
            set.insert(h);
        }
    }
}

/// Two violations are the same finding when they have the same kind and object.
pub(crate) fn same_finding(a: &Failure, b: &Failure) -> bool {
    a.kind == b.kind && a.object == b.object
}
