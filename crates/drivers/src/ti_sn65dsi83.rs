//! `drivers/gpu/drm/bridge/ti-sn65dsi83.c`: TI SN65DSI83/84 DSI-to-LVDS bridge on I2C
//! (real-pipelines.md §4.2 #1).
//!
//! Probe: enable GPIO and `vcc` supply, the output panel as a panel_bridge from port 2
//! (`devm_drm_of_get_bridge`), `drm_bridge_add`, then find the DSI host behind port 0 and
//! register and attach its DSI device (devm; `-EPROBE_DEFER` while the host is absent, with
//! `drm_bridge_remove` on failure). Remove: `drm_bridge_remove`, or from v7.0
//! ("ti-sn65dsi83: protect device resources on unplug", d2e8d1bc840b) `drm_bridge_unplug`, with
//! every hardware access inside `drm_bridge_enter`/`exit` and the resources taken in
//! `atomic_pre_enable` held by a devres action that `atomic_disable` releases only if its
//! enter succeeds (upstream.md §3.4).

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_get, drm_bridge_priv, drm_bridge_priv_mut,
    drm_bridge_remove, DrmBridge, DrmBridgeFuncs,
};
use drm::encoder::DrmEncoder;
use drm::of::devm_drm_of_get_bridge;
use drm::RefOwner;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, guards, remove_bridge, with_hw};
use crate::graph::remote_node;
use crate::mipi_dsi::devm_mipi_dsi_attach_to;
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};
use crate::variant::variant;

pub const COMPATIBLE: &[&str] = &["ti,sn65dsi83", "ti,sn65dsi84"];

/// `struct sn65dsi83`: filled in by probe after the container is allocated, as upstream.
struct Sn65 {
    dev: DeviceId,
    vcc: Option<Hw>,
    enable_gpio: Option<Hw>,
    regmap: Option<Hw>,
    /// The panel bridge from `devm_drm_of_get_bridge` (borrowed).
    panel_bridge: Option<DrmBridge>,
    guard: bool,
}

const RESOURCES: &str = "sn65dsi83_release_resources";

struct Funcs;

fn priv_of(k: &Kernel, b: DrmBridge) -> (DeviceId, Hw, Option<Hw>, Hw, Option<DrmBridge>, bool) {
    drm_bridge_priv::<Sn65, _>(k, b, |p| {
        let hw = |h: Option<Hw>| h.expect("set by probe before drm_bridge_add");
        (
            p.dev,
            hw(p.vcc),
            p.enable_gpio,
            hw(p.regmap),
            p.panel_bridge,
            p.guard,
        )
    })
}

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("sn65dsi83_attach");
        let next = priv_of(k, b).4;
        drm_bridge_attach(k, Some(enc), next, Some(b), flags)
    }

    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_pre_enable");
        let (dev, vcc, gpio, regmap, _, guard) = priv_of(k, b);
        with_hw(k, b, guard, || {
            k.hw_enable(vcc);
            if let Some(g) = gpio {
                k.hw_access(g, "gpiod_set_value_cansleep(enable, 1)");
            }
            k.hw_access(regmap, "regmap_write(REG_RC_PLL_EN)");
            if guard {
                // The resources now held are released exactly once: by atomic_disable, or by
                // devres at the end of remove if the hardware is gone by then.
                let _ = k.devm_add_action(dev, RESOURCES, vcc.id().0 as u64, move |k| {
                    if let Some(g) = gpio {
                        k.hw_access(g, "gpiod_set_value_cansleep(enable, 0)");
                    }
                    k.hw_disable(vcc);
                });
            }
        });
    }

    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_enable");
        let (_, _, _, regmap, _, guard) = priv_of(k, b);
        with_hw(k, b, guard, || {
            k.hw_access(regmap, "regmap_write(REG_RC_RESET)")
        });
    }

    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_disable");
        let (dev, vcc, gpio, regmap, _, guard) = priv_of(k, b);
        with_hw(k, b, guard, || {
            k.hw_access(regmap, "regmap_write(REG_RC_PLL_EN, 0)");
            if guard {
                k.devm_release_action(dev, RESOURCES, vcc.id().0 as u64);
            } else {
                if let Some(g) = gpio {
                    k.hw_access(g, "gpiod_set_value_cansleep(enable, 0)");
                }
                k.hw_disable(vcc);
            }
        });
    }
}

/// The driver model.
pub struct Sn65dsi83;

impl Driver for Sn65dsi83 {
    fn name(&self) -> &'static str {
        "sn65dsi83"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("sn65dsi83_probe");
        let v = variant(k, COMPATIBLE);
        let guard = guards(k, v, true);
        let p = Sn65 {
            dev,
            vcc: None,
            enable_gpio: None,
            regmap: None,
            panel_bridge: None,
            guard,
        };
        let b = alloc_bridge(k, dev, v, "struct sn65dsi83", Rc::new(Funcs), p)?;
        let enable_gpio = devm_gpiod_get_optional(k, dev, "enable")?;
        // sn65dsi83_parse_dt: the vcc supply, and port 2 (LVDS channel A) leads to the panel.
        let vcc = devm_regulator_get(k, dev, "vcc")?;
        let panel_bridge = devm_drm_of_get_bridge(k, dev, remote_node(k, dev, 2, -1))?;
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "regmap");
        drm_bridge_priv_mut::<Sn65, _>(k, b, |p| {
            p.enable_gpio = enable_gpio;
            p.vcc = Some(vcc);
            p.regmap = Some(regmap);
            p.panel_bridge = Some(panel_bridge);
        });
        if v == crate::variant::Variant::NextBridge {
            let nb = drm_bridge_get(k, Some(panel_bridge), RefOwner::next_bridge(k, dev));
            k.write(b.obj(), |x| x.next_bridge = nb);
        }
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        // sn65dsi83_host_attach: register our DSI device on the host behind port 0.
        let attached = match remote_node(k, dev, 0, -1) {
            Some(n) => devm_mipi_dsi_attach_to(k, dev, n),
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
        let _f = k.func("sn65dsi83_remove");
        let guard = guards(k, variant(k, COMPATIBLE), true);
        remove_bridge(k, dev, guard);
    }
}
