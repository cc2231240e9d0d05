//! `of_platform`: which bus a node's device goes on is decided by exact compatible strings
//! (the kernel's match tables), never by substrings of compatibles or node names.

use std::cell::RefCell;
use std::rc::Rc;

use kmodel::device::{DeviceId, Driver};
use kmodel::of::{DeviceTree, NodeId};
use kmodel::of_platform::OfBus;
use kmodel::*;

/// Binds every listed compatible on its bus and logs `<bus>: <device name>` at probe.
struct Probe {
    bus: &'static str,
    compatible: &'static [&'static str],
    log: Rc<RefCell<Vec<String>>>,
}

impl Driver for Probe {
    fn name(&self) -> &'static str {
        self.bus
    }
    fn of_match_table(&self) -> &[&'static str] {
        self.compatible
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        self.log
            .borrow_mut()
            .push(format!("{}: {}", self.bus, k.dev_name(dev)));
        Ok(())
    }
}

fn node(t: &mut DeviceTree, parent: NodeId, name: &str, compatible: &str, reg: bool) -> NodeId {
    let n = t.add_child(parent, name);
    t.set_property(n, "compatible", format!("{compatible}\0").into_bytes());
    if reg {
        t.set_property(n, "reg", vec![0, 0, 0, 0]);
    }
    n
}

/// Each parent has one child with compatible "acme,child" (and a `reg`).
fn tree() -> DeviceTree {
    let mut t = DeviceTree::new();
    let root = t.root();
    let soc = node(&mut t, root, "soc", "simple-bus", false);
    let parents = [
        // Known by their exact compatibles.
        ("i2c@1", "fsl,imx8mp-i2c"),
        ("dsi@2", "fsl,imx8mp-mipi-dsim"),
        ("blk-ctrl@3", "fsl,imx8mp-media-blk-ctrl"),
        ("bus@4", "simple-mfd"),
        // Look-alikes by name or substring: none of them is a bus.
        ("i2c@5", "acme,i2c-lookalike"),
        ("dsi@6", "acme,mipi-dsi-lookalike"),
        ("mipi-dsi@7", "acme,dsim-lookalike"),
        ("ctrl@8", "acme,blk-ctrl-lookalike"),
        ("bus@9", "acme,simple-bus-lookalike"),
    ];
    for (name, compatible) in parents {
        let p = node(&mut t, soc, name, compatible, true);
        node(&mut t, p, &format!("child-of-{name}"), "acme,child", true);
    }
    t
}

#[test]
fn buses_are_classified_by_exact_compatible_strings() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let k = Kernel::new(Config::default());
    let l = log.clone();
    let stop = k.run(&mut ThreadOrder, move |k| {
        k.of_set_live_tree(tree());
        let parents: &'static [&'static str] = &[
            "simple-bus",
            "fsl,imx8mp-i2c",
            "fsl,imx8mp-mipi-dsim",
            "fsl,imx8mp-media-blk-ctrl",
            "simple-mfd",
            "acme,i2c-lookalike",
            "acme,mipi-dsi-lookalike",
            "acme,dsim-lookalike",
            "acme,blk-ctrl-lookalike",
            "acme,simple-bus-lookalike",
        ];
        for (bus, name, compatible) in [
            (OfBus::Platform, "platform", parents),
            (OfBus::Platform, "platform", &["acme,child"][..]),
            (OfBus::I2c, "i2c", &["acme,child"][..]),
            (OfBus::MipiDsi, "mipi-dsi", &["acme,child"][..]),
        ] {
            k.driver_register(
                k.of_bus(bus),
                Rc::new(Probe {
                    bus: name,
                    compatible,
                    log: l.clone(),
                }),
            );
        }
        k.of_platform_populate();
    });
    assert_eq!(stop, Stop::Finished);
    let children: Vec<String> = log
        .borrow()
        .iter()
        .filter(|l| l.contains("child-of-"))
        .cloned()
        .collect();
    assert_eq!(
        children,
        [
            "i2c: /soc/i2c@1/child-of-i2c@1",
            "mipi-dsi: /soc/dsi@2/child-of-dsi@2",
            "platform: /soc/blk-ctrl@3/child-of-blk-ctrl@3",
            "platform: /soc/bus@4/child-of-bus@4",
        ]
    );
    // Every parent got its platform device (the look-alikes too: they sit on a simple bus).
    assert_eq!(log.borrow().len(), 1 + 9 + 4);
}
