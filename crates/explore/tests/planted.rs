//! Planted races, two threads each: DPOR, bounded search and PCT must find both; the reported
//! schedule replays to the same report; the corrected programs are clean.

use crate::irq;

use explore::{models, replay_with, Explorer, Options, Program, Strategy};
use kmodel::{Schedule, ViolationKind};

fn opts() -> Options {
    Options {
        threads: 2,
        progress: None,
        ..Options::default()
    }
}

fn planted() -> Vec<(&'static str, Program, &'static [ViolationKind])> {
    vec![
        (
            "list walk",
            models::list_walk_race(),
            &[ViolationKind::UseAfterFree, ViolationKind::ListCorruption],
        ),
        (
            "irq vs unbind",
            irq::irq_unbind_race(),
            &[ViolationKind::HwAfterUnplug],
        ),
    ]
}

fn check_replays(name: &str, p: &Program, r: &explore::Report, o: &Options) {
    let cx = r.counterexample().unwrap();
    let s: Schedule = cx.schedule.parse().expect("the schedule string parses");
    let a = replay_with(p, &s, o);
    let b = replay_with(p, &s, o);
    assert_eq!(
        a.report, cx.report,
        "{name}: replay gives the reported report"
    );
    assert_eq!(a.trace_json, b.trace_json, "{name}: byte-for-byte");
    assert_eq!(a.steps, b.steps);
    assert_eq!(a.diverged, None);
    assert_eq!(a.schedule, s);
}

#[test]
fn dpor_finds_both() {
    for (name, p, kinds) in planted() {
        let r = Explorer::new(Strategy::Dpor, opts()).run(&p);
        let cx = r
            .counterexample()
            .unwrap_or_else(|| panic!("{name}: missed"));
        assert!(kinds.contains(&cx.kind), "{name}: {:?}", cx.kind);
        check_replays(name, &p, &r, &opts());
    }
}

#[test]
fn bounded_search_finds_both() {
    for (name, p, kinds) in planted() {
        let o = Options {
            preemption_bound: Some(2),
            ..opts()
        };
        let r = Explorer::new(Strategy::Dfs, o.clone()).run(&p);
        let cx = r
            .counterexample()
            .unwrap_or_else(|| panic!("{name}: missed"));
        assert!(kinds.contains(&cx.kind), "{name}: {:?}", cx.kind);
        assert!(r.stats.bound_reached.unwrap() <= 1);
        check_replays(name, &p, &r, &o);
    }
}

/// PCT(d=2) finds each race, on every one of 20 seeds, within the runs its guarantee predicts:
/// with per-run probability p ≥ 1/(n·k^(d-1)), 7/p runs miss with probability < 0.1%.
#[test]
fn pct_finds_both_within_its_guarantee() {
    for (name, p, kinds) in planted() {
        let mut total = 0u64;
        for seed in 0..20u64 {
            let o = Options {
                max_executions: Some(10_000),
                ..opts()
            };
            let r = Explorer::new(Strategy::Pct { depth: 2, seed }, o.clone()).run(&p);
            let (k, n) = (
                r.stats.pct_k.unwrap() as f64,
                r.stats.pct_threads.unwrap() as f64,
            );
            let bound = (7.0 * n * k).ceil() as u64;
            let cx = r
                .counterexample()
                .unwrap_or_else(|| panic!("{name}: seed {seed} missed"));
            assert!(kinds.contains(&cx.kind));
            assert!(
                cx.execution <= bound,
                "{name}: seed {seed} took {} runs, guarantee predicts ≤ {bound}",
                cx.execution
            );
            total += cx.execution;
            check_replays(name, &p, &r, &o);
        }
        println!(
            "{name}: PCT d=2 mean {:.1} runs to the bug",
            total as f64 / 20.0
        );
    }
}

#[test]
fn random_finds_both() {
    for (name, p, _) in planted() {
        let r = Explorer::new(Strategy::Random { seed: 7 }, opts()).run(&p);
        assert!(r.counterexample().is_some(), "{name}");
    }
}

#[test]
fn corrected_programs_are_clean() {
    for (name, p) in [
        ("list walk, locked", models::list_walk_locked()),
        ("irq under device lock", irq::irq_unbind(true)),
    ] {
        let r = Explorer::new(Strategy::Dpor, opts()).run(&p);
        assert!(
            r.counterexample().is_none(),
            "{name}: {}",
            r.counterexample().unwrap().report
        );
        assert!(r.stats.exhaustive);
        let d = Explorer::new(Strategy::Dfs, opts()).run(&p);
        assert!(d.counterexample().is_none() && d.stats.exhaustive);
        assert_eq!(d.stats.distinct_traces, r.stats.distinct_traces, "{name}");
        let o = Options {
            max_executions: Some(2_000),
            ..opts()
        };
        let pct = Explorer::new(Strategy::Pct { depth: 3, seed: 1 }, o).run(&p);
        assert!(pct.counterexample().is_none(), "{name}");
        assert_eq!(pct.stats.executions, 2_000);
    }
}
