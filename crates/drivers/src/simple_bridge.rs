//! `drivers/gpu/drm/bridge/simple-bridge.c` (and the same pattern in thc63lvd1024.c): a
//! platform dumb bridge that finds its next bridge once at probe (real-pipelines.md §4.2 #7/#8).
//!
//! Before v7.0 the next bridge comes from `of_drm_find_bridge` (no reference) and is kept as a
//! raw pointer for the device's lifetime: when the next bridge's device unbinds first, the
//! pointer dangles. The v7.0 conversion takes it with `of_drm_find_and_get_bridge` into
//! `bridge->next_bridge`, put by the core at free (upstream.md §5.8).
//!
//! The power resources differ: simple-bridge takes an optional `vdd` supply and an optional
//! `enable` GPIO (v7.1:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_probe), thc63lvd1024
//! a required `vcc` supply and optional `oe`/`powerdown` GPIOs
//! (v7.1:drivers/gpu/drm/bridge/thc63lvd1024.c:thc63_probe). Their `.enable`/`.disable`
//! switch them with no `drm_bridge_enter` in any release, so a disable after the device's
//! unbind touches a released regulator (thc63_disable: `regulator_disable(thc63->vcc)`).

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_priv, drm_bridge_priv_mut, drm_bridge_put,
    of_drm_find_and_get_bridge, of_drm_find_bridge, DrmBridge, DrmBridgeFuncs,
};
use drm::encoder::DrmEncoder;
use drm::RefOwner;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::Hw;
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, remove_bridge};
use crate::graph::remote_node;
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get, devm_regulator_get_optional};
use crate::variant::{variant, Variant};

struct Simple {
    /// `sbridge->next_bridge` (raw) before v7.0.
    next: Option<DrmBridge>,
    /// simple-bridge: `sbridge->enable`; thc63lvd1024: `thc63->oe`.
    enable: Option<Hw>,
    /// thc63lvd1024: `thc63->pdwn`.
    pdwn: Option<Hw>,
    /// simple-bridge: `sbridge->vdd` (optional); thc63lvd1024: `thc63->vcc`.
    supply: Option<Hw>,
    variant: Variant,
}

fn next_of(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    let (v, raw) = drm_bridge_priv::<Simple, _>(k, b, |p| (p.variant, p.next));
    crate::common::stored_next(k, b, v == Variant::NextBridge, raw)
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("simple_bridge_attach");
        drm_bridge_attach(k, Some(enc), next_of(k, b), Some(b), flags)
    }
    /// v7.1:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_enable and
    /// v7.1:drivers/gpu/drm/bridge/thc63lvd1024.c:thc63_enable: the supply on, then the GPIOs.
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("simple_bridge_enable");
        let (supply, enable, pdwn) =
            drm_bridge_priv::<Simple, _>(k, b, |p| (p.supply, p.enable, p.pdwn));
        if let Some(r) = supply {
            k.hw_enable(r);
        }
        if let Some(g) = pdwn {
            k.hw_access(g, "gpiod_set_value(pdwn, 0)");
        }
        if let Some(g) = enable {
            k.hw_access(g, "gpiod_set_value_cansleep(enable, 1)");
        }
    }
    /// v7.1:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_disable and
    /// v7.1:drivers/gpu/drm/bridge/thc63lvd1024.c:thc63_disable: the GPIOs, then the supply off.
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("simple_bridge_disable");
        let (supply, enable, pdwn) =
            drm_bridge_priv::<Simple, _>(k, b, |p| (p.supply, p.enable, p.pdwn));
        if let Some(g) = enable {
            k.hw_access(g, "gpiod_set_value_cansleep(enable, 0)");
        }
        if let Some(g) = pdwn {
            k.hw_access(g, "gpiod_set_value(pdwn, 1)");
        }
        if let Some(r) = supply {
            k.hw_disable(r);
        }
    }
    fn detect(&self, k: &Kernel, b: DrmBridge) -> drm::connector::ConnectorStatus {
        let _f = k.func("simple_bridge_connector_detect");
        // The connector callbacks reach through the stored next-bridge pointer.
        match next_of(k, b) {
            Some(n) => {
                // drm_bridge_detect(sbridge->next_bridge) dereferences the stored pointer.
                k.read(n.obj(), |_| ());
                drm::connector::ConnectorStatus::Connected
            }
            None => drm::connector::ConnectorStatus::Unknown,
        }
    }
}

/// A dumb bridge driver: `name`, its compatibles, the port its output is on and whether it is
/// thc63lvd1024 (a required `vcc` supply and `oe`/`powerdown` GPIOs) rather than simple-bridge
/// (an optional `vdd` supply and an `enable` GPIO).
pub struct SimpleBridge {
    pub name: &'static str,
    pub compatible: &'static [&'static str],
    pub out_port: i32,
    pub thc63: bool,
}

/// simple-bridge.c.
pub const SIMPLE_BRIDGE: SimpleBridge = SimpleBridge {
    name: "simple-bridge",
    compatible: &[
        "adi,adv7123",
        "ti,ths8135",
        "ti,ths8134",
        "dumb-vga-dac",
        "ti,opa362",
    ],
    out_port: 1,
    thc63: false,
};

/// thc63lvd1024.c: LVDS in on ports 0/1, RGB out on port 2.
pub const THC63LVD1024: SimpleBridge = SimpleBridge {
    name: "thc63lvd1024",
    compatible: &["thine,thc63lvd1024"],
    out_port: 2,
    thc63: true,
};

impl Driver for SimpleBridge {
    fn name(&self) -> &'static str {
        self.name
    }
    fn of_match_table(&self) -> &[&'static str] {
        self.compatible
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("simple_bridge_probe");
        let v = variant(k, self.compatible);
        // thc63_probe gets vcc and its GPIOs before the next bridge; simple_bridge_probe
        // after it. Either way a missing supplier defers the probe.
        let (supply, enable, pdwn) = if self.thc63 {
            (
                Some(devm_regulator_get(k, dev, "vcc")?),
                devm_gpiod_get_optional(k, dev, "oe")?,
                devm_gpiod_get_optional(k, dev, "powerdown")?,
            )
        } else {
            (
                devm_regulator_get_optional(k, dev, "vdd")?,
                devm_gpiod_get_optional(k, dev, "enable")?,
                None,
            )
        };
        let remote = remote_node(k, dev, self.out_port, -1).ok_or(Errno::EPROBE_DEFER)?;
        let owner = RefOwner::next_bridge(k, dev);
        let next = if v == Variant::NextBridge {
            of_drm_find_and_get_bridge(k, remote, owner.clone())
        } else {
            of_drm_find_bridge(k, remote)
        };
        let Some(next) = next else {
            return Err(Errno::EPROBE_DEFER);
        };
        let p = Simple {
            next: None,
            enable,
            pdwn,
            supply,
            variant: v,
        };
        let b = match alloc_bridge(k, dev, v, "struct simple_bridge", Rc::new(Funcs), p) {
            Ok(b) => b,
            Err(e) => {
                if v == Variant::NextBridge {
                    drm_bridge_put(k, next, owner);
                }
                return Err(e);
            }
        };
        if v == Variant::NextBridge {
            k.write(b.obj(), |x| x.next_bridge = Some(next));
        } else {
            drm_bridge_priv_mut::<Simple, _>(k, b, |p| p.next = Some(next));
        }
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("simple_bridge_remove");
        remove_bridge(k, dev, false);
    }
}
