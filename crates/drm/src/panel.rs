//! `drm_panel.c`: panels, with the refcounted allocation of Anusha Srivatsa's
//! `devm_drm_panel_alloc` / `drm_panel_get` / `drm_panel_put` (upstream.md §1.2, related).
//! `drm_panel_add`/`remove` take no reference here (that part is not in the release table).

use std::any::Any;
use std::rc::Rc;

use kmodel::device::DeviceId;
use kmodel::kref::{Kref, Owner};
use kmodel::list::{ListHead, ListNode};
use kmodel::mutex::Mutex;
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel, Obj};

use crate::ref_tracker::RefOwner;

/// A `struct drm_panel *`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrmPanel(pub(crate) Obj<DrmPanelObj>);

impl DrmPanel {
    /// The handle of a heap object (a pointer cast, e.g. from `dev_get_drvdata`).
    pub fn from_obj(o: Obj<DrmPanelObj>) -> Self {
        DrmPanel(o)
    }

    /// The heap object (the panel driver's container).
    pub fn obj(self) -> Obj<DrmPanelObj> {
        self.0
    }
}

/// `struct drm_panel_funcs`.
pub trait DrmPanelFuncs: 'static {
    fn prepare(&self, _k: &Kernel, _p: DrmPanel) -> Result<(), Errno> {
        Ok(())
    }
    fn enable(&self, _k: &Kernel, _p: DrmPanel) -> Result<(), Errno> {
        Ok(())
    }
    fn disable(&self, _k: &Kernel, _p: DrmPanel) -> Result<(), Errno> {
        Ok(())
    }
    fn unprepare(&self, _k: &Kernel, _p: DrmPanel) -> Result<(), Errno> {
        Ok(())
    }
    fn get_modes(&self, _k: &Kernel, _p: DrmPanel) -> u32 {
        1
    }
}

/// `struct drm_panel` inside its container.
///
/// # Invariants
///
/// `refcount` is `Some` from allocation on; `list` is on `panel_list` between add and remove.
pub struct DrmPanelObj {
    pub name: String,
    pub dev: DeviceId,
    pub of_node: Option<NodeId>,
    pub(crate) funcs: Rc<dyn DrmPanelFuncs>,
    pub(crate) refcount: Option<Kref>,
    list: Option<ListNode>,
    pub(crate) prepared: bool,
    pub(crate) enabled: bool,
    pub(crate) private: Box<dyn Any>,
}

#[derive(Copy, Clone)]
struct PanelGlobals {
    panel_lock: Mutex,
    panel_list: ListHead,
}

fn globals(k: &Kernel) -> PanelGlobals {
    k.global(|k| PanelGlobals {
        panel_lock: k.mutex_init("panel_lock"),
        panel_list: k.list_head_init("panel_list"),
    })
}

impl DrmPanelObj {
    /// A panel of `dev` not yet counted nor listed (`drm_panel_init`'s fields).
    fn new<P: 'static>(
        k: &Kernel,
        dev: DeviceId,
        name: &str,
        funcs: Rc<dyn DrmPanelFuncs>,
        private: P,
    ) -> Self {
        DrmPanelObj {
            name: name.to_string(),
            dev,
            of_node: k.dev_of_node(dev),
            funcs,
            refcount: None,
            list: None,
            prepared: false,
            enabled: false,
            private: Box::new(private),
        }
    }
}

/// `devm_drm_panel_alloc(dev, type, panel, funcs, connector_type)`: refcount 1 owned by
/// `dev`'s devres; the panel's `of_node` is `dev`'s.
pub fn devm_drm_panel_alloc<P: 'static>(
    k: &Kernel,
    dev: DeviceId,
    ty: &'static str,
    name: &str,
    funcs: Rc<dyn DrmPanelFuncs>,
    private: P,
) -> Result<DrmPanel, Errno> {
    let _f = k.func("devm_drm_panel_alloc");
    let obj = k.kzalloc(ty, name, DrmPanelObj::new(k, dev, name, funcs, private));
    let owner = RefOwner::devres(k, dev);
    let r = k.kref_init(obj.id(), owner.clone());
    let n = k.list_node(obj);
    k.write(obj, |p| {
        p.refcount = Some(r);
        p.list = Some(n);
    });
    k.init_list_head(obj, n);
    let p = DrmPanel(obj);
    k.devm_add_action_or_reset(dev, "drm_panel_put_void", obj.id().0 as u64, move |k| {
        drm_panel_put(k, p, owner)
    })?;
    Ok(p)
}

/// `drm_panel_init(panel, dev, funcs, connector_type)` on a container from `devm_kzalloc`: the
/// panel has no refcount (a driver not converted to `devm_drm_panel_alloc`), and its memory is
/// freed with `dev`'s devres at unbind, whoever still points to it.
pub fn drm_panel_init_devm<P: 'static>(
    k: &Kernel,
    dev: DeviceId,
    ty: &'static str,
    name: &str,
    funcs: Rc<dyn DrmPanelFuncs>,
    private: P,
) -> Result<DrmPanel, Errno> {
    let _f = k.func("drm_panel_init");
    let obj = k.devm_kzalloc(
        dev,
        ty,
        name,
        DrmPanelObj::new(k, dev, name, funcs, private),
    )?;
    let n = k.list_node(obj);
    k.write(obj, |p| p.list = Some(n));
    k.init_list_head(obj, n);
    Ok(DrmPanel(obj))
}

/// `drm_panel_get`.
pub fn drm_panel_get(k: &Kernel, p: DrmPanel, owner: impl Into<Owner>) {
    let _f = k.func("drm_panel_get");
    if let Some(r) = k.read(p.0, |x| x.refcount) {
        k.kref_get(r, owner);
    }
}

/// `drm_panel_put`: the last put frees the container.
pub fn drm_panel_put(k: &Kernel, p: DrmPanel, owner: impl Into<Owner>) {
    let _f = k.func("drm_panel_put");
    if let Some(r) = k.read(p.0, |x| x.refcount) {
        k.kref_put(r, owner, move |k| k.kfree(p.0));
    }
}

/// The panel's refcount now. Model introspection for tests.
pub fn drm_panel_refcount(k: &Kernel, p: DrmPanel) -> u32 {
    k.peek(p.0, |x| x.refcount)
        .map(|r| k.kref_peek(r))
        .unwrap_or(0)
}

/// `drm_panel_add`: publish on `panel_list` for `of_drm_find_panel`.
pub fn drm_panel_add(k: &Kernel, p: DrmPanel) {
    let _f = k.func("drm_panel_add");
    let g = globals(k);
    let n = k.read(p.0, |x| x.list.expect("panel list node"));
    k.with_mutex(g.panel_lock, || k.list_add_tail(n, g.panel_list));
}

/// `drm_panel_remove`.
pub fn drm_panel_remove(k: &Kernel, p: DrmPanel) {
    let _f = k.func("drm_panel_remove");
    let g = globals(k);
    let n = k.read(p.0, |x| x.list.expect("panel list node"));
    k.with_mutex(g.panel_lock, || k.list_del_init(n));
}

/// `of_drm_find_panel(np)`: a **borrowed** panel (no reference), `-EPROBE_DEFER` if none.
pub fn of_drm_find_panel(k: &Kernel, np: NodeId) -> Result<DrmPanel, Errno> {
    let _f = k.func("of_drm_find_panel");
    let g = globals(k);
    k.mutex_lock(g.panel_lock);
    let found = k
        .list_entries(g.panel_list)
        .into_iter()
        .map(|id| DrmPanel(k.heap_handle::<DrmPanelObj>(id)))
        .find(|p| k.read(p.0, |x| x.of_node) == Some(np));
    k.mutex_unlock(g.panel_lock);
    found.ok_or(Errno::EPROBE_DEFER)
}

/// Which flag a wrapper changes.
#[derive(Copy, Clone)]
enum Flag {
    Prepared,
    Enabled,
}

/// The prepare/enable/disable/unprepare wrappers skip a call that would not change the
/// state, with a dev_warn ("drm/panel: Check for already prepared/enabled in drm_panel",
/// 2023). Reading the flag is a read of the panel, so a stale panel pointer is caught here.
fn transition(
    k: &Kernel,
    p: DrmPanel,
    name: &'static str,
    flag: Flag,
    to: bool,
    f: impl FnOnce(&dyn DrmPanelFuncs) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let _f = k.func(name);
    let (now, funcs) = k.read(p.0, |x| {
        let now = match flag {
            Flag::Prepared => x.prepared,
            Flag::Enabled => x.enabled,
        };
        (now, x.funcs.clone())
    });
    if now == to {
        k.model_event(
            Some(p.0.id()),
            format!("{name}: skipping, the panel is already in that state"),
        );
        return Ok(());
    }
    f(&*funcs)?;
    k.write(p.0, |x| match flag {
        Flag::Prepared => x.prepared = to,
        Flag::Enabled => x.enabled = to,
    });
    Ok(())
}

/// `drm_panel_prepare`.
pub fn drm_panel_prepare(k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
    transition(k, p, "drm_panel_prepare", Flag::Prepared, true, |f| {
        f.prepare(k, p)
    })
}

/// `drm_panel_enable`.
pub fn drm_panel_enable(k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
    transition(k, p, "drm_panel_enable", Flag::Enabled, true, |f| {
        f.enable(k, p)
    })
}

/// `drm_panel_disable`.
pub fn drm_panel_disable(k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
    transition(k, p, "drm_panel_disable", Flag::Enabled, false, |f| {
        f.disable(k, p)
    })
}

/// `drm_panel_unprepare`.
pub fn drm_panel_unprepare(k: &Kernel, p: DrmPanel) -> Result<(), Errno> {
    transition(k, p, "drm_panel_unprepare", Flag::Prepared, false, |f| {
        f.unprepare(k, p)
    })
}

/// `drm_panel_get_modes`.
pub fn drm_panel_get_modes(k: &Kernel, p: DrmPanel) -> u32 {
    let _f = k.func("drm_panel_get_modes");
    let funcs = k.read(p.0, |x| x.funcs.clone());
    funcs.get_modes(k, p)
}

/// Whether the panel is prepared / enabled. Model introspection for tests.
pub fn drm_panel_state(k: &Kernel, p: DrmPanel) -> (bool, bool) {
    k.peek(p.0, |x| (x.prepared, x.enabled))
}

/// `container_of`: read the panel driver's private part.
pub fn drm_panel_priv<P: 'static, R>(k: &Kernel, p: DrmPanel, f: impl FnOnce(&P) -> R) -> R {
    k.read(p.0, |x| {
        f(x.private
            .downcast_ref::<P>()
            .expect("panel container of another type"))
    })
}

/// `container_of`, for a write to the panel driver's private part.
pub fn drm_panel_priv_mut<P: 'static, R>(
    k: &Kernel,
    p: DrmPanel,
    f: impl FnOnce(&mut P) -> R,
) -> R {
    k.write(p.0, |x| {
        f(x.private
            .downcast_mut::<P>()
            .expect("panel container of another type"))
    })
}

/// `panel->prepared` and `panel->enabled`, read from the panel (a driver's `if
/// (panel->base.enabled)`): a read of its memory.
pub fn drm_panel_flags(k: &Kernel, p: DrmPanel) -> (bool, bool) {
    k.read(p.0, |x| (x.prepared, x.enabled))
}
