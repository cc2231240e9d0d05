//! `drm_managed.c`: drmm actions and allocations, released LIFO at the final `drm_dev_put`
//! (upstream.md §4.3), possibly long after the parent device unbound.

use kmodel::{Errno, Kernel, Obj};

use crate::drv::DrmDevice;

/// One drmm resource: an action (a drmm allocation is an action that frees it).
pub struct DrmmRes {
    pub(crate) name: &'static str,
    pub(crate) data: u64,
    pub(crate) action: Box<dyn FnOnce(&Kernel)>,
}

/// `drmm_add_action`: `name` and `data` identify the action for [`drmm_release_action`].
pub fn drmm_add_action(
    k: &Kernel,
    drm: DrmDevice,
    name: &'static str,
    data: u64,
    action: impl FnOnce(&Kernel) + 'static,
) -> Result<(), Errno> {
    let _f = k.func("drmm_add_action");
    k.write(drm.0, |d| {
        d.managed.push(DrmmRes {
            name,
            data,
            action: Box::new(action),
        })
    });
    Ok(())
}

/// `drmm_add_action_or_reset`: the model never fails the registration, so this is
/// [`drmm_add_action`]; kept for the kernel's call shape.
pub fn drmm_add_action_or_reset(
    k: &Kernel,
    drm: DrmDevice,
    name: &'static str,
    data: u64,
    action: impl FnOnce(&Kernel) + 'static,
) -> Result<(), Errno> {
    let _f = k.func("drmm_add_action_or_reset");
    drmm_add_action(k, drm, name, data, action)
}

/// `drmm_release_action`: run the newest matching action now; WARN if there is none.
pub fn drmm_release_action(k: &Kernel, drm: DrmDevice, name: &'static str, data: u64) {
    let _f = k.func("drmm_release_action");
    let res = k.write(drm.0, |d| {
        let i = d
            .managed
            .iter()
            .rposition(|r| r.name == name && r.data == data)?;
        Some(d.managed.remove(i))
    });
    match res {
        Some(r) => (r.action)(k),
        None => k.warn(format!("drmm_release_action: no drmm action {name}")),
    }
}

/// `drmm_kzalloc`: memory freed at the final `drm_dev_put`.
pub fn drmm_kzalloc<T: 'static>(
    k: &Kernel,
    drm: DrmDevice,
    ty: &'static str,
    name: &str,
    value: T,
) -> Obj<T> {
    let _f = k.func("drmm_kzalloc");
    let obj = k.kzalloc(ty, name, value);
    // Registration never fails in the model (see drmm_add_action).
    let _ = drmm_add_action(k, drm, "drmm_kfree", obj.id().0 as u64, move |k| {
        k.kfree(obj)
    });
    obj
}

/// `drm_managed_release`: run every drmm action, newest first.
pub(crate) fn drm_managed_release(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_managed_release");
    while let Some(r) = k.write(drm.0, |d| d.managed.pop()) {
        (r.action)(k);
    }
}
