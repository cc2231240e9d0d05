//! The legacy connector path: a panel_bridge attached without `DRM_BRIDGE_ATTACH_NO_CONNECTOR`
//! makes the connector itself (v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_attach), embedded
//! in its container, whose modes come from the panel it borrows
//! (v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_connector_get_modes) and which its detach
//! cleans up (v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_detach).

use crate::common;

use std::rc::Rc;

use common::testing::panel_bridge_chain;
use common::*;
use drm::bridge::panel::{drm_panel_bridge_add_typed, drm_panel_bridge_remove};
use drm::bridge::*;
use drm::connector::{drm_connector_for_encoder, drm_helper_probe_single_connector_modes};
use drm::drv::drm_dev_put;
use drm::panel::*;
use drm::{Release, Rules};
use kmodel::device::{DeviceId, DeviceInfo};
use kmodel::of::NodeId;
use kmodel::{Kernel, ViolationKind};

struct TwoModes;
impl DrmPanelFuncs for TwoModes {
    fn get_modes(&self, _k: &Kernel, _p: DrmPanel) -> u32 {
        2
    }
}

fn panel(k: &Kernel) -> (DeviceId, DrmPanel) {
    let dev = k.device_add(
        bus(k),
        DeviceInfo {
            name: "panel".into(),
            of_node: Some(NodeId::from_raw(3)),
            ..Default::default()
        },
    );
    let p =
        devm_drm_panel_alloc(k, dev, "struct two_modes", "panel", Rc::new(TwoModes), ()).unwrap();
    drm_panel_add(k, p);
    (dev, p)
}

/// With flags 0 the panel_bridge's connector is on the card, attached to the encoder, and
/// gives the panel's modes; with `DRM_BRIDGE_ATTACH_NO_CONNECTOR` there is none. Either way the
/// card's release (encoder cleanup detaches, the detach cleans the connector up) leaves nothing.
#[test]
fn panel_bridge_makes_its_connector_only_without_no_connector() {
    for rel in [Release::V6_15, Release::V7_1] {
        for (flags, made) in [(0, true), (DRM_BRIDGE_ATTACH_NO_CONNECTOR, false)] {
            let k = run(rel, move |k| {
                let (pdev, p) = panel(k);
                let b = drm_panel_bridge_add_typed(k, p).unwrap();
                let dev = bare_device(k, "display");
                let (drm, enc) = drm_with_encoder(k, dev);
                drm_bridge_attach(k, Some(enc), Some(b), None, flags).unwrap();
                let c = drm_connector_for_encoder(k, drm, enc);
                assert_eq!(c.is_some(), made, "{rel} flags {flags}");
                if let Some(c) = c {
                    assert_eq!(drm_helper_probe_single_connector_modes(k, c), 2);
                }
                drm_dev_put(k, drm, TEST);
                // The model's connector object goes with the detach's cleanup.
                assert!(c.is_none_or(|c| k.is_freed(c.obj())));
                drm_panel_bridge_remove(k, Some(b));
                drm_panel_remove(k, p);
                k.device_del(pdev);
                k.device_del(dev);
            });
            assert_clean(&k);
        }
    }
}

/// §5.11 through the legacy connector: the panel unbinds while its panel_bridge is still in
/// the chain; userspace asks the connector for its modes, and panel_bridge_connector_get_modes
/// reads the freed panel. With the panel reference proposal the panel's memory stays.
#[test]
fn legacy_connector_get_modes_reads_the_borrowed_panel() {
    fn scenario(rules: Rules) -> Kernel {
        run_rules(rules, |k| {
            let ch = panel_bridge_chain(k);
            let c =
                drm_connector_for_encoder(k, ch.drm, ch.enc).expect("the panel_bridge's connector");
            k.device_release_driver(ch.pdev);
            drm_helper_probe_single_connector_modes(k, c);
            ch.teardown(k);
        })
    }
    let k = scenario(Rules::for_release(Release::V7_1));
    assert_eq!(kinds(&k)[0], ViolationKind::UseAfterFree);
    let r = k.render(&k.violations()[0]);
    assert!(
        r.contains("struct test_panel panel") && r.contains("panel_bridge_connector_get_modes"),
        "{r}"
    );
    let k = scenario(Rules {
        panel_bridge_panel_ref: true,
        ..Rules::for_release(Release::V7_2)
    });
    assert!(
        !kinds(&k).contains(&ViolationKind::UseAfterFree),
        "{:?}",
        kinds(&k)
    );
}
