//! `drivers/gpu/drm/bridge/ite-it6263.c`: ITE IT6263 LVDS-to-HDMI bridge on I2C (Liu Ying,
//! 2024; real-pipelines.md §2.1 #5: fsl-ldb channel 0 → IT6263 port 0, port 2 →
//! `hdmi-connector`).
//!
//! Probe (`it6263_probe`): the container (`devm_drm_bridge_alloc`; the driver was merged in
//! the devm_kzalloc era, so the model allocates by era like the others); the HDMI regmap; the
//! nine supplies with `devm_regulator_bulk_get_enable` (enabled now, disabled by devres);
//! `it6263_parse_dt`: the `data-mapping` property (required, `-EINVAL`), the next element on
//! port 2 with `devm_drm_of_get_bridge(dev, np, 2, 0)` into `it->next_bridge` (a
//! display-connector: **borrowed**, `-EPROBE_DEFER` until it is published), dual-link from
//! ports 0/1; the optional `reset` GPIO and a hardware reset; the LVDS I2C dummy and its
//! regmap; `bridge.ops = DETECT | EDID | HDMI`; `devm_drm_bridge_add` (so there is no
//! `.remove`: the bridge is removed by devres at unbind).
//!
//! `.attach` attaches `next_bridge` after itself with `NO_CONNECTOR`. No `next_bridge`
//! conversion is known for this driver in the stored versions, so `it->next_bridge` stays a raw
//! pointer in every era. Omitted: HDMI infoframes / TMDS rate checks, audio, the CEC parts.

use std::rc::Rc;

use drm::bridge::{
    devm_drm_bridge_add, drm_bridge_attach, drm_bridge_priv, drm_bridge_priv_mut, DrmBridge,
    DrmBridgeFuncs, DrmBridgeOps,
};
use drm::connector::ConnectorStatus;
use drm::encoder::DrmEncoder;
use drm::of::devm_drm_of_get_bridge;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

use crate::common::alloc_bridge;
use crate::graph::remote_node;
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};
use crate::variant::variant;

pub const COMPATIBLE: &[&str] = &["ite,it6263"];

/// `it6263_supplies`.
const SUPPLIES: &[&str] = &[
    "ivdd", "ovdd", "txavcc18", "txavcc33", "pvcc1", "pvcc2", "avcc", "anvdd", "apvdd",
];

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
const NO_CONNECTOR: u32 = 1;

/// `struct it6263`.
struct It6263 {
    /// `it->next_bridge` (borrowed).
    next_bridge: Option<DrmBridge>,
    hdmi_regmap: Option<Hw>,
    lvds_regmap: Option<Hw>,
}

fn regmaps(k: &Kernel, b: DrmBridge) -> (Hw, Hw) {
    drm_bridge_priv::<It6263, _>(k, b, |p| {
        (
            p.hdmi_regmap.expect("set by probe"),
            p.lvds_regmap.expect("set by probe"),
        )
    })
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("it6263_bridge_attach");
        let next = drm_bridge_priv::<It6263, _>(k, b, |p| p.next_bridge);
        drm_bridge_attach(k, Some(enc), next, Some(b), flags | NO_CONNECTOR)
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("it6263_bridge_atomic_enable");
        let (hdmi, lvds) = regmaps(k, b);
        k.hw_access(lvds, "it6263_lvds_sys_cfg");
        k.hw_access(hdmi, "regmap_write(HDMI_REG_AFE_DRV_CTRL)");
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("it6263_bridge_atomic_disable");
        let (hdmi, _) = regmaps(k, b);
        k.hw_access(hdmi, "regmap_write(HDMI_REG_AFE_DRV_CTRL, power down)");
    }
    fn detect(&self, k: &Kernel, b: DrmBridge) -> ConnectorStatus {
        let _f = k.func("it6263_bridge_detect");
        let (hdmi, _) = regmaps(k, b);
        k.hw_access(hdmi, "regmap_read(HDMI_REG_SYS_STATUS)");
        ConnectorStatus::Connected
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        let _f = k.func("it6263_bridge_edid_read");
        let (hdmi, _) = regmaps(k, b);
        k.hw_access(hdmi, "it6263_read_edid (DDC master)");
        1
    }
}

/// The driver model.
pub struct It6263Driver;

impl Driver for It6263Driver {
    fn name(&self) -> &'static str {
        "it6263"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("it6263_probe");
        let v = variant(k, COMPATIBLE);
        let p = It6263 {
            next_bridge: None,
            hdmi_regmap: None,
            lvds_regmap: None,
        };
        let b = alloc_bridge(k, dev, v, "struct it6263", Rc::new(Funcs), p)?;
        let hdmi_regmap = k.devm_hw_get(dev, HwKind::I2c, "hdmi regmap");
        // devm_regulator_bulk_get_enable
        for s in SUPPLIES {
            let r = devm_regulator_get(k, dev, s)?;
            k.hw_enable(r);
            k.devm_add_action_or_reset(dev, "devm_regulator_bulk_disable", r.id().0 as u64, {
                move |k| k.hw_disable(r)
            })?;
        }
        // it6263_parse_dt
        let node = k.dev_of_node(dev).ok_or(Errno::ENODEV)?;
        if k.of_tree(|t| t.property(node, "data-mapping").is_none()) {
            return Err(Errno::EINVAL);
        }
        let next = devm_drm_of_get_bridge(k, dev, remote_node(k, dev, 2, 0))?;
        let reset = devm_gpiod_get_optional(k, dev, "reset")?;
        if let Some(g) = reset {
            k.hw_access(g, "it6263_hw_reset");
        }
        // it6263_lvds_set_i2c_addr, devm_i2c_new_dummy_device, it6263_{lvds,hdmi}_config
        k.hw_access(hdmi_regmap, "it6263_lvds_set_i2c_addr");
        let lvds_regmap = k.devm_hw_get(dev, HwKind::I2c, "lvds regmap");
        k.hw_access(lvds_regmap, "it6263_lvds_config");
        k.hw_access(hdmi_regmap, "it6263_hdmi_config");
        drm_bridge_priv_mut::<It6263, _>(k, b, |p| {
            p.next_bridge = Some(next);
            p.hdmi_regmap = Some(hdmi_regmap);
            p.lvds_regmap = Some(lvds_regmap);
        });
        k.write(b.obj(), |x| {
            x.ops = DrmBridgeOps {
                detect: true,
                edid: true,
                hdmi: true,
                ..Default::default()
            }
        });
        k.dev_set_drvdata(dev, Some(b.obj()));
        devm_drm_bridge_add(k, dev, b)
    }
    // No .remove upstream: devm_drm_bridge_add removes the bridge from devres.
}
