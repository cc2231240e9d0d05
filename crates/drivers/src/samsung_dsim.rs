//! `drivers/gpu/drm/bridge/samsung-dsim.c`: the Samsung MIPI DSIM (i.MX8MM/8MP), a DSI host
//! that is also a bridge (real-pipelines.md §4.2 #2).
//!
//! The host-attach pattern: `drm_bridge_add` runs in the DSI host's `attach`, when a
//! peripheral attaches, and `drm_bridge_remove` in its `detach`, so the same allocation is
//! added and removed once per peripheral attach (upstream.md §5.4). The next element is found
//! at host attach on port 1: a panel becomes `devm_drm_panel_bridge_add` on the DSIM device,
//! a bridge is looked up with `of_drm_find_bridge` into `out_bridge` (a raw pointer) or, from
//! v7.0, `of_drm_find_and_get_bridge` into `bridge->next_bridge`; detach drops it with
//! put-then-clear in v7.0 and `drm_bridge_clear_and_put` from v7.1 (8f3c83720555).

use std::rc::Rc;

use drm::bridge::panel::devm_drm_panel_bridge_add;
use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_clear_and_put, drm_bridge_get, drm_bridge_priv,
    drm_bridge_priv_mut, drm_bridge_put, drm_bridge_remove, of_drm_find_and_get_bridge,
    of_drm_find_bridge, DrmBridge, DrmBridgeFuncs, DrmBridgeObj, F_NEXT_BRIDGE,
};
use drm::encoder::DrmEncoder;
use drm::panel::of_drm_find_panel;
use drm::rules::rules;
use drm::RefOwner;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, drvdata_bridge, with_hw};
use crate::graph::remote_node;
use crate::mipi_dsi::{
    mipi_dsi_host_register, mipi_dsi_host_unregister, MipiDsiDevice, MipiDsiHost, MipiDsiHostOps,
};
use crate::variant::{variant, Variant};

pub const COMPATIBLE: &[&str] = &["fsl,imx8mm-mipi-dsim", "fsl,imx8mp-mipi-dsim"];

/// `struct samsung_dsim`.
struct Dsim {
    regs: Hw,
    /// `dsi->out_bridge` (a raw pointer) in the variants without `next_bridge`.
    out_bridge: Option<DrmBridge>,
    host: Option<MipiDsiHost>,
    variant: Variant,
}

fn out_bridge(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    let (v, raw) = drm_bridge_priv::<Dsim, _>(k, b, |p| (p.variant, p.out_bridge));
    crate::common::stored_next(k, b, v == Variant::NextBridge, raw)
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("samsung_dsim_attach");
        drm_bridge_attach(k, Some(enc), out_bridge(k, b), Some(b), flags)
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("samsung_dsim_atomic_pre_enable");
        let regs = drm_bridge_priv::<Dsim, _>(k, b, |p| p.regs);
        with_hw(k, b, false, || k.hw_access(regs, "samsung_dsim_init"));
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("samsung_dsim_atomic_enable");
        let regs = drm_bridge_priv::<Dsim, _>(k, b, |p| p.regs);
        k.hw_access(regs, "samsung_dsim_set_display_enable");
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("samsung_dsim_atomic_disable");
        let regs = drm_bridge_priv::<Dsim, _>(k, b, |p| p.regs);
        k.hw_access(regs, "samsung_dsim_set_display_enable(false)");
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("samsung_dsim_atomic_post_disable");
        let regs = drm_bridge_priv::<Dsim, _>(k, b, |p| p.regs);
        k.hw_access(regs, "samsung_dsim_set_phy_ctrl(off)");
    }
}

/// The DSI host side.
struct HostOps {
    bridge: DrmBridge,
}

impl MipiDsiHostOps for HostOps {
    fn attach(&self, k: &Kernel, host: DeviceId, dsi: MipiDsiDevice) -> Result<(), Errno> {
        let _f = k.func("samsung_dsim_host_attach");
        let b = self.bridge;
        let v = drm_bridge_priv::<Dsim, _>(k, b, |p| p.variant);
        let remote = remote_node(k, host, 1, 0)
            .or(dsi.node)
            .ok_or(Errno::EINVAL)?;
        let owner = RefOwner::next_bridge(k, host);
        // A panel is wrapped on the DSIM device: each attach adds one more devres entry there.
        let found = match of_drm_find_panel(k, remote) {
            Ok(panel) => {
                let pb = devm_drm_panel_bridge_add(k, host, panel)?;
                if v == Variant::NextBridge {
                    drm_bridge_get(k, Some(pb), owner.clone());
                }
                Some(pb)
            }
            // The counted lookup's reference belongs to the next_bridge field.
            Err(_) if v == Variant::NextBridge => of_drm_find_and_get_bridge(k, remote, owner),
            Err(_) => of_drm_find_bridge(k, remote),
        };
        let Some(out) = found else {
            return Err(Errno::EINVAL);
        };
        if v == Variant::NextBridge {
            k.write(b.obj(), |x| x.next_bridge = Some(out));
        } else {
            drm_bridge_priv_mut::<Dsim, _>(k, b, |p| p.out_bridge = Some(out));
        }
        drm_bridge_add(k, b);
        Ok(())
    }

    fn detach(&self, k: &Kernel, host: DeviceId, _dsi: MipiDsiDevice) {
        let _f = k.func("samsung_dsim_host_detach");
        let b = self.bridge;
        let v = drm_bridge_priv::<Dsim, _>(k, b, |p| p.variant);
        if v == Variant::NextBridge {
            let owner = RefOwner::next_bridge(k, host);
            // cite: v7.1:drivers/gpu/drm/bridge/samsung-dsim.c:samsung_dsim_host_detach
            if rules(k).clear_and_put {
                drm_bridge_clear_and_put(
                    k,
                    b.obj(),
                    |x: &mut DrmBridgeObj| &mut x.next_bridge,
                    owner,
                );
            } else {
                // v7.0: put, then clear (the window drm_bridge_clear_and_put closes, §5.9).
                let nb = k.read_field(b.obj(), F_NEXT_BRIDGE, |x| x.next_bridge);
                drm_bridge_put(k, nb, owner);
                k.write_field(b.obj(), F_NEXT_BRIDGE, |x| x.next_bridge = None);
            }
        } else {
            drm_bridge_priv_mut::<Dsim, _>(k, b, |p| p.out_bridge = None);
        }
        drm_bridge_remove(k, b);
    }
}

/// The driver model.
pub struct SamsungDsim;

impl Driver for SamsungDsim {
    fn name(&self) -> &'static str {
        "samsung-dsim"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("samsung_dsim_probe");
        let v = variant(k, COMPATIBLE);
        let regs = k.devm_hw_get(dev, HwKind::I2c, "regs");
        let p = Dsim {
            regs,
            out_bridge: None,
            host: None,
            variant: v,
        };
        let b = alloc_bridge(k, dev, v, "struct samsung_dsim", Rc::new(Funcs), p)?;
        let host = mipi_dsi_host_register(k, dev, Rc::new(HostOps { bridge: b }));
        drm_bridge_priv_mut::<Dsim, _>(k, b, |p| p.host = Some(host));
        k.dev_set_drvdata(dev, Some(b.obj()));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("samsung_dsim_remove");
        if let Some(b) = drvdata_bridge(k, dev) {
            if let Some(h) = drm_bridge_priv::<Dsim, _>(k, b, |p| p.host) {
                mipi_dsi_host_unregister(k, h);
            }
        }
    }
}
