//! `drivers/gpu/drm/bridge/samsung-dsim.c`: the Samsung MIPI DSIM (i.MX8MM/8MP), a DSI host
//! that is also a bridge (real-pipelines.md §4.2 #2).
//!
//! The host-attach pattern: `drm_bridge_add` runs in the DSI host's `attach`, when a
//! peripheral attaches, and `drm_bridge_remove` in its `detach`, so the same allocation is
//! added and removed once per peripheral attach (upstream.md §5.4).
//!
//! `samsung_dsim_host_attach`: the remote is the host node's first available child that is not
//! a `port`/`ports` node, else the remote of port 1 (`-ENODEV` without one); a panel becomes
//! `devm_drm_panel_bridge_add` on the DSIM device, a bridge is looked up; `drm_bridge_add`;
//! then, for a command-mode peripheral, the TE interrupt (`samsung_dsim_register_te_irq`).
//! - v6.17–v6.19: the lookup (`of_drm_find_bridge`, borrowed) goes into the raw
//!   `dsi->out_bridge` **before** `drm_bridge_add`; a TE failure returns with the bridge still
//!   added.
//! - v7.0+: the lookup is counted (`of_drm_find_and_get_bridge`, or the panel bridge plus
//!   `drm_bridge_get`) into a `__free(drm_bridge_put)` local, and `bridge->next_bridge` is
//!   assigned (`drm_bridge_get`) only **after** `drm_bridge_add` and after the TE interrupt
//!   (upstream.md §0.0): in between the bridge is published with no next bridge, and a
//!   `.attach` then hands `drm_bridge_attach` a NULL bridge (`-EINVAL`). A TE failure goes to
//!   `err_remove_bridge` (`drm_bridge_remove`). The local's reference is put on return.
//!
//! Detach: v6.19 clears `out_bridge` first, then frees the TE interrupt and removes; v7.0 puts
//! `next_bridge` then clears it (the window `drm_bridge_clear_and_put` closes, §5.9), v7.1
//! uses `drm_bridge_clear_and_put` (8f3c83720555); then the TE interrupt and
//! `drm_bridge_remove`.
//!
//! The TE interrupt: the model has no DSI mode flags, so a peripheral counts as command mode
//! when its node has `te-gpios` (`devm_gpiod_get_optional(&device->dev, "te")` is what the
//! source asks, only for command mode; every modelled DSI peripheral is a video-mode one
//! without it). Its lookup and error branch are modelled; the interrupt itself
//! (`request_threaded_irq`, whose handler does nothing on i.MX: no `te_irq_handler` in
//! `generic_dsim_host_ops`) is not. i.MX has no `host_ops->attach`/`detach`.

use std::borrow::Cow;
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
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, drvdata_bridge, with_hw};
use crate::graph::remote_node;
use crate::mipi_dsi::{
    mipi_dsi_host_register, mipi_dsi_host_unregister, MipiDsiDevice, MipiDsiHost, MipiDsiHostOps,
};
use crate::supply::devm_gpiod_get_optional;
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

/// The owner of the `__free(drm_bridge_put)` local of `samsung_dsim_host_attach` (v7.0+).
const ATTACH_LOCAL: RefOwner = RefOwner::Caller(Cow::Borrowed("samsung_dsim_host_attach"));

/// The node the host looks for its next element at: the first available child of the host
/// node that is not `port`/`ports` (a DSI-bus peripheral), else the remote of port 1.
fn attach_remote(k: &Kernel, host: DeviceId) -> Option<NodeId> {
    let np = k.dev_of_node(host)?;
    let child = k.of_tree(|t| {
        t.children(np)
            .iter()
            .copied()
            .find(|&c| t.of_device_is_available(c) && !matches!(t.base_name(c), "port" | "ports"))
    });
    child.or_else(|| remote_node(k, host, 1, 0))
}

/// `samsung_dsim_register_te_irq` for a command-mode peripheral (see the module doc: a
/// `te-gpios` property stands for "not `MIPI_DSI_MODE_VIDEO`"). The GPIO is the peripheral's
/// (`devm_gpiod_get_optional(&device->dev, "te")`); its error is the attach's.
fn register_te_irq(k: &Kernel, dsi: MipiDsiDevice) -> Result<(), Errno> {
    let command_mode = dsi
        .node
        .is_some_and(|n| k.of_tree_peek(|t| t.property(n, "te-gpios").is_some()));
    if !command_mode {
        return Ok(());
    }
    let _f = k.func("samsung_dsim_register_te_irq");
    devm_gpiod_get_optional(k, dsi.dev, "te").map(|_| ())
}

impl MipiDsiHostOps for HostOps {
    // cite: v6.19:drivers/gpu/drm/bridge/samsung-dsim.c:samsung_dsim_host_attach; v7.0:drivers/gpu/drm/bridge/samsung-dsim.c:samsung_dsim_host_attach
    fn attach(&self, k: &Kernel, host: DeviceId, dsi: MipiDsiDevice) -> Result<(), Errno> {
        let _f = k.func("samsung_dsim_host_attach");
        let b = self.bridge;
        let v = drm_bridge_priv::<Dsim, _>(k, b, |p| p.variant);
        let remote = attach_remote(k, host).ok_or(Errno::ENODEV)?;
        if v != Variant::NextBridge {
            // v6.19: out_bridge is set before the bridge is published.
            let out = match of_drm_find_panel(k, remote) {
                Ok(panel) => devm_drm_panel_bridge_add(k, host, panel)?,
                Err(_) => of_drm_find_bridge(k, remote).ok_or(Errno::EINVAL)?,
            };
            drm_bridge_priv_mut::<Dsim, _>(k, b, |p| p.out_bridge = Some(out));
            drm_bridge_add(k, b);
            // A TE failure returns with the bridge still added and out_bridge set.
            return register_te_irq(k, dsi);
        }
        // v7.0+: a counted local (`__free(drm_bridge_put)`); the panel bridge of a panel is
        // added on the DSIM device, so each attach adds one more devres entry there.
        let local = match of_drm_find_panel(k, remote) {
            Ok(panel) => {
                let pb = devm_drm_panel_bridge_add(k, host, panel)?;
                drm_bridge_get(k, Some(pb), ATTACH_LOCAL)
            }
            Err(_) => of_drm_find_and_get_bridge(k, remote, ATTACH_LOCAL),
        };
        let Some(local) = local else {
            return Err(Errno::EINVAL);
        };
        drm_bridge_add(k, b);
        if let Err(e) = register_te_irq(k, dsi) {
            // err_remove_bridge; the local is put on return.
            drm_bridge_remove(k, b);
            drm_bridge_put(k, local, ATTACH_LOCAL);
            return Err(e);
        }
        // "The next bridge can be used by host_ops->attach": only now, after the add.
        let nb = drm_bridge_get(k, Some(local), RefOwner::next_bridge(k, host));
        k.write_field(b.obj(), F_NEXT_BRIDGE, |x| x.next_bridge = nb);
        drm_bridge_put(k, local, ATTACH_LOCAL);
        Ok(())
    }

    // cite: v6.19:drivers/gpu/drm/bridge/samsung-dsim.c:samsung_dsim_host_detach; v7.0:drivers/gpu/drm/bridge/samsung-dsim.c:samsung_dsim_host_detach
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
        // samsung_dsim_unregister_te_irq: the interrupt is not modelled (see the module doc).
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
