//! Refcount operations that commute (`explore::KrefRule::Release`) against the naive-DFS
//! oracle, compared on what the executions observe, not only on trace classes.
//!
//! A program has 2 or 3 threads (init included). The refcount starts at 1 to 4, held by
//! the owners `o0`, `o1`, `o0`, `o1`; every thread gets and puts it under owner `o0` or
//! `o1`, reads it (`kref_read`), and reads and writes one heap object. Nothing keeps the
//! count above zero: a put may release it, a later get is an addition on 0, a later put an
//! underflow, a put of an owner that holds nothing is reported. An outcome is everything the
//! threads saw (each put's return value, each read's value, which thread ran the release),
//! the final count and object value, and the violations with their kind and thread. DPOR
//! must reach the same set of outcomes as naive DFS (trace classes may differ: see below).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use explore::{Explorer, KrefRule, Options, Program, Strategy as Search};
use kmodel::Kernel;
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
enum Op {
    Get(u8),
    Put(u8),
    /// `kref_read`.
    Count,
    Read,
    Write,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..2).prop_map(Op::Get),
        5 => (0u8..2).prop_map(Op::Put),
        1 => Just(Op::Count),
        1 => Just(Op::Read),
        1 => Just(Op::Write),
    ]
}

#[derive(Clone, Debug)]
struct Prog {
    /// The count at the start (1 to 3).
    init: u32,
    threads: Vec<Vec<Op>>,
}

/// An upper bound on naive DFS's executions of `p`.
fn interleavings(p: &Prog) -> u64 {
    let workers: Vec<usize> = p.threads[1..].iter().map(Vec::len).collect();
    crate::naive::interleavings(p.threads[0].len(), &workers)
}

const LIMIT: u64 = 20_000;

fn programs() -> impl Strategy<Value = Prog> {
    let thread = |lo: usize, hi: usize| prop::collection::vec(op(), lo..=hi);
    (
        prop_oneof![3 => Just(1u32), 3 => Just(2u32), 2 => Just(3u32), 1 => Just(4u32)],
        prop_oneof![
            1 => prop::collection::vec(thread(1, 5), 2),
            2 => prop::collection::vec(thread(1, 4), 3),
        ],
    )
        .prop_map(|(init, threads)| Prog { init, threads })
        .prop_filter("naive DFS must stay small", |p| interleavings(p) <= LIMIT)
}

/// What one thread saw.
type Seen = Rc<RefCell<Vec<Vec<String>>>>;

fn run_ops(
    k: &Kernel,
    me: usize,
    ops: &[Op],
    x: kmodel::Obj<u32>,
    r: kmodel::kref::Kref,
    seen: &Seen,
) {
    for op in ops {
        let saw = match *op {
            Op::Get(o) => {
                k.kref_get(r, format!("o{o}"));
                continue;
            }
            Op::Put(o) => {
                let s = seen.clone();
                let released = k.kref_put(r, format!("o{o}"), move |_| {
                    s.borrow_mut()[me].push("ran the release".into())
                });
                format!("put {released}")
            }
            Op::Count => format!("count {}", k.kref_read(r)),
            Op::Read => format!("x {}", k.read(x, |v| *v)),
            Op::Write => {
                k.write(x, |v| *v += 1);
                continue;
            }
        };
        seen.borrow_mut()[me].push(saw);
    }
}

/// The program; each finished execution adds its outcome to `outcomes`.
fn build(p: Prog, outcomes: Arc<Mutex<BTreeSet<String>>>) -> Program {
    let p = Arc::new(p);
    Arc::new(move |k: &Kernel| {
        let x = k.kzalloc("u32", "x", 0u32);
        let holder = k.kzalloc("struct obj", "refd", 0u32);
        let r = k.kref_init(holder.id(), "o0");
        for i in 1..p.init {
            // Not yet shared: no other thread exists.
            k.kref_get(r, format!("o{}", i % 2));
        }
        let seen: Seen = Rc::new(RefCell::new(vec![Vec::new(); p.threads.len()]));
        let mut tids = Vec::new();
        for i in 1..p.threads.len() {
            let (p, seen) = (p.clone(), seen.clone());
            tids.push(k.spawn(&format!("t{i}"), move |k| {
                run_ops(k, i, &p.threads[i], x, r, &seen)
            }));
        }
        run_ops(k, 0, &p.threads[0], x, r, &seen);
        for t in tids {
            k.join(t);
        }
        let violations: Vec<String> = k
            .violations()
            .iter()
            .map(|v| format!("{:?} by {}", v.kind, v.site.tid))
            .collect();
        let outcome = format!(
            "seen {:?}; count {}; x {}; violations {:?}",
            seen.borrow(),
            k.kref_peek(r),
            k.peek(x, |v| *v),
            violations
        );
        outcomes.lock().unwrap().insert(outcome);
    })
}

fn opts() -> Options {
    Options {
        threads: 1,
        progress: None,
        leak_check: false,
        keep_traces: true,
        collect: true,
        minimize: false,
        kref: KrefRule::Release,
        ..Options::default()
    }
}

/// DFS and DPOR on `p`: (DFS outcomes, DPOR outcomes, DFS classes, DPOR classes, DPOR
/// executions).
#[allow(clippy::type_complexity)]
fn both(
    p: &Prog,
) -> (
    BTreeSet<String>,
    BTreeSet<String>,
    Vec<u128>,
    Vec<u128>,
    u64,
) {
    let (a, b) = (Arc::default(), Arc::default());
    let dfs = Explorer::new(Search::Dfs, opts()).run(&build(p.clone(), Arc::clone(&a)));
    let dpor = Explorer::new(Search::Dpor, opts()).run(&build(p.clone(), Arc::clone(&b)));
    assert!(dfs.stats.exhaustive && dpor.stats.exhaustive);
    let take = |s: Arc<Mutex<BTreeSet<String>>>| std::mem::take(&mut *s.lock().unwrap());
    let mut ta: Vec<u128> = dfs.traces.unwrap().into_iter().collect();
    let mut tb: Vec<u128> = dpor.traces.unwrap().into_iter().collect();
    ta.sort_unstable();
    tb.sort_unstable();
    (take(a), take(b), ta, tb, dpor.stats.executions)
}

#[test]
fn dpor_with_commuting_gets_and_puts_reaches_every_outcome_of_the_oracle() {
    let cases = AtomicU64::new(0);
    let (outcomes, classes, execs) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let released = AtomicU64::new(0);
    let fewer = AtomicU64::new(0);
    let mut runner = crate::naive::oracle_runner(1_000);
    runner
        .run(&programs(), |p| {
            let (oa, ob, ta, tb, n) = both(&p);
            prop_assert_eq!(&oa, &ob, "DPOR must reach exactly the oracle's outcomes");
            // Classes are not compared: an unsafe put is ordered against a get after it
            // as well, so two classes may differ only in an order that changes nothing
            // observable, and DPOR need not run both. Counted, for the record.
            if ta != tb {
                fewer.fetch_add(1, Ordering::Relaxed);
            }
            cases.fetch_add(1, Ordering::Relaxed);
            outcomes.fetch_add(oa.len() as u64, Ordering::Relaxed);
            classes.fetch_add(ta.len() as u64, Ordering::Relaxed);
            execs.fetch_add(n, Ordering::Relaxed);
            if oa.iter().any(|o| o.contains("ran the release")) {
                released.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let n = cases.load(Ordering::Relaxed);
    println!(
        "{n} programs ({} release in some execution): {} outcomes, {} classes, {} DPOR \
         executions; DPOR ran fewer classes than DFS (the same outcomes) on {}",
        released.load(Ordering::Relaxed),
        outcomes.load(Ordering::Relaxed),
        classes.load(Ordering::Relaxed),
        execs.load(Ordering::Relaxed),
        fewer.load(Ordering::Relaxed),
    );
    assert!(n >= 1_000);
    // The generator must reach the interesting cases: a release in over a third of the
    // programs (53% over 20,000).
    assert!(released.load(Ordering::Relaxed) * 3 > n);
}

/// Programs the generated cases found, each of which made an earlier version of the rule
/// miss an outcome of the oracle (kept as regression tests).
fn check(init: u32, threads: Vec<Vec<Op>>) {
    let (oa, ob, ..) = both(&Prog { init, threads });
    assert!(oa.len() >= 2, "{oa:?}");
    assert_eq!(oa, ob, "DPOR must reach exactly the oracle's outcomes");
}

/// With gets on a dead count commuting (as two live gets do), only one of the two orders
/// of the additions on 0 was run: which thread reports it was lost.
#[test]
fn two_gets_on_a_dead_count_report_in_either_order() {
    use Op::*;
    check(2, vec![vec![Get(0)], vec![Put(0)], vec![Put(0), Get(0)]]);
}

/// The proposal's rule counted a get of the put's owner, ordered with the put for that
/// reason, as support: the put was independent of the other get, and DPOR never ran the
/// put first, where it releases.
#[test]
fn a_get_of_the_same_owner_does_not_make_a_put_safe() {
    use Op::*;
    check(1, vec![vec![Get(0)], vec![Get(1)], vec![Put(1)]]);
}

/// Support through the thread's own earlier put: that put was ordered after a get of its
/// owner, so the get happened before the second put, which counted it as support; the
/// order where both puts come first (the second releases) was never run. Support now
/// leaves every refcount conflict out (`Hb::kref_op`).
#[test]
fn support_does_not_come_through_a_refcount_conflict() {
    use Op::*;
    check(2, vec![vec![Get(1)], vec![Get(0)], vec![Put(0), Put(0)]]);
}
