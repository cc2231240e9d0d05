//! Issue 15: without collecting, the violation a merge of shards reports (the one of the
//! lowest leaf, `stats.shard.first_leaf`) is the unsharded search's first violation — the
//! same kind, object and found schedule — for any number of shards. And `--all` shards
//! together find what the unsharded search finds.
//!
//! Programs: init allocates three objects, spawns 2–4 threads that read, write and free them
//! (use-after-frees and double frees in some orders only), and joins them. The listed ones are
//! where, before the unsharded first-violation search ran in leaf order, DPOR's first
//! violation was found on another schedule than the lowest leaf's (seen with
//! `minimize: false`). Under the default free rule (`explore::FreeRule::Predict`) their
//! use-after-frees are predicted on the first execution; the listed-programs check runs them
//! under `conflict`, and the other checks run under both rules.

use std::sync::Arc;

use explore::{Explorer, Options, Program, Rng, Shard, Strategy};
use kmodel::Kernel;

#[derive(Clone, Copy, Debug)]
enum Op {
    Read(u8),
    Write(u8),
    Free(u8),
}
use Op::{Free as F, Read as R, Write as W};

fn program(threads: &[Vec<Op>]) -> Program {
    let threads = threads.to_vec();
    Arc::new(move |k: &Kernel| {
        let objs: Vec<_> = (0..3)
            .map(|i| k.kzalloc("struct o", format!("o{i}"), 0u8))
            .collect();
        let ts: Vec<_> = threads
            .iter()
            .enumerate()
            .map(|(i, ops)| {
                let (ops, objs) = (ops.clone(), objs.clone());
                k.spawn(&format!("t{i}"), move |k| {
                    for op in &ops {
                        match *op {
                            Op::Read(o) => k.read(objs[o as usize], |_| ()),
                            Op::Write(o) => k.write(objs[o as usize], |x| *x += 1),
                            Op::Free(o) => k.kfree(objs[o as usize]),
                        }
                    }
                })
            })
            .collect();
        for t in ts {
            k.join(t);
        }
    })
}

/// The first violation: kind and object, and the schedule it was found on.
type First = Option<(String, String)>;

fn opts(shard: Option<Shard>, collect: bool) -> Options {
    Options {
        threads: 1,
        // Hand subtrees to the other OS threads early (when there are any).
        offer_after: 0,
        progress: None,
        minimize: false,
        collect,
        shard,
        ..Options::default()
    }
}

/// [`opts`] with a free ordered against every access (`explore::FreeRule::Conflict`), the rule
/// the listed programs were found under: there DPOR reaches each use-after-free by running
/// the order, not by predicting it on the first execution.
fn conflict(shard: Option<Shard>, collect: bool) -> Options {
    Options {
        free: explore::FreeRule::Conflict,
        ..opts(shard, collect)
    }
}

fn first(p: &Program, shard: Option<Shard>, free: explore::FreeRule) -> (First, Option<u64>) {
    let o = Options {
        free,
        ..opts(shard, false)
    };
    let r = Explorer::new(Strategy::Dpor, o).run(p);
    let first = r
        .counterexample()
        .map(|c| (format!("{}:{}", c.kind, c.object), c.found_schedule.clone()));
    (first, r.stats.shard.as_ref().and_then(|s| s.first_leaf))
}

/// What a merge of `n` first-violation shards reports: the violation of the lowest leaf.
fn merged(p: &Program, n: u32, free: explore::FreeRule) -> First {
    (0..n)
        .map(|index| first(p, Some(Shard { index, count: n }), free))
        .filter_map(|(f, leaf)| Some((leaf?, f)))
        .min_by_key(|(leaf, _)| *leaf)
        .and_then(|(_, f)| f)
}

fn listed() -> Vec<Vec<Vec<Op>>> {
    vec![
        vec![vec![W(1), R(1)], vec![F(2), F(1), F(0)]],
        vec![vec![F(1), R(2)], vec![W(2), F(2), W(0), F(0)]],
        vec![
            vec![W(2)],
            vec![W(0), W(2), R(1), W(2)],
            vec![F(2), W(0), F(1), W(0), F(0)],
        ],
        vec![
            vec![W(2), W(1), W(1), W(1), F(2)],
            vec![R(1), R(0), R(1), F(1), F(0)],
        ],
    ]
}

/// `count` generated programs (each object freed at most once by the program text; a free
/// in one thread and an access in another race).
fn generated(seed: u64, count: u64) -> Vec<Vec<Vec<Op>>> {
    let mut rng = Rng::for_execution(seed, 0);
    (0..count)
        .map(|_| {
            let mut freed = [false; 3];
            let threads = 2 + rng.below(3);
            (0..threads)
                .map(|_| {
                    (0..1 + rng.below(5))
                        .map(|_| {
                            let o = rng.below(3) as u8;
                            match rng.below(5) {
                                0 if !freed[o as usize] => {
                                    freed[o as usize] = true;
                                    F(o)
                                }
                                0..=2 => R(o),
                                _ => W(o),
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_merged_first_violation_is_the_unsharded_first() {
    // Under both free rules: predicted use-after-frees are found in leaf order too.
    for free in [explore::FreeRule::Predict, explore::FreeRule::Conflict] {
        let mut violating = 0;
        for threads in listed().into_iter().chain(generated(15, 150)) {
            let p = program(&threads);
            let (whole, _) = first(&p, None, free);
            violating += whole.is_some() as u32;
            // The leaf-order round with workers: the result of one thread.
            let o = Options {
                threads: 2,
                free,
                ..opts(None, false)
            };
            let r = Explorer::new(Strategy::Dpor, o).run(&p);
            let with_workers = r
                .counterexample()
                .map(|c| (format!("{}:{}", c.kind, c.object), c.found_schedule.clone()));
            assert_eq!(with_workers, whole, "2 OS threads on {threads:?} ({free})");
            for n in [1, 2, 4, 7] {
                assert_eq!(
                    merged(&p, n, free),
                    whole,
                    "{n} shards of {threads:?} ({free})"
                );
            }
        }
        assert!(violating >= 20, "too few violating programs: {violating}");
    }
}

#[test]
fn every_listed_program_has_a_violation_after_its_first_execution() {
    // The listed programs are the cases where the order matters: their first execution
    // is clean, so DPOR alone and leaf order could disagree.
    for threads in listed() {
        let p = program(&threads);
        let r = Explorer::new(Strategy::Dpor, conflict(None, false)).run(&p);
        let c = r.counterexample().expect("a violation");
        assert!(c.execution > 1, "{threads:?}: {}", c.execution);
    }
}

#[test]
fn all_shards_together_find_every_distinct_violation() {
    for threads in listed().into_iter().chain(generated(16, 40)) {
        let p = program(&threads);
        let keys = |r: &explore::Report| {
            let mut k: Vec<String> = r
                .findings
                .iter()
                .map(|f| format!("{}:{}", f.kind, f.object))
                .collect();
            k.sort();
            k.dedup();
            k
        };
        for o in [opts, conflict] {
            let whole = keys(&Explorer::new(Strategy::Dpor, o(None, true)).run(&p));
            let mut union: Vec<String> = (0..4)
                .flat_map(|index| {
                    let s = Some(Shard { index, count: 4 });
                    keys(&Explorer::new(Strategy::Dpor, o(s, true)).run(&p))
                })
                .collect();
            union.sort();
            union.dedup();
            assert_eq!(union, whole, "{threads:?}");
        }
    }
}
