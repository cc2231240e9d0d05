//! Running one execution of a program on a fresh [`Kernel`].

use kmodel::{
    AccessKind, Config, Kernel, SchedView, Schedule, Scheduler, Stop, Tid, ViolationKind,
};

use std::sync::Arc;

use crate::Program;

/// What every execution of one search shares: the program and the kernel configuration.
pub(crate) struct Runner {
    /// The program behind a handle of this runner's own: each execution clones the handle,
    /// and a count shared by the workers would bounce between their caches.
    pub program: Arc<Program>,
    pub config: Config,
    pub count_traces: bool,
    /// Which steps depend on which (granularity and refcount rule).
    pub relation: crate::hb::Relation,
    /// Tree strategies: name the pair of accesses behind each new backtrack entry.
    pub race_stats: bool,
    /// Scratch for the trace hash of random strategies (reused across executions).
    pub hb: std::cell::RefCell<crate::hb::Hb>,
}

impl Runner {
    pub fn new(program: Program, config: Config, count_traces: bool) -> Self {
        Runner {
            program: Arc::new(program),
            config,
            count_traces,
            relation: Default::default(),
            race_stats: false,
            hb: Default::default(),
        }
    }
}

/// Run `program` once under `sched`. The kernel is returned for inspection; it is dropped
/// by the caller before the next execution, so nothing per-execution outlives it.
///
/// A host panic during the execution (in the model or in the scheduler) is caught and
/// returned as its message: the search then ends with an internal error instead of taking
/// its threads down.
pub(crate) fn run_one(
    runner: &Runner,
    sched: &mut dyn Scheduler,
) -> Result<(Kernel, Stop), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let k = Kernel::new(runner.config.clone());
        let p = runner.program.clone();
        let stop = k.run(sched, move |k| (**p)(k));
        (k, stop)
    }))
    .map_err(panic_message)
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

/// The first violation of an execution, reduced to what identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub kind: ViolationKind,
    /// The object's C type and name (`k.describe`), empty when the violation names none.
    pub object: String,
    pub message: String,
    pub step: u32,
}

/// The result of one execution.
pub(crate) struct ExecOutcome {
    pub stop: Stop,
    pub steps: u32,
    pub failure: Option<Failure>,
    /// Every violation of the execution, in order (with [`crate::Options::collect`] the
    /// execution runs on past the first one).
    pub failures: Vec<Failure>,
    pub schedule: Option<Schedule>,
    pub class: Option<u128>,
    /// With [`Runner::race_stats`]: per backtrack entry this execution added, the pair of
    /// operations that raced ([`race_pair`]).
    pub races: Vec<String>,
    /// DPOR under [`crate::FreeRule::Predict`]: the use-after-frees a reordering of this
    /// execution shows, new to its engine (module `predict`).
    pub predicted: Vec<crate::predict::Predicted>,
}

/// The name of a race by the two operations: kind, object (C type and instance) and part.
pub(crate) fn race_pair(k: &Kernel, a: &kmodel::Access, b: &kmodel::Access) -> String {
    let op = |x: &kmodel::Access| format!("{:?} {}{}", x.kind, k.describe(x.obj), x.field);
    format!("{} <> {}", op(a), op(b))
}

impl ExecOutcome {
    pub fn from_kernel(k: &Kernel, stop: Stop, class: Option<u128>) -> Self {
        let steps = k.with_steps(|s| s.len() as u32);
        let failure = if k.has_violations() {
            first_failure(k)
        } else {
            None
        };
        let schedule = failure.as_ref().map(|_| k.schedule());
        let failures = if failure.is_some() {
            all_failures(k)
        } else {
            Vec::new()
        };
        ExecOutcome {
            stop,
            steps,
            failure,
            failures,
            schedule,
            class,
            races: Vec::new(),
            predicted: Vec::new(),
        }
    }
}

impl ExecOutcome {
    /// Every thread returned.
    pub fn is_finished(&self) -> bool {
        self.stop == Stop::Finished
    }

    /// The outcome of a random strategy's execution, with its trace hash computed here
    /// (tree strategies get theirs from their own analysis).
    pub fn with_class(runner: &Runner, k: &Kernel, stop: Stop) -> Self {
        let class = if runner.count_traces && stop == Stop::Finished {
            let mut hb = runner.hb.borrow_mut();
            hb.relation = runner.relation;
            k.with_steps(|s| {
                hb.analyze(s, 0, false, |_, _| {});
                Some(k.with_object_keys(|keys| hb.class_hash(s, keys)))
            })
        } else {
            None
        };
        ExecOutcome::from_kernel(k, stop, class)
    }
}

pub(crate) fn first_failure(k: &Kernel) -> Option<Failure> {
    all_failures(k).into_iter().next()
}

/// Every violation of an execution, in order.
pub(crate) fn all_failures(k: &Kernel) -> Vec<Failure> {
    k.violations()
        .into_iter()
        .map(|v| Failure {
            kind: v.kind,
            object: v.obj.map(|o| k.describe(o)).unwrap_or_default(),
            message: v.message.clone(),
            step: v.site.step,
        })
        .collect()
}

/// Trace length as the hotplug anchors count it (checkers.md §7, stateright's 11 actions for
/// hp3): the model operations of the scenario up to and including the violating step, i.e.
/// executed steps from the first `Spawn` on (init's set-up before it is not counted), other
/// than the harness's `Begin`, `Spawn` and `Join`. A program that spawns nothing counts all.
pub fn trace_ops(k: &Kernel, upto_step: u32) -> u32 {
    k.with_steps(|steps| {
        let upto = (upto_step as usize + 1).min(steps.len());
        let from = steps[..upto]
            .iter()
            .position(|s| s.access.kind == AccessKind::Spawn)
            .unwrap_or(0);
        steps[from..upto]
            .iter()
            .filter(|s| {
                !matches!(
                    s.access.kind,
                    AccessKind::Begin | AccessKind::Spawn | AccessKind::Join
                )
            })
            .count() as u32
    })
}

/// Wraps a scheduler and counts its preemptions (`SchedView::is_preemption`).
pub struct Counting<S> {
    pub inner: S,
    pub preemptions: u32,
}

impl<S> Counting<S> {
    pub fn new(inner: S) -> Self {
        Counting {
            inner,
            preemptions: 0,
        }
    }
}

/// Wraps a scheduler and records its choices where two or more threads were enabled: the
/// [`Schedule`] of an execution that did not finish (one that panicked).
pub(crate) struct Recording {
    pub inner: Box<dyn Scheduler>,
    pub choices: Vec<Tid>,
}

impl Scheduler for Recording {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let t = self.inner.choose(view)?;
        if view.enabled().nth(1).is_some() {
            self.choices.push(t);
        }
        Some(t)
    }
}
impl<S: Scheduler> Scheduler for Counting<S> {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let t = self.inner.choose(view)?;
        if view.is_preemption(t) {
            self.preemptions += 1;
        }
        Some(t)
    }
}
