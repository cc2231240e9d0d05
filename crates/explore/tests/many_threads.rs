//! More than 64 model threads: the explorer's thread sets grow past one machine word.
//!
//! Init runs `n - 2` helper threads one after the other (spawn, then join), each touching
//! only its own counter, then two racers with ids above 64 that increment a shared counter
//! (a read and a write, unlocked when `racy`); init checks the total.

use std::sync::Arc;

use explore::{Explorer, Options, Program, Strategy};
use kmodel::{Kernel, ViolationKind};

fn wide(n: u32, racy: bool) -> Program {
    Arc::new(move |k: &Kernel| {
        for i in 0..n - 2 {
            let t = k.spawn(&format!("helper{i}"), move |k| {
                let own = k.kzalloc("u32", "own", 0u32);
                k.write(own, |x| *x += 1);
                k.kfree(own);
            });
            k.join(t);
        }
        let m = k.mutex_init("lock");
        let c = k.kzalloc("u32", "shared", 0u32);
        let racers: Vec<_> = (0..2)
            .map(|i| {
                k.spawn(&format!("racer{i}"), move |k| {
                    if !racy {
                        k.mutex_lock(m);
                    }
                    let v = k.read(c, |v| *v);
                    k.write(c, |x| *x = v + 1);
                    if !racy {
                        k.mutex_unlock(m);
                    }
                })
            })
            .collect();
        for t in racers {
            k.join(t);
        }
        let total = k.read(c, |v| *v);
        if total != 2 {
            k.warn(format!("lost update: counter is {total}, expected 2"));
        }
        k.kfree(c);
    })
}

fn opts(threads: usize) -> Options {
    Options {
        threads,
        progress: None,
        ..Options::default()
    }
}

#[test]
fn seventy_threads_under_dpor_and_dfs() {
    for strategy in [Strategy::Dpor, Strategy::Dfs] {
        for threads in [1, 2] {
            let clean = Explorer::new(strategy, opts(threads)).run(&wide(70, false));
            assert!(clean.counterexample().is_none(), "{strategy}: {clean:?}");
            assert!(clean.stats.exhaustive, "{strategy}");
            // The classes are the racers' two lock acquisition orders.
            assert_eq!(clean.stats.distinct_traces, 2, "{strategy}");
            let racy = Explorer::new(strategy, opts(threads)).run(&wide(70, true));
            let cx = racy
                .counterexample()
                .unwrap_or_else(|| panic!("{strategy} on {threads} threads missed the race"));
            assert_eq!(cx.kind, ViolationKind::Warn, "{strategy}");
            assert!(cx.message.contains("lost update"), "{}", cx.message);
            // The racers are threads 69 and 70 (init is 0): the schedule names them.
            assert!(
                cx.schedule.contains("69") || cx.schedule.contains("70"),
                "{}",
                cx.schedule
            );
        }
    }
}
