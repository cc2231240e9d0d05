//! The bridge driver models of issue 5 item 1 booted on small test trees: deferral while the
//! next element (or the supplier) is missing, binding once it appears, the refcount owners of
//! each bridge under an early (v6.15) and a late (v7.2) release, a clean full teardown, and the
//! known lifetime windows of the drivers' eras.

use crate::common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use common::*;
use drm::connector::drm_helper_probe_single_connector_modes;
use drm::rules::Release;
use kmodel::ViolationKind;

/// One driver test: a tree, the drivers registered late, the devices that must defer until
/// then and bind after, what to unbind first at teardown, whose bridge owners to report.
struct Case {
    name: &'static str,
    dts: &'static str,
    late: &'static [&'static str],
    deferred: &'static [&'static str],
    first: &'static [&'static str],
    owners_of: &'static [&'static str],
    /// Description overrides (compatible, `DRIVER/RELEASE`).
    descriptions: &'static [(&'static str, &'static str)],
}

type Owners = BTreeMap<String, Vec<String>>;

/// Boot the case under `release`, check deferral and binding, record owners, tear down and
/// check that nothing was reported (leaks included).
fn run_case(c: &'static Case, release: Release) -> Owners {
    let out: Rc<RefCell<Owners>> = Rc::default();
    let o = out.clone();
    let k = boot_with(
        release,
        compile(c.name, c.dts),
        c.late,
        c.descriptions,
        move |k| {
            for p in c.deferred {
                assert!(deferred(k, p), "{}: {p} defers before {:?}", c.name, c.late);
            }
            register_late(k, c.late);
            k.driver_deferred_probe_trigger();
            for p in c.deferred {
                assert!(
                    bound(k, p),
                    "{}: {p} binds once {:?} is there",
                    c.name,
                    c.late
                );
            }
            for p in c.owners_of {
                o.borrow_mut().insert(p.to_string(), owners(k, p));
            }
            unbind_all(k, c.first);
        },
    );
    assert_clean(&k, &format!("{} under {release}", c.name));
    let r = out.borrow().clone();
    r
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// lontium,lt8912b: LCDIF → samsung-dsim → LT8912B (I2C) → hdmi-connector (no DDC, so LT8912B is
// the bridge connector's EDID bridge and reads through its stored hdmi_port).

const LT8912B: &str = include_str!("data/lt8912b.dts");

const LCDIF: &str = "/soc/lcdif@32e80000";
const LT: &str = "/soc/i2c@30a30000/hdmi@48";
const CONN: &str = "/hdmi-connector";

static LT8912B_CASE: Case = Case {
    name: "lt8912b.dts",
    dts: LT8912B,
    late: &["display-connector"],
    // LT8912B waits for its hdmi-connector bridge; LCDIF for the DSIM bridge, which is only
    // added when LT8912B attaches its DSI device.
    deferred: &[LT, LCDIF],
    first: &[LCDIF],
    owners_of: &[LT, CONN],
    descriptions: &[],
};

#[test]
fn lt8912b_binds_and_owners() {
    let early = run_case(&LT8912B_CASE, Release::V6_15);
    // v6.15: devm_kzalloc containers, no refcount at all.
    assert_eq!(early[LT], Vec::<String>::new());
    assert_eq!(early[CONN], Vec::<String>::new());
    let late = run_case(&LT8912B_CASE, Release::V7_2);
    // v7.2: the DSIM holds LT8912B in next_bridge, LT8912B holds the connector in its
    // next_bridge (the v7.0 conversion), the bridge connector holds each for the op it serves.
    assert_eq!(
        late[LT],
        // The hdmi-connector has neither a DDC bus nor an HPD GPIO, so no OP_DETECT
        // (v7.1:drivers/gpu/drm/bridge/display-connector.c:display_connector_probe): this
        // bridge is the bridge connector's detect bridge.
        s(&[
            "bridge_connector detect",
            "bridge_connector edid",
            "chain of encoder-0",
            "devres of /soc/i2c@30a30000/hdmi@48",
            "next_bridge of /soc/dsi@32e60000",
            "published",
        ])
    );
    assert_eq!(
        late[CONN],
        s(&[
            "chain of encoder-0",
            "devres of /hdmi-connector",
            "next_bridge of /soc/i2c@30a30000/hdmi@48",
            "published",
        ])
    );
}

/// real-pipelines.md §4.2 #4: `lt->hdmi_port` is a raw pointer to the display-connector's
/// bridge. Unbind the connector, then read the EDID through LT8912B (its connector's
/// get_modes): before v6.17 the connector's container was freed at unbind, a use-after-free
/// on that object. From v6.17 the encoder chain holds a reference (attach/detach refs), so the
/// memory stays, and from v7.0 LT8912B holds its own (next_bridge).
fn lt8912b_edid_after_connector_unbind(release: Release) -> (Vec<(ViolationKind, bool)>, u32) {
    let conn_obj: Rc<RefCell<Option<kmodel::ObjId>>> = Rc::default();
    let c2 = conn_obj.clone();
    let modes = Rc::new(RefCell::new(0));
    let m2 = modes.clone();
    let k = boot(release, compile("lt8912b.dts", LT8912B), &[], move |k| {
        assert!(bound(k, LT));
        *c2.borrow_mut() = Some(bridge(k, CONN).obj().id());
        k.device_del(dev(k, CONN).unwrap());
        *m2.borrow_mut() = drm::bridge::drm_bridge_edid_read(k, bridge(k, LT));
        unbind_all(k, &[LCDIF]);
    });
    let obj = conn_obj.borrow().unwrap();
    let v = k
        .violations()
        .iter()
        .map(|v| (v.kind, v.obj == Some(obj)))
        .collect();
    let m = *modes.borrow();
    (v, m)
}

#[test]
fn lt8912b_hdmi_port_window() {
    for r in [Release::V6_15, Release::V6_16] {
        let (v, _) = lt8912b_edid_after_connector_unbind(r);
        assert_eq!(
            v.first(),
            Some(&(ViolationKind::UseAfterFree, true)),
            "{r}: LT8912B reads the freed display-connector bridge: {v:?}"
        );
    }
    for r in [Release::V6_17, Release::V6_19, Release::V7_0, Release::V7_2] {
        let (v, modes) = lt8912b_edid_after_connector_unbind(r);
        assert!(v.is_empty(), "{r}: {v:?}");
        // The connector offered no EDID op (no ddc-i2c-bus), so no modes, but no fault.
        assert_eq!(modes, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// lontium,lt9611: samsung-dsim → LT9611 (I2C, reset GPIO, HPD IRQ) port 2 → hdmi-connector.

const LT9611: &str = include_str!("data/lt9611.dts");

const LT9611_DEV: &str = "/soc/i2c@30a30000/hdmi-bridge@3b";
const HDMI_OUT: &str = "/hdmi-out";

static LT9611_CASE: Case = Case {
    name: "lt9611.dts",
    dts: LT9611,
    late: &["display-connector"],
    deferred: &[LT9611_DEV, LCDIF],
    first: &[LCDIF],
    owners_of: &[LT9611_DEV, HDMI_OUT],
    // A bridge_connector display controller (the LCDIF as v7.2 migrated it): the LCDIF of
    // v6.17-v7.1 attaches with flags 0, which LT9611 passes on to the display-connector, which
    // refuses it (lt9611_legacy_lcdif_cannot_attach_the_hdmi_connector).
    descriptions: &[("fsl,imx8mp-lcdif", "lcdif/v7.2")],
};

#[test]
fn lt9611_binds_and_owners() {
    let early = run_case(&LT9611_CASE, Release::V6_15);
    assert_eq!(early[LT9611_DEV], Vec::<String>::new());
    let late = run_case(&LT9611_CASE, Release::V7_2);
    // v7.2: next_bridge via of_drm_get_bridge_by_endpoint (the v7.2 conversion). LT9611 sets
    // DRM_BRIDGE_OP_MODES besides OP_EDID (v7.1:drivers/gpu/drm/bridge/lontium-lt9611.c:lt9611_probe),
    // so the bridge connector holds it for modes too.
    assert_eq!(
        late[LT9611_DEV],
        // /hdmi-out has neither a DDC bus nor an HPD GPIO, so no OP_DETECT
        // (v7.1:drivers/gpu/drm/bridge/display-connector.c:display_connector_probe): LT9611 is
        // the bridge connector's detect bridge.
        s(&[
            "bridge_connector detect",
            "bridge_connector edid",
            "bridge_connector hdmi",
            "bridge_connector hpd",
            "bridge_connector modes",
            "chain of encoder-0",
            "devres of /soc/i2c@30a30000/hdmi-bridge@3b",
            "next_bridge of /soc/dsi@32e60000",
            "published",
        ])
    );
    assert_eq!(
        late[HDMI_OUT],
        s(&[
            "chain of encoder-0",
            "devres of /hdmi-out",
            "next_bridge of /soc/i2c@30a30000/hdmi-bridge@3b",
            "published",
        ])
    );
}

/// The LCDIF of v6.17-v7.1 attaches its first bridge with flags 0
/// (v7.1:drivers/gpu/drm/mxsfb/lcdif_drv.c:lcdif_attach_bridge); LT9611 passes them on
/// (v7.1:drivers/gpu/drm/bridge/lontium-lt9611.c:lt9611_bridge_attach) and the hdmi-connector
/// refuses an attach without DRM_BRIDGE_ATTACH_NO_CONNECTOR
/// (v7.1:drivers/gpu/drm/bridge/display-connector.c:display_connector_attach): the LCDIF's
/// probe fails, every bridge stays bound. The bridge_connector LCDIF (v7.2) binds.
#[test]
fn lt9611_legacy_lcdif_cannot_attach_the_hdmi_connector() {
    for (r, lcdif_binds) in [(Release::V7_1, false), (Release::V7_2, true)] {
        let k = boot(r, compile("lt9611.dts", LT9611), &[], move |k| {
            k.driver_deferred_probe_trigger();
            assert!(bound(k, LT9611_DEV), "{r}: LT9611 binds");
            assert!(bound(k, HDMI_OUT), "{r}: the hdmi-connector binds");
            assert_eq!(bound(k, LCDIF), lcdif_binds, "{r}: LCDIF bound");
            unbind_all(k, &[LCDIF]);
        });
        assert_clean(&k, &format!("lt9611 with the {r} LCDIF"));
    }
}

/// LT9611's remove disables its IRQ before `drm_bridge_remove`; devres frees it afterwards.
/// An HPD interrupt fired while bound runs the handler; after unbind it is not delivered.
#[test]
fn lt9611_hpd_irq_then_unbind_is_clean() {
    for r in [Release::V6_15, Release::V7_2] {
        let k = boot(r, compile("lt9611.dts", LT9611), &[], |k| {
            let d = dev(k, LT9611_DEV).unwrap();
            let irq = drivers::registry::hpd_irq(k, d).expect("HPD IRQ");
            let t = k.fire_irq(irq).expect("delivered while bound");
            k.join(t);
            unbind_all(k, &[LCDIF]);
            assert!(k.fire_irq(irq).is_none(), "not delivered after unbind");
        });
        assert_clean(&k, &format!("lt9611 {r}"));
    }
}

// ---------------------------------------------------------------------------------------------
// toshiba,tc358762: a DSI-bus child of samsung-dsim → panel-simple (power from a regulator).

const TC358762: &str = include_str!("data/tc358762.dts");

const TC: &str = "/soc/dsi@32e60000/bridge@0";
const DSIM: &str = "/soc/dsi@32e60000";

static TC358762_CASE: Case = Case {
    name: "tc358762.dts",
    dts: TC358762,
    late: &["panel-simple"],
    deferred: &[TC, LCDIF],
    // TC358762 before the panel: its panel bridge lives on the panel's devres but is removed by
    // TC358762's devres. Unbinding the panel first is a use-after-free in the pre-refcount era
    // (the panel_bridge two-device lifetime, real-pipelines.md §4.2 #10); see
    // `tc358762_panel_first_window`.
    first: &[LCDIF, TC],
    owners_of: &[TC, DSIM],
    descriptions: &[],
};

#[test]
fn tc358762_binds_and_owners() {
    let early = run_case(&TC358762_CASE, Release::V6_15);
    assert_eq!(early[TC], Vec::<String>::new());
    let late = run_case(&TC358762_CASE, Release::V7_2);
    // The DSIM (host-attach pattern) holds TC358762 in next_bridge; the LCDIF holds the DSIM
    // only through the chain.
    assert_eq!(
        late[TC],
        s(&[
            "chain of encoder-0",
            "devres of /soc/dsi@32e60000/bridge@0",
            "next_bridge of /soc/dsi@32e60000",
            "published",
        ])
    );
    assert_eq!(
        late[DSIM],
        s(&[
            "chain of encoder-0",
            "devres of /soc/dsi@32e60000",
            "published"
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// fsl,imx8mp-ldb → ite,it6263 → hdmi-connector (real-pipelines.md §2.1 #5). The LDB sits under
// a simple-bus here: on the real board it is a child of the media blk-ctrl syscon, which the
// kernel model does not populate (see corpus_boot.rs). fsl-ldb accepts only a panel
// (v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_probe: `of_drm_find_panel` on the first
// remote, its error returned), so with an IT6263 behind it the LDB defers for good, and the
// LCDIF with it, in every release; the IT6263 and the connector bind.

const LDB_IT6263: &str = include_str!("data/ldb-it6263.dts");

const LCDIF2: &str = "/soc/lcdif@32e90000";
const LDB: &str = "/soc/bridge@5c";
const IT: &str = "/soc/i2c@30a30000/hdmi@4c";

#[test]
fn fsl_ldb_defers_behind_it6263() {
    for release in Release::ALL {
        let k = boot(
            release,
            compile("ldb-it6263.dts", LDB_IT6263),
            &["display-connector"],
            move |k| {
                for p in [IT, LDB, LCDIF2] {
                    assert!(
                        deferred(k, p),
                        "{p} defers before the connector under {release}"
                    );
                }
                register_late(k, &["display-connector"]);
                k.driver_deferred_probe_trigger();
                assert!(
                    bound(k, IT),
                    "the IT6263 binds once its connector is there ({release})"
                );
                assert!(bound(k, CONN), "the connector binds ({release})");
                for p in [LDB, LCDIF2] {
                    assert!(deferred(k, p), "{p} stays deferred under {release}");
                }
                unbind_all(k, &[]);
            },
        );
        assert_clean(&k, &format!("ldb-it6263.dts under {release}"));
    }
}

// ---------------------------------------------------------------------------------------------
// adi,adv7535: samsung-dsim → ADV7535 (I2C, registers its DSI device, HPD IRQ) → hdmi-connector.

const ADV7535: &str = include_str!("data/adv7535.dts");

const ADV: &str = "/soc/i2c@30a30000/hdmi@3d";

static ADV_CASE: Case = Case {
    name: "adv7535.dts",
    dts: ADV7535,
    late: &["display-connector"],
    deferred: &[ADV, LCDIF],
    first: &[LCDIF],
    owners_of: &[ADV, DSIM, CONN],
    descriptions: &[],
};

#[test]
fn adv7535_binds_and_owners() {
    let early = run_case(&ADV_CASE, Release::V6_15);
    assert_eq!(early[ADV], Vec::<String>::new());
    let late = run_case(&ADV_CASE, Release::V7_2);
    assert_eq!(
        late[ADV],
        // The hdmi-connector has neither a DDC bus nor an HPD GPIO, so no OP_DETECT
        // (v7.1:drivers/gpu/drm/bridge/display-connector.c:display_connector_probe): this
        // bridge is the bridge connector's detect bridge.
        s(&[
            "bridge_connector detect",
            "bridge_connector edid",
            "bridge_connector hdmi",
            "bridge_connector hpd",
            "chain of encoder-0",
            "devres of /soc/i2c@30a30000/hdmi@3d",
            "next_bridge of /soc/dsi@32e60000",
            "published",
        ])
    );
    assert_eq!(
        late[CONN],
        s(&[
            "chain of encoder-0",
            "devres of /hdmi-connector",
            "next_bridge of /soc/i2c@30a30000/hdmi@3d",
            "published",
        ])
    );
}

#[test]
fn detect_through_bridge_connector() {
    // Detect and get_modes over the whole LT9611 pipeline, then a clean teardown.
    let k = boot(Release::V7_2, compile("lt9611.dts", LT9611), &[], |k| {
        let pipe = drivers::display::display_pipes(k)[0];
        let n = drm_helper_probe_single_connector_modes(k, pipe.connector.unwrap());
        assert_eq!(n, 1);
        unbind_all(k, &[LCDIF]);
    });
    assert_clean(&k, "lt9611 detect");
}

/// The panel unbinds before TC358762: in v6.15 the panel bridge's memory is the panel's
/// devm_kzalloc, freed at the panel's unbind, and TC358762's devres then removes it: a
/// use-after-free. From v6.17 the panel bridge is refcounted (devm_drm_bridge_alloc on the panel
/// device, published and chain references), so the late remove finds live memory.
#[test]
fn tc358762_panel_first_window() {
    let run = |r: Release| {
        let k = boot(r, compile("tc358762.dts", TC358762), &[], |k| {
            unbind_all(k, &[LCDIF]);
        });
        kinds(&k.violations())
    };
    assert_eq!(
        run(Release::V6_15).first(),
        Some(&ViolationKind::UseAfterFree)
    );
    assert_eq!(run(Release::V7_2), vec![]);
}

/// adv7511's remove does not cancel `hpd_work` (data/adv7511, adv7511_remove). An HPD interrupt queues the
/// work; ADV7535 unbinds while the display controller still holds the chain; then the work
/// runs. v6.15: the work lived in the freed devm_kzalloc container, a use-after-free of the work.
/// v7.2: the container is alive (chain reference), and the work touches the regmap of an
/// unbound device.
#[test]
fn adv7535_hpd_work_after_unbind() {
    let run = |r: Release| {
        let k = boot(r, compile("adv7535.dts", ADV7535), &[], |k| {
            let d = dev(k, ADV).unwrap();
            let irq = drivers::registry::hpd_irq(k, d).expect("HPD IRQ");
            let t = k.fire_irq(irq).expect("delivered");
            k.join(t);
            k.device_del(d);
            for t in k.run_queued_work() {
                k.join(t);
            }
            unbind_all(k, &[LCDIF]);
        });
        let v = k.violations();
        let first = v.first().expect("a violation");
        (first.kind, k.describe(first.obj.expect("an object")))
    };
    let (kind, obj) = run(Release::V6_15);
    assert_eq!(kind, ViolationKind::UseAfterFree);
    assert!(obj.contains("hpd_work"), "{obj}");
    let (kind, obj) = run(Release::V7_2);
    assert_eq!(kind, ViolationKind::HwAfterUnplug);
    assert!(obj.contains("hdmi@3d regmap"), "{obj}");
}

// ---------------------------------------------------------------------------------------------
// fsl,imx8mp-ldb → panel-lvds: the LDB wraps the panel in a panel bridge on its own device.

const LDB_PANEL: &str = include_str!("data/ldb-panel.dts");

static LDB_PANEL_CASE: Case = Case {
    name: "ldb-panel.dts",
    dts: LDB_PANEL,
    late: &["panel-lvds"],
    deferred: &[LDB, LCDIF2],
    // The LDB before the panel: the panel bridge is removed by the LDB's devres.
    first: &[LCDIF2, LDB],
    owners_of: &[LDB],
    descriptions: &[],
};

#[test]
fn fsl_ldb_panel_binds_and_owners() {
    let early = run_case(&LDB_PANEL_CASE, Release::V6_15);
    assert_eq!(early[LDB], Vec::<String>::new());
    let late = run_case(&LDB_PANEL_CASE, Release::V7_2);
    assert_eq!(
        late[LDB],
        s(&[
            "chain of encoder-0",
            "devres of /soc/bridge@5c",
            "published"
        ])
    );
}

/// tc358762_post_disable runs only after a pre_enable (`ctx->pre_enabled`,
/// v7.1:drivers/gpu/drm/bridge/tc358762.c:tc358762_post_disable): a post_disable with no
/// pre_enable before it, and a second one after it, leave the vddc supply alone, so the chain
/// can call it any number of times without unbalancing the regulator. Without the flag the
/// first call would disable a supply nobody enabled: a double release.
#[test]
fn tc358762_post_disable_only_after_pre_enable() {
    for r in [Release::V6_15, Release::V7_2] {
        let k = boot(r, compile("tc358762.dts", TC358762), &[], |k| {
            let enc = drivers::display::display_pipes(k)[0].encoder;
            drm::atomic::drm_atomic_bridge_chain_post_disable(k, enc);
            drm::atomic::drm_atomic_bridge_chain_pre_enable(k, enc);
            drm::atomic::drm_atomic_bridge_chain_post_disable(k, enc);
            drm::atomic::drm_atomic_bridge_chain_post_disable(k, enc);
            unbind_all(k, &[LCDIF, TC]);
        });
        assert_clean(&k, &format!("tc358762 post_disable {r}"));
    }
}

/// adv7511 sets DRM_BRIDGE_OP_HPD only when its node has an interrupt
/// (v7.1:drivers/gpu/drm/bridge/adv7511/adv7511_drv.c:adv7511_probe): with one, the bridge
/// connector holds it as its HPD bridge and the interrupt is requested; without, neither.
#[test]
fn adv7535_hpd_op_only_with_an_interrupt() {
    let without: &'static str = Box::leak(
        ADV7535
            .lines()
            .filter(|l| !l.contains("interrupts = <9 8>;") && !l.contains("interrupt-parent"))
            .collect::<Vec<_>>()
            .join("\n")
            .into_boxed_str(),
    );
    for (src, hpd) in [(ADV7535, true), (without, false)] {
        let seen: Rc<RefCell<(bool, bool)>> = Rc::default();
        let s2 = seen.clone();
        let k = boot(Release::V7_2, compile("adv7535.dts", src), &[], move |k| {
            let d = dev(k, ADV).unwrap();
            let held = owners(k, ADV).contains(&"bridge_connector hpd".to_string());
            *s2.borrow_mut() = (held, drivers::registry::hpd_irq(k, d).is_some());
            unbind_all(k, &[LCDIF]);
        });
        assert_clean(&k, "adv7535 hpd op");
        assert_eq!(*seen.borrow(), (hpd, hpd), "interrupt described: {hpd}");
    }
}

// ---------------------------------------------------------------------------------------------
// The LCDIF's endpoint loop (v7.1:drivers/gpu/drm/mxsfb/lcdif_drv.c:lcdif_attach_bridge): one
// devres encoder per endpoint whose remote is available (panel-c is disabled: skipped), each
// attached to its own panel_bridge. Attached with flags 0 (v6.17-v7.1), each panel_bridge makes
// the pipeline's connector; v7.2's LCDIF makes a drm_bridge_connector per encoder.

const LCDIF_TWO_PANELS: &str = include_str!("data/lcdif-two-panels.dts");

#[test]
fn lcdif_makes_one_pipeline_per_available_endpoint() {
    for r in [Release::V7_1, Release::V7_2] {
        let k = boot(
            r,
            compile("lcdif-two-panels.dts", LCDIF_TWO_PANELS),
            &[],
            move |k| {
                k.driver_deferred_probe_trigger();
                assert!(bound(k, LCDIF), "{r}: LCDIF bound");
                let pipes = drivers::display::display_pipes(k);
                assert_eq!(pipes.len(), 2, "{r}: {pipes:?}");
                for p in &pipes {
                    let c = p.connector.expect("a connector per pipeline");
                    let name = k.peek(c.obj(), |x| x.name.clone());
                    let legacy = name.starts_with("panel_bridge");
                    assert_eq!(legacy, r < Release::V7_2, "{r}: {name}");
                    drm_helper_probe_single_connector_modes(k, c);
                }
                unbind_all(k, &[LCDIF]);
            },
        );
        assert_clean(&k, &format!("lcdif-two-panels under {r}"));
    }
}
