//! `drm_mipi_dsi.c`: DSI hosts and the peripherals that attach to them.
//!
//! A DSI host driver registers a host for its node; a peripheral (an I2C bridge that
//! registers its own DSI device, or a DSI-bus child such as a DSI panel) finds the host by
//! node and attaches. Non-DCS hosts such as samsung-dsim do their bridge work in the host's
//! `attach`/`detach` callbacks (the host-attach pattern, real-pipelines.md §4.2).

use std::rc::Rc;

use kmodel::device::DeviceId;
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel, Obj};

/// `struct mipi_dsi_device`: the peripheral's device and node.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MipiDsiDevice {
    pub dev: DeviceId,
    pub node: Option<NodeId>,
}

/// `struct mipi_dsi_host_ops`.
pub trait MipiDsiHostOps: 'static {
    fn attach(&self, k: &Kernel, host: DeviceId, dsi: MipiDsiDevice) -> Result<(), Errno>;
    fn detach(&self, k: &Kernel, host: DeviceId, dsi: MipiDsiDevice);
}

/// A registered host and the peripherals attached to it.
#[derive(Clone)]
struct HostRec {
    dev: DeviceId,
    node: Option<NodeId>,
    ops: Rc<dyn MipiDsiHostOps>,
    attached: Vec<MipiDsiDevice>,
}

#[derive(Copy, Clone)]
struct Hosts(Obj<Vec<HostRec>>);

fn hosts(k: &Kernel) -> Hosts {
    k.global(|k| Hosts(k.static_obj("struct list_head", "host_list", Vec::new())))
}

/// A host as found by [`of_find_mipi_dsi_host_by_node`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MipiDsiHost {
    pub dev: DeviceId,
}

/// `mipi_dsi_host_register`.
pub fn mipi_dsi_host_register(
    k: &Kernel,
    dev: DeviceId,
    ops: Rc<dyn MipiDsiHostOps>,
) -> MipiDsiHost {
    let _f = k.func("mipi_dsi_host_register");
    let node = k.dev_of_node(dev);
    k.write(hosts(k).0, |h| {
        h.push(HostRec {
            dev,
            node,
            ops,
            attached: Vec::new(),
        })
    });
    MipiDsiHost { dev }
}

/// `mipi_dsi_host_unregister`: every attached peripheral is detached first
/// (`mipi_dsi_remove_device_fn`, "drm/mipi-dsi: Detach devices when removing the host"), so
/// the host's `detach` runs for each.
pub fn mipi_dsi_host_unregister(k: &Kernel, host: MipiDsiHost) {
    let _f = k.func("mipi_dsi_host_unregister");
    let attached = k.read(hosts(k).0, |h| {
        h.iter()
            .find(|r| r.dev == host.dev)
            .map(|r| r.attached.clone())
            .unwrap_or_default()
    });
    for dsi in attached.into_iter().rev() {
        mipi_dsi_detach(k, host, dsi);
    }
    k.write(hosts(k).0, |h| h.retain(|r| r.dev != host.dev));
}

/// `of_find_mipi_dsi_host_by_node`.
pub fn of_find_mipi_dsi_host_by_node(k: &Kernel, node: NodeId) -> Option<MipiDsiHost> {
    k.read(hosts(k).0, |h| {
        h.iter()
            .find(|r| r.node == Some(node))
            .map(|r| MipiDsiHost { dev: r.dev })
    })
}

fn ops_of(k: &Kernel, host: MipiDsiHost) -> Option<Rc<dyn MipiDsiHostOps>> {
    k.read(hosts(k).0, |h| {
        h.iter().find(|r| r.dev == host.dev).map(|r| r.ops.clone())
    })
}

/// `mipi_dsi_attach`: the host's `attach` runs.
pub fn mipi_dsi_attach(k: &Kernel, host: MipiDsiHost, dsi: MipiDsiDevice) -> Result<(), Errno> {
    let _f = k.func("mipi_dsi_attach");
    let ops = ops_of(k, host).ok_or(Errno::ENODEV)?;
    ops.attach(k, host.dev, dsi)?;
    k.write(hosts(k).0, |h| {
        if let Some(r) = h.iter_mut().find(|r| r.dev == host.dev) {
            r.attached.push(dsi);
        }
    });
    Ok(())
}

/// `mipi_dsi_detach`: the host's `detach` runs if the peripheral is attached to a registered
/// host (a host that was unregistered has detached it already).
pub fn mipi_dsi_detach(k: &Kernel, host: MipiDsiHost, dsi: MipiDsiDevice) {
    let _f = k.func("mipi_dsi_detach");
    let was_attached = k.write(hosts(k).0, |h| {
        match h.iter_mut().find(|r| r.dev == host.dev) {
            Some(r) => match r.attached.iter().position(|d| *d == dsi) {
                Some(i) => {
                    r.attached.remove(i);
                    true
                }
                None => false,
            },
            None => false,
        }
    });
    if !was_attached {
        return;
    }
    if let Some(ops) = ops_of(k, host) {
        ops.detach(k, host.dev, dsi);
    }
}

/// `devm_mipi_dsi_device_register_full` + `devm_mipi_dsi_attach` on `dev`: attach now, detach
/// from devres when `dev` unbinds.
pub fn devm_mipi_dsi_attach(
    k: &Kernel,
    dev: DeviceId,
    host: MipiDsiHost,
    dsi: MipiDsiDevice,
) -> Result<(), Errno> {
    let _f = k.func("devm_mipi_dsi_attach");
    mipi_dsi_attach(k, host, dsi)?;
    k.devm_add_action_or_reset(dev, "devm_mipi_dsi_detach", host.dev.0 as u64, move |k| {
        mipi_dsi_detach(k, host, dsi)
    })
}

/// What a bridge on another bus (I2C) does to reach its DSI host: find the host registered for
/// `host_node` (`-EPROBE_DEFER` while there is none), then register and attach its own DSI
/// device with devres (`devm_mipi_dsi_device_register_full` + `devm_mipi_dsi_attach`).
pub fn devm_mipi_dsi_attach_to(k: &Kernel, dev: DeviceId, host_node: NodeId) -> Result<(), Errno> {
    let host = of_find_mipi_dsi_host_by_node(k, host_node).ok_or(Errno::EPROBE_DEFER)?;
    let dsi = MipiDsiDevice {
        dev,
        node: k.dev_of_node(dev),
    };
    devm_mipi_dsi_attach(k, dev, host, dsi)
}
