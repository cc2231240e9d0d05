//! Every driver model, by bus.

use std::rc::Rc;

use kmodel::device::Driver;
use kmodel::of_platform::OfBus;
use kmodel::Kernel;

use crate::{
    adv7511, display_connector, fsl_ldb, ite_it6263, lcdif, lontium_lt8912b, lontium_lt9611, panel,
    samsung_dsim, simple_bridge, supply, tc358762, ti_sn65dsi83,
};

/// A driver model and the bus it registers on.
pub struct Entry {
    pub bus: OfBus,
    pub driver: Rc<dyn Driver>,
}

/// The supplier models.
pub fn suppliers() -> Vec<Entry> {
    vec![
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::REGULATOR_FIXED),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::GPIO_CONTROLLERS),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(supply::GPIO_CONTROLLERS),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::I2C_CONTROLLERS),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::PWM_AND_BACKLIGHTS),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(supply::PMICS),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(supply::BLK_CTRLS),
        },
    ]
}

/// The display driver models.
pub fn display_drivers() -> Vec<Entry> {
    vec![
        Entry {
            bus: OfBus::Platform,
            driver: lcdif::driver(),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(samsung_dsim::SamsungDsim),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(ti_sn65dsi83::Sn65dsi83),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(panel::Panel { dsi: false }),
        },
        Entry {
            bus: OfBus::MipiDsi,
            driver: Rc::new(panel::Panel { dsi: true }),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(display_connector::DisplayConnector),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(simple_bridge::SIMPLE_BRIDGE),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(simple_bridge::THC63LVD1024),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(lontium_lt8912b::Lt8912b),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(lontium_lt9611::Lt9611Driver),
        },
        Entry {
            bus: OfBus::MipiDsi,
            driver: Rc::new(tc358762::Tc358762Driver),
        },
        Entry {
            bus: OfBus::Platform,
            driver: Rc::new(fsl_ldb::FslLdbDriver),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(ite_it6263::It6263Driver),
        },
        Entry {
            bus: OfBus::I2c,
            driver: Rc::new(adv7511::Adv7511Driver),
        },
    ]
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
