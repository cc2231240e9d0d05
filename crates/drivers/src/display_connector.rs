//! `drivers/gpu/drm/bridge/display-connector.c`: the bridge at the end of a chain for a
//! physical connector.
//!
//! Probe: `devm_drm_bridge_alloc` (a `devm_kzalloc` container before v6.16), an optional HPD
//! GPIO with a devm threaded IRQ, the DDC adapter from `ddc-i2c-bus` (an adapter reference,
//! `-EPROBE_DEFER` until it binds), optional `*-pwr` supply, `drm_bridge_add`. Remove:
//! `drm_bridge_remove`. The devm IRQ outlives `drm_bridge_remove` until devres runs, so an HPD
//! interrupt can reach a removed bridge.

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_hpd_notify, drm_bridge_priv, DrmBridge, DrmBridgeFuncs, DrmBridgeOps,
};
use drm::connector::ConnectorStatus;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::interrupt::Irq;
use kmodel::of::{DeviceTree, NodeId};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, remove_bridge};
use crate::registry::{hpd_irq_requested, HpdIrq};
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get_optional};
use crate::variant::variant;

pub const COMPATIBLE: &[&str] = &[
    "hdmi-connector",
    "vga-connector",
    "dvi-connector",
    "dp-connector",
    "composite-video-connector",
];

struct Conn {
    hpd: Option<Hw>,
    ddc: Option<Hw>,
    irq: Option<Irq>,
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn detect(&self, k: &Kernel, b: DrmBridge) -> ConnectorStatus {
        let _f = k.func("display_connector_detect");
        match drm_bridge_priv::<Conn, _>(k, b, |p| p.hpd) {
            Some(g) => {
                k.hw_access(g, "gpiod_get_value_cansleep(hpd)");
                ConnectorStatus::Connected
            }
            None => ConnectorStatus::Unknown,
        }
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        let _f = k.func("display_connector_get_edid");
        if let Some(d) = drm_bridge_priv::<Conn, _>(k, b, |p| p.ddc) {
            k.hw_access(d, "drm_edid_read_ddc");
        }
        1
    }
}

/// The driver model.
pub struct DisplayConnector;

/// The HPD interrupt handler (v7.1:drivers/gpu/drm/bridge/display-connector.c:
/// display_connector_hpd_irq): `display_connector_detect` reads the HPD GPIO through the
/// bridge, then `drm_bridge_hpd_notify` with the status.
fn hpd_irq_handler(bridge: DrmBridge) -> kmodel::interrupt::Handler {
    Rc::new(move |k: &Kernel| {
        let _f = k.func("display_connector_hpd_irq");
        let status = Funcs.detect(k, bridge);
        drm_bridge_hpd_notify(k, bridge, status);
    })
}

impl HpdIrq for DisplayConnector {
    /// The probe requests the interrupt of the `hpd-gpios` line when there is one.
    fn has_hpd_irq(&self, tree: &DeviceTree, node: NodeId) -> bool {
        tree.property(node, "hpd-gpios").is_some()
    }
}

impl Driver for DisplayConnector {
    fn name(&self) -> &'static str {
        "display-connector"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("display_connector_probe");
        let v = variant(k, COMPATIBLE);
        let b = alloc_bridge(
            k,
            dev,
            v,
            "struct display_connector",
            Rc::new(Funcs),
            Conn {
                hpd: None,
                ddc: None,
                irq: None,
            },
        )?;
        let hpd = devm_gpiod_get_optional(k, dev, "hpd")?;
        let irq = match hpd {
            Some(_) => {
                let irq = k.devm_request_threaded_irq(dev, "hpd", hpd_irq_handler(b))?;
                hpd_irq_requested(k, dev, irq);
                Some(irq)
            }
            None => None,
        };
        // ddc-i2c-bus: of_get_i2c_adapter_by_node takes an adapter reference.
        let node = k.dev_of_node(dev);
        let ddc = match node.and_then(|n| k.of_tree(|t| t.of_parse_phandle(n, "ddc-i2c-bus", 0))) {
            Some(adapter) => match k
                .of_find_device_by_node(adapter)
                .filter(|&d| k.device_is_bound(d))
            {
                Some(a) => {
                    k.device_link_add(dev, a);
                    Some(k.devm_hw_get(dev, HwKind::I2c, "ddc"))
                }
                None => return Err(Errno::EPROBE_DEFER),
            },
            None => None,
        };
        if let Some(pwr) = devm_regulator_get_optional(k, dev, "hdmi-pwr")? {
            k.hw_enable(pwr);
            let _ = k.devm_add_action(dev, "display_connector_pwr_off", 0, move |k| {
                k.hw_disable(pwr)
            });
        }
        drm::bridge::drm_bridge_priv_mut::<Conn, _>(k, b, |p| {
            p.hpd = hpd;
            p.ddc = ddc;
            p.irq = irq;
        });
        k.write(b.obj(), |x| {
            x.ops = DrmBridgeOps {
                detect: true,
                edid: ddc.is_some(),
                hpd: hpd.is_some(),
                ..Default::default()
            }
        });
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("display_connector_remove");
        remove_bridge(k, dev, false);
    }
}

/// The HPD interrupt of the connector at `dev`, if it has one.
pub fn hpd_irq_of(k: &Kernel, dev: DeviceId) -> Option<Irq> {
    crate::registry::hpd_irq(k, dev)
}
