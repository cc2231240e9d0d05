//! Failure mode 5.2 as the driver that did it builds its pipeline: i.MX parallel-display's
//! component bind, per release. Up to v6.17 the bridge is a member of the struct
//! `drmm_simple_encoder_alloc` allocates, its funcs set by hand, attached to its encoder and
//! never added (v6.17:drivers/gpu/drm/imx/ipuv3/parallel-display.c:imx_pd_bind); from v6.18
//! `imx_pd_probe` allocates it with `devm_drm_bridge_alloc` and `devm_drm_bridge_add`s it
//! (v6.18:drivers/gpu/drm/imx/ipuv3/parallel-display.c:imx_pd_probe), and bind attaches it to a
//! plain drmm encoder. The imx-drm master around it (imx-drm-core.c, not in the corpus) is
//! reduced to what bind needs: a `drm_device` whose release runs the drmm actions. The next
//! bridge (the panel's, from `devm_drm_of_get_bridge`) is a test bridge.

use crate::common;

use std::rc::Rc;

use common::*;
use drm::bridge::*;
use drm::drv::drm_dev_put;
use drm::encoder::{drmm_encoder_alloc, DrmEncoder};
use drm::Release;
use kmodel::{Errno, Kernel, ViolationKind};

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR` (`BIT(0)` of `enum drm_bridge_attach_flags`).
const DRM_BRIDGE_ATTACH_NO_CONNECTOR: u32 = 1;

/// `imx_pd_bridge_funcs`: `.attach` attaches the next bridge after this one, with the flags
/// it was given (v6.17:drivers/gpu/drm/imx/ipuv3/parallel-display.c:imx_pd_bridge_attach);
/// `.atomic_reset` is set.
struct ImxPd {
    next: DrmBridge,
}

impl DrmBridgeFuncs for ImxPd {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        drm_bridge_attach(k, Some(enc), Some(self.next), Some(b), flags)
    }
    fn is_atomic(&self) -> bool {
        true
    }
}

/// Whether the release's parallel-display is the converted one (v6.18+). v6.15 and v6.16 have
/// no tree; v6.17's driver is still unconverted, so theirs is too.
fn converted(rel: Release) -> bool {
    rel >= Release::V6_18
}

/// Probe, then the master's bind, then the card's release: the pipeline's whole life.
fn pipeline(rel: Release, pd_converted: bool) -> Kernel {
    run(rel, move |k| {
        let log = new_log();
        let master = bare_device(k, "display-subsystem");
        let pd_dev = bare_device(k, "disp0");
        let panel_dev = bare_device(k, "panel");
        let panel = alloc(k, panel_dev, "panel_bridge", &log).bridge;
        drm_bridge_add(k, panel);
        let funcs = Rc::new(ImxPd { next: panel });
        let drm = drm::drv::drm_dev_alloc(k, master, "imx-drm", TEST);
        let (enc, bridge) = if pd_converted {
            // imx_pd_probe (v6.18+), then imx_pd_bind.
            let b = devm_drm_bridge_alloc(
                k,
                pd_dev,
                "struct imx_parallel_display",
                "disp0",
                Some(funcs),
                (),
            )
            .unwrap();
            devm_drm_bridge_add(k, pd_dev, b).unwrap();
            (drmm_encoder_alloc(k, drm, "disp0").unwrap(), b)
        } else {
            drmm_simple_encoder_alloc_with_bridge(
                k,
                drm,
                "struct imx_parallel_display_encoder",
                "disp0",
                Some(funcs),
                (),
            )
            .unwrap()
        };
        // The return value is not checked in the source.
        let _ = drm_bridge_attach(
            k,
            Some(enc),
            Some(bridge),
            None,
            DRM_BRIDGE_ATTACH_NO_CONNECTOR,
        );
        drm::bridge_connector::drm_bridge_connector_init(k, drm, enc).unwrap();
        drm_dev_put(k, drm, TEST);
        k.device_del(pd_dev);
        k.device_del(master);
        drm_bridge_remove(k, panel);
        k.device_del(panel_dev);
    })
}

/// Per release, with the driver of that release: "addition on 0" at attach in v6.17 only (the
/// core's attach reference, v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach), and the
/// detach's put on the saturated count at the card's release; clean before (no core
/// reference at attach) and after (converted).
#[test]
fn parallel_display_per_release() {
    for rel in Release::ALL {
        let k = pipeline(rel, converted(rel));
        let expect: &[ViolationKind] = if rel == Release::V6_17 {
            &[
                ViolationKind::RefcountAddOnZero,
                ViolationKind::RefcountUnderflow,
            ]
        } else {
            &[]
        };
        assert_eq!(kinds(&k), expect, "{rel}");
    }
}

/// The unconverted driver under a later core: the same refcount_t warnings (from v6.19 a second
/// pair, the bridge-connector's scoped chain loop getting and putting each bridge,
/// v6.19:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_init), and from
/// v6.19 the two DRM_WARN lines of attach (no container; never added), which are log lines,
/// not violations (v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach).
#[test]
fn unconverted_parallel_display_under_later_cores() {
    for rel in [Release::V6_18, Release::V6_19, Release::V7_1] {
        let k = pipeline(rel, false);
        let add_on_zero = of_kind(&k, ViolationKind::RefcountAddOnZero);
        let pairs = if rel >= Release::V6_19 { 2 } else { 1 };
        assert_eq!(add_on_zero.len(), pairs, "{rel}");
        assert_eq!(
            of_kind(&k, ViolationKind::RefcountUnderflow).len(),
            pairs,
            "{rel}"
        );
        assert_eq!(kinds(&k).len(), 2 * pairs, "{rel}: {:?}", kinds(&k));
        let in_connector_init = add_on_zero
            .iter()
            .filter(|v| k.render(v).contains("drm_bridge_connector_init"))
            .count();
        assert_eq!(in_connector_init, pairs - 1, "{rel}");
        let lines = log_lines(&k, "DRM_WARN");
        let warned = |m: &str| lines.iter().any(|l| l.contains(m));
        assert_eq!(
            warned("not allocated by devm_drm_bridge_alloc"),
            rel >= Release::V6_19,
            "{rel}: {lines:?}"
        );
        assert_eq!(
            warned("Missing drm_bridge_add() before attach"),
            rel >= Release::V6_19,
            "{rel}: {lines:?}"
        );
    }
}
