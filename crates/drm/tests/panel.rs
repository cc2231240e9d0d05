//! The panel and the panel_bridge (upstream.md §2.4, §4.4, §5.11).

use crate::common;

use std::rc::Rc;

use common::testing::panel_bridge_chain;
use common::*;
use drm::atomic::{
    drm_atomic_helper_commit_modeset_disables, drm_atomic_helper_commit_modeset_enables,
};
use drm::bridge::panel::{
    devm_drm_panel_bridge_add, drm_panel_bridge_add_typed, drm_panel_bridge_remove,
    drmm_panel_bridge_add,
};
use drm::bridge::*;
use drm::drv::drm_dev_put;
use drm::of::{devm_drm_of_get_bridge, drm_of_find_panel_or_bridge};
use drm::panel::*;
use drm::{Release, Rules};
use kmodel::device::{DeviceId, DeviceInfo};
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel, ViolationKind};

struct NoopPanel;
impl DrmPanelFuncs for NoopPanel {}

fn bare_panel(k: &Kernel, name: &str, np: u32) -> (DeviceId, DrmPanel) {
    let dev = k.device_add(
        bus(k),
        DeviceInfo {
            name: name.into(),
            of_node: Some(NodeId::from_raw(np)),
            ..Default::default()
        },
    );
    let p =
        devm_drm_panel_alloc(k, dev, "struct noop_panel", name, Rc::new(NoopPanel), ()).unwrap();
    drm_panel_add(k, p);
    (dev, p)
}

/// The allocation reference hangs on the panel's device; drm_panel_bridge_remove drops it
/// early (devm_drm_put_bridge, v6.17+; devm_kfree before).
#[test]
fn panel_bridge_allocation_reference_is_on_the_panel_device() {
    for rel in [Release::V6_15, Release::V6_17, Release::V7_2] {
        let k = run(rel, move |k| {
            let (pdev, p) = bare_panel(k, "panel", 3);
            let b = drm_panel_bridge_add_typed(k, p).unwrap();
            if rel >= Release::V6_17 {
                assert_eq!(owners(k, b), ["devres of panel", "published"]);
            }
            assert_eq!(of_drm_find_bridge(k, NodeId::from_raw(3)), Some(b));
            drm_panel_bridge_remove(k, Some(b));
            assert!(k.is_freed(b.obj()));
            drm_panel_remove(k, p);
            k.device_del(pdev);
        });
        assert_clean(&k);
    }
}

/// drm_panel_bridge_remove logs a `drm_warn` line (not a WARN) on a bridge that is not a
/// panel_bridge and leaves it alone, and ignores NULL.
#[test]
fn panel_bridge_remove_of_another_bridge_warns() {
    let k = run(Release::V7_0, |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        drm_panel_bridge_remove(k, None);
        drm_panel_bridge_remove(k, Some(b));
        assert_eq!(drm_bridge_refcount(k, b), 1);
        k.device_del(dev);
    });
    assert_clean(&k);
    assert_eq!(
        log_lines(&k, "drm_warn"),
        ["drm_warn: drm_panel_bridge_remove: called on non-panel bridge! (A)"]
    );
}

/// devm_drm_panel_bridge_add: the consumer's devres only removes, so panel_bridges of
/// repeated consumers linger (refcount 1, "devres of panel") until the panel unbinds.
#[test]
fn consumer_panel_bridges_linger_until_the_panel_unbinds() {
    let k = run(Release::V7_0, |k| {
        let (pdev, p) = bare_panel(k, "panel", 3);
        for c in ["consumer0", "consumer1"] {
            let cdev = bare_device(k, c);
            let b = devm_drm_of_get_bridge(k, cdev, Some(NodeId::from_raw(3))).unwrap();
            assert_eq!(owners(k, b), ["devres of panel", "published"]);
            k.device_del(cdev);
            assert_eq!(owners(k, b), ["devres of panel"]);
        }
        let d = drm_bridge_debugfs_show(k).unwrap();
        assert_eq!(d.matches("[lingering]").count(), 2, "{d}");
        drm_panel_remove(k, p);
        k.device_del(pdev);
        assert_eq!(drm_bridge_debugfs_show(k).unwrap(), "");
    });
    assert_clean(&k);
}

/// drmm_panel_bridge_add removes and puts at the final drm_dev_put.
#[test]
fn drmm_panel_bridge_released_with_the_drm_device() {
    let k = run(Release::V7_2, |k| {
        let (pdev, p) = bare_panel(k, "panel", 3);
        let dev = bare_device(k, "display");
        let (drm, _enc) = drm_with_encoder(k, dev);
        let b = drmm_panel_bridge_add(k, drm, p).unwrap();
        drm_dev_put(k, drm, TEST);
        assert!(k.is_freed(b.obj()));
        drm_panel_remove(k, p);
        k.device_del(pdev);
        k.device_del(dev);
    });
    assert_clean(&k);
}

/// Proposal (§5.11): the panel_bridge holds a panel reference (+1 "panel_bridge of panel").
#[test]
fn proposal_panel_bridge_holds_a_panel_reference() {
    let rules = Rules {
        panel_bridge_panel_ref: true,
        ..Rules::for_release(Release::V7_2)
    };
    let k = run_rules(rules, |k| {
        let (pdev, p) = bare_panel(k, "panel", 3);
        assert_eq!(drm_panel_refcount(k, p), 1);
        let cdev = bare_device(k, "consumer");
        let _b = devm_drm_panel_bridge_add(k, cdev, p).unwrap();
        assert_eq!(drm_panel_refcount(k, p), 2);
        k.device_del(cdev);
        assert_eq!(drm_panel_refcount(k, p), 1);
        drm_panel_remove(k, p);
        k.device_del(pdev);
    });
    assert_clean(&k);
}

/// The panel_bridge→panel window (§5.11): the panel unbinds while the panel_bridge is
/// still in a chain; the next encoder op reads the freed panel. With the proposal the panel
/// memory stays, and only its revoked regulator is reported.
#[test]
fn panel_bridge_to_panel_dangling_window() {
    fn scenario(rules: Rules) -> Kernel {
        run_rules(rules, |k| {
            let ch = panel_bridge_chain(k);
            drm_atomic_helper_commit_modeset_enables(k, ch.enc);
            k.device_release_driver(ch.pdev);
            drm_atomic_helper_commit_modeset_disables(k, ch.enc);
            ch.teardown(k);
        })
    }
    let k = scenario(Rules::for_release(Release::V7_2));
    assert_eq!(kinds(&k)[0], ViolationKind::UseAfterFree);
    let r = k.render(&k.violations()[0]);
    assert!(
        r.contains("struct test_panel panel") && r.contains("drm_panel_disable"),
        "{r}"
    );
    let k = scenario(Rules {
        panel_bridge_panel_ref: true,
        ..Rules::for_release(Release::V7_2)
    });
    assert!(!kinds(&k).contains(&ViolationKind::UseAfterFree));
    assert!(kinds(&k).contains(&ViolationKind::HwAfterUnplug));
}

/// drm_of_find_panel_or_bridge: borrowed results; bridge-only calls forbidden from v7.2.
#[test]
fn find_panel_or_bridge() {
    let k = run(Release::V7_1, |k| {
        let (pdev, p) = bare_panel(k, "panel", 3);
        assert_eq!(
            drm_of_find_panel_or_bridge(k, Some(NodeId::from_raw(3)), true, true),
            Ok((Some(p), None))
        );
        assert_eq!(
            drm_of_find_panel_or_bridge(k, Some(NodeId::from_raw(9)), true, true),
            Err(Errno::EPROBE_DEFER)
        );
        assert_eq!(
            drm_of_find_panel_or_bridge(k, None, true, true),
            Err(Errno::ENODEV)
        );
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "B", &new_log()).bridge;
        k.write(b.obj(), |x| x.of_node = Some(NodeId::from_raw(4)));
        drm_bridge_add(k, b);
        assert_eq!(
            drm_of_find_panel_or_bridge(k, Some(NodeId::from_raw(4)), false, true),
            Ok((None, Some(b)))
        );
        assert_eq!(drm_bridge_refcount(k, b), 2, "borrowed");
        drm_bridge_remove(k, b);
        k.device_del(dev);
        drm_panel_remove(k, p);
        k.device_del(pdev);
    });
    assert_clean(&k);
    let k = run(Release::V7_2, |k| {
        assert_eq!(
            drm_of_find_panel_or_bridge(k, Some(NodeId::from_raw(4)), false, true),
            Err(Errno::EINVAL)
        );
    });
    assert_eq!(kinds(&k), [ViolationKind::Warn]);
}
