//! drm_device, drmm, bridge_connector, the probe helper path and the rules table.

use crate::common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use drm::bridge::*;
use drm::bridge_connector::drm_bridge_connector_init;
use drm::connector::{
    drm_helper_probe_detect, drm_helper_probe_single_connector_modes, ConnectorStatus,
};
use drm::drv::*;
use drm::managed::*;
use drm::{Release, Rules};
use kmodel::{Kernel, ViolationKind};

/// drmm actions run newest first at the final put, which may come long after the parent
/// device is gone (an open file holds the drm_device).
#[test]
fn drmm_actions_run_lifo_at_the_final_put() {
    let order = Rc::new(RefCell::new(Vec::new()));
    let o = order.clone();
    let k = run(Release::V7_2, move |k| {
        let parent = bare_device(k, "gpu");
        let drm = devm_drm_dev_alloc(k, parent, "card0").unwrap();
        for (i, name) in ["first", "second", "third"].into_iter().enumerate() {
            let o = o.clone();
            drmm_add_action(k, drm, "log", i as u64, move |_| o.borrow_mut().push(name)).unwrap();
        }
        let mem = drmm_kzalloc(k, drm, "struct x", "x", 5u32);
        drm_dev_get(k, drm, "open file");
        assert_eq!(drm_dev_refcount(k, drm), 2);
        k.device_del(parent); // devres put: 2 -> 1
        assert!(o.borrow().is_empty());
        assert!(!k.is_freed(mem));
        drm_dev_put(k, drm, "open file"); // 1 -> 0: release
        assert!(k.is_freed(mem) && k.is_freed(drm.obj()));
    });
    assert_clean(&k);
    assert_eq!(*order.borrow(), ["third", "second", "first"]);
}

/// drmm_release_action runs one action early, and WARNs when there is none.
#[test]
fn drmm_release_action_runs_once() {
    let n = Rc::new(RefCell::new(0));
    let n2 = n.clone();
    let k = run(Release::V7_2, move |k| {
        let parent = bare_device(k, "gpu");
        let drm = drm_dev_alloc(k, parent, "card0", TEST);
        drmm_add_action(k, drm, "count", 1, move |_| *n2.borrow_mut() += 1).unwrap();
        drmm_release_action(k, drm, "count", 1);
        drmm_release_action(k, drm, "count", 1);
        drm_dev_put(k, drm, TEST);
        k.device_del(parent);
    });
    assert_eq!(*n.borrow(), 1);
    assert_eq!(kinds(&k), [ViolationKind::Warn]);
}

/// drm_dev_enter succeeds until drm_dev_unplug, which also unregisters.
#[test]
fn drm_dev_enter_exit_unplug() {
    let k = run(Release::V7_2, |k| {
        let parent = bare_device(k, "gpu");
        let drm = drm_dev_alloc(k, parent, "card0", TEST);
        drm_dev_register(k, drm).unwrap();
        let idx = drm_dev_enter(k, drm).expect("plugged");
        drm_dev_exit(k, idx);
        drm_dev_unplug(k, drm);
        assert!(drm_dev_enter(k, drm).is_none());
        drm_dev_put(k, drm, TEST);
        k.device_del(parent);
    });
    assert_clean(&k);
}

struct Detecting(&'static str);
impl DrmBridgeFuncs for Detecting {
    fn detect(&self, _k: &Kernel, _b: DrmBridge) -> ConnectorStatus {
        ConnectorStatus::Connected
    }
    fn get_modes(&self, _k: &Kernel, _b: DrmBridge) -> u32 {
        self.0.len() as u32
    }
}

/// The bridge_connector keeps the last bridge offering each op; from v6.19 each stored
/// pointer is +1 until the final drm_dev_put, so a removed bridge lingers until then.
#[test]
fn bridge_connector_holds_references_until_drmm_release() {
    for (rel, counted) in [
        (Release::V6_18, false),
        (Release::V6_19, true),
        (Release::V7_2, true),
    ] {
        let k = run(rel, move |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let bdev = bare_device(k, "bridges");
            let mk = |name: &'static str| {
                let b = devm_drm_bridge_alloc(
                    k,
                    bdev,
                    "struct x",
                    name,
                    Some(Rc::new(Detecting(name))),
                    (),
                )
                .unwrap();
                k.write(b.obj(), |x| {
                    x.ops.detect = true;
                    x.ops.modes = true;
                });
                drm_bridge_add(k, b);
                b
            };
            let a = mk("A");
            let b = mk("BB");
            drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
            drm_bridge_attach(k, Some(enc), Some(b), Some(a), 0).unwrap();
            let c = drm_bridge_connector_init(k, drm, enc).unwrap();
            if counted {
                // The last bridge with each op wins; A's references were put again.
                assert_eq!(
                    owners(k, a),
                    ["chain of encoder-0", "devres of bridges", "published"]
                );
                assert_eq!(
                    owners(k, b),
                    [
                        "bridge_connector detect",
                        "bridge_connector modes",
                        "chain of encoder-0",
                        "devres of bridges",
                        "published"
                    ]
                );
            } else {
                assert_eq!(drm_bridge_refcount(k, b), 3);
            }
            assert_eq!(drm_helper_probe_detect(k, c), ConnectorStatus::Connected);
            assert_eq!(
                drm_helper_probe_single_connector_modes(k, c),
                2,
                "modes of BB"
            );
            drm_bridge_remove(k, a);
            drm_bridge_remove(k, b);
            k.device_del(bdev);
            drm::encoder::drm_encoder_cleanup(k, enc);
            if counted {
                assert!(!k.is_freed(b.obj()), "held by the bridge_connector");
                assert_eq!(drm_bridge_refcount(k, b), 2);
            }
            assert!(k.is_freed(a.obj()));
            drm_dev_put(k, drm, TEST);
            assert!(k.is_freed(b.obj()));
            k.device_del(dev);
        });
        assert_clean(&k);
    }
}

/// Releases parse and print as "v6.15"..."v7.2"; "v6.20" is v7.0.
#[test]
fn release_names_round_trip() {
    for r in Release::ALL {
        assert_eq!(r.to_string().parse::<Release>(), Ok(r));
    }
    assert_eq!("v6.20".parse::<Release>(), Ok(Release::V7_0));
    assert_eq!("6.19".parse::<Release>(), Ok(Release::V6_19));
    assert!("v6.14".parse::<Release>().is_err());
    assert_eq!(Release::V7_1.to_string(), "v7.1");
}

/// The table is cumulative except the add-time container warning (v6.17–v6.18 only), and
/// no release turns a proposal on.
#[test]
fn rules_table_shape() {
    assert_eq!(Rules::for_release(Release::V6_15), Rules::default());
    // The switches that are on, read from the Debug form ("name: true").
    let on = |r: Rules| -> std::collections::BTreeSet<String> {
        let r = Rules {
            warn_no_container_on_add: false,
            ..r
        };
        let d = format!("{r:?}");
        d.split([',', '{', '}'])
            .filter(|f| f.ends_with(": true"))
            .map(|f| f.trim().to_string())
            .collect()
    };
    let mut prev = on(Rules::default());
    for rel in Release::ALL {
        let r = Rules::for_release(rel);
        assert!(
            !r.panel_bridge_panel_ref
                && !r.core_enter_exit
                && !r.disable_pipeline_on_unplug
                && !r.private_obj_fini_locking
        );
        assert!(prev.is_subset(&on(r)), "{rel} drops a switch");
        prev = on(r);
        assert_eq!(
            r.warn_no_container_on_add,
            rel == Release::V6_17 || rel == Release::V6_18
        );
        assert_eq!(r.bridge_unplug, rel >= Release::V7_0);
        assert_eq!(r.chain_mutex, rel >= Release::V7_2);
        assert_eq!(r.lingering_list, rel >= Release::V6_19);
    }
    // The newest release has every switch on that is neither a proposal nor dropped.
    let want: std::collections::BTreeSet<String> = drm::Switch::ALL
        .into_iter()
        .filter(|s| !s.is_proposal() && s.until().is_none())
        .map(|s| format!("{s}: true"))
        .collect();
    assert_eq!(prev, want);
}
