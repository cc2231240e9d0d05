//! The seed thread's sequence (upstream.md §3.3): probe (A), remove the bridge (B′), an
//! encoder operation after the bridge's unbind, then the last put (C′), on a panel +
//! sn65dsi83-like bridge + display controller, for every release and both driver variants.

use crate::common;

use common::testing::{seed_sequence, SeedOptions, Sn65Priv};
use drm::bridge::{drm_bridge_owners, drm_bridge_refcount, DrmBridge};
use drm::{set_rules, Release, Rules};
use kmodel::{Config, Kernel, Stop, ThreadOrder, Violation, ViolationKind};

/// Run A → B′ → encoder op → C′. `observe` runs right after B′ with the bridge.
fn run_seed(
    rules: Rules,
    guard: bool,
    observe: impl FnOnce(&Kernel, DrmBridge) + 'static,
) -> (Kernel, Vec<Violation>) {
    run_seed_with(rules, guard, true, observe)
}

/// `hw_gone`: the hardware disappears before the unbind (a physical unplug) rather than
/// being unbound in an orderly way (an overlay revert with the board still present).
fn run_seed_with(
    rules: Rules,
    guard: bool,
    hw_gone: bool,
    observe: impl FnOnce(&Kernel, DrmBridge) + 'static,
) -> (Kernel, Vec<Violation>) {
    let k = Kernel::new(Config::default());
    let stop = k.run(&mut ThreadOrder, move |k| {
        set_rules(k, rules);
        seed_sequence(k, SeedOptions { guard, hw_gone }, observe);
    });
    assert_eq!(stop, Stop::Finished);
    let v = k.violations();
    (k, v)
}

fn kinds(v: &[Violation]) -> Vec<ViolationKind> {
    v.iter().map(|v| v.kind).collect()
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Verdict {
    /// The encoder op reads the freed bridge (KASAN).
    UseAfterFree,
    /// Memory is safe; the driver touches revoked hardware.
    HwAfterUnplug,
    Clean,
}

/// The verdict per release, for (unguarded, guarded) drivers.
const TABLE: [(Release, Verdict, Verdict); 8] = [
    (Release::V6_15, Verdict::UseAfterFree, Verdict::UseAfterFree),
    (Release::V6_16, Verdict::UseAfterFree, Verdict::UseAfterFree),
    (
        Release::V6_17,
        Verdict::HwAfterUnplug,
        Verdict::HwAfterUnplug,
    ),
    (
        Release::V6_18,
        Verdict::HwAfterUnplug,
        Verdict::HwAfterUnplug,
    ),
    (
        Release::V6_19,
        Verdict::HwAfterUnplug,
        Verdict::HwAfterUnplug,
    ),
    (Release::V7_0, Verdict::HwAfterUnplug, Verdict::Clean),
    (Release::V7_1, Verdict::HwAfterUnplug, Verdict::Clean),
    (Release::V7_2, Verdict::HwAfterUnplug, Verdict::Clean),
];

fn verdict(k: &Kernel, v: &[Violation]) -> Verdict {
    let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
    let ks = kinds(v);
    if ks.contains(&ViolationKind::UseAfterFree) {
        Verdict::UseAfterFree
    } else if ks.is_empty() {
        Verdict::Clean
    } else {
        assert!(
            ks.iter().all(|&x| x == ViolationKind::HwAfterUnplug),
            "{}",
            all.join("\n")
        );
        Verdict::HwAfterUnplug
    }
}

#[test]
fn seed_sequence_verdict_per_release() {
    for (rel, unguarded, guarded) in TABLE {
        for (guard, want) in [(false, unguarded), (true, guarded)] {
            let (k, v) = run_seed(Rules::for_release(rel), guard, |_, _| {});
            assert_eq!(verdict(&k, &v), want, "{rel} guard={guard}");
        }
    }
}

#[test]
fn v6_15_encoder_op_after_unbind_is_use_after_free() {
    let (k, v) = run_seed(Rules::for_release(Release::V6_15), false, |k, b| {
        assert!(k.is_freed(b.obj()))
    });
    let report = k.render(&v[0]);
    assert_eq!(v[0].kind, ViolationKind::UseAfterFree);
    assert!(
        report.contains("BUG: KASAN: slab-use-after-free in drm_atomic_bridge_chain_disable"),
        "{report}"
    );
    assert!(
        report.contains("drm_atomic_helper_commit_modeset_disables"),
        "{report}"
    );
    assert!(report.contains("struct sn65dsi83 2-002c"), "{report}");
    assert!(
        report.contains("Freed by") && report.contains("devres_release_all"),
        "{report}"
    );
}

#[test]
fn v7_0_guarded_driver_reports_nothing_and_the_bridge_lingers() {
    let (k, v) = run_seed(Rules::for_release(Release::V7_0), true, |k, b| {
        assert!(!k.is_freed(b.obj()));
        // After B′ the bridge lingers, held by the encoder chain (+1) and by the display
        // driver's own counted pointer (+1, put by its drmm action at C′).
        assert_eq!(drm_bridge_refcount(k, b), 2);
        let mut o = drm_bridge_owners(k, b);
        o.sort();
        assert_eq!(
            o,
            [
                ("chain of encoder-0".to_string(), 1),
                ("display_priv bridge".to_string(), 1)
            ]
        );
    });
    let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
    assert!(v.is_empty(), "{}", all.join("\n"));
}

#[test]
fn v7_0_unguarded_driver_reports_only_hw_after_unplug() {
    let (k, v) = run_seed(Rules::for_release(Release::V7_0), false, |_, _| {});
    assert!(!v.is_empty());
    assert!(kinds(&v).iter().all(|&x| x == ViolationKind::HwAfterUnplug));
    let first = k.render(&v[0]);
    assert!(
        first.contains("BUG: hardware access after unplug in sn65dsi83_atomic_disable"),
        "{first}"
    );
}

/// Proposal: the core wraps callbacks in enter/exit, so even the unguarded driver is safe.
#[test]
fn proposal_core_enter_exit_protects_unguarded_driver() {
    let rules = Rules {
        core_enter_exit: true,
        ..Rules::for_release(Release::V7_2)
    };
    let (k, v) = run_seed(rules, false, |_, _| {});
    let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
    assert!(v.is_empty(), "{}", all.join("\n"));
}

/// Proposal: disabling the pipeline on unplug runs the disable callbacks before the flag,
/// so the guarded driver balances its regulator; without it, the enable is never undone.
/// (An orderly unbind: with the hardware already gone the disable itself would be a
/// hardware access after unplug, which is why the ordering is debated, §6.14.)
#[test]
fn proposal_disable_pipeline_on_unplug_balances_the_regulator() {
    for (on, enabled_after) in [(false, 1), (true, 0)] {
        let rules = Rules {
            disable_pipeline_on_unplug: on,
            ..Rules::for_release(Release::V7_2)
        };
        let (_k, v) = run_seed_with(rules, true, false, move |k, b| {
            let vcc = drm::bridge::drm_bridge_priv::<Sn65Priv, _>(k, b, |p| p.vcc);
            assert_eq!(
                k.hw_enabled(vcc),
                enabled_after,
                "disable_pipeline_on_unplug={on}"
            );
        });
        assert!(v.is_empty(), "{:?}", kinds(&v));
    }
}

/// Correct code reports nothing in any release: enable, disable, then unbind the consumer
/// (display) before its suppliers (bridge, panel), for both driver variants.
#[test]
fn orderly_teardown_is_clean_in_every_release() {
    for rel in Release::ALL {
        for guard in [false, true] {
            let k = Kernel::new(Config::default());
            let stop = k.run(&mut ThreadOrder, move |k| {
                set_rules(k, Rules::for_release(rel));
                let board = common::testing::seed_probe(k, guard);
                let drm = common::testing::seed_drm(k, &board).unwrap();
                let enc = drm::drv::drm_mode_config_encoders(k, drm)[0];
                drm::atomic::drm_atomic_helper_commit_modeset_enables(k, enc);
                drm::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
                k.device_release_driver(board.display);
                k.device_release_driver(board.bridge);
                k.device_release_driver(board.panel);
            });
            assert_eq!(stop, Stop::Finished);
            let v = k.violations();
            let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
            assert!(v.is_empty(), "{rel} guard={guard}:\n{}", all.join("\n"));
        }
    }
}
