//! `drivers/gpu/drm/bridge/fsl-ldb.c`: the i.MX8MP/i.MX93 LVDS display bridge, a platform
//! device inside the media block control syscon (real-pipelines.md §4.2 #12, §2.1 #5).
//!
//! Probe (`fsl_ldb_probe`): the container (`devm_kzalloc` before v6.16, `devm_drm_bridge_alloc`
//! after); the `ldb` clock; the parent syscon's regmap; the remotes of ports 1 and 2 decide
//! channel 0 / channel 1 / dual link (`-ENXIO` without either); the next element behind the
//! first enabled channel with `devm_drm_of_get_bridge(dev, np, ch0 ? 1 : 2, 0)` — a panel
//! becomes a panel bridge added on this device, a bridge (e.g. an IT6263) is **borrowed** into
//! `fsl_ldb->next_bridge` ("fsl-ldb: Get the next non-panel bridge"; the older driver only
//! accepted a panel: `of_drm_find_panel` + `devm_drm_panel_bridge_add`); `drm_bridge_add`.
//! Remove: `drm_bridge_remove`.
//!
//! From the v7.0 conversions the found bridge is also stored counted in `bridge->next_bridge`
//! (`fsl_ldb->bridge.next_bridge = drm_bridge_get(next_bridge)`), put by the core at free.
//! Omitted: PHY/LVDS register values, the termination resistor, the i.MX93 variant data.

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_get, drm_bridge_priv, drm_bridge_priv_mut,
    DrmBridge, DrmBridgeFuncs,
};
use drm::encoder::DrmEncoder;
use drm::of::devm_drm_of_get_bridge;
use drm::RefOwner;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, remove_bridge};
use crate::graph::remote_node;
use crate::variant::{variant, Variant};

/// `-ENXIO` (not among kmodel's named errnos).
const ENXIO: Errno = Errno(6);

pub const COMPATIBLE: &[&str] = &["fsl,imx8mp-ldb", "fsl,imx93-ldb"];

/// `struct fsl_ldb`.
struct FslLdb {
    /// `fsl_ldb->next_bridge` (borrowed; a panel bridge owned by this device, or another
    /// device's bridge).
    next: Option<DrmBridge>,
    clk: Option<Hw>,
    regmap: Option<Hw>,
    variant: Variant,
}

fn next_of(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    match drm_bridge_priv::<FslLdb, _>(k, b, |p| p.variant) {
        Variant::NextBridge => k.read(b.obj(), |x| x.next_bridge),
        _ => drm_bridge_priv::<FslLdb, _>(k, b, |p| p.next),
    }
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("fsl_ldb_attach");
        drm_bridge_attach(k, Some(enc), next_of(k, b), Some(b), flags)
    }
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
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("fsl_ldb_probe");
        let v = variant(k, COMPATIBLE);
        let p = FslLdb {
            next: None,
            clk: None,
            regmap: None,
            variant: v,
        };
        let b = alloc_bridge(k, dev, v, "struct fsl_ldb", Rc::new(Funcs), p)?;
        // devm_clk_get(dev, "ldb"); syscon_node_to_regmap(dev->of_node->parent)
        let clk = k.devm_hw_get(dev, HwKind::Gpio, "ldb clk");
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "syscon regmap");
        let ch0 = remote_node(k, dev, 1, 0).is_some();
        let ch1 = remote_node(k, dev, 2, 0).is_some();
        if !ch0 && !ch1 {
            // "No next bridge node found"
            return Err(ENXIO);
        }
        let port = if ch0 { 1 } else { 2 };
        let next = devm_drm_of_get_bridge(k, dev, remote_node(k, dev, port, 0))?;
        drm_bridge_priv_mut::<FslLdb, _>(k, b, |p| {
            p.next = Some(next);
            p.clk = Some(clk);
            p.regmap = Some(regmap);
        });
        if v == Variant::NextBridge {
            let owner = RefOwner::next_bridge(k, dev);
            let nb = drm_bridge_get(k, Some(next), owner);
            k.write(b.obj(), |x| x.next_bridge = nb);
        }
        k.dev_set_drvdata(dev, Some(b.obj()));
        drm_bridge_add(k, b);
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("fsl_ldb_remove");
        remove_bridge(k, dev, false);
    }
}
