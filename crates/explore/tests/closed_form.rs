//! Optimality on the mutex counters: n threads × k locked increments have (nk)!/(k!)^n
//! Mazurkiewicz classes (the lock orders). DPOR must explore exactly one execution each.

use explore::{models, Explorer, Options, Strategy};

fn dpor(n: u32, k: u32) -> explore::Report {
    let o = Options {
        threads: 2,
        progress: None,
        ..Options::default()
    };
    Explorer::new(Strategy::Dpor, o).run(&models::counters(n, k))
}

#[test]
fn dpor_explores_one_execution_per_lock_order() {
    for (n, k) in [(2, 4), (3, 2), (4, 1), (3, 3)] {
        let classes = lock_orders(n, k);
        let r = dpor(n, k);
        assert!(r.stats.exhaustive, "{n}x{k} not exhausted");
        assert!(
            r.counterexample().is_none(),
            "{n}x{k}: the counter is correct"
        );
        assert_eq!(r.stats.distinct_traces, classes, "{n}x{k} classes");
        assert_eq!(
            r.stats.executions, classes,
            "{n}x{k}: one execution per class"
        );
        assert_eq!(r.stats.sleep_blocked, 0);
    }
}

/// (nk)! / (k!)^n: the interleavings of n sequences of k lock acquisitions.
fn lock_orders(n: u32, k: u32) -> u64 {
    let fact = |m: u32| (1..=m as u64).product::<u64>();
    fact(n * k) / fact(k).pow(n)
}

#[test]
fn naive_dfs_agrees_on_the_small_counters() {
    let o = Options {
        threads: 2,
        progress: None,
        ..Options::default()
    };
    for (n, k, classes) in [(2, 2, 6u64), (2, 3, 20), (3, 1, 6)] {
        let r = Explorer::new(Strategy::Dfs, o.clone()).run(&models::counters(n, k));
        assert!(r.stats.exhaustive);
        assert_eq!(r.stats.distinct_traces, classes, "{n}x{k}");
        assert!(r.stats.executions > classes);
    }
}

/// A counter whose increment is not under the lock loses updates: found, and not by luck of
/// one order.
#[test]
fn lost_update_is_found() {
    use std::sync::Arc;
    let p: explore::Program = Arc::new(|k: &kmodel::Kernel| {
        let c = k.kzalloc("u32", "counter", 0u32);
        let ts: Vec<_> = (0..2)
            .map(|i| {
                k.spawn(&format!("inc{i}"), move |k| {
                    let v = k.read(c, |v| *v);
                    k.write(c, |x| *x = v + 1);
                })
            })
            .collect();
        for t in ts {
            k.join(t);
        }
        if k.read(c, |v| *v) != 2 {
            k.warn("lost update");
        }
        k.kfree(c);
    });
    let o = Options {
        threads: 1,
        progress: None,
        ..Options::default()
    };
    let r = Explorer::new(Strategy::Dpor, o).run(&p);
    let cx = r.counterexample().expect("the race is found");
    assert_eq!(cx.kind, kmodel::ViolationKind::Warn);
    assert_eq!(cx.preemptions, 1);
}
