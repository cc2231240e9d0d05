//! The seed thread's sequence (upstream.md §3.3): probe (A), remove the bridge (B′), an
//! encoder operation after the bridge's unbind, then the last put (C′), on a panel +
//! sn65dsi83-like bridge + display controller, under v6.15 and v7.0 rules.

use drm::atomic::{drm_atomic_helper_commit_modeset_disables, drm_atomic_helper_commit_modeset_enables};
use drm::drv::drm_mode_config_encoders;
use drm::testing::{seed_drm, seed_probe};
use drm::{set_rules, Release, Rules};
use kmodel::{Config, Kernel, Stop, ThreadOrder, Violation, ViolationKind};

fn run_seed(release: Release, guard: bool) -> (Kernel, Vec<Violation>) {
    let k = Kernel::new(Config::default());
    let stop = k.run(&mut ThreadOrder, move |k| {
        set_rules(k, Rules::for_release(release));
        // A: probe panel, bridge, display.
        let board = seed_probe(k, guard);
        assert!(k.device_is_bound(board.panel) && k.device_is_bound(board.bridge) && k.device_is_bound(board.display));
        let drm = seed_drm(k, &board).expect("display bound");
        let enc = drm_mode_config_encoders(k, drm)[0];
        drm_atomic_helper_commit_modeset_enables(k, enc);
        // B′: the bridge's device goes away (remove, then devres).
        k.hw_mark_gone(board.bridge);
        k.device_release_driver(board.bridge);
        // The encoder is still in use: userspace disables the pipeline.
        drm_atomic_helper_commit_modeset_disables(k, enc);
        // C′: the display goes away; the final drm_dev_put detaches the chain (last puts).
        k.device_release_driver(board.display);
        k.device_release_driver(board.panel);
    });
    assert_eq!(stop, Stop::Finished);
    let v = k.violations();
    (k, v)
}

fn kinds(v: &[Violation]) -> Vec<ViolationKind> {
    v.iter().map(|v| v.kind).collect()
}

#[test]
fn v6_15_encoder_op_after_unbind_is_use_after_free() {
    let (k, v) = run_seed(Release::V6_15, false);
    let uaf = v.iter().find(|v| v.kind == ViolationKind::UseAfterFree).expect("a use-after-free");
    let report = k.render(uaf);
    assert!(report.contains("BUG: KASAN: slab-use-after-free"), "{report}");
    assert!(report.contains("drm_atomic_helper_commit_modeset_disables"), "{report}");
    assert!(report.contains("struct sn65dsi83"), "{report}");
    assert!(report.contains("devres_release_all"), "freed by devres at unbind: {report}");
}

#[test]
fn v7_0_guarded_driver_reports_nothing() {
    for guard in [true] {
        let (k, v) = run_seed(Release::V7_0, guard);
        let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
        assert!(v.is_empty(), "{}", all.join("\n"));
    }
}

#[test]
fn v7_0_unguarded_driver_reports_only_hw_after_unplug() {
    let (k, v) = run_seed(Release::V7_0, false);
    let all: Vec<String> = v.iter().map(|x| k.render(x)).collect();
    assert!(!v.is_empty());
    assert!(kinds(&v).iter().all(|&x| x == ViolationKind::HwAfterUnplug), "{}", all.join("\n"));
    assert!(!kinds(&v).contains(&ViolationKind::UseAfterFree));
    assert!(all[0].contains("BUG: hardware access after unplug"), "{}", all[0]);
    assert!(all[0].contains("atomic_disable") || all[0].contains("drm_atomic_bridge_chain_disable"), "{}", all[0]);
}
