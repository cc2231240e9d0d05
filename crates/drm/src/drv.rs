//! `drm_drv.c`: the refcounted `drm_device`, register/unregister and enter/exit/unplug
//! (upstream.md §4.1), plus its mode config (encoders and connectors).

use kmodel::device::DeviceId;
use kmodel::kref::{Kref, Owner};

use crate::ref_tracker::RefOwner;
use kmodel::list::ListHead;
use kmodel::mutex::Mutex;
use kmodel::srcu::{Srcu, SrcuIdx};
use kmodel::{Errno, Kernel, Obj};

use crate::connector::{drm_connector_put, DrmConnector, MODE_CONFIG_OWNER};
use crate::encoder::{drm_encoder_cleanup, DrmEncoder};
use crate::managed::{drm_managed_release, drmm_add_action, DrmmRes};

/// A `struct drm_device *`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrmDevice(pub(crate) Obj<DrmDeviceObj>);

impl DrmDevice {
    /// The handle of a heap object (a pointer cast, e.g. from `dev_get_drvdata`).
    pub fn from_obj(o: Obj<DrmDeviceObj>) -> Self {
        DrmDevice(o)
    }

    /// The heap object, for scheduling and reports.
    pub fn obj(self) -> Obj<DrmDeviceObj> {
        self.0
    }
}

/// `struct drm_device`: the fields that matter for lifetime.
///
/// # Invariants
///
/// `refcount` is `Some` from `drm_dev_alloc` on. `managed` is released newest first, exactly
/// once, by the final `drm_dev_put` (§4.3). `unplugged` never goes back to false.
pub struct DrmDeviceObj {
    pub name: String,
    /// The parent `struct device` (unbound long before the last put, possibly).
    pub dev: DeviceId,
    pub(crate) refcount: Option<Kref>,
    pub(crate) registered: bool,
    pub(crate) unplugged: bool,
    pub(crate) managed: Vec<DrmmRes>,
    pub(crate) encoders: Vec<DrmEncoder>,
    pub(crate) connectors: Vec<DrmConnector>,
    /// The modeset locks, as one lock (`drm_modeset_lock_all` / the connection mutex).
    pub(crate) modeset_lock: Mutex,
    /// `mode_config.privobj_list`: the private objects (`base`) of the attached atomic
    /// bridges, added by `drm_atomic_private_obj_init` and unlinked by
    /// `drm_atomic_private_obj_fini` (v7.1:drivers/gpu/drm/drm_atomic.c), walked by the
    /// lock-all of an acquire context (`crate::modeset_lock`).
    pub(crate) privobj_list: ListHead,
}

/// The static SRCU domain of `drm_dev_enter` (`drm_unplug_srcu`).
#[derive(Copy, Clone)]
struct DrmUnplugSrcu(Srcu);

fn drm_unplug_srcu(k: &Kernel) -> Srcu {
    k.global(|k| DrmUnplugSrcu(k.init_srcu_struct("drm_unplug_srcu")))
        .0
}

/// `drm_dev_alloc`: a new `drm_device` whose first reference belongs to `owner`.
pub fn drm_dev_alloc(
    k: &Kernel,
    parent: DeviceId,
    name: &str,
    owner: impl Into<Owner>,
) -> DrmDevice {
    let _f = k.func("drm_dev_alloc");
    let modeset_lock = k.mutex_init("crtc_ww_class_mutex");
    let privobj_list = k.list_head_init(&format!("{name} mode_config.privobj_list"));
    let obj = k.kzalloc(
        "struct drm_device",
        name,
        DrmDeviceObj {
            name: name.to_string(),
            dev: parent,
            refcount: None,
            registered: false,
            unplugged: false,
            managed: Vec::new(),
            encoders: Vec::new(),
            connectors: Vec::new(),
            modeset_lock,
            privobj_list,
        },
    );
    let r = k.kref_init(obj.id(), owner);
    k.write(obj, |d| d.refcount = Some(r));
    k.model_event(Some(obj.id()), "drm_dev_alloc");
    DrmDevice(obj)
}

/// `devm_drm_dev_alloc`: the first reference belongs to `parent`'s devres, dropped at unbind.
pub fn devm_drm_dev_alloc(k: &Kernel, parent: DeviceId, name: &str) -> Result<DrmDevice, Errno> {
    let _f = k.func("devm_drm_dev_alloc");
    let owner = RefOwner::devres(k, parent);
    let drm = drm_dev_alloc(k, parent, name, owner.clone());
    k.devm_add_action_or_reset(
        parent,
        "devm_drm_dev_init_release",
        drm.0.id().0 as u64,
        move |k| drm_dev_put(k, drm, owner),
    )?;
    Ok(drm)
}

/// `drm_dev_get`: take a reference for `owner`.
pub fn drm_dev_get(k: &Kernel, drm: DrmDevice, owner: impl Into<Owner>) {
    let _f = k.func("drm_dev_get");
    if let Some(r) = k.read(drm.0, |d| d.refcount) {
        k.kref_get(r, owner);
    }
}

/// `drm_dev_put`: the last put runs `drm_dev_release`: drmm resources LIFO, then the free.
pub fn drm_dev_put(k: &Kernel, drm: DrmDevice, owner: impl Into<Owner>) {
    let _f = k.func("drm_dev_put");
    if let Some(r) = k.read(drm.0, |d| d.refcount) {
        k.kref_put(r, owner, move |k| drm_dev_release(k, drm));
    }
}

fn drm_dev_release(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_dev_release");
    k.model_event(Some(drm.0.id()), "drm_dev_release");
    drm_managed_release(k, drm);
    k.kfree(drm.0);
}

/// The current count of the device's refcount. Model introspection for tests.
pub fn drm_dev_refcount(k: &Kernel, drm: DrmDevice) -> u32 {
    k.peek(drm.0, |d| d.refcount)
        .map(|r| k.kref_peek(r))
        .unwrap_or(0)
}

/// `drm_dev_register`.
pub fn drm_dev_register(k: &Kernel, drm: DrmDevice) -> Result<(), Errno> {
    let _f = k.func("drm_dev_register");
    k.write(drm.0, |d| d.registered = true);
    k.model_event(Some(drm.0.id()), "drm_dev_register");
    Ok(())
}

/// `drm_dev_unregister`: userspace can no longer open it; memory lives on (§4.1).
pub fn drm_dev_unregister(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_dev_unregister");
    k.write(drm.0, |d| d.registered = false);
    k.model_event(Some(drm.0.id()), "drm_dev_unregister");
}

/// `drm_dev_enter`: `Some(idx)` inside a read section of `drm_unplug_srcu`, `None` once
/// the device is unplugged.
pub fn drm_dev_enter(k: &Kernel, drm: DrmDevice) -> Option<SrcuIdx> {
    let _f = k.func("drm_dev_enter");
    let s = drm_unplug_srcu(k);
    let idx = k.srcu_read_lock(s);
    if k.read_field(drm.0, "drm_device.unplugged", |d| d.unplugged) {
        k.srcu_read_unlock(s, idx);
        return None;
    }
    Some(idx)
}

/// `drm_dev_exit`.
pub fn drm_dev_exit(k: &Kernel, idx: SrcuIdx) {
    let _f = k.func("drm_dev_exit");
    k.srcu_read_unlock(drm_unplug_srcu(k), idx);
}

/// `drm_dev_unplug`: set `unplugged`, wait for every open section, then unregister.
pub fn drm_dev_unplug(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_dev_unplug");
    k.write_field(drm.0, "drm_device.unplugged", |d| d.unplugged = true);
    k.synchronize_srcu(drm_unplug_srcu(k));
    drm_dev_unregister(k, drm);
}

/// `drmm_mode_config_init`: mode config cleanup runs as a drmm action (registered early, so
/// it runs after the later encoder and connector actions).
pub fn drmm_mode_config_init(k: &Kernel, drm: DrmDevice) -> Result<(), Errno> {
    let _f = k.func("drmm_mode_config_init");
    drmm_add_action(
        k,
        drm,
        "drm_mode_config_cleanup",
        drm.0.id().0 as u64,
        move |k| drm_mode_config_cleanup(k, drm),
    )
}

/// `drm_mode_config_cleanup`: clean up the encoders still registered and drop the mode
/// config's reference on each connector still registered.
pub fn drm_mode_config_cleanup(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_mode_config_cleanup");
    let encoders = k.read(drm.0, |d| d.encoders.clone());
    for e in encoders {
        drm_encoder_cleanup(k, e);
    }
    let conns = k.write(drm.0, |d| std::mem::take(&mut d.connectors));
    for c in conns {
        drm_connector_put(k, c, MODE_CONFIG_OWNER);
    }
}

/// The encoders of the mode config, in creation order.
pub fn drm_mode_config_encoders(k: &Kernel, drm: DrmDevice) -> Vec<DrmEncoder> {
    k.read(drm.0, |d| d.encoders.clone())
}

/// `drm_modeset_lock_all` (the modeset locks are modelled as one mutex).
pub fn drm_modeset_lock_all(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_modeset_lock_all");
    let m = k.read(drm.0, |d| d.modeset_lock);
    k.mutex_lock(m);
}

/// `drm_modeset_unlock_all`.
pub fn drm_modeset_unlock_all(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_modeset_unlock_all");
    let m = k.read(drm.0, |d| d.modeset_lock);
    k.mutex_unlock(m);
}
