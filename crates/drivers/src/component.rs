//! The component framework (drivers/base/component.c), reduced to what an aggregate DRM driver
//! needs: components register with [`component_add`] in their probe; a master registers its
//! match (the OF nodes of its components) with [`component_master_add_with_match`]; when every
//! matched node has a component, the master's `bind` runs (in whichever call completed the
//! match) and binds the components with [`component_bind_all`], in match order. Removing a
//! component ([`component_del`]) or the master ([`component_master_del`]) first takes the
//! aggregate down: the master's `unbind`, which unbinds the components with
//! [`component_unbind_all`], in reverse.
//!
//! drivers/base/component.c is not in the corpus; this follows the upstream functions of the
//! same names (component_add, component_del, component_master_add_with_match,
//! component_master_del, component_bind_all, component_unbind_all,
//! try_to_bring_up_aggregate_device, take_down_aggregate_device). `component_mutex` is a model
//! mutex held across each of them, as upstream holds it; matching compares the component
//! device's `of_node` with the match's node (`component_compare_of`, what
//! `drm_of_component_match_add` registers).

use std::rc::Rc;

use drm::drv::DrmDevice;
use kmodel::device::DeviceId;
use kmodel::mutex::Mutex;
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel, Obj};

/// `struct component_ops` of a component: `bind(dev, master, data)`, `unbind`.
pub trait ComponentOps {
    fn bind(&self, k: &Kernel, master: DeviceId, drm: DrmDevice) -> Result<(), Errno>;
    fn unbind(&self, k: &Kernel, master: DeviceId, drm: DrmDevice);
}

/// `struct component_master_ops` of an aggregate driver: `bind(dev)`, `unbind(dev)`.
pub trait AggregateOps {
    fn bind(&self, k: &Kernel, master: DeviceId) -> Result<(), Errno>;
    fn unbind(&self, k: &Kernel, master: DeviceId);
}

#[derive(Clone)]
struct Component {
    dev: DeviceId,
    node: Option<NodeId>,
    ops: Rc<dyn ComponentOps>,
    /// Bound into its aggregate (between its `bind` and `unbind`).
    bound: bool,
}

#[derive(Clone)]
struct Aggregate {
    dev: DeviceId,
    /// The match: the OF nodes of its components, in bind order.
    matches: Vec<NodeId>,
    ops: Rc<dyn AggregateOps>,
    bound: bool,
}

#[derive(Default)]
struct Lists {
    components: Vec<Component>,
    aggregates: Vec<Aggregate>,
}

/// The framework's lists (`component_list`, `aggregate_devices`) and `component_mutex`.
#[derive(Copy, Clone)]
struct Framework {
    lists: Obj<Lists>,
    mutex: Mutex,
}

fn framework(k: &Kernel) -> Framework {
    k.global(|k| Framework {
        lists: k.static_obj("component lists", "component_list", Lists::default()),
        mutex: k.mutex_init("component_mutex"),
    })
}

fn locked<R>(k: &Kernel, f: impl FnOnce(Framework) -> R) -> R {
    let fw = framework(k);
    k.mutex_lock(fw.mutex);
    let r = f(fw);
    k.mutex_unlock(fw.mutex);
    r
}

/// Whether every node of the aggregate's match has a component.
fn complete(k: &Kernel, fw: Framework, adev: DeviceId) -> bool {
    k.read(fw.lists, |l| {
        l.aggregates
            .iter()
            .find(|a| a.dev == adev)
            .is_some_and(|a| {
                a.matches
                    .iter()
                    .all(|n| l.components.iter().any(|c| c.node == Some(*n)))
            })
    })
}

/// `try_to_bring_up_aggregate_device`: bind the aggregate if it is not bound and its match is
/// complete. Its `bind` error is returned (the aggregate stays unbound).
fn try_to_bring_up(k: &Kernel, fw: Framework, adev: DeviceId) -> Result<(), Errno> {
    let Some(a) = k.read(fw.lists, |l| {
        l.aggregates.iter().find(|a| a.dev == adev).cloned()
    }) else {
        return Ok(());
    };
    if a.bound || !complete(k, fw, adev) {
        return Ok(());
    }
    a.ops.bind(k, adev)?;
    k.write(fw.lists, |l| {
        if let Some(a) = l.aggregates.iter_mut().find(|a| a.dev == adev) {
            a.bound = true;
        }
    });
    Ok(())
}

/// `take_down_aggregate_device`: the master's `unbind` of a bound aggregate.
fn take_down(k: &Kernel, fw: Framework, adev: DeviceId) {
    let Some(a) = k.read(fw.lists, |l| {
        l.aggregates.iter().find(|a| a.dev == adev).cloned()
    }) else {
        return;
    };
    if !a.bound {
        return;
    }
    a.ops.unbind(k, adev);
    k.write(fw.lists, |l| {
        if let Some(a) = l.aggregates.iter_mut().find(|a| a.dev == adev) {
            a.bound = false;
        }
    });
}

/// The aggregates whose match names `node`.
fn aggregates_of(k: &Kernel, fw: Framework, node: Option<NodeId>) -> Vec<DeviceId> {
    let Some(node) = node else {
        return Vec::new();
    };
    k.read(fw.lists, |l| {
        l.aggregates
            .iter()
            .filter(|a| a.matches.contains(&node))
            .map(|a| a.dev)
            .collect()
    })
}

/// `component_add(dev, ops)`: register the component, then bring up every aggregate it
/// completes (their `bind` runs here). On a bind error the component is removed again and
/// the error returned, as `__component_add` does.
pub fn component_add(k: &Kernel, dev: DeviceId, ops: Rc<dyn ComponentOps>) -> Result<(), Errno> {
    let _f = k.func("component_add");
    let node = k.dev_of_node(dev);
    locked(k, |fw| {
        k.write(fw.lists, |l| {
            l.components.push(Component {
                dev,
                node,
                ops,
                bound: false,
            })
        });
        for adev in aggregates_of(k, fw, node) {
            if let Err(e) = try_to_bring_up(k, fw, adev) {
                k.write(fw.lists, |l| l.components.retain(|c| c.dev != dev));
                return Err(e);
            }
        }
        Ok(())
    })
}

/// `component_del(dev, ops)`: take down the aggregate it belongs to (the master's `unbind`),
/// then forget the component.
pub fn component_del(k: &Kernel, dev: DeviceId) {
    let _f = k.func("component_del");
    let node = k.dev_of_node(dev);
    locked(k, |fw| {
        for adev in aggregates_of(k, fw, node) {
            take_down(k, fw, adev);
        }
        k.write(fw.lists, |l| l.components.retain(|c| c.dev != dev));
    });
}

/// `component_master_add_with_match(dev, ops, match)`: register the aggregate and bring it up
/// if every component is there already; else it binds later, from the `component_add` that
/// completes it.
pub fn component_master_add_with_match(
    k: &Kernel,
    dev: DeviceId,
    ops: Rc<dyn AggregateOps>,
    matches: Vec<NodeId>,
) -> Result<(), Errno> {
    let _f = k.func("component_master_add_with_match");
    locked(k, |fw| {
        k.write(fw.lists, |l| {
            l.aggregates.push(Aggregate {
                dev,
                matches,
                ops,
                bound: false,
            })
        });
        let r = try_to_bring_up(k, fw, dev);
        if r.is_err() {
            k.write(fw.lists, |l| l.aggregates.retain(|a| a.dev != dev));
        }
        r
    })
}

/// `component_master_del(dev, ops)`: take the aggregate down and forget it.
pub fn component_master_del(k: &Kernel, dev: DeviceId) {
    let _f = k.func("component_master_del");
    locked(k, |fw| {
        take_down(k, fw, dev);
        k.write(fw.lists, |l| l.aggregates.retain(|a| a.dev != dev));
    });
}

/// The components of aggregate `master`, in match order.
fn components_of(k: &Kernel, master: DeviceId) -> Vec<Component> {
    let fw = framework(k);
    k.read(fw.lists, |l| {
        let Some(a) = l.aggregates.iter().find(|a| a.dev == master) else {
            return Vec::new();
        };
        a.matches
            .iter()
            .filter_map(|n| l.components.iter().find(|c| c.node == Some(*n)).cloned())
            .collect()
    })
}

fn set_bound(k: &Kernel, dev: DeviceId, bound: bool) {
    let fw = framework(k);
    k.write(fw.lists, |l| {
        if let Some(c) = l.components.iter_mut().find(|c| c.dev == dev) {
            c.bound = bound;
        }
    });
}

/// `component_bind_all(master, data)`: each component's `bind`, in match order (called from
/// the master's `bind`, under `component_mutex`). On an error the ones already bound are
/// unbound, newest first, and the error is returned.
pub fn component_bind_all(k: &Kernel, master: DeviceId, drm: DrmDevice) -> Result<(), Errno> {
    let _f = k.func("component_bind_all");
    let comps = components_of(k, master);
    for (i, c) in comps.iter().enumerate() {
        if let Err(e) = c.ops.bind(k, master, drm) {
            for d in comps[..i].iter().rev() {
                d.ops.unbind(k, master, drm);
                set_bound(k, d.dev, false);
            }
            return Err(e);
        }
        set_bound(k, c.dev, true);
    }
    Ok(())
}

/// `component_unbind_all(master, data)`: each bound component's `unbind`, newest first.
pub fn component_unbind_all(k: &Kernel, master: DeviceId, drm: DrmDevice) {
    let _f = k.func("component_unbind_all");
    for c in components_of(k, master).iter().rev() {
        if c.bound {
            c.ops.unbind(k, master, drm);
            set_bound(k, c.dev, false);
        }
    }
}
