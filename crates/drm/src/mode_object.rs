//! `drm_mode_object.c`: the property ioctls, as far as their locking goes.

use kmodel::Kernel;

use crate::drv::DrmDevice;
use crate::modeset_lock::{drm_modeset_drop_locks, drm_modeset_lock_all_ctx};

/// `drm_mode_obj_get_properties_ioctl`: userspace reads an object's properties between
/// `DRM_MODESET_LOCK_ALL_BEGIN` and `_END`, so the whole of `mode_config.privobj_list` is
/// walked and each private object locked meanwhile (the execution the posted 5.17 fix
/// describes, series "drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal
/// from list" v3; drm_mode_object.c is not in the corpus).
pub fn drm_mode_obj_get_properties_ioctl(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_mode_obj_get_properties_ioctl");
    let ctx = drm_modeset_lock_all_ctx(k, drm);
    drm_modeset_drop_locks(k, drm, ctx);
}
