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
    /// Scratch for the trace hash of random strategies (reused across executions).
    pub hb: std::cell::RefCell<crate::hb::Hb>,
}

impl Runner {
    pub fn new(program: Program, config: Config, count_traces: bool) -> Self {
        Runner {
            program: Arc::new(program),
            config,
            count_traces,
            hb: Default::default(),
        }
    }
}

/// Run `program` once under `sched`. The kernel is returned for inspection; it is dropped
/// by the caller before the next execution, so nothing per-execution outlives it.
pub(crate) fn run_one(runner: &Runner, sched: &mut dyn Scheduler) -> (Kernel, Stop) {
    let k = Kernel::new(runner.config.clone());
    let p = runner.program.clone();
    let stop = k.run(sched, move |k| (**p)(k));
    (k, stop)
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
        }
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
pub(crate) struct Counting<S> {
    pub inner: S,
    pub preemptions: u32,
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
