//! `drivers/gpu/drm/bridge/fsl-ldb.c`: the i.MX8MP/i.MX93 LVDS display bridge, a platform
//! device inside the media block control syscon (real-pipelines.md §4.2 #12, §2.1 #5).
//!
//! Probe (`fsl_ldb_probe`, the same in every corpus release v6.17–v7.1): the container
//! (`devm_kzalloc` before v6.16, `devm_drm_bridge_alloc` after); the `ldb` clock; the parent
//! syscon's regmap; the remotes of ports 1 and 2 decide channel 0 / channel 1 / dual link
//! (`-ENXIO`, "No panel node found", without either); then **only a panel** is accepted:
//! `of_drm_find_panel` on the first remote (its error, `-EPROBE_DEFER` while no panel of that
//! node is registered, is the probe's), `devm_drm_panel_bridge_add` on this device into the raw
//! `fsl_ldb->panel_bridge`; `drm_bridge_add`. A bridge behind the LDB (an IT6263) is never
//! found, so the LDB stays deferred and its chain never binds. The driver stores no
//! `bridge->next_bridge` in any release (upstream.md §0.0). Remove: `drm_bridge_remove`.
//!
//! No v6.15, v6.16 or v7.2 tree exists; upstream.md names no fsl-ldb change for them, so they
//! follow the corpus driver (v6.15 with the pre-refcount container).
//! Omitted: PHY/LVDS register values, the termination resistor (v7.1), the dual-link pixel
//! order check (`-EINVAL` for even/odd), clock rates, the i.MX93 variant data.

use std::rc::Rc;

use drm::bridge::panel::devm_drm_panel_bridge_add;
use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_priv, drm_bridge_priv_mut, DrmBridge,
    DrmBridgeFuncs,
};
use drm::encoder::DrmEncoder;
use drm::panel::of_drm_find_panel;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, remove_bridge};
use crate::graph::remote_node;
use crate::variant::variant;

/// `-ENXIO` (not among kmodel's named errnos).
const ENXIO: Errno = Errno(6);

pub const COMPATIBLE: &[&str] = &["fsl,imx8mp-ldb", "fsl,imx93-ldb"];

/// `struct fsl_ldb`.
struct FslLdb {
    /// `fsl_ldb->panel_bridge`: a raw pointer to the panel bridge added on this device.
    panel_bridge: Option<DrmBridge>,
    clk: Option<Hw>,
    regmap: Option<Hw>,
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    // cite: v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_attach
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("fsl_ldb_attach");
        let next = drm_bridge_priv::<FslLdb, _>(k, b, |p| p.panel_bridge);
        drm_bridge_attach(k, Some(enc), next, Some(b), flags)
    }
    // cite: v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_atomic_enable
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("fsl_ldb_atomic_enable");
        let (clk, regmap) = drm_bridge_priv::<FslLdb, _>(k, b, |p| (p.clk, p.regmap));
        if let Some(c) = clk {
            k.hw_enable(c);
        }
        if let Some(r) = regmap {
            k.hw_access(r, "regmap_write(LDB_CTRL)");
            k.hw_access(r, "regmap_write(LVDS_CTRL)");
        }
    }
    // cite: v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_atomic_disable
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("fsl_ldb_atomic_disable");
        let (clk, regmap) = drm_bridge_priv::<FslLdb, _>(k, b, |p| (p.clk, p.regmap));
        if let Some(r) = regmap {
            k.hw_access(r, "regmap_write(LVDS_CTRL, 0)");
            k.hw_access(r, "regmap_write(LDB_CTRL, 0)");
        }
        if let Some(c) = clk {
            k.hw_disable(c);
        }
    }
}

/// The driver model.
pub struct FslLdbDriver;

impl Driver for FslLdbDriver {
    fn name(&self) -> &'static str {
        "fsl-ldb"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    // cite: v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_probe
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("fsl_ldb_probe");
        let v = variant(k, COMPATIBLE);
        let p = FslLdb {
            panel_bridge: None,
            clk: None,
            regmap: None,
        };
        let b = alloc_bridge(k, dev, v, "struct fsl_ldb", Rc::new(Funcs), p)?;
        // devm_clk_get(dev, "ldb"); syscon_node_to_regmap(dev->of_node->parent)
        let clk = k.devm_hw_get(dev, HwKind::Gpio, "ldb clk");
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "syscon regmap");
        let remote1 = remote_node(k, dev, 1, 0);
        let remote2 = remote_node(k, dev, 2, 0);
        let Some(panel_node) = remote1.or(remote2) else {
            // "No panel node found"
            return Err(ENXIO);
        };
        // Only a panel: a bridge at panel_node leaves this at -EPROBE_DEFER in every release.
        let panel = of_drm_find_panel(k, panel_node)?;
        let panel_bridge = devm_drm_panel_bridge_add(k, dev, panel)?;
        drm_bridge_priv_mut::<FslLdb, _>(k, b, |p| {
            p.panel_bridge = Some(panel_bridge);
            p.clk = Some(clk);
            p.regmap = Some(regmap);
        });
        k.dev_set_drvdata(dev, Some(b.obj()));
        drm_bridge_add(k, b);
        Ok(())
    }
    // cite: v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_remove
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("fsl_ldb_remove");
        remove_bridge(k, dev, false);
    }
}
