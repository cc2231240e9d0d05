//! A host panic inside an execution ends the search with an internal error, on one thread or
//! several, with every strategy: it neither hangs nor takes the process down, and the schedule
//! it reports replays the panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use explore::{replay, Coverage, Explorer, Options, Program, Strategy};
use kmodel::{Kernel, Schedule};

/// Three threads, two locked increments each; thread 0 panics (a host bug, not a modelled
/// violation) when it makes the last increment, which the first execution does not do.
fn panics_late() -> Program {
    Arc::new(|k: &Kernel| {
        let m = k.mutex_init("lock");
        let c = k.kzalloc("u32", "counter", 0u32);
        let ts: Vec<_> = (0..3)
            .map(|i| {
                k.spawn(&format!("inc{i}"), move |k| {
                    for _ in 0..2 {
                        k.mutex_lock(m);
                        let v = k.read(c, |v| *v);
                        k.write(c, |x| *x = v + 1);
                        if i == 0 && v + 1 == 6 {
                            panic!("planted host bug");
                        }
                        k.mutex_unlock(m);
                    }
                })
            })
            .collect();
        for t in ts {
            k.join(t);
        }
        k.kfree(c);
    })
}

#[test]
fn a_panic_ends_every_search_with_an_internal_error() {
    let p = panics_late();
    for strategy in [
        Strategy::Dpor,
        Strategy::Dfs,
        Strategy::Random { seed: 3 },
        Strategy::Pct { depth: 2, seed: 3 },
    ] {
        for threads in [1, 2] {
            let o = Options {
                threads,
                offer_after: 0,
                ..Options::default()
            };
            let r = Explorer::new(strategy, o).run(&p);
            let e = r
                .internal_error()
                .unwrap_or_else(|| panic!("{strategy} on {threads}: {:?}", r.outcome));
            assert_eq!(e.message, "planted host bug", "{strategy}");
            assert!(
                matches!(r.coverage, Coverage::Aborted { executions } if executions >= 1),
                "{strategy} on {threads}: {:?}",
                r.coverage
            );
            assert!(!r.stats.exhaustive);
            // The schedule it was on replays the panic.
            let s: Schedule = e.schedule.as_deref().expect("a schedule").parse().unwrap();
            let again = catch_unwind(AssertUnwindSafe(|| replay(&p, &s)));
            let msg = again.expect_err("the replay panics too");
            assert_eq!(msg.downcast_ref::<&str>(), Some(&"planted host bug"));
            let text = e.to_string();
            assert!(text.starts_with("internal error: planted host bug (schedule: v1:"));
        }
    }
}
