//! `drivers/gpu/drm/bridge/tc358762.c`: Toshiba TC358762 DSI-to-DPI bridge, a **DSI-bus
//! device** (a child node of its DSI host, created when the host registers), not an I2C device
//! that registers its own DSI device (real-pipelines.md §4.2 #6, §2.1 #4).
//!
//! Probe (`tc358762_probe`): the container (`devm_kzalloc` before v6.16,
//! `devm_drm_bridge_alloc` after); DSI lanes/format/flags; the next element behind port 1 with
//! `devm_drm_of_get_bridge` into `ctx->panel_bridge` (a panel becomes a panel bridge added on
//! this device; a bridge is **borrowed**); the `vddc` supply and optional `reset` GPIO;
//! `drm_bridge_add`; then `mipi_dsi_attach` on its host, whose `.attach` (samsung-dsim's
//! host-attach pattern) adds the host's own bridge. A failed attach does `drm_bridge_remove`.
//! Remove: `mipi_dsi_detach` (the host removes its bridge), then `drm_bridge_remove`.
//!
//! `.attach` attaches `panel_bridge` after itself; pre_enable powers `vddc` and releases reset,
//! enable sends the init sequence over DSI, post_disable powers down.
//! No `next_bridge` conversion upstream as far as the stored versions show (the panel bridge is
//! owned by this device's devres anyway); the v7.0 unplug/enter-exit pattern is not applied.

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_priv, drm_bridge_priv_mut, drm_bridge_remove,
    DrmBridge, DrmBridgeFuncs,
};
use drm::encoder::DrmEncoder;
use drm::of::devm_drm_of_get_bridge;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, remove_bridge};
use crate::graph::remote_node;
use crate::mipi_dsi::{
    mipi_dsi_attach, mipi_dsi_detach, of_find_mipi_dsi_host_by_node, MipiDsiDevice, MipiDsiHost,
};
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};
use crate::variant::variant;

pub const COMPATIBLE: &[&str] = &["toshiba,tc358762"];

/// `struct tc358762`.
struct Tc358762 {
    /// `ctx->panel_bridge` from `devm_drm_of_get_bridge` (borrowed).
    panel_bridge: Option<DrmBridge>,
    regulator: Option<Hw>,
    reset: Option<Hw>,
    /// DSI transfers to the chip (`mipi_dsi_generic_write` through the host).
    dsi: Option<Hw>,
    pre_enabled: bool,
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("tc358762_attach");
        let next = drm_bridge_priv::<Tc358762, _>(k, b, |p| p.panel_bridge);
        drm_bridge_attach(k, Some(enc), next, Some(b), flags)
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("tc358762_pre_enable");
        let (reg, reset) = drm_bridge_priv::<Tc358762, _>(k, b, |p| (p.regulator, p.reset));
        if let Some(r) = reg {
            k.hw_enable(r);
        }
        if let Some(g) = reset {
            k.hw_access(g, "gpiod_set_value_cansleep(reset, 0)");
        }
        drm_bridge_priv_mut::<Tc358762, _>(k, b, |p| p.pre_enabled = true);
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("tc358762_enable");
        if let Some(d) = drm_bridge_priv::<Tc358762, _>(k, b, |p| p.dsi) {
            k.hw_access(d, "tc358762_init: mipi_dsi_generic_write");
        }
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("tc358762_post_disable");
        let (reg, reset, on) =
            drm_bridge_priv::<Tc358762, _>(k, b, |p| (p.regulator, p.reset, p.pre_enabled));
        // The driver skips the power-down if pre_enable did not run.
        if !on {
            return;
        }
        drm_bridge_priv_mut::<Tc358762, _>(k, b, |p| p.pre_enabled = false);
        if let Some(g) = reset {
            k.hw_access(g, "gpiod_set_value_cansleep(reset, 1)");
        }
        if let Some(r) = reg {
            k.hw_disable(r);
        }
    }
}

/// The host this DSI-bus device sits on: its parent node's registered host.
fn host_of(k: &Kernel, dev: DeviceId) -> Option<MipiDsiHost> {
    let node = k.dev_of_node(dev)?;
    let parent = k.of_tree(|t| t.parent(node))?;
    of_find_mipi_dsi_host_by_node(k, parent)
}

/// The driver model.
pub struct Tc358762Driver;

impl Driver for Tc358762Driver {
    fn name(&self) -> &'static str {
        "tc358762"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("tc358762_probe");
        let v = variant(k, COMPATIBLE);
        let p = Tc358762 {
            panel_bridge: None,
            regulator: None,
            reset: None,
            dsi: None,
            pre_enabled: false,
        };
        let b = alloc_bridge(k, dev, v, "struct tc358762", Rc::new(Funcs), p)?;
        // tc358762_parse_dt: port 1 leads to the panel (or a bridge).
        let panel_bridge = devm_drm_of_get_bridge(k, dev, remote_node(k, dev, 1, -1))?;
        // tc358762_configure_regulators
        let regulator = devm_regulator_get(k, dev, "vddc")?;
        let reset = devm_gpiod_get_optional(k, dev, "reset")?;
        let dsi = k.devm_hw_get(dev, HwKind::I2c, "dsi");
        drm_bridge_priv_mut::<Tc358762, _>(k, b, |p| {
            p.panel_bridge = Some(panel_bridge);
            p.regulator = Some(regulator);
            p.reset = reset;
            p.dsi = Some(dsi);
        });
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        let me = MipiDsiDevice {
            dev,
            node: k.dev_of_node(dev),
        };
        let attached = match host_of(k, dev) {
            Some(h) => mipi_dsi_attach(k, h, me),
            None => Err(Errno::EPROBE_DEFER),
        };
        if let Err(e) = attached {
            drm_bridge_remove(k, b);
            k.dev_set_drvdata::<()>(dev, None);
            return Err(e);
        }
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("tc358762_remove");
        if let Some(h) = host_of(k, dev) {
            mipi_dsi_detach(
                k,
                h,
                MipiDsiDevice {
                    dev,
                    node: k.dev_of_node(dev),
                },
            );
        }
        remove_bridge(k, dev, false);
    }
}
