//! `drivers/gpu/drm/bridge/lontium-lt9611.c`: Lontium LT9611 dual-DSI-to-HDMI bridge on I2C
//!
//!
//! Probe (`lt9611_probe`): the container (`devm_kzalloc` before v6.16, `devm_drm_bridge_alloc`
//! after); `lt9611_parse_dt`: DSI host nodes behind port 0 (required, `-ENODEV`) and port 1
//! (optional; `of_node` references kept in `dsi0_node`/`dsi1_node`), and the next bridge on
//! port 2 with a bridge-only `drm_of_find_panel_or_bridge` into `lt9611->next_bridge`
//! (**borrowed**, `-EPROBE_DEFER` while unpublished); from v7.2 ("bridge-only users
//! converted", upstream.md §1.2) `of_drm_get_bridge_by_endpoint` into `bridge->next_bridge`
//! (counted, put by the core at free). Then the `reset` (required) and `enable` GPIOs, the
//! `vdd`/`vcc` supplies, enabled at probe; the chip reset; a **devm threaded HPD IRQ**;
//! `drm_bridge_add`; register and attach its DSI device on each host (devm); enable the HPD
//! interrupts; register the `hdmi-audio-codec` child platform device.
//!
//! Remove: `disable_irq` (the devm IRQ itself is freed only by devres after remove: the "order
//! hazard", harmless because the IRQ is disabled first), unregister the audio
//! device, `drm_bridge_remove`, disable the supplies, put the DSI host nodes. The DSI devices
//! detach afterwards, from devres.
//!
//! The HPD interrupt (v7.1:drivers/gpu/drm/bridge/lontium-lt9611.c:lt9611_irq_thread_handler)
//! reads and clears the chip's interrupt flags and, when HPD changed and the bridge is attached
//! (`lt9611->bridge.dev`), calls `drm_kms_helper_hotplug_event` on that `drm_device`: it does
//! not go through `drm_bridge_hpd_notify`.
//!
//! Omitted: the bridge's own connector (attach without `NO_CONNECTOR`), mode tables, CEC.

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_priv, drm_bridge_priv_mut, drm_bridge_remove,
    of_drm_get_bridge_by_endpoint, DrmBridge, DrmBridgeFuncs, DrmBridgeOps,
};
use drm::connector::{drm_kms_helper_hotplug_event, ConnectorStatus};
use drm::encoder::DrmEncoder;
use drm::of::drm_of_find_panel_or_bridge;
use drm::rules::rules;
use drm::RefOwner;
use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::interrupt::{Handler, Irq};
use kmodel::of::{DeviceTree, NodeId};
use kmodel::of_platform::OfBus;
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, drvdata_bridge};
use crate::graph::remote_node;
use crate::mipi_dsi::devm_mipi_dsi_attach_to;
use crate::registry::{hpd_irq_requested, HpdIrq};
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};
use crate::variant::{variant, Variant};

pub const COMPATIBLE: &[&str] = &["lontium,lt9611"];

/// `struct lt9611`.
struct Lt9611Priv {
    /// `lt9611->next_bridge` (borrowed) before the v7.2 conversion.
    next_bridge: Option<DrmBridge>,
    /// Whether `bridge->next_bridge` holds the next bridge (the v7.2 conversion).
    counted_next: bool,
    regmap: Option<Hw>,
    reset: Option<Hw>,
    supplies: Vec<Hw>,
    irq: Option<Irq>,
    audio_pdev: Option<DeviceId>,
}

fn next_of(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    let (counted, raw) =
        drm_bridge_priv::<Lt9611Priv, _>(k, b, |p| (p.counted_next, p.next_bridge));
    crate::common::stored_next(k, b, counted, raw)
}

fn regmap(k: &Kernel, b: DrmBridge) -> Hw {
    drm_bridge_priv::<Lt9611Priv, _>(k, b, |p| p.regmap)
        .expect("set by probe before drm_bridge_add")
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("lt9611_bridge_attach");
        drm_bridge_attach(k, Some(enc), next_of(k, b), Some(b), flags)
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt9611_bridge_atomic_pre_enable");
        k.hw_access(regmap(k, b), "lt9611_power_on");
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt9611_bridge_atomic_enable");
        k.hw_access(regmap(k, b), "lt9611_video_check / lt9611_pcr_setup");
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt9611_bridge_atomic_disable");
        k.hw_access(regmap(k, b), "regmap_write(HDMI_TX_PHY_OFF)");
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt9611_bridge_atomic_post_disable");
        k.hw_access(regmap(k, b), "lt9611_power_off");
    }
    fn detect(&self, k: &Kernel, b: DrmBridge) -> ConnectorStatus {
        let _f = k.func("lt9611_bridge_detect");
        k.hw_access(regmap(k, b), "regmap_read(0x825e)");
        ConnectorStatus::Connected
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        let _f = k.func("lt9611_bridge_edid_read");
        k.hw_access(regmap(k, b), "lt9611_read_edid");
        1
    }
    fn hpd_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("lt9611_bridge_hpd_enable");
        k.hw_access(regmap(k, b), "lt9611_enable_hpd_interrupts");
    }
}

/// v7.1:drivers/gpu/drm/bridge/lontium-lt9611.c:lt9611_irq_thread_handler: read the HPD and
/// video flags (0x820f, 0x820c), clear the HPD change (0x8207), and with the bridge attached
/// (`lt9611->bridge.dev` set) `drm_kms_helper_hotplug_event(lt9611->bridge.dev)`. The model's
/// interrupt is always an HPD change.
fn irq_thread(b: DrmBridge) -> Handler {
    Rc::new(move |k: &Kernel| {
        let _f = k.func("lt9611_irq_thread_handler");
        let r = regmap(k, b);
        k.hw_access(r, "regmap_read(0x820f)");
        k.hw_access(r, "regmap_read(0x820c)");
        k.hw_access(r, "regmap_write(0x8207, hpd changed)");
        if let Some(drm) = k.read(b.obj(), |x| x.drm_dev_ptr()) {
            drm_kms_helper_hotplug_event(k, drm);
        }
    })
}

impl HpdIrq for Lt9611Driver {
    /// The probe always requests `client->irq` (and fails without one).
    fn has_hpd_irq(&self, _tree: &DeviceTree, _node: NodeId) -> bool {
        true
    }
}

/// `devm_gpiod_get`: like the optional lookup, but a missing property is an error.
fn devm_gpiod_get(k: &Kernel, dev: DeviceId, con_id: &str) -> Result<Hw, Errno> {
    devm_gpiod_get_optional(k, dev, con_id)?.ok_or(Errno::ENOENT)
}

/// The driver model.
pub struct Lt9611Driver;

impl Driver for Lt9611Driver {
    fn name(&self) -> &'static str {
        "lt9611"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("lt9611_probe");
        let v = variant(k, COMPATIBLE);
        // cite: commit 03d1078112fd
        let counted_next = v == Variant::NextBridge && rules(k).of_get_bridge_by_endpoint;
        let p = Lt9611Priv {
            next_bridge: None,
            counted_next,
            regmap: None,
            reset: None,
            supplies: Vec::new(),
            irq: None,
            audio_pdev: None,
        };
        let b = alloc_bridge(k, dev, v, "struct lt9611", Rc::new(Funcs), p)?;
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "regmap");
        // lt9611_parse_dt
        let dsi0 = remote_node(k, dev, 0, -1).ok_or(Errno::ENODEV)?;
        let dsi1 = remote_node(k, dev, 1, -1);
        let out = remote_node(k, dev, 2, -1);
        if counted_next {
            let owner = RefOwner::next_bridge(k, dev);
            let nb = of_drm_get_bridge_by_endpoint(k, out, owner)?;
            k.write(b.obj(), |x| x.next_bridge = Some(nb));
        } else {
            let (_, nb) = drm_of_find_panel_or_bridge(k, out, false, true)?;
            drm_bridge_priv_mut::<Lt9611Priv, _>(k, b, |p| p.next_bridge = nb);
        }
        // lt9611_gpio_init, lt9611_regulator_init, lt9611_regulator_enable
        let reset = devm_gpiod_get(k, dev, "reset")?;
        let _enable = devm_gpiod_get_optional(k, dev, "enable")?;
        let supplies = vec![
            devm_regulator_get(k, dev, "vdd")?,
            devm_regulator_get(k, dev, "vcc")?,
        ];
        for s in &supplies {
            k.hw_enable(*s);
        }
        // lt9611_reset, lt9611_read_device_rev
        k.hw_access(reset, "gpiod_set_value_cansleep(reset, 1)");
        k.hw_access(reset, "gpiod_set_value_cansleep(reset, 0)");
        k.hw_access(regmap, "regmap_read(0x8100) device rev");
        let irq = match k.devm_request_threaded_irq(dev, "lt9611", irq_thread(b)) {
            Ok(i) => {
                hpd_irq_requested(k, dev, i);
                i
            }
            Err(e) => {
                supplies.iter().for_each(|s| k.hw_disable(*s));
                return Err(e);
            }
        };
        drm_bridge_priv_mut::<Lt9611Priv, _>(k, b, |p| {
            p.regmap = Some(regmap);
            p.reset = Some(reset);
            p.supplies = supplies.clone();
            p.irq = Some(irq);
        });
        k.write(b.obj(), |x| {
            x.ops = DrmBridgeOps {
                detect: true,
                edid: true,
                hpd: true,
                hdmi: true,
                ..Default::default()
            }
        });
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        // Attach primary DSI, then the secondary one if described.
        for host_node in std::iter::once(dsi0).chain(dsi1) {
            if let Err(e) = devm_mipi_dsi_attach_to(k, dev, host_node) {
                // err_remove_bridge / err_disable_regulators
                drm_bridge_remove(k, b);
                supplies.iter().for_each(|s| k.hw_disable(*s));
                k.dev_set_drvdata::<()>(dev, None);
                return Err(e);
            }
        }
        k.hw_access(regmap, "lt9611_enable_hpd_interrupts");
        // lt9611_audio_init: platform_device_register_data(dev, HDMI_CODEC_DRV_NAME, ...)
        let codec = k.device_add(
            k.of_bus(OfBus::Platform),
            DeviceInfo {
                name: format!("hdmi-audio-codec.{}", dev.0),
                compatible: Vec::new(),
                parent: Some(dev),
                of_node: None,
            },
        );
        drm_bridge_priv_mut::<Lt9611Priv, _>(k, b, |p| p.audio_pdev = Some(codec));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("lt9611_remove");
        let Some(b) = drvdata_bridge(k, dev) else {
            return;
        };
        let (irq, codec, supplies) =
            drm_bridge_priv::<Lt9611Priv, _>(k, b, |p| (p.irq, p.audio_pdev, p.supplies.clone()));
        if let Some(i) = irq {
            k.disable_irq(i);
        }
        // lt9611_audio_exit
        if let Some(c) = codec {
            k.device_del(c);
        }
        drm_bridge_remove(k, b);
        for s in supplies {
            k.hw_disable(s);
        }
    }
}

/// The HPD interrupt of the LT9611 at `dev`.
pub fn hpd_irq_of(k: &Kernel, dev: DeviceId) -> Option<Irq> {
    crate::registry::hpd_irq(k, dev)
}
