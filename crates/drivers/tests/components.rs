//! The component framework as the imx-drm aggregate uses it (crates/drivers/src/component.rs,
//! crates/drivers/data/imx-drm-core and parallel-display), on the i.MX6 board of the catalog:
//! the master binds the card only once its component (the parallel display, which defers until
//! its panel binds) has called component_add; removing the component takes the card down,
//! adding it again brings it back; removing the master first leaves the component added.

use crate::common;

use common::*;
use drivers::display::display_pipes;
use drm::rules::Release;
use kmodel::{Kernel, ViolationKind};

const BOARD: &str = include_str!("../../../scenarios/boards/imx6q-parallel-display.dts");

/// The registered pipelines' controller nodes.
fn pipes(k: &Kernel) -> Vec<String> {
    display_pipes(k)
        .iter()
        .map(|p| k.of_tree_peek(|t| t.full_name(p.node)))
        .collect()
}

#[test]
fn the_master_binds_when_its_component_is_added_and_unbinds_when_it_is_removed() {
    for release in [Release::V6_17, Release::V7_1] {
        let k = boot(
            release,
            compile("imx6q-parallel-display.dts", BOARD),
            &["panel-simple"],
            move |k| {
                // The master probed (drm_of_component_probe binds nothing by itself); the
                // parallel display defers until its panel is there: no card yet.
                assert!(bound(k, "/display-subsystem"), "{release}");
                assert!(deferred(k, "/disp0"), "{release}");
                assert!(pipes(k).is_empty(), "{release}");
                // The panel binds, the parallel display's deferred probe adds the component,
                // which completes the match: imx_drm_bind registers the card.
                register_late(k, &["panel-simple"]);
                assert!(bound(k, "/disp0"), "{release}");
                assert_eq!(pipes(k), ["/display-subsystem"], "{release}");
                // component_del takes the aggregate down (imx_drm_unbind); binding the
                // component again brings the card back.
                let pd = dev(k, "/disp0").unwrap();
                k.device_release_driver(pd);
                assert!(pipes(k).is_empty(), "{release}");
                assert!(k.device_attach(pd), "{release}");
                assert_eq!(pipes(k), ["/display-subsystem"], "{release}");
                // The master goes first: the card goes, the component stays bound.
                k.device_release_driver(dev(k, "/display-subsystem").unwrap());
                assert!(pipes(k).is_empty(), "{release}");
                assert!(bound(k, "/disp0"), "{release}");
                unbind_all(k, &[]);
            },
        );
        // v6.17's unconverted parallel display: each of its two binds attaches a container-less,
        // never-added bridge (addition on 0) that the card's release puts (underflow); the
        // converted driver of v7.1 is clean.
        let got = kinds(&k.violations());
        if release == Release::V6_17 {
            assert_eq!(
                got,
                [
                    ViolationKind::RefcountAddOnZero,
                    ViolationKind::RefcountUnderflow,
                    ViolationKind::RefcountAddOnZero,
                    ViolationKind::RefcountUnderflow,
                ],
                "{release}"
            );
        } else {
            assert_clean(&k, &format!("{release}"));
        }
    }
}
