//! Small driver models for tests and demos: a panel, an sn65dsi83-like DSI→LVDS bridge
//! and a display controller that owns the `drm_device` and the encoder. Each follows the
//! lifetime pattern of its era, chosen by the active rules (legacy `devm_kzalloc` before
//! `bridge_refcount`, `drm_bridge_unplug` from `bridge_unplug`, `next_bridge` from
//! `next_bridge_field`).

use std::rc::Rc;

use kmodel::device::{BusId, DeviceId, DeviceInfo, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel};

use drm::atomic::drm_atomic_helper_shutdown;
use drm::bridge::{
    devm_drm_bridge_alloc, devm_drm_bridge_alloc_legacy, drm_bridge_add, drm_bridge_attach,
    drm_bridge_enter, drm_bridge_exit, drm_bridge_get, drm_bridge_priv, drm_bridge_put,
    drm_bridge_remove, drm_bridge_unplug, of_drm_find_and_get_bridge, of_drm_find_bridge,
    DrmBridge, DrmBridgeFuncs, DrmBridgeObj,
};
use drm::bridge_connector::drm_bridge_connector_init;
use drm::drv::{
    devm_drm_dev_alloc, drm_dev_put, drm_dev_register, drm_dev_unregister, drmm_mode_config_init,
    DrmDevice, DrmDeviceObj,
};
use drm::encoder::{drmm_encoder_alloc, DrmEncoder};
use drm::managed::{drmm_add_action, drmm_kzalloc};
use drm::of::devm_drm_of_get_bridge;
use drm::panel::{
    devm_drm_panel_alloc, drm_panel_add, drm_panel_priv, drm_panel_remove, DrmPanel, DrmPanelFuncs,
    DrmPanelObj,
};
use drm::rules::rules;

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
pub const DRM_BRIDGE_ATTACH_NO_CONNECTOR: u32 = 1;

// ---------------------------------------------------------------- panel

/// The test panel's private part: its power supply.
pub struct TestPanelPriv {
    pub power: Hw,
}

struct TestPanelFuncs;

impl DrmPanelFuncs for TestPanelFuncs {
    fn prepare(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        let h = drm_panel_priv::<TestPanelPriv, _>(k, p, |x| x.power);
        k.hw_enable(h);
        Ok(())
    }
    fn unprepare(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        let h = drm_panel_priv::<TestPanelPriv, _>(k, p, |x| x.power);
        k.hw_disable(h);
        Ok(())
    }
}

/// The panel_bridge window's set-up (§5.11): a panel device on OF node 3 bound by
/// [`TestPanelDriver`], and a display device whose card's encoder has the panel's
/// panel_bridge (`devm_drm_of_get_bridge`) attached with flags 0.
pub struct PanelBridgeChain {
    pub pdev: DeviceId,
    pub cdev: DeviceId,
    pub drm: DrmDevice,
    pub enc: DrmEncoder,
    pub pb: DrmBridge,
}

impl PanelBridgeChain {
    /// Unbind the display device, drop the test's card reference, then unbind the panel.
    pub fn teardown(&self, k: &Kernel) {
        k.device_del(self.cdev);
        drm_dev_put(k, self.drm, super::TEST);
        k.device_del(self.pdev);
    }
}

pub fn panel_bridge_chain(k: &Kernel) -> PanelBridgeChain {
    let b = super::bus(k);
    k.driver_register(b, Rc::new(TestPanelDriver));
    let pdev = k.device_add(
        b,
        DeviceInfo {
            name: "panel".into(),
            compatible: vec!["bridgesim,test-panel".into()],
            of_node: Some(NodeId::from_raw(3)),
            ..Default::default()
        },
    );
    let cdev = super::bare_device(k, "display");
    let (drm, enc) = super::drm_with_encoder(k, cdev);
    let pb = devm_drm_of_get_bridge(k, cdev, Some(NodeId::from_raw(3))).unwrap();
    drm_bridge_attach(k, Some(enc), Some(pb), None, 0).unwrap();
    PanelBridgeChain {
        pdev,
        cdev,
        drm,
        enc,
        pb,
    }
}

/// A simple panel driver (panel-simple-like): `devm_drm_panel_alloc`, a regulator, add;
/// remove unpublishes.
pub struct TestPanelDriver;

impl Driver for TestPanelDriver {
    fn name(&self) -> &'static str {
        "test-panel"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["bridgesim,test-panel"]
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let power = k.devm_hw_get(dev, HwKind::Regulator, "power");
        let name = k.dev_name(dev);
        let p = devm_drm_panel_alloc(
            k,
            dev,
            "struct test_panel",
            &name,
            Rc::new(TestPanelFuncs),
            TestPanelPriv { power },
        )?;
        drm_panel_add(k, p);
        k.dev_set_drvdata(dev, Some(p.obj()));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        if let Some(p) = k.dev_get_drvdata::<DrmPanelObj>(dev) {
            drm_panel_remove(k, DrmPanel::from_obj(p));
        }
    }
}

// ---------------------------------------------------------------- sn65dsi83-like bridge

/// The sn65dsi83-like bridge's private part (`struct sn65dsi83`).
pub struct Sn65Priv {
    pub vcc: Hw,
    pub enable_gpio: Hw,
    pub regmap: Hw,
    pub irq: Hw,
    /// The downstream (panel) bridge from `devm_drm_of_get_bridge` (borrowed); with
    /// `next_bridge_field` the driver also keeps a counted copy in `bridge->next_bridge`.
    pub panel_bridge: Option<DrmBridge>,
    /// Whether callbacks guard hardware access with `drm_bridge_enter`/`exit` (d2e8d1bc840b).
    pub guard: bool,
}

struct Sn65Funcs;

/// Run `f` on the hardware, inside `drm_bridge_enter`/`exit` when the driver guards.
fn sn65_hw(k: &Kernel, b: DrmBridge, f: impl FnOnce(&Sn65Priv)) {
    let guard = drm_bridge_priv::<Sn65Priv, _>(k, b, |p| p.guard);
    let idx = if guard {
        match drm_bridge_enter(k, b) {
            Some(i) => Some(i),
            None => return,
        }
    } else {
        None
    };
    let (vcc, gpio, regmap, irq, pb) = drm_bridge_priv::<Sn65Priv, _>(k, b, |p| {
        (p.vcc, p.enable_gpio, p.regmap, p.irq, p.panel_bridge)
    });
    f(&Sn65Priv {
        vcc,
        enable_gpio: gpio,
        regmap,
        irq,
        panel_bridge: pb,
        guard,
    });
    if let Some(i) = idx {
        drm_bridge_exit(k, i);
    }
}

impl DrmBridgeFuncs for Sn65Funcs {
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("sn65dsi83_attach");
        let next = drm_bridge_priv::<Sn65Priv, _>(k, b, |p| p.panel_bridge);
        drm_bridge_attach(k, Some(enc), next, Some(b), flags)
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_pre_enable");
        sn65_hw(k, b, |p| {
            k.hw_enable(p.vcc);
            k.hw_access(p.enable_gpio, "gpiod_set_value(enable, 1)");
            k.hw_access(p.regmap, "regmap_write(PLL_EN)");
            k.hw_enable(p.irq);
        });
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_enable");
        sn65_hw(k, b, |p| k.hw_access(p.regmap, "regmap_write(CSR_ENABLE)"));
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_disable");
        sn65_hw(k, b, |p| {
            k.hw_disable(p.irq);
            k.hw_access(p.regmap, "regmap_write(CSR_DISABLE)");
        });
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("sn65dsi83_atomic_post_disable");
        sn65_hw(k, b, |p| {
            k.hw_access(p.enable_gpio, "gpiod_set_value(enable, 0)");
            k.hw_disable(p.vcc);
        });
    }
}

/// An sn65dsi83-like DSI→LVDS bridge driver. `panel` is its output endpoint's remote node;
/// `guard` selects the v7.0 driver that wraps hardware access in enter/exit.
pub struct Sn65Driver {
    pub panel: NodeId,
    pub guard: bool,
}

impl Driver for Sn65Driver {
    fn name(&self) -> &'static str {
        "sn65dsi83"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["ti,sn65dsi83"]
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let r = rules(k);
        let name = k.dev_name(dev);
        let vcc = k.devm_hw_get(dev, HwKind::Regulator, "vcc");
        let enable_gpio = k.devm_hw_get(dev, HwKind::Gpio, "enable");
        let regmap = k.devm_hw_get(dev, HwKind::I2c, "regmap");
        let irq = k.devm_hw_get(dev, HwKind::Irq, "irq");
        // Only drivers of the v7.0 era can guard (drm_bridge_enter exists from `bridge_unplug`).
        let guard = self.guard && r.bridge_unplug;
        let p = Sn65Priv {
            vcc,
            enable_gpio,
            regmap,
            irq,
            panel_bridge: None,
            guard,
        };
        let funcs: Rc<dyn DrmBridgeFuncs> = Rc::new(Sn65Funcs);
        let b = if r.bridge_refcount {
            devm_drm_bridge_alloc(k, dev, "struct sn65dsi83", &name, Some(funcs), p)?
        } else {
            devm_drm_bridge_alloc_legacy(k, dev, "struct sn65dsi83", &name, funcs, p)?
        };
        // sn65dsi83_parse_dt: the output endpoint's panel, wrapped in a panel_bridge.
        let panel_bridge = devm_drm_of_get_bridge(k, dev, Some(self.panel))?;
        let np = k.dev_of_node(dev);
        k.write(b.obj(), |x| x.of_node = np);
        drm::bridge::drm_bridge_priv_mut::<Sn65Priv, _>(k, b, |p| {
            p.panel_bridge = Some(panel_bridge)
        });
        if r.next_bridge_field {
            let nb = drm_bridge_get(k, Some(panel_bridge), format!("next_bridge of {name}"));
            k.write(b.obj(), |x| x.next_bridge = nb);
        }
        drm_bridge_add(k, b);
        k.dev_set_drvdata(dev, Some(b.obj()));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let Some(o) = k.dev_get_drvdata::<DrmBridgeObj>(dev) else {
            return;
        };
        let b = DrmBridge::from_obj(o);
        if rules(k).bridge_unplug {
            drm_bridge_unplug(k, b);
        } else {
            drm_bridge_remove(k, b);
        }
    }
}

// ---------------------------------------------------------------- display controller

/// A display controller (lcdif-like) owning the `drm_device`, one encoder, the bridge chain
/// from the bridge at `bridge` and a bridge_connector. Remove unregisters and shuts down.
pub struct TestDisplayDriver {
    pub bridge: NodeId,
}

const DISPLAY_LOOKUP: &str = "display probe";
const DISPLAY_PRIV: &str = "display_priv bridge";

/// The display driver's drmm-allocated private data.
pub struct DisplayPriv {
    pub bridge: Option<DrmBridge>,
}

impl Driver for TestDisplayDriver {
    fn name(&self) -> &'static str {
        "test-display"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["bridgesim,test-display"]
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        let r = rules(k);
        let counted = r.of_find_and_get;
        // The lookup of each era: borrowed, counted (v7.0), by endpoint (v7.2).
        let b = if r.of_get_bridge_by_endpoint {
            drm::bridge::of_drm_get_bridge_by_endpoint(k, Some(self.bridge), DISPLAY_LOOKUP).ok()
        } else if counted {
            of_drm_find_and_get_bridge(k, self.bridge, DISPLAY_LOOKUP)
        } else {
            of_drm_find_bridge(k, self.bridge)
        };
        let Some(b) = b else {
            return Err(Errno::EPROBE_DEFER);
        };
        let name = k.dev_name(dev);
        let setup = || -> Result<DrmDevice, Errno> {
            let drm = devm_drm_dev_alloc(k, dev, &name)?;
            drmm_mode_config_init(k, drm)?;
            if counted {
                // A converted KMS driver keeps its own counted pointer for the drm_device's
                // lifetime and drops it from a drmm action.
                let holder = drmm_kzalloc(
                    k,
                    drm,
                    "struct display_priv",
                    "display_priv",
                    DisplayPriv { bridge: None },
                );
                let nb = drm_bridge_get(k, Some(b), DISPLAY_PRIV);
                k.write(holder, |p| p.bridge = nb);
                drmm_add_action(
                    k,
                    drm,
                    "display_put_bridge",
                    holder.id().0 as u64,
                    move |k| {
                        if rules(k).clear_and_put {
                            drm::bridge::drm_bridge_clear_and_put(
                                k,
                                holder,
                                |p| &mut p.bridge,
                                DISPLAY_PRIV,
                            );
                        } else {
                            // The open-coded put-then-clear of earlier drivers (§5.9's window).
                            let b = k.read(holder, |p| p.bridge);
                            drm_bridge_put(k, b, DISPLAY_PRIV);
                            k.write(holder, |p| p.bridge = None);
                        }
                    },
                )?;
            }
            let enc = drmm_encoder_alloc(k, drm, "encoder-0")?;
            drm_bridge_attach(k, Some(enc), Some(b), None, DRM_BRIDGE_ATTACH_NO_CONNECTOR)?;
            drm_bridge_connector_init(k, drm, enc)?;
            drm_dev_register(k, drm)?;
            Ok(drm)
        };
        let res = setup();
        if counted {
            drm_bridge_put(k, b, DISPLAY_LOOKUP);
        }
        let drm = res?;
        k.dev_set_drvdata(dev, Some(drm.obj()));
        Ok(())
    }
    fn remove(&self, k: &Kernel, dev: DeviceId) {
        let Some(o) = k.dev_get_drvdata::<DrmDeviceObj>(dev) else {
            return;
        };
        let drm = DrmDevice::from_obj(o);
        drm_dev_unregister(k, drm);
        drm_atomic_helper_shutdown(k, drm);
    }
}

// ---------------------------------------------------------------- the seed board

/// The devices of the seed thread's board (§3.3): panel ← sn65dsi83 ← display controller.
#[derive(Copy, Clone, Debug)]
pub struct SeedBoard {
    pub bus: BusId,
    pub panel: DeviceId,
    pub bridge: DeviceId,
    pub display: DeviceId,
}

/// OF nodes of the seed board (placeholders until `kmodel::of` lands).
pub const PANEL_NODE: NodeId = NodeId::from_raw(3);
pub const BRIDGE_NODE: NodeId = NodeId::from_raw(2);
pub const DISPLAY_NODE: NodeId = NodeId::from_raw(1);

/// Probe (A): register the three drivers and add the devices (panel, bridge, display).
/// `guard` selects whether the bridge driver wraps hardware access in enter/exit.
pub fn seed_probe(k: &Kernel, guard: bool) -> SeedBoard {
    let _f = k.func("seed_probe");
    let bus = k.bus_register("platform");
    k.driver_register(bus, Rc::new(TestPanelDriver));
    k.driver_register(
        bus,
        Rc::new(Sn65Driver {
            panel: PANEL_NODE,
            guard,
        }),
    );
    k.driver_register(
        bus,
        Rc::new(TestDisplayDriver {
            bridge: BRIDGE_NODE,
        }),
    );
    let dev = |name: &str, compat: &str, np: NodeId| DeviceInfo {
        name: name.into(),
        compatible: vec![compat.into()],
        parent: None,
        of_node: Some(np),
    };
    let panel = k.device_add(bus, dev("panel", "bridgesim,test-panel", PANEL_NODE));
    let bridge = k.device_add(bus, dev("2-002c", "ti,sn65dsi83", BRIDGE_NODE));
    let display = k.device_add(bus, dev("lcdif", "bridgesim,test-display", DISPLAY_NODE));
    SeedBoard {
        bus,
        panel,
        bridge,
        display,
    }
}

/// The display's `drm_device` (while it is bound).
pub fn seed_drm(k: &Kernel, board: &SeedBoard) -> Option<DrmDevice> {
    k.dev_get_drvdata::<DrmDeviceObj>(board.display)
        .map(DrmDevice::from_obj)
}

/// How the seed sequence removes the board.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SeedOptions {
    /// The bridge driver guards hardware access with enter/exit (v7.0 drivers only).
    pub guard: bool,
    /// The hardware vanishes before the unbind (physical unplug) instead of an orderly
    /// unbind with the board still present.
    pub hw_gone: bool,
}

/// The seed thread's whole sequence (§3.3): probe (A), enable the pipeline, unbind the
/// bridge (B′), disable the pipeline through the encoder (an encoder op after the bridge's
/// unbind), unbind the display (C′: the final `drm_dev_put` detaches the chain and does the
/// last puts), unbind the panel. `after_remove` runs right after B′ with the bridge.
pub fn seed_sequence(k: &Kernel, opts: SeedOptions, after_remove: impl FnOnce(&Kernel, DrmBridge)) {
    let _f = k.func("seed_sequence");
    let board = seed_probe(k, opts.guard);
    let drm = seed_drm(k, &board).expect("the display binds once the bridge and panel are there");
    let enc = drm::drv::drm_mode_config_encoders(k, drm)[0];
    let bridge = DrmBridge::from_obj(
        k.dev_get_drvdata::<DrmBridgeObj>(board.bridge)
            .expect("bridge bound"),
    );
    drm::atomic::drm_atomic_helper_commit_modeset_enables(k, enc);
    if opts.hw_gone {
        k.hw_mark_gone(board.bridge);
    }
    k.device_release_driver(board.bridge);
    after_remove(k, bridge);
    drm::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
    k.device_release_driver(board.display);
    k.device_release_driver(board.panel);
}
