//! `drivers/gpu/drm/bridge/lontium-lt8912b.c`: Lontium LT8912B DSI-to-HDMI bridge on I2C
//! (real-pipelines.md §4.2 #4).
//!
//! Probe (`lt8912_probe`): the container (`devm_kzalloc` before v6.16, `devm_drm_bridge_alloc`
//! after), `lt8912_parse_dt`: the optional `reset` GPIO, the DSI host node behind port 0
//! (`lt->host_node`), and the bridge behind port 1, which must be an available
//! `hdmi-connector`: `of_drm_find_bridge` into `lt->hdmi_port` (**no reference**,
//! `-EPROBE_DEFER` while it is not published, `-EINVAL` if it is not an hdmi-connector); the
//! supplies (`devm_regulator_bulk_get`); the main/CEC/AVI I2C dummies (modelled as one regmap
//! per client); `bridge.ops = EDID | DETECT`; `drm_bridge_add`; then `lt8912_attach_dsi`
//! registers and attaches its own DSI device on the host (devm, `-EPROBE_DEFER` while the
//! host is absent, `drm_bridge_remove` on failure). Remove: `drm_bridge_remove`, the I2C
//! dummies and the host node go.
//!
//! `hdmi_port` is dereferenced at run time by `.detect` / `.edid_read` (and by `.detach` for
//! HPD disable): a raw pointer to another device's bridge. When the display-connector unbinds
//! first, that is a use-after-free until v6.17 made the chain hold its bridges. From v7.0
//! ("drm/bridge: lt8912b: convert to of_drm_find_and_get_bridge()", of_drm_find_bridge series
//! Part 2) the pointer is `bridge->next_bridge`, counted and put by the core at free.
//!
//! Omitted: the driver's own `drm_connector` (only built when attached without
//! `DRM_BRIDGE_ATTACH_NO_CONNECTOR`; every display controller model passes the flag), HPD
//! callback registration on `hdmi_port` (only in that connector mode), the video timing
//! registers, audio.

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_priv, drm_bridge_priv_mut, drm_bridge_remove,
    of_drm_find_and_get_bridge, of_drm_find_bridge, DrmBridge, DrmBridgeFuncs, DrmBridgeOps,
};
use drm::connector::ConnectorStatus;
use drm::encoder::DrmEncoder;
use drm::RefOwner;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, drvdata_bridge, remove_bridge};
use crate::graph::remote_node;
use crate::mipi_dsi::devm_mipi_dsi_attach_to;
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};
use crate::variant::{variant, Variant};

pub const COMPATIBLE: &[&str] = &["lontium,lt8912b"];

/// `lt8912_supplies`.
const SUPPLIES: &[&str] = &[
    "vdd",
    "vccmipirx",
    "vccsysclk",
    "vcclvdstx",
    "vcchdmitx",
    "vcclvdspll",
    "vcchdmipll",
];

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
const NO_CONNECTOR: u32 = 1;

/// `struct lt8912`.
struct Lt8912 {
    /// `lt->hdmi_port`: borrowed (raw) before the v7.0 conversion; `None` after it (the
    /// pointer lives in `bridge->next_bridge`).
    hdmi_port: Option<DrmBridge>,
    gp_reset: Option<Hw>,
    regmap: Option<Hw>,
    supplies: Vec<Hw>,
    variant: Variant,
    is_power_on: bool,
}

fn hdmi_port(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    match drm_bridge_priv::<Lt8912, _>(k, b, |p| p.variant) {
        Variant::NextBridge => k.read(b.obj(), |x| x.next_bridge),
        _ => drm_bridge_priv::<Lt8912, _>(k, b, |p| p.hdmi_port),
    }
}

/// `lt->hdmi_port->ops`: a dereference of the stored pointer.
fn hdmi_port_ops(k: &Kernel, b: DrmBridge) -> Option<DrmBridgeOps> {
    hdmi_port(k, b).map(|n| k.read(n.obj(), |x| x.ops))
}

/// The bridge funcs (`lt8912_bridge_funcs`). Public so a scenario step can run the driver's own
/// connector callbacks (`lt8912_connector_detect` / `_get_modes` call the same code).
pub struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("lt8912_bridge_attach");
        drm_bridge_attach(k, Some(enc), hdmi_port(k, b), Some(b), flags | NO_CONNECTOR)
    }
    fn detach(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt8912_bridge_detach");
        // lt8912_hard_power_off: reset asserted (only when it had been powered on).
        let (on, gpio) = drm_bridge_priv::<Lt8912, _>(k, b, |p| (p.is_power_on, p.gp_reset));
        if on {
            if let Some(g) = gpio {
                k.hw_access(g, "gpiod_set_value_cansleep(gp_reset, 1)");
            }
            drm_bridge_priv_mut::<Lt8912, _>(k, b, |p| p.is_power_on = false);
        }
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt8912_bridge_enable");
        let (gpio, regmap) = drm_bridge_priv::<Lt8912, _>(k, b, |p| (p.gp_reset, p.regmap));
        if let Some(g) = gpio {
            k.hw_access(g, "gpiod_set_value_cansleep(gp_reset, 0)");
        }
        if let Some(r) = regmap {
            k.hw_access(r, "lt8912_video_on");
        }
        drm_bridge_priv_mut::<Lt8912, _>(k, b, |p| p.is_power_on = true);
    }
    fn detect(&self, k: &Kernel, b: DrmBridge) -> ConnectorStatus {
        let _f = k.func("lt8912_bridge_detect");
        match hdmi_port_ops(k, b) {
            // drm_bridge_detect(lt->hdmi_port): the next bridge's .detect.
            Some(ops) if ops.detect => ConnectorStatus::Connected,
            _ => {
                // lt8912_check_cable_status: a register read.
                if let Some(r) = drm_bridge_priv::<Lt8912, _>(k, b, |p| p.regmap) {
                    k.hw_access(r, "regmap_read(REG_HPD)");
                }
                ConnectorStatus::Connected
            }
        }
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        let _f = k.func("lt8912_bridge_edid_read");
        match hdmi_port_ops(k, b) {
            // drm_bridge_edid_read(lt->hdmi_port): the EDID comes from the connector's DDC.
            Some(ops) if ops.edid => 1,
            _ => 0,
        }
    }
}

/// The driver model.
pub struct Lt8912b;

impl Driver for Lt8912b {
    fn name(&self) -> &'static str {
        "lt8912"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("lt8912_probe");
        let v = variant(k, COMPATIBLE);
        let p = Lt8912 {
            hdmi_port: None,
            gp_reset: None,
            regmap: None,
            supplies: Vec::new(),
            variant: v,
            is_power_on: false,
        };
        let b = alloc_bridge(k, dev, v, "struct lt8912", Rc::new(Funcs), p)?;
        // lt8912_parse_dt
        let gp_reset = devm_gpiod_get_optional(k, dev, "reset")?;
        let host_node = remote_node(k, dev, 0, -1).ok_or(Errno::ENODEV)?;
        let port_node = remote_node(k, dev, 1, -1).ok_or(Errno::ENODEV)?;
        let owner = RefOwner::next_bridge(k, dev);
        let next = if v == Variant::NextBridge {
            of_drm_find_and_get_bridge(k, port_node, owner.clone())
        } else {
            of_drm_find_bridge(k, port_node)
        };
        let Some(next) = next else {
            return Err(Errno::EPROBE_DEFER);
        };
        if v == Variant::NextBridge {
            // Stored at once: the core puts it when the bridge is freed, error paths included.
            k.write(b.obj(), |x| x.next_bridge = Some(next));
        } else {
            drm_bridge_priv_mut::<Lt8912, _>(k, b, |p| p.hdmi_port = Some(next));
        }
        let is_hdmi = k.of_tree(|t| t.of_device_is_compatible(port_node, "hdmi-connector") > 0);
        if !is_hdmi {
            // "Port is not an hdmi connector"
            return Err(Errno::EINVAL);
        }
        // lt8912_get_regulators
        let mut supplies = Vec::new();
        for s in SUPPLIES {
            supplies.push(devm_regulator_get(k, dev, s)?);
        }
        // lt8912_init_i2c: the main client's regmap plus the CEC/AVI dummies.
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "regmap");
        drm_bridge_priv_mut::<Lt8912, _>(k, b, |p| {
            p.gp_reset = gp_reset;
            p.regmap = Some(regmap);
            p.supplies = supplies;
        });
        k.write(b.obj(), |x| {
            x.ops = DrmBridgeOps {
                edid: true,
                detect: true,
                ..Default::default()
            }
        });
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        // lt8912_attach_dsi
        if let Err(e) = devm_mipi_dsi_attach_to(k, dev, host_node) {
            drm_bridge_remove(k, b);
            k.dev_set_drvdata::<()>(dev, None);
            return Err(e);
        }
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("lt8912_remove");
        remove_bridge(k, dev, false);
    }
}

/// `lt8912_connector_detect` for the LT8912B at `dev`: what the driver's own connector (or the
/// bridge connector, when LT8912B is its detect bridge) runs. For scenario steps and tests.
pub fn lt8912_detect(k: &Kernel, dev: DeviceId) -> Option<ConnectorStatus> {
    let b = drvdata_bridge(k, dev)?;
    Some(Funcs.detect(k, b))
}

/// `lt8912_connector_get_modes` for the LT8912B at `dev` (an EDID read through `hdmi_port`).
pub fn lt8912_get_modes(k: &Kernel, dev: DeviceId) -> Option<u32> {
    let b = drvdata_bridge(k, dev)?;
    Some(Funcs.get_modes(k, b))
}
