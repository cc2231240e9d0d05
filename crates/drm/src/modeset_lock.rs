//! `drm_modeset_lock.c` / `drm_modeset_lock.h`, reduced to what the bridges' private objects
//! need: the lock-all of an acquire context and its release, and the lock's fini.
//!
//! Neither file is in the corpus; what the model follows is the posted 5.17 fix's account
//! (series "drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal from list"
//! v3, upstream.md §5.17): `DRM_MODESET_LOCK_ALL_BEGIN` → `drm_modeset_lock_all_ctx` takes
//! the mode config's locks, then walks `mode_config.privobj_list` (`drm_for_each_privobj`)
//! locking each private object's `lock` and adding it to the context's `locked` list, with
//! no lock of the list itself held; `DRM_MODESET_LOCK_ALL_END` → `drm_modeset_drop_locks`
//! unlocks every lock on `locked`, newest first; `drm_modeset_lock_fini` WARNs when the lock
//! is still on a context's `locked` list. The connection, CRTC and plane locks are the
//! device's one modeset mutex, as in [`crate::drv::drm_modeset_lock_all`]; a private
//! object's lock is a flag of the bridge (`F_PRIV_OBJ_LOCK`): it is only ever taken inside
//! that mutex, so it needs no lock object of its own.

use kmodel::report::ViolationKind;
use kmodel::Kernel;

use crate::bridge::{DrmBridge, DrmBridgeObj, F_PRIV_OBJ_LOCK};
use crate::drv::DrmDevice;

/// A `struct drm_modeset_acquire_ctx` after a lock-all: the private objects whose lock is on
/// its `locked` list, in the order they were locked.
#[derive(Debug, Default)]
pub struct DrmModesetAcquireCtx {
    locked: Vec<DrmBridge>,
}

/// `drm_modeset_lock_all_ctx` (what `DRM_MODESET_LOCK_ALL_BEGIN` calls): the modeset locks,
/// then each private object of `mode_config.privobj_list`. The walk holds no lock that
/// `drm_atomic_private_obj_fini`'s `list_del` takes (none, in every release): a concurrent
/// unlink of the entry it stands on makes it follow `LIST_POISON1`, and a bridge freed under
/// it is a use-after-free.
pub fn drm_modeset_lock_all_ctx(k: &Kernel, drm: DrmDevice) -> DrmModesetAcquireCtx {
    let _f = k.func("drm_modeset_lock_all_ctx");
    let (m, list) = k.read(drm.obj(), |d| (d.modeset_lock, d.privobj_list));
    k.mutex_lock(m);
    let mut ctx = DrmModesetAcquireCtx::default();
    let mut cur = k.list_first(list);
    while let Some(n) = cur {
        let b = DrmBridge(k.heap_handle::<DrmBridgeObj>(k.list_node_owner(n)));
        // drm_modeset_lock(&privobj->lock, ctx): the lock joins ctx->locked.
        k.write_field(b.obj(), F_PRIV_OBJ_LOCK, |x| x.base_locked = true);
        ctx.locked.push(b);
        cur = k.list_next(list, b.obj(), n);
    }
    ctx
}

/// `drm_modeset_drop_locks` (what `DRM_MODESET_LOCK_ALL_END` calls) after a lock-all: each
/// private object's lock leaves the context, newest first, through the pointer the context
/// kept (a bridge freed meanwhile is a use-after-free), then the modeset locks.
pub fn drm_modeset_drop_locks(k: &Kernel, drm: DrmDevice, ctx: DrmModesetAcquireCtx) {
    let _f = k.func("drm_modeset_drop_locks");
    for b in ctx.locked.into_iter().rev() {
        k.write_field(b.obj(), F_PRIV_OBJ_LOCK, |x| x.base_locked = false);
    }
    let m = k.read(drm.obj(), |d| d.modeset_lock);
    k.mutex_unlock(m);
}

/// `drm_modeset_lock_fini(&bridge->base.lock)`: WARN_ON when the lock is still on an
/// acquire context's `locked` list, the warning 5.17 was found by (quoted in the posted fix,
/// series "drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal from list").
pub(crate) fn drm_modeset_lock_fini(k: &Kernel, b: DrmBridge) {
    let _f = k.func("drm_modeset_lock_fini");
    if k.read_field(b.obj(), F_PRIV_OBJ_LOCK, |x| x.base_locked) {
        let name = k.peek(b.obj(), |x| x.name.clone());
        k.violation(
            ViolationKind::Warn,
            Some(b.obj().id()),
            None,
            format!(
                "WARN_ON(!list_empty(&lock->head)) in drm_modeset_lock_fini: the private \
                 object lock of {name} is still held by an acquire context"
            ),
        );
    }
}
