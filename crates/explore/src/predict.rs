//! Use-after-frees predicted from happens-before ([`crate::FreeRule::Predict`]).
//!
//! kmodel never branches on whether an object is freed: a freed object stays in quarantine
//! with its contents, every read returns them and every write changes them, whether the
//! `kfree` came before or after (`kmodel::slab`; [`kmodel::Kernel::is_freed`] is
//! introspection for tests). A free therefore changes no value any thread observes; what
//! its order against an access changes is only whether that access is *reported* as a
//! use-after-free. So kmodel's relation lets a free ([`kmodel::AccessKind::Free`]) commute
//! with every access but another free of the same object (a double free: which thread
//! reports it), and DPOR runs one execution per class of that coarser relation instead of
//! one per order of each free against each access.
//!
//! The reports are recovered here. After each execution `E`, with the vector clocks of the
//! new relation, for every free `f` of an object `O` and every access `a` to `O` (read or
//! write, any part) by another thread that comes before `f` in `E` and does not happen
//! before it (`clock(f)[thread(a)] < local(a)`), some execution of the same class runs `a`
//! after `f`: a use-after-free at `a`. An access after the free in `E` is reported by `E`
//! itself, as before.
//!
//! **Why nothing is lost or invented.** Let `D` be the old relation (a free conflicts with
//! every access to its object) and `D'` the new one, `D' ⊆ D`. Every `D`-class lies inside
//! one `D'`-class, and the two relations order the same steps in the same way except a free
//! against a non-free access to its object. In the representative `E` that DPOR runs of a
//! `D'`-class, a pair (`a`, `f`) is either ordered `a →hb f` (then `a` precedes `f` in every
//! execution of the class: no `D`-class inside it reports a use-after-free at `a` from `f`),
//! or concurrent, or `f →hb a`. When `f` comes first in `E`, `E` reports it. When `a` comes
//! first and they are concurrent, the sequence *`E` up to `a` (excluded), then the steps
//! between `a` and `f` that happen before `f` (with `f`), in order, then `a`* is a prefix of
//! an execution of the class: it is closed under happens-before (what precedes a moved step
//! precedes `f`, and `a` does not), and `a`'s own predecessors all precede it in `E`. Every
//! thread performs the same steps with the same values there (no value depends on
//! freed-ness), so `a` runs after `f` and is reported. Conversely every use-after-free of
//! any `D`-class is a pair (`a`, `f`) with `f` before `a`, i.e. not `a →hb f`, in its
//! `D'`-class, whose representative DPOR runs: it is reported directly or predicted there.
//! Every other violation does not observe freed-ness, so it is one of the class's, which
//! DPOR's soundness for `D'` gives. A search that stops at its first violation runs
//! executions to their end until it finds one, so its verdict is that of the collecting
//! search.
//!
//! **Reports are real.** A prediction is replayed ([`confirm`]) on the linearization above,
//! then thread order to the end; the report is that execution's (KASAN text, allocation and
//! free stacks, the step) with its [`kmodel::Schedule`]. A replay that does not report the
//! use-after-free at `a` is an internal error (the model branched on freed-ness), never a
//! silent drop. Predictions are made once per object description and accessing thread per
//! subtree, earliest access first, so the reports are deterministic.

use std::collections::HashSet;

use kmodel::{AccessKind, SchedView, Schedule, Scheduler, StepRecord, ThreadOrder, Tid};

use crate::exec::{run_one, Failure, Runner};
use crate::hb::Hb;
use crate::report::InternalError;

/// A use-after-free an execution did not show, which a reordering of it shows.
#[derive(Clone, Debug)]
pub(crate) struct Predicted {
    /// The object's C type and name (`Kernel::describe`).
    pub object: String,
    /// The thread whose access is after the free.
    pub tid: Tid,
    /// The thread of every step of the reordered execution, up to and including the access.
    pub order: Vec<Tid>,
}

/// The predicted use-after-frees of `steps`, just analysed by `hb`, each new to `seen` (by
/// object and accessing thread; the earliest access of each pair, in order of access, then
/// free). `describe` names an object.
pub(crate) fn predict(
    hb: &Hb,
    steps: &[StepRecord],
    describe: impl Fn(kmodel::ObjId) -> String,
    seen: &mut HashSet<(String, Tid)>,
) -> Vec<Predicted> {
    let mut pairs = Vec::new();
    for (f, s) in steps.iter().enumerate() {
        if s.access.kind != AccessKind::Free {
            continue;
        }
        for &a in hb.steps_on(s.access.obj) {
            let a = a as usize;
            if a >= f {
                break;
            }
            let sa = &steps[a];
            if sa.tid != s.tid
                && matches!(sa.access.kind, AccessKind::Read | AccessKind::Write)
                && !hb.hb(steps, a, f)
            {
                pairs.push((a, f));
            }
        }
    }
    pairs.sort_unstable();
    let mut here = HashSet::new();
    let mut out = Vec::new();
    for (a, f) in pairs {
        let tid = steps[a].tid;
        if !here.insert((steps[a].access.obj, tid)) {
            continue;
        }
        let object = describe(steps[a].access.obj);
        if seen.contains(&(object.clone(), tid)) {
            continue;
        }
        seen.insert((object.clone(), tid));
        let mut order: Vec<Tid> = steps[..a].iter().map(|s| s.tid).collect();
        order.extend(
            (a + 1..=f)
                .filter(|&k| hb.hb(steps, k, f))
                .map(|k| steps[k].tid),
        );
        order.push(tid);
        out.push(Predicted { object, tid, order });
    }
    out
}

/// Follows a thread per step, then thread order; stops if a named thread cannot run.
struct Follow<'a> {
    order: &'a [Tid],
}

impl Scheduler for Follow<'_> {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        match self.order.get(view.step as usize) {
            Some(&t) => view.is_enabled(t).then_some(t),
            None => ThreadOrder.choose(view),
        }
    }
}

/// Replay a prediction: the violation it reports and the schedule of that execution.
pub(crate) fn confirm(
    runner: &Runner,
    p: &Predicted,
) -> Result<(Failure, Schedule), InternalError> {
    let mut s = Follow { order: &p.order };
    let (k, _) = run_one(runner, &mut s).map_err(|message| InternalError {
        message,
        schedule: None,
    })?;
    let at = (p.order.len() - 1) as u32;
    let hit = k.violations().into_iter().find(|v| {
        v.kind == kmodel::ViolationKind::UseAfterFree
            && v.site.step == at
            && v.site.tid == p.tid
            && v.obj.map(|o| k.describe(o)).as_deref() == Some(p.object.as_str())
    });
    let schedule = k.schedule();
    // An internal error in every build (not a debug assertion): a panic here, outside the
    // execution, would not reach the search's result in a sharded search.
    let message = || {
        format!(
            "a predicted use-after-free of {} by {} was not reported when replayed (step {at}): \
             the model is not deterministic or branched on freed-ness",
            p.object, p.tid
        )
    };
    match hit {
        Some(v) => Ok((
            Failure {
                kind: v.kind,
                object: p.object.clone(),
                message: v.message,
                step: v.site.step,
            },
            schedule,
        )),
        None => Err(InternalError {
            message: message(),
            schedule: Some(schedule.to_string()),
        }),
    }
}
