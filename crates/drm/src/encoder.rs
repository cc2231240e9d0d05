//! `drm_encoder.c`: the encoder and its bridge chain (upstream.md §2.2, §4.5).

use kmodel::list::ListHead;
use kmodel::mutex::Mutex;
use kmodel::{Errno, Kernel, Obj};

use crate::bridge::{drm_bridge_detach, DrmBridge, DrmBridgeObj};
use crate::drv::DrmDevice;
use crate::managed::{drmm_add_action, drmm_kzalloc};
use crate::rules::rules;

/// A `struct drm_encoder *`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrmEncoder(pub(crate) Obj<DrmEncoderObj>);

impl DrmEncoder {
    /// The handle of a heap object (a pointer cast, e.g. from `dev_get_drvdata`).
    pub fn from_obj(o: Obj<DrmEncoderObj>) -> Self {
        DrmEncoder(o)
    }

    /// The heap object, for scheduling and reports.
    pub fn obj(self) -> Obj<DrmEncoderObj> {
        self.0
    }
}

/// `struct drm_encoder`.
///
/// # Invariants
///
/// `bridge_chain` holds the `chain_node` of exactly the bridges whose `dev` is set and whose
/// `encoder` is this one (I4), ordered from the encoder towards the connector, except inside
/// `drm_encoder_cleanup` under the v7.2 rules, where the chain is cut onto a temporary list.
pub struct DrmEncoderObj {
    pub name: String,
    pub dev: DrmDevice,
    pub(crate) bridge_chain: ListHead,
    pub(crate) bridge_chain_mutex: Mutex,
    pub(crate) cleaned_up: bool,
    /// Whether the pipeline through this encoder is enabled (model state of the CRTC).
    pub(crate) enabled: bool,
}

impl DrmEncoderObj {
    /// A fresh encoder of `drm`: an empty chain and its mutex (`drm_encoder_init`'s part).
    fn new(k: &Kernel, drm: DrmDevice, name: &str) -> Self {
        let chain = k.list_head_init(&format!("{name}->bridge_chain"));
        let m = k.mutex_init("&encoder->bridge_chain_mutex");
        DrmEncoderObj {
            name: name.to_string(),
            dev: drm,
            bridge_chain: chain,
            bridge_chain_mutex: m,
            cleaned_up: false,
            enabled: false,
        }
    }
}

/// `drmm_encoder_alloc`: an encoder in drmm memory whose `drm_encoder_cleanup` runs as a
/// drmm action at the final `drm_dev_put`.
pub fn drmm_encoder_alloc(k: &Kernel, drm: DrmDevice, name: &str) -> Result<DrmEncoder, Errno> {
    let _f = k.func("drmm_encoder_alloc");
    let val = DrmEncoderObj::new(k, drm, name);
    let obj = drmm_kzalloc(k, drm, "struct drm_encoder", name, val);
    let enc = DrmEncoder(obj);
    k.write(drm.0, |d| d.encoders.push(enc));
    drmm_add_action(
        k,
        drm,
        "drmm_encoder_alloc_release",
        obj.id().0 as u64,
        move |k| drm_encoder_cleanup(k, enc),
    )?;
    Ok(enc)
}

/// `encoder = devm_kzalloc(dev, sizeof(*encoder)); drm_encoder_init(drm, encoder, funcs, type,
/// name)`: an encoder in devres memory of `dev`, freed when `dev` unbinds whatever still points
/// at it (v7.1:drivers/gpu/drm/mxsfb/lcdif_drv.c:lcdif_attach_bridge), linked into the mode
/// config, whose cleanup (`drm_mode_config_cleanup`, at the card's release under
/// drmm_mode_config_init) calls its `.destroy`, `drm_encoder_cleanup`.
pub fn drm_encoder_init(
    k: &Kernel,
    drm: DrmDevice,
    dev: kmodel::device::DeviceId,
    name: &str,
) -> Result<DrmEncoder, Errno> {
    let _f = k.func("drm_encoder_init");
    let val = DrmEncoderObj::new(k, drm, name);
    let obj = k.devm_kzalloc(dev, "struct drm_encoder", name, val)?;
    let enc = DrmEncoder(obj);
    k.write(drm.0, |d| d.encoders.push(enc));
    Ok(enc)
}

/// The bridge behind a chain entry (`list_entry(node, struct drm_bridge, chain_node)`).
pub(crate) fn chain_entry(k: &Kernel, id: kmodel::ObjId) -> DrmBridge {
    DrmBridge(k.heap_handle::<DrmBridgeObj>(id))
}

/// `drm_encoder_cleanup`: detach every bridge of the chain (each detach puts the chain
/// reference). Under `chain_mutex` the chain is first cut onto a temporary list under the
/// mutex and detached without it, avoiding the §5.7 ABBA deadlock (the superseded
/// `encoder_cleanup_detach_locked` detaches with the mutex held instead); before, the chain
/// is walked with `list_for_each_entry_safe` (the §5.6 trap).
pub fn drm_encoder_cleanup(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_encoder_cleanup");
    let (head, m, done) = k.read(enc.0, |e| {
        (e.bridge_chain, e.bridge_chain_mutex, e.cleaned_up)
    });
    if done {
        return;
    }
    let r = rules(k);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex; v7.1:drivers/gpu/drm/drm_encoder.c:drm_encoder_cleanup
    let chain_mutex = r.chain_mutex;
    // The series before its §5.7 fix.
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let detach_locked = r.encoder_cleanup_detach_locked;
    if chain_mutex && detach_locked {
        // Detach with the chain mutex held: path A of the §5.7 ABBA.
        k.mutex_lock(m);
        detach_from(k, head, k.list_first(head));
        k.mutex_unlock(m);
    } else if chain_mutex {
        let tmp = k.list_head_init("drm_encoder_cleanup tmp chain");
        k.mutex_lock(m);
        for id in k.list_entries(head) {
            let b = chain_entry(k, id);
            let n = k.read_field(b.0, crate::bridge::F_CORE, |x| x.chain_node());
            k.list_move_tail(n, tmp);
        }
        k.mutex_unlock(m);
        for id in k.list_entries(tmp) {
            drm_bridge_detach(k, Some(chain_entry(k, id)));
        }
    } else {
        detach_from(k, head, k.list_first(head));
    }
    let drm = k.write(enc.0, |e| {
        e.cleaned_up = true;
        e.dev
    });
    k.write(drm.0, |d| d.encoders.retain(|&x| x != enc));
}

/// `drm_encoder_cleanup_from(encoder, bridge)` (the hotplug-bridge series v4, proposal
/// `hotplug_bridge`): detach `first` and every bridge after it, leaving the encoder and the
/// head of the chain. Under `chain_mutex` the tail is cut onto a temporary list under the
/// mutex and detached without it, as `drm_encoder_cleanup` does (inference); before, it is the
/// `list_for_each_entry_safe_from` loop (the §5.6 trap).
pub fn drm_encoder_cleanup_from(k: &Kernel, enc: DrmEncoder, first: DrmBridge) {
    let _f = k.func("drm_encoder_cleanup_from");
    let (head, m) = k.read(enc.0, |e| (e.bridge_chain, e.bridge_chain_mutex));
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    if rules(k).chain_mutex {
        let tmp = k.list_head_init("drm_encoder_cleanup_from tmp chain");
        k.mutex_lock(m);
        let entries = k.list_entries(head);
        let from = entries.iter().position(|&id| id == first.0.id());
        for &id in &entries[from.unwrap_or(entries.len())..] {
            let n = k.read_field(chain_entry(k, id).0, crate::bridge::F_CORE, |x| {
                x.chain_node()
            });
            k.list_move_tail(n, tmp);
        }
        k.mutex_unlock(m);
        for id in k.list_entries(tmp) {
            drm_bridge_detach(k, Some(chain_entry(k, id)));
        }
    } else {
        let n = k.read_field(first.0, crate::bridge::F_CORE, |x| x.chain_node());
        detach_from(k, head, Some(n));
    }
}

/// `list_for_each_entry_safe_from(bridge, next, &encoder->bridge_chain, chain_node)
/// drm_bridge_detach(bridge)`: the next entry is read before the current one is detached.
fn detach_from(k: &Kernel, head: ListHead, first: Option<kmodel::list::ListNode>) {
    let mut cur = first;
    while let Some(n) = cur {
        let b = chain_entry(k, k.list_node_owner(n));
        let next = k.list_next(head, b.0, n);
        drm_bridge_detach(k, Some(b));
        cur = next;
    }
}

/// `drm_encoder_chain_lock` (the wrapper of v1–v2 of the chain-mutex series, §6.15): take
/// `bridge_chain_mutex`. For driver models and tests that need the chain stable.
pub fn drm_encoder_chain_lock(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_encoder_chain_lock");
    let m = k.read(enc.0, |e| e.bridge_chain_mutex);
    k.mutex_lock(m);
}

/// `drm_encoder_chain_unlock`.
pub fn drm_encoder_chain_unlock(k: &Kernel, enc: DrmEncoder) {
    let _f = k.func("drm_encoder_chain_unlock");
    let m = k.read(enc.0, |e| e.bridge_chain_mutex);
    k.mutex_unlock(m);
}
