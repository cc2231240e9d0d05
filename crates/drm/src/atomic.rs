//! `drm_atomic_helper.c` / the chain walkers of `drm_bridge.c`: enable and disable through
//! the bridge chain (upstream.md §2.3 "Iteration", last bullet).
//!
//! The internal walkers hold no references (as upstream): each step dereferences the bridge
//! it stands on, so a bridge freed under the chain is a use-after-free here. Reverse walks
//! read the chain head once and then each entry (the model's lists have no `prev` read).
//! From v7.2 pre_enable/post_disable hold `bridge_chain_mutex` around the outer loop.

use kmodel::list::ListHead;
use kmodel::mutex::Mutex;
use kmodel::Kernel;

use crate::bridge::{
    call_bridge, drm_bridge_chain_get_first_bridge, drm_bridge_commit_state, drm_bridge_get,
    drm_bridge_put, DrmBridge,
};
use crate::drv::{
    drm_mode_config_encoders, drm_modeset_lock_all, drm_modeset_unlock_all, DrmDevice,
};
use crate::encoder::{chain_entry, DrmEncoder};
use crate::ref_tracker::RefOwner;
use crate::rules::rules;
use kmodel::Errno;

fn chain(k: &Kernel, enc: DrmEncoder) -> (ListHead, Mutex) {
    k.read(enc.obj(), |e| (e.bridge_chain, e.bridge_chain_mutex))
}

fn snapshot(k: &Kernel, head: ListHead) -> Vec<DrmBridge> {
    k.list_entries(head)
        .into_iter()
        .map(|id| chain_entry(k, id))
        .collect()
}

fn prev_first(k: &Kernel, b: DrmBridge) -> bool {
    k.read_field(b.obj(), crate::bridge::F_CORE, |x| x.pre_enable_prev_first)
}

/// The order pre_enable visits `chain` (encoder side first in `chain`): from the connector
/// end back to the encoder, except that a run of bridges with `pre_enable_prev_first`
/// is entered at the bridge before the run and walked forwards.
fn pre_enable_order(k: &Kernel, chain: &[DrmBridge]) -> Vec<usize> {
    let flags: Vec<bool> = chain.iter().map(|&b| prev_first(k, b)).collect();
    let mut order = Vec::new();
    let mut i = chain.len();
    while i > 0 {
        let last = i - 1;
        if flags[last] {
            let mut start = last;
            while start > 0 && flags[start] {
                start -= 1;
            }
            order.extend(start..=last);
            i = start;
        } else {
            order.push(last);
            i = last;
        }
    }
    order
}

/// The order post_disable visits `chain`: encoder side first, except that when the next
/// bridges ask for `pre_enable_prev_first`, the run is disabled from its far end back.
fn post_disable_order(k: &Kernel, chain: &[DrmBridge]) -> Vec<usize> {
    let flags: Vec<bool> = chain.iter().map(|&b| prev_first(k, b)).collect();
    let mut order = Vec::new();
    let mut i = 0;
    while i < chain.len() {
        if i + 1 < chain.len() && flags[i + 1] {
            let mut end = i + 1;
            while end + 1 < chain.len() && flags[end + 1] {
                end += 1;
            }
            order.extend((i..=end).rev());
            i = end + 1;
        } else {
            order.push(i);
            i += 1;
        }
    }
    order
}

/// `drm_atomic_bridge_chain_pre_enable`.
pub fn drm_atomic_bridge_chain_pre_enable(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_atomic_bridge_chain_pre_enable");
    let (head, m) = chain(k, enc);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let locked = rules(k).chain_mutex;
    if locked {
        k.mutex_lock(m);
    }
    let c = snapshot(k, head);
    for i in pre_enable_order(k, &c) {
        call_bridge(k, c[i], |f| f.atomic_pre_enable(k, c[i]));
    }
    if locked {
        k.mutex_unlock(m);
    }
}

/// `drm_atomic_bridge_chain_enable`: encoder side first (`list_for_each_entry_from`); v7.2
/// makes it a locked from-loop.
pub fn drm_atomic_bridge_chain_enable(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_atomic_bridge_chain_enable");
    let (head, _) = chain(k, enc);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    if rules(k).chain_mutex {
        if let Some(n) = k.list_first(head) {
            let first = chain_entry(k, k.list_node_owner(n));
            crate::bridge::drm_for_each_bridge_in_chain_from(k, first, |b| {
                call_bridge(k, b, |f| f.atomic_enable(k, b));
                std::ops::ControlFlow::<()>::Continue(())
            });
        }
        return;
    }
    // cite: v7.1:drivers/gpu/drm/drm_bridge.c:drm_atomic_bridge_chain_enable
    let mut cur = k.list_first(head);
    while let Some(n) = cur {
        let b = chain_entry(k, k.list_node_owner(n));
        call_bridge(k, b, |f| f.atomic_enable(k, b));
        cur = k.list_next(head, b.obj(), n);
    }
}

/// `drm_atomic_bridge_chain_disable`: connector side first (`list_for_each_entry_reverse`).
pub fn drm_atomic_bridge_chain_disable(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_atomic_bridge_chain_disable");
    let (head, m) = chain(k, enc);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let locked = rules(k).chain_mutex;
    if locked {
        k.mutex_lock(m);
    }
    for b in snapshot(k, head).into_iter().rev() {
        call_bridge(k, b, |f| f.atomic_disable(k, b));
    }
    if locked {
        k.mutex_unlock(m);
    }
}

/// `drm_atomic_bridge_chain_post_disable`.
pub fn drm_atomic_bridge_chain_post_disable(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_atomic_bridge_chain_post_disable");
    let (head, m) = chain(k, enc);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let locked = rules(k).chain_mutex;
    if locked {
        k.mutex_lock(m);
    }
    let c = snapshot(k, head);
    for i in post_disable_order(k, &c) {
        call_bridge(k, c[i], |f| f.atomic_post_disable(k, c[i]));
    }
    if locked {
        k.mutex_unlock(m);
    }
}

/// The first bridge of one get/walk/put step, a local of the commit's call in its thread.
const COMMIT_OWNER: RefOwner = RefOwner::Local("drm_atomic_helper_commit_modeset");

/// One step of the atomic helper's per-encoder loops: get the first bridge (counted from
/// v6.18), run one chain walk, put it. Each walk has its own get/put pair, so no reference
/// is held between two walks.
fn with_first_bridge(
    k: &Kernel,
    enc: DrmEncoder,
    step: &'static str,
    walk: fn(&Kernel, DrmEncoder),
) {
    let _f = k.func(step);
    let first = drm_bridge_chain_get_first_bridge(k, enc, COMMIT_OWNER);
    walk(k, enc);
    // cite: v6.18:drivers/gpu/drm/drm_atomic_helper.c:encoder_bridge_disable; v6.18:drivers/gpu/drm/drm_atomic_helper.c:encoder_bridge_enable
    if rules(k).first_bridge_counted {
        drm_bridge_put(k, first, COMMIT_OWNER);
    }
}

/// The enable half of a commit on the CRTC feeding `enc`, under the modeset locks:
/// `encoder_bridge_pre_enable` then `encoder_bridge_enable`, each a get/walk/put of the first
/// bridge.
pub fn drm_atomic_helper_commit_modeset_enables(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_atomic_helper_commit_modeset_enables");
    let drm = k.read(enc.obj(), |e| e.dev);
    drm_modeset_lock_all(k, drm);
    let (head, _) = chain(k, enc);
    for b in snapshot(k, head) {
        drm_bridge_commit_state(k, b);
    }
    with_first_bridge(
        k,
        enc,
        "encoder_bridge_pre_enable",
        drm_atomic_bridge_chain_pre_enable,
    );
    with_first_bridge(
        k,
        enc,
        "encoder_bridge_enable",
        drm_atomic_bridge_chain_enable,
    );
    k.write(enc.obj(), |e| e.enabled = true);
    drm_modeset_unlock_all(k, drm);
}

/// The disable half of a commit on the CRTC feeding `enc`, under the modeset locks
/// (`disable_outputs`): `encoder_bridge_disable` then `encoder_bridge_post_disable`, each a
/// get/walk/put of the first bridge. A no-op when the pipeline is not enabled.
pub fn drm_atomic_helper_commit_modeset_disables(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_atomic_helper_commit_modeset_disables");
    let drm = k.read(enc.obj(), |e| e.dev);
    drm_modeset_lock_all(k, drm);
    if !k.read(enc.obj(), |e| e.enabled) {
        drm_modeset_unlock_all(k, drm);
        return;
    }
    with_first_bridge(
        k,
        enc,
        "encoder_bridge_disable",
        drm_atomic_bridge_chain_disable,
    );
    with_first_bridge(
        k,
        enc,
        "encoder_bridge_post_disable",
        drm_atomic_bridge_chain_post_disable,
    );
    k.write(enc.obj(), |e| e.enabled = false);
    drm_modeset_unlock_all(k, drm);
}

/// `drm_atomic_helper_shutdown`: disable every enabled pipeline of the device.
pub fn drm_atomic_helper_shutdown(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_atomic_helper_shutdown");
    for enc in drm_mode_config_encoders(k, drm) {
        drm_atomic_helper_commit_modeset_disables(k, enc);
    }
}

/// Whether the pipeline through `enc` is enabled. Model introspection for tests.
pub fn drm_encoder_is_enabled(k: &Kernel, enc: DrmEncoder) -> bool {
    k.peek(enc.obj(), |e| e.enabled)
}

/// `drm_bridge_helper_reset_crtc(bridge)`: disable then re-enable the pipeline through the
/// bridge's encoder; an error when it is not enabled (KUnit suite
/// `drm_test_bridge_helper_reset_crtc`, upstream.md §7).
pub fn drm_bridge_helper_reset_crtc(k: &Kernel, b: DrmBridge) -> Result<(), Errno> {
    let _f = k.func("drm_bridge_helper_reset_crtc");
    let enc = k
        .read_field(b.obj(), crate::bridge::F_ATTACH, |x| x.encoder_ptr())
        .ok_or(Errno::EINVAL)?;
    if !k.read(enc.obj(), |e| e.enabled) {
        return Err(Errno::EINVAL);
    }
    drm_atomic_helper_commit_modeset_disables(k, enc);
    drm_atomic_helper_commit_modeset_enables(k, enc);
    Ok(())
}

/// `drm_atomic_bridge_chain_select_bus_fmts` reduced to its lifetime effect: the last bridge
/// is taken counted from v6.19 ("refcount last_bridge in ...": a `drm_bridge_get` on the
/// raw last entry, so it is not the last-bridge getter) and the chain walked back from it with
/// the prev getter. Returns how many bridges were visited.
pub fn drm_atomic_bridge_chain_select_bus_fmts(k: &Kernel, enc: DrmEncoder) -> usize {
    let _f = k.func("drm_atomic_bridge_chain_select_bus_fmts");
    const OWNER: RefOwner = RefOwner::Local("drm_atomic_bridge_chain_select_bus_fmts");
    let r = rules(k);
    let head = chain(k, enc).0;
    let last = k.list_entries(head).last().map(|&id| chain_entry(k, id));
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:drm_atomic_bridge_chain_select_bus_fmts
    let last_counted = r.select_bus_fmts_last_ref;
    if last_counted {
        drm_bridge_get(k, last, OWNER);
    }
    let mut n = 0;
    let mut cur = last;
    while let Some(b) = cur {
        call_bridge(k, b, |_| ());
        n += 1;
        let prev = crate::bridge::drm_bridge_get_prev_bridge(k, b, OWNER);
        // cite: v6.18:include/drm/drm_bridge.h:drm_bridge_get_prev_bridge
        let counted = if Some(b) == last {
            last_counted
        } else {
            r.prev_bridge_counted
        };
        if counted {
            drm_bridge_put(k, b, OWNER);
        }
        cur = prev;
    }
    n
}

/// `drm_atomic_private_obj_init(dev, &bridge->base, ...)` for an atomic bridge at attach:
/// the object is zeroed, its `head` added to the tail of `mode_config.privobj_list` (no lock
/// taken), and its first state installed.
// cite: v7.1:drivers/gpu/drm/drm_atomic.c:drm_atomic_private_obj_init; v6.17:drivers/gpu/drm/drm_atomic.c:drm_atomic_private_obj_init
pub(crate) fn drm_atomic_private_obj_init(k: &Kernel, drm: DrmDevice, b: DrmBridge) {
    let _f = k.func("drm_atomic_private_obj_init");
    let list = k.read(drm.obj(), |d| d.privobj_list);
    let head = k.read_field(b.obj(), crate::bridge::F_CORE, |x| x.base_head());
    k.list_add_tail(head, list);
    k.write_field(b.obj(), crate::bridge::F_PRIV_OBJ, |x| x.priv_obj = Some(0));
}

/// `drm_atomic_private_obj_fini(&bridge->base)` at detach: `list_del` of `head` from the mode
/// config's `privobj_list` with no lock held (every release v6.17–v7.1), the state destroyed,
/// then `drm_modeset_lock_fini(&obj->lock)`, whose WARN_ON fires when an acquire context
/// still holds the lock (failure mode 5.17: a lock-all walking the list at the same time).
/// With the posted fix (proposal `private_obj_fini_locking`) the `list_del` sits between
/// `DRM_MODESET_LOCK_ALL_BEGIN` and `_END` on the object's device: a concurrent lock-all
/// either finishes and drops the lock first, or walks the list after the unlink.
pub(crate) fn drm_atomic_private_obj_fini(k: &Kernel, drm: DrmDevice, b: DrmBridge) {
    let _f = k.func("drm_atomic_private_obj_fini");
    let head = k.read_field(b.obj(), crate::bridge::F_CORE, |x| x.base_head());
    // cite: series drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal from list v3
    let locked = rules(k).private_obj_fini_locking;
    let ctx = locked.then(|| crate::modeset_lock::drm_modeset_lock_all_ctx(k, drm));
    // cite: v7.1:drivers/gpu/drm/drm_atomic.c:drm_atomic_private_obj_fini
    k.list_del(head);
    if let Some(ctx) = ctx {
        crate::modeset_lock::drm_modeset_drop_locks(k, drm, ctx);
    }
    k.write_field(b.obj(), crate::bridge::F_PRIV_OBJ, |x| x.priv_obj = None);
    crate::modeset_lock::drm_modeset_lock_fini(k, b);
}
