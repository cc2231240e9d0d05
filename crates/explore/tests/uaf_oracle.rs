//! A free that commutes with every access but another free (`explore::FreeRule::Predict`,
//! the default) against the naive-DFS oracle, compared on the violations every execution
//! reports: kind, object and thread.
//!
//! A program has 2 or 3 threads (init included). init allocates two objects `x0`, `x1` and
//! an empty slot; every thread reads, writes and frees them (a second free is a double free,
//! an access after a free a use-after-free), publishes an object it allocates into the slot
//! (`y<thread><n>`), or takes the slot and reads, writes or frees what it holds (nothing if
//! it is empty); some operations run under one of two mutexes. No leak check (the objects a
//! program does not free are not its subject).
//!
//! Under `predict` DPOR runs one execution per class of the coarser relation, and reports the
//! use-after-frees a reordering shows by replaying each prediction: the violations of its
//! executions and replays together must be exactly the oracle's, (kind, object, thread), and
//! so must what the threads read. Under `conflict` (the free ordered as a write) DPOR must
//! reach them without predictions. The distinct findings of the collecting searches (kind,
//! object) and the verdicts of the searches that stop at the first violation must agree too.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use explore::{Explorer, FreeRule, Options, Program, Report, Strategy as Search};
use kmodel::{Kernel, Obj};
use proptest::prelude::*;

/// What a step does to an object.
#[derive(Clone, Copy, Debug)]
enum Use {
    Read,
    Write,
    Free,
}

#[derive(Clone, Debug)]
enum Op {
    /// On `x0` or `x1`.
    On(u8, Use),
    /// Allocate an object and store it in the slot.
    Publish,
    /// Read the slot; if it holds an object, use it.
    Take(Use),
    /// lock(m); inner ops; unlock(m)
    Locked(u8, Vec<Op>),
}

impl Op {
    fn points(&self) -> usize {
        match self {
            Op::On(..) | Op::Publish => 1,
            Op::Take(_) => 2,
            Op::Locked(_, inner) => 2 + inner.iter().map(Op::points).sum::<usize>(),
        }
    }
}

fn use_() -> impl Strategy<Value = Use> {
    prop_oneof![3 => Just(Use::Read), 2 => Just(Use::Write), 2 => Just(Use::Free)]
}

fn simple() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..2, use_()).prop_map(|(o, u)| Op::On(o, u)),
        1 => Just(Op::Publish),
        2 => use_().prop_map(Op::Take),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => simple(),
        1 => (0u8..2, prop::collection::vec(simple(), 1..=2)).prop_map(|(m, v)| Op::Locked(m, v)),
    ]
}

/// A thread: operations worth at most `hi` scheduling points, at least one.
fn thread(hi: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=4).prop_map(move |mut v| {
        while v.len() > 1 && v.iter().map(Op::points).sum::<usize>() > hi {
            v.pop();
        }
        v
    })
}

/// An upper bound on naive DFS's executions: the interleavings of the threads' points.
fn interleavings(threads: &[Vec<Op>]) -> u64 {
    let pts = |t: &Vec<Op>| t.iter().map(Op::points).sum::<usize>();
    let workers: Vec<usize> = threads[1..].iter().map(pts).collect();
    crate::naive::interleavings(pts(&threads[0]), &workers)
}

const LIMIT: u64 = 20_000;

fn programs() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop_oneof![
        1 => prop::collection::vec(thread(6), 2),
        2 => prop::collection::vec(thread(4), 3),
    ]
    .prop_filter("naive DFS must stay small", |t| interleavings(t) <= LIMIT)
}

/// What every execution (and every replay) saw: violations as (kind, object, thread), and
/// the values the threads read with the final values of `x0`, `x1`.
#[derive(Default)]
struct Seen {
    violations: BTreeSet<String>,
    values: BTreeSet<String>,
}

struct Shared {
    xs: [Obj<u32>; 2],
    slot: Obj<Option<Obj<u32>>>,
    ms: [kmodel::mutex::Mutex; 2],
    read: RefCell<Vec<Vec<u32>>>,
    published: RefCell<Vec<u32>>,
}

fn apply(k: &Kernel, h: Obj<u32>, u: Use, sh: &Shared, me: usize) {
    match u {
        Use::Read => {
            let v = k.read(h, |v| *v);
            sh.read.borrow_mut()[me].push(v);
        }
        Use::Write => k.write(h, |v| *v += 1),
        Use::Free => k.kfree(h),
    }
}

fn run_ops(k: &Kernel, ops: &[Op], sh: &Shared, me: usize) {
    for op in ops {
        match op {
            Op::On(o, u) => apply(k, sh.xs[*o as usize], *u, sh, me),
            Op::Publish => {
                let n = {
                    let mut p = sh.published.borrow_mut();
                    p[me] += 1;
                    p[me]
                };
                let y = k.kzalloc("u32", format!("y{me}{n}"), 0u32);
                k.write(sh.slot, |s| *s = Some(y));
            }
            Op::Take(u) => {
                if let Some(h) = k.read(sh.slot, |s| *s) {
                    apply(k, h, *u, sh, me);
                }
            }
            Op::Locked(m, inner) => {
                k.mutex_lock(sh.ms[*m as usize]);
                run_ops(k, inner, sh, me);
                k.mutex_unlock(sh.ms[*m as usize]);
            }
        }
    }
}

fn build(threads: Vec<Vec<Op>>, seen: Arc<Mutex<Seen>>) -> Program {
    let threads = Arc::new(threads);
    Arc::new(move |k: &Kernel| {
        let xs = [k.kzalloc("u32", "x0", 0u32), k.kzalloc("u32", "x1", 0u32)];
        let slot = k.kzalloc("struct slot", "slot", None::<Obj<u32>>);
        let ms = [k.mutex_init("m0"), k.mutex_init("m1")];
        let n = threads.len();
        let sh = Rc::new(Shared {
            xs,
            slot,
            ms,
            read: RefCell::new(vec![Vec::new(); n]),
            published: RefCell::new(vec![0; n]),
        });
        let mut tids = Vec::new();
        for i in 1..n {
            let (th, sh) = (threads.clone(), sh.clone());
            tids.push(k.spawn(&format!("t{i}"), move |k| run_ops(k, &th[i], &sh, i)));
        }
        run_ops(k, &threads[0], &sh, 0);
        for t in tids {
            k.join(t);
        }
        let mut seen = seen.lock().unwrap();
        for v in k.violations() {
            let obj = v.obj.map(|o| k.describe(o)).unwrap_or_default();
            seen.violations
                .insert(format!("{:?} {obj} by {}", v.kind, v.site.tid));
        }
        seen.values.insert(format!(
            "{:?} {} {}",
            sh.read.borrow(),
            k.peek(xs[0], |v| *v),
            k.peek(xs[1], |v| *v)
        ));
    })
}

fn opts(free: FreeRule, collect: bool) -> Options {
    Options {
        threads: 1,
        progress: None,
        leak_check: false,
        collect,
        minimize: false,
        free,
        ..Options::default()
    }
}

/// The distinct findings (kind and object) of a collecting search.
fn findings(r: &Report) -> BTreeSet<String> {
    r.findings
        .iter()
        .map(|f| format!("{:?} {}", f.kind, f.object))
        .collect()
}

/// Run the oracle and DPOR under `free` on `threads`, collecting and stopping at the first
/// violation, and compare. Returns DPOR's executions and predictions.
fn compare(threads: &[Vec<Op>], free: FreeRule) -> Result<(u64, u64, u64), TestCaseError> {
    let (a, b): (Arc<Mutex<Seen>>, Arc<Mutex<Seen>>) = Default::default();
    let dfs = Explorer::new(Search::Dfs, opts(free, true)).run(&build(threads.to_vec(), a.clone()));
    let dpor =
        Explorer::new(Search::Dpor, opts(free, true)).run(&build(threads.to_vec(), b.clone()));
    prop_assert!(dfs.internal_error().is_none() && dpor.internal_error().is_none());
    prop_assert!(dfs.stats.exhaustive && dpor.stats.exhaustive);
    let (a, b) = (a.lock().unwrap(), b.lock().unwrap());
    prop_assert_eq!(
        &a.violations,
        &b.violations,
        "DPOR ({}) must report exactly the oracle's violations",
        free
    );
    prop_assert_eq!(&a.values, &b.values, "and reach exactly its values");
    prop_assert_eq!(findings(&dfs), findings(&dpor));
    // Stopping at the first violation: the same verdict.
    let first = |s: Search| {
        Explorer::new(s, opts(free, false))
            .run(&build(threads.to_vec(), Arc::default()))
            .counterexample()
            .is_some()
    };
    let found = first(Search::Dpor);
    prop_assert_eq!(first(Search::Dfs), found);
    prop_assert_eq!(found, !a.violations.is_empty());
    Ok((
        dpor.stats.executions,
        dfs.stats.executions,
        dpor.stats.predicted,
    ))
}

fn oracle(free: FreeRule) {
    let (cases, uaf, execs, dfs_execs, predicted) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    let mut runner = crate::naive::oracle_runner(1_000);
    runner
        .run(&programs(), |threads| {
            let (e, d, p) = compare(&threads, free)?;
            cases.fetch_add(1, Ordering::Relaxed);
            execs.fetch_add(e, Ordering::Relaxed);
            dfs_execs.fetch_add(d, Ordering::Relaxed);
            predicted.fetch_add(p, Ordering::Relaxed);
            uaf.fetch_add((p > 0) as u64, Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    let n = cases.load(Ordering::Relaxed);
    println!(
        "{free}: {n} programs, DPOR {} executions (naive DFS {}), {} predictions replayed, \
         on {} programs",
        execs.load(Ordering::Relaxed),
        dfs_execs.load(Ordering::Relaxed),
        predicted.load(Ordering::Relaxed),
        uaf.load(Ordering::Relaxed),
    );
    assert!(n >= 1_000);
    if free == FreeRule::Predict {
        // The generator must reach the case at hand: predictions in over a sixth of the
        // programs (21% measured).
        assert!(uaf.load(Ordering::Relaxed) * 6 > n);
    } else {
        assert_eq!(predicted.load(Ordering::Relaxed), 0);
    }
}

#[test]
fn dpor_with_a_commuting_free_reports_every_violation_of_the_oracle() {
    oracle(FreeRule::Predict);
}

#[test]
fn dpor_with_a_conflicting_free_reports_every_violation_of_the_oracle() {
    oracle(FreeRule::Conflict);
}

/// One read against one free: DPOR runs a single execution (the read first, concurrent with
/// the free) and finds the use-after-free only by predicting it; the report is the replayed
/// execution's, with the read after the free. Without the prediction the search would be
/// clean, which the oracle above would catch.
#[test]
fn a_read_concurrent_with_a_free_is_predicted_and_replayed() {
    use Op::*;
    let threads = vec![vec![On(0, Use::Read)], vec![On(0, Use::Free)]];
    let r = Explorer::new(Search::Dpor, opts(FreeRule::Predict, true))
        .run(&build(threads.clone(), Arc::default()));
    assert!(r.stats.exhaustive);
    assert_eq!(r.stats.executions, 1);
    assert_eq!(r.stats.predicted, 1);
    assert_eq!(
        findings(&r),
        BTreeSet::from(["UseAfterFree u32 x0".to_string()])
    );
    let cx = r.counterexample().expect("the predicted use-after-free");
    assert!(cx.report.contains("slab-use-after-free"), "{}", cx.report);
    assert!(cx.report.contains("Freed by"), "{}", cx.report);
    // Replaying the reported schedule shows it again.
    let program = build(threads.clone(), Arc::default());
    let again = explore::replay(&program, &cx.schedule.parse().unwrap());
    assert_eq!(again.violations.len(), 1);
    assert_eq!(
        again.violations[0].kind,
        kmodel::ViolationKind::UseAfterFree
    );
    // The old rule runs both orders instead.
    let old = Explorer::new(Search::Dpor, opts(FreeRule::Conflict, true))
        .run(&build(threads, Arc::default()));
    assert_eq!(old.stats.executions, 2);
    assert_eq!(old.stats.predicted, 0);
    assert_eq!(findings(&old), findings(&r));
}

/// An access that happens before the free (init reads `x`, then sets a flag; t1 frees `x`
/// only once it sees the flag) is not predicted: the program is clean, and DPOR says so
/// without a replay.
#[test]
fn an_access_ordered_before_the_free_is_not_predicted() {
    let program: Program = Arc::new(|k: &Kernel| {
        let x = k.kzalloc("u32", "x", 0u32);
        let flag = k.kzalloc("bool", "flag", false);
        let t = k.spawn("t1", move |k| {
            if k.read(flag, |f| *f) {
                k.kfree(x);
            }
        });
        k.read(x, |v| *v);
        k.write(flag, |f| *f = true);
        k.join(t);
    });
    let r = Explorer::new(Search::Dpor, opts(FreeRule::Predict, true)).run(&program);
    assert!(r.stats.exhaustive);
    assert_eq!(r.stats.executions, 2);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.stats.predicted, 0);
}

/// A prediction whose replay does not report the use-after-free (here: a program that is not
/// deterministic, reading `x` on its first run and `y` on every later one) ends the search
/// with an internal error saying so, never a silent drop.
#[test]
fn a_prediction_that_does_not_replay_is_an_internal_error() {
    for collect in [true, false] {
        let runs = Arc::new(AtomicU64::new(0));
        let program: Program = Arc::new(move |k: &Kernel| {
            let first = runs.fetch_add(1, Ordering::Relaxed) == 0;
            let x = k.kzalloc("u32", "x", 0u32);
            let y = k.kzalloc("u32", "y", 0u32);
            let t = k.spawn("t1", move |k| k.kfree(x));
            k.read(if first { x } else { y }, |v| *v);
            k.join(t);
        });
        let r = Explorer::new(Search::Dpor, opts(FreeRule::Predict, collect)).run(&program);
        let e = r.internal_error().expect("an internal error");
        assert!(
            e.message.contains("was not reported when replayed"),
            "{}",
            e.message
        );
        assert!(e.schedule.is_some());
    }
}

/// Predicted reports are deterministic: the same findings, with the same schedules, and the
/// same counterexample, on one thread and with workers taking subtrees.
#[test]
fn predicted_reports_do_not_depend_on_the_thread_count() {
    use Op::*;
    let threads = vec![
        vec![On(0, Use::Read), On(1, Use::Write), Take(Use::Read)],
        vec![On(1, Use::Read), Publish, On(0, Use::Free)],
        vec![Take(Use::Free), On(1, Use::Free), On(0, Use::Write)],
    ];
    let run = |n: usize, collect: bool| {
        let o = Options {
            threads: n,
            offer_after: 0,
            minimize: true,
            ..opts(FreeRule::Predict, collect)
        };
        let r = Explorer::new(Search::Dpor, o).run(&build(threads.clone(), Arc::default()));
        assert!(r.internal_error().is_none());
        let f: Vec<String> = r
            .findings
            .iter()
            .map(|f| format!("{:?} {} {}", f.kind, f.object, f.schedule))
            .collect();
        let cx = r
            .counterexample()
            .map(|c| (c.schedule.clone(), c.report.clone()));
        (f, cx, r.stats.executions)
    };
    for collect in [true, false] {
        let one = run(1, collect);
        assert!(one.1.is_some());
        if collect {
            assert!(one.0.len() >= 3, "{:?}", one.0);
        }
        for _ in 0..5 {
            assert_eq!(run(2, collect), one);
        }
    }
}
