//! The panels as data (crates/drivers/data/panel-*): runtime PM in panel-simple, and what each
//! driver's remove does with a panel still prepared.

use drm::panel::{drm_panel_prepare, drm_panel_unprepare, of_drm_find_panel};
use drm::rules::Release;
use kmodel::{Kernel, ViolationKind};

use crate::common::{boot, compile, dev, kinds, unbind_all};

const PANELS: &str = r#"
/dts-v1/;
/ {
    reg_lcd: regulator-lcd { compatible = "regulator-fixed"; regulator-name = "lcd"; };
    simple {
        compatible = "powertip,ph800480t013-idf02";
        power-supply = <&reg_lcd>;
    };
    lvds {
        compatible = "mitsubishi,aa104xd12", "panel-lvds";
        power-supply = <&reg_lcd>;
        data-mapping = "jeida-18";
        panel-timing { clock-frequency = <65000000>; hactive = <1024>; vactive = <768>; };
    };
    no-timing {
        compatible = "panel-lvds";
        data-mapping = "jeida-18";
    };
};
"#;

fn prepare(k: &Kernel, path: &str) {
    let n = k.of_tree_peek(|t| t.of_find_node_by_path(path)).unwrap();
    let p = of_drm_find_panel(k, n).unwrap_or_else(|e| panic!("{path}: no panel ({e:?})"));
    drm_panel_prepare(k, p).unwrap();
}

fn unprepare(k: &Kernel, path: &str) {
    let n = k.of_tree_peek(|t| t.of_find_node_by_path(path)).unwrap();
    drm_panel_unprepare(k, of_drm_find_panel(k, n).unwrap()).unwrap();
}

/// The panel's device is physically gone (`hw_mark_gone`), then `body`: the hardware
/// accesses of the panel's power after that are what the run reports.
fn after_unplug(path: &'static str, body: fn(&Kernel, &'static str)) -> Vec<ViolationKind> {
    let k = boot(
        Release::V7_1,
        compile("panels.dts", PANELS),
        &[],
        move |k| {
            prepare(k, path);
            body(k, path);
            unbind_all(k, &[]);
        },
    );
    kinds(&k.violations())
}

/// panel_simple_unprepare only drops the runtime PM reference: the supply goes off when the
/// autosuspend timer runs (v6.17:drivers/gpu/drm/panel/panel-simple.c:panel_simple_unprepare),
/// not before.
#[test]
fn panel_simple_powers_down_at_autosuspend() {
    let waits = after_unplug("/simple", |k, path| {
        unprepare(k, path);
        k.hw_mark_gone(dev(k, path).unwrap());
        assert!(
            k.violations().is_empty(),
            "nothing touched before the timer"
        );
        // Delete the panel while the timer is pending: remove suspends it at once.
        k.device_del(dev(k, path).unwrap());
    });
    assert!(waits.contains(&ViolationKind::HwAfterUnplug), "{waits:?}");
    let timer = after_unplug("/simple", |k, path| {
        unprepare(k, path);
        k.hw_mark_gone(dev(k, path).unwrap());
        for t in k.run_queued_work() {
            k.join(t);
        }
        assert!(
            kinds(&k.violations()).contains(&ViolationKind::HwAfterUnplug),
            "the timer's panel_simple_suspend touches the gone supply"
        );
    });
    assert!(timer.contains(&ViolationKind::HwAfterUnplug));
}

/// Removed while prepared: panel-simple's remove powers the panel down (panel_simple_shutdown,
/// then pm_runtime_dont_use_autosuspend), panel-lvds's only calls drm_panel_disable
/// (v6.17:drivers/gpu/drm/panel/panel-lvds.c:panel_lvds_remove), so it touches nothing.
#[test]
fn remove_of_a_prepared_panel() {
    let gone_then_removed = |k: &Kernel, path: &'static str| {
        let d = dev(k, path).unwrap();
        k.hw_mark_gone(d);
        k.device_del(d);
    };
    assert!(after_unplug("/simple", gone_then_removed).contains(&ViolationKind::HwAfterUnplug));
    assert_eq!(after_unplug("/lvds", gone_then_removed), vec![]);
}

/// panel-lvds needs its `panel-timing` child (panel_lvds_parse_dt): without it the probe fails.
#[test]
fn panel_lvds_without_timings_does_not_bind() {
    let k = boot(Release::V7_1, compile("panels.dts", PANELS), &[], |k| {
        assert!(!crate::common::bound(k, "/no-timing"));
        assert!(crate::common::bound(k, "/lvds"));
        assert!(crate::common::bound(k, "/simple"));
        unbind_all(k, &[]);
    });
    assert_eq!(kinds(&k.violations()), vec![]);
}
