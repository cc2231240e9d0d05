//! Replaying a schedule string, and shrinking a counterexample to the fewest preemptions.

use kmodel::{Config, Kernel, Replay, Schedule, StepRecord, Stop, Violation};

use crate::exec::{first_failure, run_one, trace_ops, Counting, Failure, Runner};
use crate::options::Options;
use crate::tree::{Engine, Mode};
use crate::Program;

/// The kernel settings of a search.
pub(crate) fn config_for(o: &Options) -> Config {
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
    /// The kernel-style report of the first violation and the schedule (with its
    /// preemptions and operations); empty when the execution is clean. How to replay it
    /// is the front end's business.
    pub report: String,
}

pub(crate) fn first_failure_of(r: &Replayed) -> Option<Failure> {
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
    let mut s = Counting::new(Replay::new(schedule.clone()));
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
            "schedule: {sched} ({} preemptions, {n} operations)\n",
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

/// Preemptions of `schedule` and model operations up to and including its step `step`
/// ([`trace_ops`]), measured by replaying it with the kernel settings of `options`.
pub(crate) fn measure(
    program: &Program,
    schedule: &Schedule,
    options: &Options,
    step: u32,
) -> (u32, u32) {
    let k = Kernel::new(config_for(options));
    let mut s = Counting::new(Replay::new(schedule.clone()));
    let p = program.clone();
    k.run(&mut s, move |k| p(k));
    (s.preemptions, trace_ops(&k, step))
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
        let mut s = Counting::new(Replay::new(schedule.clone()));
        let Ok((k, _)) = run_one(&runner, &mut s) else {
            return (schedule.clone(), 1);
        };
        match first_failure(&k) {
            Some(f) => (f, s.preemptions),
            None => return (schedule.clone(), 1),
        }
    };
    let (want, have) = target;
    let mut spent = 1u64;
    for bound in 0..have {
        let mut engine = Engine::new(Mode::Bounded(bound));
        while let Some(Ok(out)) = engine.next(&runner) {
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
