//! `drivers/gpu/drm/mxsfb/lcdif_drv.c`: the i.MX8MP LCDIF display controller: the CRTC and
//! encoder side, owner of the `drm_device` (real-pipelines.md §4.2 #13).
//!
//! Probe: for each endpoint of its port, the bridge at the other end with
//! `devm_drm_of_get_bridge` (`-EPROBE_DEFER` until it is published), a drmm encoder, and
//! `drm_bridge_attach(encoder, bridge, NULL, DRM_BRIDGE_ATTACH_NO_CONNECTOR)` with a
//! bridge_connector (the v7.2 "i.MX LCDIF migrated to bridge-connector" shape, used for every
//! release in this model); then `drm_dev_register`. Remove: unregister and shut the pipeline
//! down; the `drm_device` itself lives until its last reference (an open file) goes.

use std::rc::Rc;

use drm::atomic::drm_atomic_helper_shutdown;
use drm::bridge::drm_bridge_attach;
use drm::bridge_connector::drm_bridge_connector_init;
use drm::drv::{
    devm_drm_dev_alloc, drm_dev_register, drm_dev_unregister, drmm_mode_config_init, DrmDevice,
    DrmDeviceObj,
};
use drm::encoder::drmm_encoder_alloc;
use drm::of::devm_drm_of_get_bridge;
use kmodel::device::{DeviceId, Driver};
use kmodel::hw::HwKind;
use kmodel::{Errno, Kernel};

use crate::display::{display_register, display_unregister, Pipe};
use crate::graph::remote_node;

/// lcdif_drv (i.MX8MP/93) and mxsfb (i.MX8MM/6SX LCDIF), which attach their first bridge the
/// same way (`mxsfb_attach_bridge`).
pub const COMPATIBLE: &[&str] = &[
    "fsl,imx8mp-lcdif",
    "fsl,imx93-lcdif",
    "fsl,imx8mm-lcdif",
    "fsl,imx6sx-lcdif",
];

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
pub const DRM_BRIDGE_ATTACH_NO_CONNECTOR: u32 = 1;

/// The driver model.
pub struct Lcdif;

impl Driver for Lcdif {
    fn name(&self) -> &'static str {
        "imx-lcdif"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("lcdif_probe");
        let node = k.dev_of_node(dev).ok_or(Errno::ENODEV)?;
        let regs = k.devm_hw_get(dev, HwKind::I2c, "regs");
        let name = k.dev_name(dev);
        let drm = devm_drm_dev_alloc(k, dev, &name)?;
        drmm_mode_config_init(k, drm)?;
        // lcdif_attach_bridge: the first endpoint of port 0.
        let _a = k.func("lcdif_attach_bridge");
        let bridge = devm_drm_of_get_bridge(k, dev, remote_node(k, dev, 0, -1))?;
        let enc = drmm_encoder_alloc(k, drm, "encoder-0")?;
        drm_bridge_attach(
            k,
            Some(enc),
            Some(bridge),
            None,
            DRM_BRIDGE_ATTACH_NO_CONNECTOR,
        )?;
        let connector = drm_bridge_connector_init(k, drm, enc)?;
        k.hw_access(regs, "lcdif_reset");
        drm_dev_register(k, drm)?;
        k.dev_set_drvdata(dev, Some(drm.obj()));
        display_register(
            k,
            Pipe {
                node,
                drm,
                encoder: enc,
                connector: Some(connector),
            },
        );
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("lcdif_remove");
        if let Some(node) = k.dev_of_node(dev) {
            display_unregister(k, node);
        }
        let Some(o) = k.dev_get_drvdata::<DrmDeviceObj>(dev) else {
            return;
        };
        let drm = DrmDevice::from_obj(o);
        drm_dev_unregister(k, drm);
        drm_atomic_helper_shutdown(k, drm);
    }
}

/// The registry entry.
pub fn driver() -> Rc<dyn Driver> {
    Rc::new(Lcdif)
}
