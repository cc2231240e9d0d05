//! `linux/device.h` and `drivers/base/dd.c`: buses, devices, drivers and probing.
//!
//! Drivers match devices by compatible string, in the order of the device's compatible list
//! (most specific first, as OF matching does). A probe returns `Ok`, an error, or
//! `-EPROBE_DEFER`; a deferred device goes on the deferred-probe list and is retried whenever
//! another device binds (`driver_deferred_probe_trigger`). Unbinding runs the driver's
//! `remove` and then the device's devres actions in LIFO order. Probe and remove run under the
//! device's lock.

use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::errno::Errno;
use crate::mutex::Mutex;
use crate::sched::{Access, AccessKind, Kernel, ObjId};
use crate::slab::Obj;
use crate::trace::{DeviceEvent, Event};
use crate::ObjKind;

/// A device.
///
/// # Invariants
///
/// Indexes its kernel's device table; devices are never removed from it (a deleted device
/// keeps its record, marked deleted).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceId(pub u32);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dev{}", self.0)
    }
}

/// A registered driver.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DriverId(pub u32);

/// A bus (platform, i2c, mipi-dsi).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct BusId(pub u32);

/// A device driver model.
pub trait Driver: 'static {
    /// The driver's name, as in `struct device_driver.name`.
    fn name(&self) -> &'static str;
    /// The compatible strings it matches (`of_match_table`).
    fn of_match_table(&self) -> &[&'static str];
    /// `probe`: `Ok`, an error, or `Err(Errno::EPROBE_DEFER)`.
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno>;
    /// `remove`: runs before the device's devres actions.
    fn remove(&self, _k: &Kernel, _dev: DeviceId) {}
}

/// What a new device is made of.
#[derive(Clone, Debug, Default)]
pub struct DeviceInfo {
    pub name: String,
    pub compatible: Vec<String>,
    pub parent: Option<DeviceId>,
    /// The device-tree node it was created for, if any.
    pub of_node: Option<crate::of::NodeId>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum DevState {
    Unbound,
    Probing,
    Bound,
    Deleted,
}

/// A devres action's body.
pub(crate) type DevresAction = Box<dyn FnOnce(&Kernel)>;

pub(crate) struct DevresEntry {
    pub name: &'static str,
    pub data: u64,
    pub action: DevresAction,
}

pub(crate) struct DeviceRec {
    pub info: DeviceInfo,
    pub bus: BusId,
    pub obj: ObjId,
    pub lock: Mutex,
    pub devres_obj: ObjId,
    pub devres: Vec<DevresEntry>,
    pub driver: Option<DriverId>,
    pub drvdata: Option<Obj<()>>,
    pub state: DevState,
    pub fail_next_devres: bool,
}

struct BusRec {
    obj: ObjId,
}

#[derive(Default)]
pub(crate) struct DeviceModel {
    buses: Vec<BusRec>,
    drivers: Vec<(BusId, Rc<dyn Driver>)>,
    pub devices: Vec<DeviceRec>,
    deferred: Vec<DeviceId>,
    deferred_obj: Option<ObjId>,
    /// Device links (consumer, supplier), as fw_devlink creates them from supply phandles.
    links: Vec<(DeviceId, DeviceId)>,
}

impl Kernel {
    pub(crate) fn dev_event(&self, dev: DeviceId, what: DeviceEvent) {
        self.event(|step, tid, path| Event::Device {
            step,
            tid,
            path,
            dev,
            what,
        });
    }

    fn deferred_obj(&self) -> ObjId {
        let mut st = self.st.borrow_mut();
        if let Some(o) = st.devices.deferred_obj {
            return o;
        }
        let o = st.new_object(
            "struct list_head",
            "deferred_probe_pending_list".into(),
            ObjKind::List(crate::list::ListRec {
                entries: Vec::new(),
            }),
        );
        st.devices.deferred_obj = Some(o);
        o
    }

    /// `bus_register`.
    pub fn bus_register(&self, name: &str) -> BusId {
        let mut st = self.st.borrow_mut();
        let obj = st.new_object("struct bus_type", name.to_string(), ObjKind::Device);
        st.devices.buses.push(BusRec { obj });
        BusId(st.devices.buses.len() as u32 - 1)
    }

    /// `driver_register`: add the driver and bind it to every matching unbound device.
    pub fn driver_register(&self, bus: BusId, drv: Rc<dyn Driver>) -> DriverId {
        let _f = self.func("driver_register");
        let bus_obj = self.st.borrow().devices.buses[bus.0 as usize].obj;
        self.point(Access::new(bus_obj, AccessKind::ListWrite));
        let table = drv.of_match_table();
        let candidates: Vec<DeviceId> = {
            let st = self.st.borrow();
            (0..st.devices.devices.len() as u32)
                .map(DeviceId)
                .filter(|d| {
                    // `__driver_attach` only tries devices this driver matches.
                    let r = &st.devices.devices[d.0 as usize];
                    r.bus == bus
                        && r.state == DevState::Unbound
                        && r.info
                            .compatible
                            .iter()
                            .any(|c| table.contains(&c.as_str()))
                })
                .collect()
        };
        let id = {
            let mut st = self.st.borrow_mut();
            st.devices.drivers.push((bus, drv));
            DriverId(st.devices.drivers.len() as u32 - 1)
        };
        for d in candidates {
            self.device_attach(d);
        }
        id
    }

    /// `device_add`: create a device and try to bind a driver to it.
    pub fn device_add(&self, bus: BusId, info: DeviceInfo) -> DeviceId {
        let _f = self.func("device_add");
        let bus_obj = self.st.borrow().devices.buses[bus.0 as usize].obj;
        self.point(Access::new(bus_obj, AccessKind::ListWrite));
        let name = info.name.clone();
        let lock = self.new_mutex("&dev->mutex", format!("{name}->mutex"), true);
        let id = {
            let mut st = self.st.borrow_mut();
            let obj = st.new_object("struct device", name.clone(), ObjKind::Device);
            let devres_obj = st.new_object(
                "struct list_head",
                format!("{name}->devres_head"),
                ObjKind::Devres,
            );
            st.devices.devices.push(DeviceRec {
                info,
                bus,
                obj,
                lock,
                devres_obj,
                devres: Vec::new(),
                driver: None,
                drvdata: None,
                state: DevState::Unbound,
                fail_next_devres: false,
            });
            DeviceId(st.devices.devices.len() as u32 - 1)
        };
        self.dev_event(id, DeviceEvent::Add);
        self.device_attach(id);
        id
    }

    pub(crate) fn dev_rec<R>(&self, dev: DeviceId, f: impl FnOnce(&mut DeviceRec) -> R) -> R {
        f(&mut self.st.borrow_mut().devices.devices[dev.0 as usize])
    }

    /// `dev_name`.
    pub fn dev_name(&self, dev: DeviceId) -> String {
        self.dev_rec(dev, |d| d.info.name.clone())
    }

    /// The device-tree node of a device.
    pub fn dev_of_node(&self, dev: DeviceId) -> Option<crate::of::NodeId> {
        self.dev_rec(dev, |d| d.info.of_node)
    }

    /// The device's parent.
    pub fn dev_parent(&self, dev: DeviceId) -> Option<DeviceId> {
        self.dev_rec(dev, |d| d.info.parent)
    }

    /// Every device created so far, deleted ones included.
    pub fn devices(&self) -> Vec<DeviceId> {
        (0..self.st.borrow().devices.devices.len() as u32)
            .map(DeviceId)
            .collect()
    }

    /// `device_lock`.
    pub fn device_lock(&self, dev: DeviceId) {
        let m = self.dev_rec(dev, |d| d.lock);
        self.mutex_lock(m);
    }

    /// `device_unlock`.
    pub fn device_unlock(&self, dev: DeviceId) {
        let m = self.dev_rec(dev, |d| d.lock);
        self.mutex_unlock(m);
    }

    /// Whether a driver is bound (`device_is_bound`). Reads the device.
    pub fn device_is_bound(&self, dev: DeviceId) -> bool {
        let obj = self.dev_rec(dev, |d| d.obj);
        self.point(Access::new(obj, AccessKind::Read));
        self.dev_rec(dev, |d| d.state == DevState::Bound)
    }

    /// Whether the device sits on the deferred-probe list. Model introspection (no point).
    pub fn device_is_deferred(&self, dev: DeviceId) -> bool {
        self.st.borrow().devices.deferred.contains(&dev)
    }

    /// `dev_set_drvdata`.
    pub fn dev_set_drvdata<T>(&self, dev: DeviceId, data: Option<Obj<T>>) {
        let obj = self.dev_rec(dev, |d| d.obj);
        self.point(Access::new(obj, AccessKind::Write));
        self.dev_rec(dev, |d| d.drvdata = data.map(Obj::erase));
    }

    /// `dev_get_drvdata`.
    pub fn dev_get_drvdata<T>(&self, dev: DeviceId) -> Option<Obj<T>> {
        let obj = self.dev_rec(dev, |d| d.obj);
        self.point(Access::new(obj, AccessKind::Read));
        self.dev_rec(dev, |d| d.drvdata.map(Obj::cast))
    }

    fn matching_driver(&self, dev: DeviceId) -> Option<(DriverId, Rc<dyn Driver>)> {
        let st = self.st.borrow();
        let d = &st.devices.devices[dev.0 as usize];
        for c in &d.info.compatible {
            for (i, (bus, drv)) in st.devices.drivers.iter().enumerate() {
                if *bus == d.bus && drv.of_match_table().iter().any(|m| m == c) {
                    return Some((DriverId(i as u32), drv.clone()));
                }
            }
        }
        None
    }

    /// `device_attach`: bind a matching driver if the device is unbound. Returns whether it is
    /// bound afterwards. A successful bind retries the deferred devices.
    pub fn device_attach(&self, dev: DeviceId) -> bool {
        let _f = self.func("device_attach");
        self.device_lock(dev);
        let state = self.dev_rec(dev, |d| d.state);
        let bound_now = match state {
            DevState::Unbound => match self.matching_driver(dev) {
                Some((id, drv)) => self.really_probe(dev, id, drv),
                None => false,
            },
            _ => false,
        };
        self.device_unlock(dev);
        if bound_now {
            self.driver_deferred_probe_trigger();
        }
        self.dev_rec(dev, |d| d.state == DevState::Bound)
    }

    fn really_probe(&self, dev: DeviceId, id: DriverId, drv: Rc<dyn Driver>) -> bool {
        let _f = self.func("really_probe");
        let obj = self.dev_rec(dev, |d| d.obj);
        let name = drv.name().to_string();
        self.point(Access::new(obj, AccessKind::Write));
        self.dev_rec(dev, |d| {
            d.state = DevState::Probing;
            d.driver = Some(id);
        });
        self.remove_deferred(dev);
        self.dev_event(
            dev,
            DeviceEvent::Probe {
                driver: name.clone(),
            },
        );
        let r = drv.probe(self, dev);
        self.point(Access::new(obj, AccessKind::Write));
        match r {
            Ok(()) => {
                self.dev_rec(dev, |d| d.state = DevState::Bound);
                self.dev_event(dev, DeviceEvent::Bound { driver: name });
                self.of_bus_bound(dev);
                true
            }
            Err(e) => {
                self.devres_release_all(dev);
                self.dev_rec(dev, |d| {
                    d.state = DevState::Unbound;
                    d.driver = None;
                    d.drvdata = None;
                });
                if e == Errno::EPROBE_DEFER {
                    let o = self.deferred_obj();
                    self.point(Access::new(o, AccessKind::ListWrite));
                    self.st.borrow_mut().devices.deferred.push(dev);
                    self.dev_event(dev, DeviceEvent::Deferred { driver: name });
                } else {
                    self.dev_event(
                        dev,
                        DeviceEvent::ProbeFailed {
                            driver: name,
                            errno: e.0,
                        },
                    );
                }
                false
            }
        }
    }

    fn remove_deferred(&self, dev: DeviceId) {
        if self.st.borrow().devices.deferred.contains(&dev) {
            let o = self.deferred_obj();
            self.point(Access::new(o, AccessKind::ListWrite));
            self.st.borrow_mut().devices.deferred.retain(|&d| d != dev);
        }
    }

    /// `driver_deferred_probe_trigger`: retry every deferred device, in the order they were
    /// deferred, until a pass binds nothing. (The kernel does this from a work item; the model
    /// does it in the thread whose bind triggered it.)
    pub fn driver_deferred_probe_trigger(&self) {
        let _f = self.func("deferred_probe_work_func");
        loop {
            let pending: Vec<DeviceId> = self.st.borrow().devices.deferred.clone();
            if pending.is_empty() {
                return;
            }
            let o = self.deferred_obj();
            self.point(Access::new(o, AccessKind::ListRead));
            let mut progress = false;
            for d in pending {
                // A device bound in between (by a nested trigger) is skipped.
                if !self.st.borrow().devices.deferred.contains(&d) {
                    continue;
                }
                self.device_lock(d);
                let bound = match self.matching_driver(d) {
                    Some((id, drv)) if self.dev_rec(d, |r| r.state == DevState::Unbound) => {
                        self.really_probe(d, id, drv)
                    }
                    _ => false,
                };
                self.device_unlock(d);
                progress |= bound;
            }
            if !progress {
                return;
            }
        }
    }

    /// `device_link_add(consumer, supplier, DL_FLAG_AUTOREMOVE_CONSUMER)`: the consumer is
    /// unbound before its supplier unbinds. Idempotent.
    pub fn device_link_add(&self, consumer: DeviceId, supplier: DeviceId) {
        let mut st = self.st.borrow_mut();
        if consumer != supplier && !st.devices.links.contains(&(consumer, supplier)) {
            st.devices.links.push((consumer, supplier));
        }
    }

    /// The bound consumers of `supplier`, newest link first.
    fn bound_consumers(&self, supplier: DeviceId) -> Vec<DeviceId> {
        let st = self.st.borrow();
        st.devices
            .links
            .iter()
            .rev()
            .filter(|(_, s)| *s == supplier)
            .map(|(c, _)| *c)
            .filter(|c| st.devices.devices[c.0 as usize].state == DevState::Bound)
            .collect()
    }

    /// `device_release_driver`: unbind. Consumers linked to this device unbind first
    /// (`device_links_unbind_consumers`); then the driver's `remove` runs, then the devres
    /// actions in LIFO order.
    pub fn device_release_driver(&self, dev: DeviceId) {
        let _f = self.func("device_release_driver");
        for c in self.bound_consumers(dev) {
            self.device_release_driver(c);
        }
        self.device_lock(dev);
        let obj = self.dev_rec(dev, |d| d.obj);
        self.point(Access::new(obj, AccessKind::Write));
        if self.dev_rec(dev, |d| d.state == DevState::Bound) {
            let (id, _) = self.dev_rec(dev, |d| (d.driver, ()));
            let drv = id.map(|i| self.st.borrow().devices.drivers[i.0 as usize].1.clone());
            self.of_bus_unbinding(dev);
            if let Some(drv) = drv {
                self.dev_event(
                    dev,
                    DeviceEvent::Remove {
                        driver: drv.name().to_string(),
                    },
                );
                drv.remove(self, dev);
            }
            self.devres_release_all(dev);
            self.point(Access::new(obj, AccessKind::Write));
            self.dev_rec(dev, |d| {
                d.state = DevState::Unbound;
                d.driver = None;
                d.drvdata = None;
            });
            self.dev_event(dev, DeviceEvent::Unbound);
        }
        self.device_unlock(dev);
    }

    /// `device_del` + `put_device`: unbind, drop it from the deferred list and delete it. Its
    /// remaining devres (added while unbound) is released too.
    pub fn device_del(&self, dev: DeviceId) {
        let _f = self.func("device_del");
        self.remove_deferred(dev);
        self.device_release_driver(dev);
        self.devres_release_all(dev);
        let bus = self.dev_rec(dev, |d| d.bus);
        let bus_obj = self.st.borrow().devices.buses[bus.0 as usize].obj;
        self.point(Access::new(bus_obj, AccessKind::ListWrite));
        self.dev_rec(dev, |d| d.state = DevState::Deleted);
        self.st
            .borrow_mut()
            .devices
            .links
            .retain(|&(c, s)| c != dev && s != dev);
        self.dev_event(dev, DeviceEvent::Del);
    }
}
