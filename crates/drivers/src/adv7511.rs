//! `drivers/gpu/drm/bridge/adv7511/adv7511_drv.c` + `adv7533.c`: ADI ADV7511/7511W (parallel
//! RGB to HDMI) and ADV7533/7535 (DSI to HDMI) on I2C.
//!
//! Probe (`adv7511_probe`): the container (`devm_kzalloc` before v6.16,
//! `devm_drm_bridge_alloc` after); an optional next bridge on port 1 with a bridge-only
//! `drm_of_find_panel_or_bridge` into `adv7511->next_bridge` (**borrowed**; `-ENODEV` means
//! none, `-EPROBE_DEFER` while unpublished; "adv7511: attach next bridge", Dmitry Baryshkov
//! 2024); from v7.2 `of_drm_get_bridge_by_endpoint` into `bridge->next_bridge` (counted, put at
//! free). ADV7533/35: `adv7533_parse_dt` finds the DSI host node behind port 0 (`-ENODEV`
//! without it; the node reference is dropped at once and the pointer kept). The supplies,
//! enabled at probe (`adv7511_init_regulators`); the optional `pd` GPIO; the main regmap and
//! the EDID/packet/CEC I2C clients; `INIT_WORK(hpd_work)`; with an interrupt, a **devm threaded
//! IRQ** whose handler schedules `hpd_work`; `drm_bridge_add`; the `hdmi-audio-codec` child
//! device; ADV7533/35 then register and attach their DSI device on the host (devm,
//! `-EPROBE_DEFER` while the host is absent), unwinding audio and `drm_bridge_remove` on failure.
//!
//! Remove (`adv7511_remove`): the CEC client, disable the supplies, `drm_bridge_remove`, the
//! audio device, the packet/EDID clients. The HPD work is **not cancelled**: a queued
//! `hpd_work` (or an interrupt between remove and the devres `free_irq`) runs after unbind:
//! a use-after-free of the work in the freed container in the pre-refcount era, and from v6.17
//! (container alive while the chain holds it) register access after unbind and
//! `drm_bridge_hpd_notify` on a removed bridge (its `hpd_mutex` destroyed). Zheng Wang posted
//! `cancel_work_sync` in remove (2023, "race condition where bridge->hpd_mutex was destroyed by
//! drm_bridge_remove and used in adv7511_hpd_work"); later stored versions of
//! `adv7511_remove` still lack it, so the model keeps the window in every era.
//!
//! Omitted: the driver's own connector (without `NO_CONNECTOR`), CEC, audio formats, the
//! 7533 DSI lane/clock programming beyond one register access.

use std::rc::Rc;

use drm::bridge::{
    drm_bridge_add, drm_bridge_attach, drm_bridge_hpd_notify, drm_bridge_priv, drm_bridge_priv_mut,
    drm_bridge_remove, of_drm_get_bridge_by_endpoint, DrmBridge, DrmBridgeFuncs, DrmBridgeOps,
};
use drm::connector::ConnectorStatus;
use drm::encoder::DrmEncoder;
use drm::of::drm_of_find_panel_or_bridge;
use drm::rules::rules;
use drm::RefOwner;
use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::interrupt::{Handler, Irq, Work};
use kmodel::of::{DeviceTree, NodeId};
use kmodel::of_platform::OfBus;
use kmodel::{Errno, Kernel};

use crate::common::{alloc_bridge, drvdata_bridge};
use crate::graph::remote_node;
use crate::mipi_dsi::devm_mipi_dsi_attach_to;
use crate::registry::{hpd_irq_requested, HpdIrq};
use crate::supply::{devm_gpiod_get_optional, devm_regulator_get};
use crate::variant::{variant, Variant};

/// The parts without DSI (`link_config`) and with it (`has_dsi`).
pub const COMPATIBLE_7511: &[&str] = &["adi,adv7511", "adi,adv7511w", "adi,adv7513"];
pub const COMPATIBLE_7533: &[&str] = &["adi,adv7533", "adi,adv7535"];
pub const COMPATIBLE: &[&str] = &[
    "adi,adv7511",
    "adi,adv7511w",
    "adi,adv7513",
    "adi,adv7533",
    "adi,adv7535",
];

const SUPPLIES_7511: &[&str] = &["avdd", "dvdd", "pvdd", "bgvdd", "dvdd-3v"];
const SUPPLIES_7533: &[&str] = &["avdd", "dvdd", "pvdd", "a2vdd", "v3p3", "v1p2"];

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
const NO_CONNECTOR: u32 = 1;

/// `struct adv7511`.
struct Adv7511 {
    /// `adv7511->next_bridge` (borrowed) before the v7.2 conversion.
    next_bridge: Option<DrmBridge>,
    counted_next: bool,
    regmap: Option<Hw>,
    supplies: Vec<Hw>,
    irq: Option<Irq>,
    hpd_work: Option<Work>,
    audio_pdev: Option<DeviceId>,
    /// `adv->host_node` (ADV7533/35): kept after `of_node_put`.
    host_node: Option<NodeId>,
}

fn next_of(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    let (counted, raw) = drm_bridge_priv::<Adv7511, _>(k, b, |p| (p.counted_next, p.next_bridge));
    crate::common::stored_next(k, b, counted, raw)
}

fn regmap(k: &Kernel, b: DrmBridge) -> Hw {
    drm_bridge_priv::<Adv7511, _>(k, b, |p| p.regmap).expect("set by probe before drm_bridge_add")
}

/// Whether the container is devres memory (freed at unbind) rather than freed at the last put
/// with `.destroy` called.
fn container_freed_at_unbind(k: &Kernel, v: Variant) -> bool {
    let r = rules(k);
    // cite: v7.1:drivers/gpu/drm/bridge/adv7511/adv7511_drv.c:adv7511_probe; v6.17:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free
    v == Variant::PreRefcount || !r.bridge_refcount || !r.destroy_hook
}

struct Funcs;

impl DrmBridgeFuncs for Funcs {
    fn destroy(&self, k: &Kernel, b: DrmBridge) {
        if let Some(w) = drm_bridge_priv::<Adv7511, _>(k, b, |p| p.hpd_work) {
            k.destroy_work(w);
        }
    }
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("adv7511_bridge_attach");
        if let Some(n) = next_of(k, b) {
            drm_bridge_attach(k, Some(enc), Some(n), Some(b), flags | NO_CONNECTOR)?;
        }
        if drm_bridge_priv::<Adv7511, _>(k, b, |p| p.irq.is_some()) {
            k.hw_access(regmap(k, b), "regmap_write(ADV7511_REG_INT_ENABLE(0), HPD)");
        }
        Ok(())
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("adv7511_bridge_atomic_enable");
        k.hw_access(regmap(k, b), "adv7511_power_on");
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("adv7511_bridge_atomic_disable");
        k.hw_access(regmap(k, b), "adv7511_power_off");
    }
    fn detect(&self, k: &Kernel, b: DrmBridge) -> ConnectorStatus {
        let _f = k.func("adv7511_bridge_detect");
        k.hw_access(regmap(k, b), "regmap_read(ADV7511_REG_STATUS)");
        ConnectorStatus::Connected
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        let _f = k.func("adv7511_bridge_edid_read");
        k.hw_access(regmap(k, b), "adv7511_get_edid_block");
        1
    }
}

/// v7.1:drivers/gpu/drm/bridge/adv7511/adv7511_drv.c:adv7511_hpd_work: read the HPD status
/// and, as it changed (the model's interrupt is always a plug), `drm_bridge_hpd_notify`
/// through the bridge. The power cycle on a re-plug while powered is omitted.
fn hpd_work(b: DrmBridge) -> Handler {
    Rc::new(move |k: &Kernel| {
        let _f = k.func("adv7511_hpd_work");
        let r = regmap(k, b);
        k.hw_access(r, "regmap_read(ADV7511_REG_STATUS)");
        drm_bridge_hpd_notify(k, b, ConnectorStatus::Connected);
    })
}

/// v7.1:drivers/gpu/drm/bridge/adv7511/adv7511_drv.c:adv7511_irq_handler →
/// adv7511_irq_process: read and clear both interrupt registers, and schedule `hpd_work` when
/// HPD fired and the bridge is attached (`adv7511->bridge.encoder`).
fn irq_handler(b: DrmBridge) -> Handler {
    Rc::new(move |k: &Kernel| {
        let _f = k.func("adv7511_irq_process");
        let (r, w) = drm_bridge_priv::<Adv7511, _>(k, b, |p| (p.regmap, p.hpd_work));
        if let Some(r) = r {
            k.hw_access(r, "regmap_read(ADV7511_REG_INT(0))");
            k.hw_access(r, "regmap_read(ADV7511_REG_INT(1))");
            k.hw_access(r, "regmap_write(ADV7511_REG_INT(0))");
            k.hw_access(r, "regmap_write(ADV7511_REG_INT(1))");
        }
        let attached = k.read(b.obj(), |x| x.encoder_ptr().is_some());
        if let (Some(w), true) = (w, attached) {
            k.queue_work(w);
        }
    })
}

impl HpdIrq for Adv7511Driver {
    /// The probe requests `i2c->irq` only when the node describes an interrupt.
    fn has_hpd_irq(&self, tree: &DeviceTree, node: NodeId) -> bool {
        has_interrupt(tree, node)
    }
}

/// Whether the node describes an interrupt (`i2c->irq` is set).
fn has_interrupt(tree: &DeviceTree, node: NodeId) -> bool {
    tree.property(node, "interrupts").is_some()
        || tree.property(node, "interrupts-extended").is_some()
}

/// The driver model.
pub struct Adv7511Driver;

impl Driver for Adv7511Driver {
    fn name(&self) -> &'static str {
        "adv7511"
    }
    fn of_match_table(&self) -> &[&'static str] {
        COMPATIBLE
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let _f = k.func("adv7511_probe");
        let node = k.dev_of_node(dev).ok_or(Errno::ENODEV)?;
        let has_dsi = k.of_tree(|t| {
            COMPATIBLE_7533
                .iter()
                .any(|c| t.of_device_is_compatible(node, c) > 0)
        });
        let v = variant(k, COMPATIBLE);
        // cite: commit 03d1078112fd
        let counted_next = v == Variant::NextBridge && rules(k).of_get_bridge_by_endpoint;
        let p = Adv7511 {
            next_bridge: None,
            counted_next,
            regmap: None,
            supplies: Vec::new(),
            irq: None,
            hpd_work: None,
            audio_pdev: None,
            host_node: None,
        };
        let b = alloc_bridge(k, dev, v, "struct adv7511", Rc::new(Funcs), p)?;
        let out = remote_node(k, dev, 1, -1);
        if counted_next {
            let owner = RefOwner::next_bridge(k, dev);
            match of_drm_get_bridge_by_endpoint(k, out, owner) {
                Ok(nb) => k.write(b.obj(), |x| x.next_bridge = Some(nb)),
                Err(Errno::ENODEV) => {}
                Err(e) => return Err(e),
            }
        } else {
            match drm_of_find_panel_or_bridge(k, out, false, true) {
                Ok((_, nb)) => drm_bridge_priv_mut::<Adv7511, _>(k, b, |p| p.next_bridge = nb),
                Err(Errno::ENODEV) => {}
                Err(e) => return Err(e),
            }
        }
        let host_node = if has_dsi {
            // adv7533_parse_dt: of_graph_get_remote_node(np, 0, 0), then of_node_put.
            Some(remote_node(k, dev, 0, 0).ok_or(Errno::ENODEV)?)
        } else {
            None
        };
        // adv7511_init_regulators: get and enable.
        let names = if has_dsi {
            SUPPLIES_7533
        } else {
            SUPPLIES_7511
        };
        let mut supplies = Vec::new();
        for s in names {
            supplies.push(devm_regulator_get(k, dev, s)?);
        }
        supplies.iter().for_each(|s| k.hw_enable(*s));
        let unwind = |k: &Kernel| supplies.iter().for_each(|s| k.hw_disable(*s));
        let _pd = match devm_gpiod_get_optional(k, dev, "pd") {
            Ok(g) => g,
            Err(e) => {
                unwind(k);
                return Err(e);
            }
        };
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "regmap");
        k.hw_access(regmap, "regmap_read(ADV7511_REG_CHIP_REVISION)");
        let work = k.init_work(&format!("{} hpd_work", k.dev_name(dev)), hpd_work(b));
        // The work_struct is embedded in the container, so the model's separate object goes
        // when the container does: with the devm_kzalloc memory at unbind, or at the last put
        // (`.destroy`) once the bridge is refcounted. It is never cancelled, as upstream.
        if container_freed_at_unbind(k, v) {
            if let Err(e) =
                k.devm_add_action_or_reset(dev, "adv7511_hpd_work", work.id().0 as u64, move |k| {
                    k.destroy_work(work)
                })
            {
                unwind(k);
                return Err(e);
            }
        }
        let has_irq = k.of_tree(|t| has_interrupt(t, node));
        let irq = if has_irq {
            match k.devm_request_threaded_irq(dev, "adv7511", irq_handler(b)) {
                Ok(i) => {
                    hpd_irq_requested(k, dev, i);
                    Some(i)
                }
                Err(e) => {
                    unwind(k);
                    return Err(e);
                }
            }
        } else {
            None
        };
        drm_bridge_priv_mut::<Adv7511, _>(k, b, |p| {
            p.regmap = Some(regmap);
            p.supplies = supplies.clone();
            p.irq = irq;
            p.hpd_work = Some(work);
            p.host_node = host_node;
        });
        k.write(b.obj(), |x| {
            x.ops = DrmBridgeOps {
                detect: true,
                edid: true,
                hdmi: true,
                hpd: irq.is_some(),
                ..Default::default()
            }
        });
        // adv7511_power_off
        k.hw_access(regmap, "adv7511_power_off");
        k.dev_set_drvdata(dev, Some(b.obj()));
        drm_bridge_add(k, b);
        // adv7511_audio_init
        let codec = k.device_add(
            k.of_bus(OfBus::Platform),
            DeviceInfo {
                name: format!("hdmi-audio-codec.{}", dev.0),
                compatible: Vec::new(),
                parent: Some(dev),
                of_node: None,
            },
        );
        drm_bridge_priv_mut::<Adv7511, _>(k, b, |p| p.audio_pdev = Some(codec));
        if let Some(hn) = host_node {
            // adv7533_attach_dsi
            if let Err(e) = devm_mipi_dsi_attach_to(k, dev, hn) {
                // err_unregister_audio
                k.device_del(codec);
                drm_bridge_remove(k, b);
                unwind(k);
                k.dev_set_drvdata::<()>(dev, None);
                return Err(e);
            }
        }
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let _f = k.func("adv7511_remove");
        let Some(b) = drvdata_bridge(k, dev) else {
            return;
        };
        let (supplies, codec) =
            drm_bridge_priv::<Adv7511, _>(k, b, |p| (p.supplies.clone(), p.audio_pdev));
        // adv7511_uninit_regulators
        for s in supplies {
            k.hw_disable(s);
        }
        drm_bridge_remove(k, b);
        // adv7511_audio_exit
        if let Some(c) = codec {
            k.device_del(c);
        }
    }
}

/// The HPD interrupt of the ADV7511 at `dev`, if it has one.
pub fn hpd_irq_of(k: &Kernel, dev: DeviceId) -> Option<Irq> {
    crate::registry::hpd_irq(k, dev)
}
