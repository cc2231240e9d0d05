//! `drivers/of/platform.c`, `drivers/i2c/i2c-core-of.c` and the OF reconfig notifiers: the
//! live device tree inside the kernel, devices created from it, and overlays that create and
//! remove devices.
//!
//! Which bus a node's device goes on follows the kernel, by exact compatible strings (tables
//! below, matched as `of_match_node` does): children of the root and of simple buses become
//! platform devices (v7.1:drivers/of/platform.c:of_platform_default_populate); children of
//! an I2C controller become I2C clients; children of a MIPI-DSI host with a `reg` become DSI
//! peripherals; children of an i.MX block controller become platform devices once it binds. Only available nodes with a
//! `compatible` get a device. (The kernel creates I2C clients and DSI peripherals when the
//! adapter or host registers; the model creates them when their parent's device exists, which
//! gives the same set of devices.)

use crate::device::{BusId, DevState, DeviceId, DeviceInfo};
use crate::of::{DeviceTree, NodeId, OfReconfigAction, OvcsId, OverlayError, ReconfigChange};
use crate::sched::{Access, AccessKind, Kernel, ObjId};
use crate::ObjKind;

/// The kernel's standard buses and the live tree's object, created on first use.
#[derive(Copy, Clone)]
struct Buses {
    platform: BusId,
    i2c: BusId,
    dsi: BusId,
    devtree: ObjId,
}

/// The bus a node's device belongs on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OfBus {
    Platform,
    I2c,
    MipiDsi,
}

/// The buses whose children `of_platform_populate` walks into, by exact compatible string:
/// the match table of v7.1:drivers/of/platform.c:of_platform_default_populate ("simple-bus",
/// "simple-mfd", "isa", "arm,amba-bus" under CONFIG_ARM_AMBA), plus "simple-pm-bus", whose
/// driver (drivers/bus/simple-pm-bus.c, not in the corpus) populates its children from its
/// probe; the model treats it as a simple bus.
pub const SIMPLE_BUS_COMPATIBLES: &[&str] = &[
    "simple-bus",
    "simple-mfd",
    "simple-pm-bus",
    "isa",
    "arm,amba-bus",
];

/// I2C controllers the model knows, by exact compatible string. Their drivers call
/// `i2c_add_adapter` in probe, which creates the clients of the child nodes
/// (drivers/i2c/i2c-core-of.c:of_i2c_register_devices); the model creates them when such a
/// controller's device binds. A node matches if any of its compatibles is listed, as
/// `of_match_node` does.
pub const I2C_ADAPTER_COMPATIBLES: &[&str] = &[
    "fsl,imx21-i2c",
    "fsl,imx8mp-i2c",
    "fsl,imx8mm-i2c",
    "rockchip,rk3399-i2c",
    "renesas,rcar-gen3-i2c",
    "ti,davinci-i2c",
    "st,stm32mp15-i2c",
    "allwinner,sun6i-a31-i2c",
    "marvell,mv64xxx-i2c",
];

/// MIPI-DSI hosts the model knows (drivers/gpu/drm/bridge/samsung-dsim.c), by exact
/// compatible string. Their probe calls v7.1:drivers/gpu/drm/drm_mipi_dsi.c:
/// mipi_dsi_host_register, which adds a DSI peripheral for every available child with a
/// `reg`.
pub const DSI_HOST_COMPATIBLES: &[&str] = &["fsl,imx8mm-mipi-dsim", "fsl,imx8mp-mipi-dsim"];

/// i.MX block controllers, by exact compatible string: they create their children's devices
/// from their own probe (`devm_of_platform_populate` in drivers/pmdomain/imx/imx8m-blk-ctrl.c
/// and imx8mp-blk-ctrl.c).
pub const BLK_CTRL_COMPATIBLES: &[&str] = &[
    "fsl,imx8mp-media-blk-ctrl",
    "fsl,imx8mm-disp-blk-ctrl",
    "fsl,imx8mp-hdmi-blk-ctrl",
];

/// Whether one of `n`'s compatibles is in `table` (exact strings, as `of_match_node`).
fn of_match_node(t: &DeviceTree, n: NodeId, table: &[&str]) -> bool {
    t.compatible(n).iter().any(|c| table.contains(c))
}

impl Kernel {
    fn buses(&self) -> Buses {
        self.global(|k| Buses {
            platform: k.bus_register("platform"),
            i2c: k.bus_register("i2c"),
            dsi: k.bus_register("mipi-dsi"),
            devtree: k.st.borrow_mut().new_object(
                "struct device_node",
                "of_root".into(),
                ObjKind::Device,
            ),
        })
    }

    /// The bus registered for `bus`.
    pub fn of_bus(&self, bus: OfBus) -> BusId {
        let b = self.buses();
        match bus {
            OfBus::Platform => b.platform,
            OfBus::I2c => b.i2c,
            OfBus::MipiDsi => b.dsi,
        }
    }

    /// Install the live device tree (the unflattened boot DTB). Setup only.
    pub fn of_set_live_tree(&self, tree: DeviceTree) {
        self.buses();
        self.st.borrow_mut().live_tree = Some(tree);
    }

    /// Read the live tree (under `of_mutex`: a scheduling point, ordered against overlays).
    pub fn of_tree<R>(&self, f: impl FnOnce(&DeviceTree) -> R) -> R {
        let obj = self.buses().devtree;
        self.point(Access::new(obj, AccessKind::Read));
        let st = self.st.borrow();
        f(st.live_tree.as_ref().expect("no live device tree"))
    }

    /// Whether `node` is still in the live tree (a read of it, under `of_mutex`): false once an
    /// overlay revert detached it. The kernel frees such a node when its last `of_node_put`
    /// runs, after the devices made from it are gone; a borrowed pointer (no `of_node_get`)
    /// holds nothing, so reading through it then reads freed memory. True when no live tree
    /// was installed (unit tests whose nodes are never detached).
    pub fn of_node_attached(&self, node: NodeId) -> bool {
        if self.st.borrow().live_tree.is_none() {
            return true;
        }
        self.of_tree(|t| t.is_attached(node))
    }

    /// Read the live tree without a scheduling point. Model introspection and setup.
    pub fn of_tree_peek<R>(&self, f: impl FnOnce(&DeviceTree) -> R) -> R {
        let st = self.st.borrow();
        f(st.live_tree.as_ref().expect("no live device tree"))
    }

    /// The device created for `node`, if it still exists (`of_find_device_by_node`).
    pub fn of_find_device_by_node(&self, node: NodeId) -> Option<DeviceId> {
        let st = self.st.borrow();
        st.devices
            .devices
            .iter()
            .position(|d| {
                d.info.of_node == Some(node) && d.state != crate::device::DevState::Deleted
            })
            .map(|i| DeviceId(i as u32))
    }

    /// Which bus `node` would get a device on, if any: available, with a compatible, and
    /// under the root, a simple bus, an I2C controller or a DSI host that has a device.
    fn of_device_bus(&self, t: &DeviceTree, node: NodeId) -> Option<OfBus> {
        if !t.is_attached(node)
            || !t.is_effectively_available(node)
            || t.compatible(node).is_empty()
        {
            return None;
        }
        let parent = t.parent(node)?;
        if parent == t.root() {
            return Some(OfBus::Platform);
        }
        let parent_dev = self.of_find_device_by_node(parent);
        let parent_has_dev = parent_dev.is_some();
        if of_match_node(t, parent, SIMPLE_BUS_COMPATIBLES)
            && (parent_has_dev || t.parent(parent) == Some(t.root()))
        {
            return Some(OfBus::Platform);
        }
        // I2C clients and DSI peripherals exist once their adapter or host has bound
        // (`i2c_add_adapter` / `mipi_dsi_host_register` in its probe).
        let parent_bound = parent_dev.is_some_and(|d| {
            self.st.borrow().devices.devices[d.0 as usize].state == DevState::Bound
        });
        if !parent_bound {
            return None;
        }
        if of_match_node(t, parent, I2C_ADAPTER_COMPATIBLES) {
            return Some(OfBus::I2c);
        }
        if of_match_node(t, parent, BLK_CTRL_COMPATIBLES) {
            return Some(OfBus::Platform);
        }
        if of_match_node(t, parent, DSI_HOST_COMPATIBLES) && t.property(node, "reg").is_some() {
            return Some(OfBus::MipiDsi);
        }
        None
    }

    /// Create the device for `node` (and then for its children that now qualify).
    fn of_create_device(&self, node: NodeId) {
        if self.of_find_device_by_node(node).is_some() {
            return;
        }
        let Some((bus, info, children)) = self.of_tree_peek(|t| {
            let bus = self.of_device_bus(t, node)?;
            let info = DeviceInfo {
                name: t.full_name(node),
                compatible: t.compatible(node).iter().map(|s| s.to_string()).collect(),
                parent: t.parent(node).and_then(|p| self.of_find_device_by_node(p)),
                of_node: Some(node),
            };
            Some((bus, info, t.children(node).to_vec()))
        }) else {
            return;
        };
        let _f = self.func("of_platform_device_create");
        self.device_add(self.of_bus(bus), info);
        for c in children {
            self.of_create_device(c);
        }
    }

    /// Destroy the device of `node` and, first, the devices of its descendants
    /// (`of_platform_device_destroy`).
    fn of_destroy_device(&self, node: NodeId) {
        let Some(dev) = self.of_find_device_by_node(node) else {
            return;
        };
        let children: Vec<DeviceId> = {
            let st = self.st.borrow();
            st.devices
                .devices
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    d.info.parent == Some(dev) && d.state != crate::device::DevState::Deleted
                })
                .map(|(i, _)| DeviceId(i as u32))
                .collect()
        };
        for c in children.into_iter().rev() {
            if let Some(n) = self.dev_of_node(c) {
                self.of_destroy_device(n);
            }
        }
        let _f = self.func("of_platform_device_destroy");
        self.device_del(dev);
    }

    /// The child nodes of `dev`'s node if it is an I2C adapter or a DSI host (whose children's
    /// devices follow its binding).
    fn bus_children(&self, dev: DeviceId) -> Vec<NodeId> {
        let Some(node) = self.dev_of_node(dev) else {
            return Vec::new();
        };
        let st = self.st.borrow();
        match st.live_tree.as_ref() {
            Some(t)
                if t.is_attached(node)
                    && (of_match_node(t, node, I2C_ADAPTER_COMPATIBLES)
                        || of_match_node(t, node, DSI_HOST_COMPATIBLES)) =>
            {
                t.children(node).to_vec()
            }
            _ => Vec::new(),
        }
    }

    /// A device just bound: if it is an I2C adapter or a DSI host, create the devices of its
    /// children (`of_i2c_register_devices`, `mipi_dsi_host_register`).
    pub(crate) fn of_bus_bound(&self, dev: DeviceId) {
        for c in self.bus_children(dev) {
            self.of_create_device(c);
        }
    }

    /// A device is about to unbind: an I2C adapter or DSI host removes its children's devices
    /// first (`i2c_del_adapter`, `mipi_dsi_host_unregister` in its remove).
    pub(crate) fn of_bus_unbinding(&self, dev: DeviceId) {
        for c in self.bus_children(dev).into_iter().rev() {
            self.of_destroy_device(c);
        }
    }

    /// `of_platform_default_populate`: create the devices of the whole live tree, in tree
    /// order. Drivers registered before probe them at once; later ones when they register.
    pub fn of_platform_populate(&self) {
        let _f = self.func("of_platform_populate");
        let root = self.of_tree_peek(|t| t.root());
        let children = self.of_tree_peek(|t| t.children(root).to_vec());
        for c in children {
            self.of_create_device(c);
        }
    }

    /// `of_overlay_fdt_apply`: apply an overlay (in compiled form) to the live tree, relative to
    /// `base` if given, then deliver the OF reconfig notifications to the platform, I2C and DSI
    /// notifiers, which create devices for nodes that became available.
    pub fn of_overlay_fdt_apply(
        &self,
        overlay: &DeviceTree,
        base: Option<NodeId>,
    ) -> Result<OvcsId, OverlayError> {
        let _f = self.func("of_overlay_fdt_apply");
        let obj = self.buses().devtree;
        self.point(Access::new(obj, AccessKind::Write));
        let (id, notes) = {
            let mut st = self.st.borrow_mut();
            st.live_tree
                .as_mut()
                .expect("no live device tree")
                .of_overlay_apply(overlay, base)?
        };
        for n in notes {
            let change = self.of_tree_peek(|t| n.state_change(t));
            if matches!(n.action, OfReconfigAction::AttachNode) || change == ReconfigChange::Add {
                if change == ReconfigChange::Add || n.available {
                    self.of_create_device(n.node);
                }
            } else if change == ReconfigChange::Remove {
                self.of_destroy_device(n.node);
            }
        }
        Ok(id)
    }

    /// `of_overlay_remove`: revert the topmost overlay, then deliver the reverse notifications
    /// in reverse changeset order (as `__of_changeset_revert_notify` does, after the entries
    /// are reverted): devices of nodes that went away or became unavailable are destroyed,
    /// devices of nodes that became available again are created.
    pub fn of_overlay_remove(&self, id: OvcsId) -> Result<(), OverlayError> {
        let _f = self.func("of_overlay_remove");
        let obj = self.buses().devtree;
        self.point(Access::new(obj, AccessKind::Write));
        let notes = {
            let mut st = self.st.borrow_mut();
            st.live_tree
                .as_mut()
                .expect("no live device tree")
                .of_overlay_remove(id)?
        };
        for n in notes {
            if n.action == OfReconfigAction::DetachNode {
                self.of_destroy_device(n.node);
                continue;
            }
            match self.of_tree_peek(|t| n.state_change(t)) {
                ReconfigChange::Add => self.of_create_device(n.node),
                ReconfigChange::Remove => self.of_destroy_device(n.node),
                ReconfigChange::NoChange => {}
            }
        }
        Ok(())
    }
}
