//! Collecting searches report every distinct violation, not only the first.

use std::sync::Arc;

use explore::{models, Explorer, Options, Program, Strategy};
use kmodel::{Kernel, ViolationKind};

fn opts(collect: bool) -> Options {
    Options {
        threads: 1,
        progress: None,
        collect,
        ..Options::default()
    }
}

/// Every execution first reads a freed object, then frees another one twice.
fn two_bugs() -> Program {
    Arc::new(|k: &Kernel| {
        let a = k.kzalloc("struct a", "a", 0u8);
        let b = k.kzalloc("struct b", "b", 0u8);
        let t = k.spawn("worker", move |k| {
            k.kfree(a);
            k.read(a, |_| ());
            k.kfree(b);
            k.kfree(b);
        });
        k.join(t);
    })
}

#[test]
fn a_collecting_search_reports_every_distinct_violation() {
    let first = Explorer::new(Strategy::Dpor, opts(false)).run(&two_bugs());
    assert_eq!(
        first.counterexample().map(|c| c.kind),
        Some(ViolationKind::UseAfterFree)
    );
    assert!(
        first.findings.is_empty(),
        "only collecting searches list findings"
    );
    let all = Explorer::new(Strategy::Dpor, opts(true)).run(&two_bugs());
    let kinds: Vec<(ViolationKind, String)> = all
        .findings
        .iter()
        .map(|f| (f.kind, f.object.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (ViolationKind::UseAfterFree, "struct a a".to_string()),
            (ViolationKind::DoubleFree, "struct b b".to_string())
        ]
    );
    assert!(
        all.stats.exhaustive,
        "a collecting search still covers the whole space"
    );
    assert_eq!(
        all.counterexample().map(|c| c.kind),
        Some(ViolationKind::UseAfterFree)
    );
}

#[test]
fn collecting_on_correct_and_racy_models() {
    let clean = Explorer::new(Strategy::Dpor, opts(true)).run(&models::hp3(true));
    assert!(
        clean.findings.is_empty() && clean.stats.exhaustive && clean.counterexample().is_none()
    );
    let buggy = Explorer::new(Strategy::Dpor, opts(true)).run(&models::hp3(false));
    assert!(buggy.stats.exhaustive);
    assert!(
        buggy
            .findings
            .iter()
            .any(|f| f.kind == ViolationKind::UseAfterFree),
        "{:?}",
        buggy.findings
    );
    // The same classes are explored as without collecting (every execution runs to its end).
    let stop = Explorer::new(
        Strategy::Dpor,
        Options {
            count_traces: true,
            ..opts(false)
        },
    )
    .run(&models::hp3(true));
    assert_eq!(clean.stats.executions, stop.stats.executions);
}

/// A walker goes over A, B, C with no lock while a remover unlinks B (nothing is freed). The
/// walk reaches LIST_POISON1 only when the unlink falls between the walker's step onto B and
/// its step past B: two steps that touch B's and A's nodes, not the list the unlink declares.
/// DPOR must find that interleaving as the naive search does (it did not while a walk's step
/// read only the entry's node).
fn walk_racing_an_unlink() -> Program {
    Arc::new(|k: &Kernel| {
        let head = k.list_head_init("privobj_list");
        let objs: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|name| {
                let o = k.kzalloc("struct drm_private_obj", *name, 0u8);
                let n = k.list_node(o);
                k.list_add_tail(n, head);
                (o, n)
            })
            .collect();
        let walk = objs.clone();
        let walker = k.spawn("walker", move |k| {
            let mut cur = k.list_first(head);
            while let Some(n) = cur {
                let (o, _) = walk.iter().find(|(_, x)| *x == n).copied().unwrap();
                cur = k.list_next(head, o, n);
            }
        });
        let unlinked = objs[1].1;
        let remover = k.spawn("remover", move |k| k.list_del(unlinked));
        k.join(walker);
        k.join(remover);
        for (o, n) in objs {
            if n != unlinked {
                k.list_del(n);
            }
            k.kfree(o);
        }
    })
}

#[test]
fn dpor_finds_a_walk_through_an_entry_unlinked_under_it() {
    for strategy in [Strategy::Dfs, Strategy::Dpor] {
        let r = Explorer::new(strategy, opts(true)).run(&walk_racing_an_unlink());
        assert!(r.stats.exhaustive, "{strategy:?}");
        let kinds: Vec<_> = r.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [ViolationKind::ListCorruption], "{strategy:?}");
    }
}
