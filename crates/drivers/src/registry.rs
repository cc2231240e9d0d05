//! Every driver model, by bus, with what it is in a display pipeline ([`Role`]) and whether its
//! devices have an HPD interrupt ([`HpdIrq`]); the nodes no model claims ("not modelled"); and
//! the HPD interrupts the bound models requested, which the scenario's `hpd` step raises.

use std::fmt;
use std::rc::Rc;

use kmodel::device::{DeviceId, Driver};
use kmodel::interrupt::Irq;
use kmodel::of::{DeviceTree, NodeId};
use kmodel::of_platform::OfBus;
use kmodel::{Kernel, Obj};

use crate::supply;

/// What a driver model is in a display pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Regulators, GPIO, I2C and PWM controllers, PMICs: no DRM object.
    Supplier,
    /// A display controller: a `drm_device` with a CRTC, an encoder and a connector.
    DisplayController,
    /// A bridge driver: it adds a `drm_bridge` for its node.
    Bridge,
    /// A panel: the consumer wraps it in a panel_bridge whose `of_node` is the panel's.
    Panel,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Supplier => "supplier",
            Role::DisplayController => "display controller",
            Role::Bridge => "bridge",
            Role::Panel => "panel",
        })
    }
}

/// A driver model whose devices can raise an HPD interrupt. The driver records the interrupt
/// it requests with [`hpd_irq_requested`]; the scenario's `hpd` step raises it with
/// [`hpd_irq`] and `fire_irq`, whichever driver it is.
pub trait HpdIrq {
    /// Whether the driver's probe requests an HPD interrupt for the device of `node`, read from
    /// the tree as the probe reads it (`interrupts`, `hpd-gpios`).
    fn has_hpd_irq(&self, tree: &DeviceTree, node: NodeId) -> bool;
}

/// A driver model and the bus it registers on.
#[derive(Clone)]
pub struct Entry {
    pub bus: OfBus,
    pub driver: Rc<dyn Driver>,
    pub role: Role,
    /// Set for drivers with an HPD interrupt.
    pub hpd: Option<Rc<dyn HpdIrq>>,
}

/// What claims a device-tree node.
#[derive(Clone)]
pub enum Claim {
    /// The node has no `compatible`: no driver binds to it.
    NoCompatible,
    /// No model matches any of its compatible strings; the device stays inert.
    NotModelled,
    /// The model that binds to it (the first of its compatible strings a model matches, as
    /// `of_match_device` tries them).
    Model(Entry),
}

/// The model that claims `node` of `tree`, if any.
pub fn claim(tree: &DeviceTree, node: NodeId) -> Claim {
    claim_in(tree, node, &all())
}

/// [`claim`] among `entries` (a scenario's own drivers first, then [`all`]).
pub fn claim_in(tree: &DeviceTree, node: NodeId, entries: &[Entry]) -> Claim {
    let compat = tree.compatible(node);
    if compat.is_empty() {
        return Claim::NoCompatible;
    }
    for c in compat {
        if let Some(e) = entries
            .iter()
            .find(|e| e.driver.of_match_table().contains(&c))
        {
            return Claim::Model(e.clone());
        }
    }
    Claim::NotModelled
}

/// The HPD interrupts the bound models requested, by device.
#[derive(Copy, Clone)]
struct HpdLines(Obj<Vec<(DeviceId, Irq)>>);

fn hpd_lines(k: &Kernel) -> HpdLines {
    k.global(|k| HpdLines(k.static_obj("hpd lines", "hpd lines", Vec::new())))
}

/// The driver bound to `dev` requested `irq` as its HPD interrupt (called by the models after
/// `devm_request_threaded_irq`). A later probe of the same device replaces it.
pub fn hpd_irq_requested(k: &Kernel, dev: DeviceId, irq: Irq) {
    k.write(hpd_lines(k).0, |v| {
        v.retain(|(d, _)| *d != dev);
        v.push((dev, irq));
    });
}

/// The HPD interrupt last requested for `dev`, if its driver has one. It is the interrupt line
/// itself: after unbind, devres has freed it and firing it delivers nothing.
pub fn hpd_irq(k: &Kernel, dev: DeviceId) -> Option<Irq> {
    k.read(hpd_lines(k).0, |v| {
        v.iter().find(|(d, _)| *d == dev).map(|(_, i)| *i)
    })
}

/// The supplier models.
pub fn suppliers() -> Vec<Entry> {
    vec![
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::REGULATOR_FIXED),
            role: Role::Supplier,
            hpd: None,
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::GPIO_CONTROLLERS),
            role: Role::Supplier,
            hpd: None,
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(supply::GPIO_CONTROLLERS),
            role: Role::Supplier,
            hpd: None,
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::I2C_CONTROLLERS),
            role: Role::Supplier,
            hpd: None,
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::PWM_AND_BACKLIGHTS),
            role: Role::Supplier,
            hpd: None,
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(supply::PMICS),
            role: Role::Supplier,
            hpd: None,
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::BLK_CTRLS),
            role: Role::Supplier,
            hpd: None,
        },
    ]
}

/// The display driver models: every display controller, bridge and panel is described as
/// data (`crates/drivers/data/`).
pub fn display_drivers() -> Vec<Entry> {
    data_drivers()
}

/// The drivers described as data (`crates/drivers/data`, [`crate::data`]).
pub fn data_drivers() -> Vec<Entry> {
    let drivers = crate::data::builtin().unwrap_or_else(|e| {
        panic!("the embedded driver descriptions do not load (a build bug the tests catch): {e}")
    });
    drivers.iter().map(|d| data_entry(d.clone())).collect()
}

/// The registry entry of a data driver.
pub fn data_entry(d: std::sync::Arc<crate::data::DriverData>) -> Entry {
    use crate::data::format::{Bus, DriverRole};
    let bus = match d.bus {
        Bus::I2c => OfBus::I2c,
        Bus::Platform => OfBus::Platform,
        Bus::Dsi => OfBus::MipiDsi,
    };
    let role = match d.role {
        DriverRole::Bridge => Role::Bridge,
        DriverRole::Panel => Role::Panel,
        DriverRole::DisplayController => Role::DisplayController,
        // An encoder component is part of its aggregate display controller's card.
        DriverRole::Encoder => Role::DisplayController,
    };
    let hpd = d
        .hpd_source()
        .map(|source| Rc::new(DataHpd { source }) as Rc<dyn HpdIrq>);
    Entry {
        bus,
        driver: Rc::new(crate::data::interp::DataDriver { data: d }),
        role,
        hpd,
    }
}

/// The HPD interrupt of a data driver: requested when the node has its `source` property.
struct DataHpd {
    source: String,
}

impl HpdIrq for DataHpd {
    fn has_hpd_irq(&self, tree: &DeviceTree, node: NodeId) -> bool {
        tree.property(node, &self.source).is_some()
            || (self.source == "interrupts" && tree.property(node, "interrupts-extended").is_some())
    }
}

/// Every model: suppliers, then display drivers.
pub fn all() -> Vec<Entry> {
    let mut v = suppliers();
    v.extend(display_drivers());
    v
}

/// Every compatible string a model claims.
pub fn modelled_compatibles() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = all()
        .iter()
        .flat_map(|e| e.driver.of_match_table().to_vec())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Register `entries` (`module_init` of each driver).
pub fn register(k: &Kernel, entries: Vec<Entry>) {
    for e in entries {
        k.driver_register(k.of_bus(e.bus), e.driver);
    }
}

/// Devices no registered driver matches: "not modelled", listed once each by node path with
/// their compatible strings. They stay inert.
pub fn not_modelled(k: &Kernel, entries: &[Entry]) -> Vec<String> {
    let mut out = Vec::new();
    for d in k.devices() {
        let Some(node) = k.dev_of_node(d) else {
            continue;
        };
        if k.of_find_device_by_node(node) != Some(d) {
            continue;
        }
        let compat = k.of_tree_peek(|t| {
            t.compatible(node)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        });
        let claimed = entries.iter().any(|e| {
            compat
                .iter()
                .any(|c| e.driver.of_match_table().contains(&c.as_str()))
        });
        if !claimed {
            let path = k.of_tree_peek(|t| t.full_name(node));
            out.push(format!("{path} ({})", compat.join(", ")));
        }
    }
    out
}
