//! Every result says what it covered, in one wording: the text (`Display`) and the JSON
//! (`text`, `kind` and the numbers) agree, and only a whole-space search is "exhaustive".

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use explore::{models, Coverage, Explorer, Options, Strategy};

fn opts() -> Options {
    Options {
        threads: 2,
        ..Options::default()
    }
}

/// The coverage of a report, checked against its JSON and the stats' flags.
fn coverage_of(r: &explore::Report) -> Coverage {
    let j = serde_json::to_value(r).unwrap();
    assert_eq!(j["coverage"]["text"], r.coverage.to_string());
    assert_eq!(j["stats"]["exhaustive"], r.coverage == Coverage::Exhaustive);
    assert_eq!(
        j["stats"]["interrupted"],
        matches!(r.coverage, Coverage::Interrupted { .. })
    );
    assert_eq!(
        j["stats"]["truncated"],
        matches!(r.coverage, Coverage::Truncated { .. })
    );
    r.coverage
}

#[test]
fn a_bounded_search_is_clean_up_to_its_bound_not_exhaustive() {
    let o = Options {
        preemption_bound: Some(2),
        ..opts()
    };
    let r = Explorer::new(Strategy::Dpor, o).run(&models::hp3(true));
    assert!(r.counterexample().is_none());
    assert_eq!(coverage_of(&r), Coverage::UpToPreemptions { bound: 2 });
    assert_eq!(r.coverage.to_string(), "up to 2 preemptions");
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["coverage"]["kind"], "up_to_preemptions");
    assert_eq!(j["coverage"]["bound"], 2);
}

#[test]
fn a_whole_search_is_exhaustive() {
    let r = Explorer::new(Strategy::Dpor, opts()).run(&models::hp3(true));
    assert_eq!(coverage_of(&r), Coverage::Exhaustive);
    assert_eq!(r.coverage.to_string(), "exhaustive");
}

#[test]
fn an_interrupted_search_says_so_with_its_count() {
    let o = Options {
        interrupt: Some(Arc::new(AtomicBool::new(true))),
        ..opts()
    };
    let r = Explorer::new(Strategy::Dpor, o).run(&models::counters(3, 3));
    let n = r.stats.executions;
    assert_eq!(coverage_of(&r), Coverage::Interrupted { executions: n });
    assert_eq!(
        r.coverage.to_string(),
        format!("interrupted after {n} executions: not exhaustive")
    );
}

#[test]
fn a_budget_truncates_and_sampling_is_never_exhaustive() {
    let o = Options {
        max_executions: Some(100),
        threads: 1,
        ..opts()
    };
    let r = Explorer::new(Strategy::Dpor, o.clone()).run(&models::counters(3, 3));
    assert_eq!(
        coverage_of(&r),
        Coverage::Truncated {
            executions: 100,
            limit: 100
        }
    );
    assert!(r.coverage.to_string().ends_with("not exhaustive"));
    let r = Explorer::new(Strategy::Random { seed: 1 }, o).run(&models::hp3(true));
    assert_eq!(coverage_of(&r), Coverage::Sampled { executions: 100 });
    assert_eq!(
        r.coverage.to_string(),
        "100 sampled executions: not exhaustive"
    );
}

/// With workers, a budget counts what every worker ran: the subtrees handed out before the
/// stop are waited for, not dropped (which once reported 597 of a 1,000 budget).
#[test]
fn a_budget_counts_the_executions_of_every_worker() {
    for threads in [2, 4] {
        let o = Options {
            max_executions: Some(2_000),
            threads,
            offer_after: 0,
            ..opts()
        };
        let r = Explorer::new(Strategy::Dpor, o).run(&models::counters(5, 4));
        let n = r.stats.executions;
        // Each worker may finish the execution it was in when the budget ran out.
        assert!(
            (2_000..2_000 + threads as u64).contains(&n),
            "{threads} threads: {n} executions for a budget of 2,000"
        );
        assert_eq!(
            coverage_of(&r),
            Coverage::Truncated {
                executions: n,
                limit: 2_000
            }
        );
    }
}

#[test]
fn a_search_stopped_by_a_violation_is_not_exhaustive_and_collecting_is() {
    let r = Explorer::new(Strategy::Dpor, opts()).run(&models::hp3(false));
    assert!(r.counterexample().is_some());
    assert!(matches!(
        coverage_of(&r),
        Coverage::FirstViolation { executions } if executions == r.stats.executions
    ));
    let o = Options {
        collect: true,
        ..opts()
    };
    let r = Explorer::new(Strategy::Dpor, o).run(&models::hp3(false));
    assert_eq!(coverage_of(&r), Coverage::Exhaustive);
    // Collected findings carry measured preemptions and operations, as the counterexample
    // does for the same schedule.
    let cx = r.counterexample().unwrap();
    let first = &r.findings[0];
    assert_eq!(first.schedule, cx.found_schedule);
    assert_eq!(first.preemptions, cx.found_preemptions);
    assert!(first.ops > 0);
}
