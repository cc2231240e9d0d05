//! Data panels (`role = "panel"`): the panel a description allocates is a real
//! [`drm::panel`] panel whose `drm_panel_funcs` are the description's `panel_*` callbacks, the
//! panel's own calls (`drm_panel_add`/`remove`, `drm_panel_disable` on itself...), and the
//! device's runtime PM, which panel-simple's prepare/unprepare go through.
//!
//! Runtime PM follows what panel-simple relies on (`pm_runtime_get_sync` resumes the first
//! user; `pm_runtime_put_autosuspend` arms a timer; `pm_runtime_dont_use_autosuspend` suspends
//! an idle device at once; `pm_runtime_disable` cancels the timer), modelled per device in a
//! record standing for `dev->power`. The autosuspend timer is a work item: its expiry is a
//! kworker at the scenario's `run_work` step, racing with the rest like any queued work.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use drm::panel::{
    devm_drm_panel_alloc, drm_panel_add, drm_panel_disable, drm_panel_enable, drm_panel_flags,
    drm_panel_init_devm, drm_panel_prepare, drm_panel_priv, drm_panel_remove, drm_panel_unprepare,
    DrmPanel, DrmPanelFuncs,
};
use kmodel::device::DeviceId;
use kmodel::hw::HwKind;
use kmodel::interrupt::Work;
use kmodel::{Errno, Kernel, Obj};

use super::{intern, Ctx, DataPriv, Frame, Val};
use crate::data::format::{Call, CallName, Cond, Description, Returns, Slot};
use crate::supply::devm_of_find_backlight;

/// The key of the panel's DSI link in the private values: not a C identifier, so no declared
/// field can take it.
const DSI_LINK: &str = "<dsi link>";

/// The `drm_panel_funcs` of a data panel: each runs the description's callback, if any.
pub(super) struct DataPanelFuncs {
    pub(super) desc: Arc<Description>,
}

impl DataPanelFuncs {
    fn run(&self, k: &Kernel, p: DrmPanel, slot: Slot) -> Result<(), Errno> {
        if self.desc.slot(slot).is_none() {
            return Ok(());
        }
        let dev = drm_panel_priv::<DataPriv, _>(k, p, |x| x.dev);
        let mut fr = Frame::new(k, self.desc.clone(), dev, Some(Ctx::Panel(p)));
        fr.run_slot(slot)
    }
}

impl DrmPanelFuncs for DataPanelFuncs {
    fn prepare(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        self.run(k, p, Slot::PanelPrepare)
    }
    fn enable(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        self.run(k, p, Slot::PanelEnable)
    }
    fn disable(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        self.run(k, p, Slot::PanelDisable)
    }
    fn unprepare(&self, k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
        self.run(k, p, Slot::PanelUnprepare)
    }
    fn get_modes(&self, k: &Kernel, p: DrmPanel) -> u32 {
        // drm_panel_get_modes: 0 without a `.get_modes`.
        let Some(cb) = self.desc.slot(Slot::PanelGetModes) else {
            return 0;
        };
        let n = match cb.returns {
            Returns::Count(n) => n,
            _ => 0,
        };
        match self.run(k, p, Slot::PanelGetModes) {
            Ok(()) => n,
            Err(_) => 0,
        }
    }
}

/// `dev->power`: the runtime PM state of one device.
#[derive(Default)]
struct Rpm {
    /// `disable_depth == 0`.
    enabled: bool,
    usage: u32,
    /// `runtime_status == RPM_ACTIVE` (a device starts suspended).
    active: bool,
    autosuspend: bool,
    /// The autosuspend timer, from `pm_runtime_enable` to `pm_runtime_disable`.
    timer: Option<Work>,
}

/// Which record is whose device. Model bookkeeping: finding `&dev->power` is pointer
/// arithmetic in the kernel, so the lookup is a peek, not an access.
#[derive(Copy, Clone)]
struct RpmTable(Obj<RefCell<Vec<RpmOf>>>);

/// A device and its `dev->power`.
type RpmOf = (DeviceId, Obj<Rpm>);

fn rpm(k: &Kernel, dev: DeviceId) -> Obj<Rpm> {
    let t = k.global(|k| {
        RpmTable(k.static_obj(
            "rpm table",
            "dev->power of each device",
            RefCell::new(Vec::new()),
        ))
    });
    if let Some(o) = k.peek(t.0, |v| {
        v.borrow().iter().find(|(d, _)| *d == dev).map(|(_, o)| *o)
    }) {
        return o;
    }
    let o = k.static_obj(
        "struct dev_pm_info",
        format!("{}->power", k.dev_name(dev)),
        Rpm::default(),
    );
    k.peek(t.0, |v| v.borrow_mut().push((dev, o)));
    o
}

impl Frame<'_> {
    /// The driver's own panel.
    fn own_panel(&self) -> Option<DrmPanel> {
        match self.ctx {
            Some(Ctx::Panel(p)) => Some(p),
            _ => None,
        }
    }

    fn need_panel(&self, c: &Call) -> Result<DrmPanel, Errno> {
        self.own_panel().ok_or_else(|| {
            self.k.warn(format!(
                "{}: `{}` before the panel is allocated ({})",
                self.desc.name, c.name, c.at
            ));
            Errno::EINVAL
        })
    }

    /// A panel condition (`panel.prepared`, `panel.enabled`, `child:NAME`).
    pub(super) fn holds_panel(&self, cond: &Cond) -> bool {
        let k = self.k;
        match cond {
            Cond::PanelPrepared | Cond::PanelEnabled => {
                let Some(p) = self.own_panel() else {
                    return false;
                };
                let (prepared, enabled) = drm_panel_flags(k, p);
                if *cond == Cond::PanelPrepared {
                    prepared
                } else {
                    enabled
                }
            }
            Cond::Child(name) => k
                .dev_of_node(self.dev)
                .is_some_and(|n| k.of_tree(|t| t.child_by_name(n, name).is_some())),
            _ => unreachable!("holds_panel is called for panel conditions only"),
        }
    }

    /// Allocate the panel: refcounted (`devm_drm_panel_alloc`) or in a `devm_kzalloc`
    /// container (`drm_panel_init`).
    fn alloc_panel(&mut self, refcounted: bool) -> Result<(), Errno> {
        let k = self.k;
        let private = DataPriv {
            dev: self.dev,
            desc: self.desc.clone(),
            vals: std::mem::take(&mut self.pending),
            // Either way the container goes at unbind: devres frees it, or drops the only
            // reference (no consumer takes one in v6.17-v7.1).
            freed_at_unbind: true,
        };
        let ty = intern(&self.desc.container);
        let name = k.dev_name(self.dev);
        let funcs: Rc<dyn DrmPanelFuncs> = Rc::new(DataPanelFuncs {
            desc: self.desc.clone(),
        });
        let p = if refcounted {
            devm_drm_panel_alloc(k, self.dev, ty, &name, funcs, private)?
        } else {
            drm_panel_init_devm(k, self.dev, ty, &name, funcs, private)?
        };
        self.ctx = Some(Ctx::Panel(p));
        k.dev_set_drvdata(self.dev, Some(p.obj()));
        Ok(())
    }

    /// Run `runtime_suspend` or `runtime_resume` of the description, in the caller.
    fn rpm_callback(&mut self, slot: Slot) -> Result<(), Errno> {
        let Some(cb) = self.desc.slot(slot).cloned() else {
            return Ok(());
        };
        let mut fr = Frame::new(self.k, self.desc.clone(), self.dev, self.ctx);
        fr.run_callback(&cb)
    }

    /// `rpm_suspend` of an idle, active, enabled device.
    fn rpm_suspend_if_idle(&mut self) {
        let k = self.k;
        let r = rpm(k, self.dev);
        let idle = k.read(r, |x| x.enabled && x.usage == 0 && x.active);
        if idle && self.rpm_callback(Slot::RuntimeSuspend).is_ok() {
            k.write(r, |x| x.active = false);
        }
    }

    /// The calls of a panel description (the vocabulary's panel block).
    pub(super) fn exec_panel(&mut self, c: &Call) -> Result<(), Errno> {
        let k = self.k;
        let dev = self.dev;
        match c.name {
            CallName::DevmDrmPanelAlloc => self.alloc_panel(true),
            // The model's panel object is the whole container: `devm_kzalloc` of a panel's
            // container takes effect at its `drm_panel_init`.
            CallName::DevmKzalloc => Ok(()),
            CallName::DrmPanelInit => self.alloc_panel(false),
            CallName::DrmPanelAdd => {
                drm_panel_add(k, self.need_panel(c)?);
                Ok(())
            }
            CallName::DrmPanelRemove => {
                drm_panel_remove(k, self.need_panel(c)?);
                Ok(())
            }
            CallName::DrmPanelPrepare
            | CallName::DrmPanelEnable
            | CallName::DrmPanelDisable
            | CallName::DrmPanelUnprepare => {
                let p = match &c.field {
                    Some(f) => self.panel_of(f),
                    None => Some(self.need_panel(c)?),
                };
                let Some(p) = p else {
                    return Ok(());
                };
                match c.name {
                    CallName::DrmPanelPrepare => drm_panel_prepare(k, p),
                    CallName::DrmPanelEnable => drm_panel_enable(k, p),
                    CallName::DrmPanelDisable => drm_panel_disable(k, p),
                    _ => drm_panel_unprepare(k, p),
                }
            }
            CallName::DrmPanelOfBacklight => devm_of_find_backlight(k, dev).map(|_| ()),
            CallName::PmRuntimeEnable => {
                let r = rpm(k, dev);
                let (desc, ctx) = (self.desc.clone(), self.ctx);
                let timer = k.init_work(
                    &format!("{} autosuspend", k.dev_name(dev)),
                    Rc::new(move |k: &Kernel| {
                        // pm_suspend_timer_fn → rpm_suspend(dev, RPM_ASYNC | RPM_AUTO).
                        let _f = k.func("rpm_suspend");
                        let mut fr = Frame::new(k, desc.clone(), dev, ctx);
                        fr.rpm_suspend_if_idle();
                    }),
                );
                k.write(r, |x| {
                    x.enabled = true;
                    x.timer = Some(timer);
                });
                Ok(())
            }
            CallName::PmRuntimeDisable => {
                let r = rpm(k, dev);
                let timer = k.write(r, |x| {
                    x.enabled = false;
                    x.timer.take()
                });
                // __pm_runtime_barrier: a pending request is cancelled, a running one waited
                // for.
                if let Some(w) = timer {
                    k.cancel_work_sync(w);
                    k.destroy_work(w);
                }
                Ok(())
            }
            CallName::PmRuntimeUseAutosuspend => {
                k.write(rpm(k, dev), |x| x.autosuspend = true);
                Ok(())
            }
            CallName::PmRuntimeDontUseAutosuspend => {
                k.write(rpm(k, dev), |x| x.autosuspend = false);
                // update_autosuspend → rpm_idle: an idle device suspends now.
                self.rpm_suspend_if_idle();
                Ok(())
            }
            CallName::PmRuntimeGetSync => {
                let r = rpm(k, dev);
                let (enabled, active) = k.write(r, |x| {
                    x.usage += 1;
                    (x.enabled, x.active)
                });
                if active {
                    return Ok(());
                }
                if !enabled {
                    // rpm_resume on a disabled, suspended device: -EACCES (the model's errno
                    // table has no EACCES).
                    return Err(Errno::EINVAL);
                }
                self.rpm_callback(Slot::RuntimeResume)?;
                k.write(r, |x| x.active = true);
                Ok(())
            }
            CallName::PmRuntimePutAutosuspend => {
                let r = rpm(k, dev);
                let timer = k.write(r, |x| {
                    x.usage = x.usage.saturating_sub(1);
                    (x.usage == 0 && x.enabled && x.active)
                        .then_some(x.timer)
                        .flatten()
                });
                if let Some(w) = timer {
                    k.queue_work(w);
                }
                Ok(())
            }
            CallName::MipiDsiDcsWrite => {
                let h = match self.get(DSI_LINK) {
                    Val::Hw(h) => h,
                    _ => {
                        // The panel's link through its DSI host: gone with the panel's device.
                        let h = k.devm_hw_get(dev, HwKind::I2c, "dsi");
                        self.set(DSI_LINK, Val::Hw(h));
                        h
                    }
                };
                let what = c
                    .what
                    .clone()
                    .unwrap_or_else(|| "mipi_dsi_dcs_write".into());
                k.hw_access(h, &what);
                Ok(())
            }
            _ => unreachable!("exec_panel is called for the panel calls only"),
        }
    }
}
