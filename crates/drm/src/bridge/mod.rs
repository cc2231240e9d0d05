//! `drm_bridge.c` / `drm_bridge.h`: the bridge object, its references, publication, chain
//! membership, lookups, iteration and unplug (upstream.md §2.3, §3).
//!
//! Reference owners used by the core (I2, I6):
//! - [`RefOwner::Devres`]: the allocation reference of `devm_drm_bridge_alloc`;
//! - [`RefOwner::Published`]: taken by `drm_bridge_add`, dropped by `drm_bridge_remove`
//!   (v6.17+);
//! - [`RefOwner::Chain`]: taken by `drm_bridge_attach`, dropped by detach (v6.17+);
//! - [`RefOwner::NextBridge`]: the `next_bridge` field, put at free (v7.0+);
//! - [`RefOwner::ScopedCursor`]: the cursor of the scoped chain loops;
//! - whatever name a caller passes to a counted getter.

pub mod panel;

use std::any::Any;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::rc::Rc;

use kmodel::device::DeviceId;
use kmodel::kref::{Kref, Owner};
use kmodel::list::{ListHead, ListNode};
use kmodel::mutex::Mutex;
use kmodel::of::NodeId;
use kmodel::srcu::{Srcu, SrcuIdx};
use kmodel::{Errno, Kernel, Obj, ViolationKind};

use crate::drv::DrmDevice;
use crate::encoder::{chain_entry, DrmEncoder};
use crate::ref_tracker::RefOwner;
use crate::rules::rules;

/// A `struct drm_bridge *`: one handle for the bridge and the container embedding it (the
/// model allocates both as one heap object, as the kernel does).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrmBridge(pub(crate) Obj<DrmBridgeObj>);

impl DrmBridge {
    /// The handle of a heap object (a pointer cast, e.g. from `dev_get_drvdata`).
    pub fn from_obj(o: Obj<DrmBridgeObj>) -> Self {
        DrmBridge(o)
    }

    /// The heap object (the container), for scheduling, reports and driver field stores.
    pub fn obj(self) -> Obj<DrmBridgeObj> {
        self.0
    }
}

/// `DRM_BRIDGE_OP_*`: which connector operations a bridge offers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DrmBridgeOps {
    pub detect: bool,
    pub edid: bool,
    pub hpd: bool,
    pub modes: bool,
    pub hdmi: bool,
    pub hdmi_audio: bool,
    pub dp_audio: bool,
    pub hdmi_cec: bool,
}

/// `struct drm_bridge_funcs`: the callbacks a bridge driver implements. Every default does
/// nothing, as a NULL callback.
pub trait DrmBridgeFuncs: 'static {
    /// `.attach`: link the rest of the chain (typically attach `next_bridge`).
    fn attach(
        &self,
        _k: &Kernel,
        _b: DrmBridge,
        _enc: DrmEncoder,
        _flags: u32,
    ) -> Result<(), Errno> {
        Ok(())
    }
    /// `.detach`.
    fn detach(&self, _k: &Kernel, _b: DrmBridge) {}
    /// `.destroy` (v6.17+): KMS-side teardown at the last put; device resources are gone.
    fn destroy(&self, _k: &Kernel, _b: DrmBridge) {}
    /// `.mode_valid`: whether the (single modelled) mode passes.
    fn mode_valid(&self, _k: &Kernel, _b: DrmBridge) -> bool {
        true
    }
    fn atomic_pre_enable(&self, _k: &Kernel, _b: DrmBridge) {}
    fn atomic_enable(&self, _k: &Kernel, _b: DrmBridge) {}
    fn atomic_disable(&self, _k: &Kernel, _b: DrmBridge) {}
    fn atomic_post_disable(&self, _k: &Kernel, _b: DrmBridge) {}
    /// `.detect` (DRM_BRIDGE_OP_DETECT).
    fn detect(&self, _k: &Kernel, _b: DrmBridge) -> crate::connector::ConnectorStatus {
        crate::connector::ConnectorStatus::Unknown
    }
    /// `.get_modes` (DRM_BRIDGE_OP_MODES); returns the number of modes.
    fn get_modes(&self, _k: &Kernel, _b: DrmBridge) -> u32 {
        0
    }
    /// `.hpd_notify`: the bridge-connector tells every bridge of the chain the new status.
    fn hpd_notify(&self, _k: &Kernel, _b: DrmBridge, _status: crate::connector::ConnectorStatus) {}
    fn hpd_enable(&self, _k: &Kernel, _b: DrmBridge) {}
    fn hpd_disable(&self, _k: &Kernel, _b: DrmBridge) {}
    /// Whether `.atomic_reset` is set: an atomic bridge gets a private object at attach.
    fn is_atomic(&self) -> bool {
        false
    }
}

/// The HPD callback `drm_bridge_hpd_enable` stores (`hpd_cb` with its `hpd_data`).
pub type HpdCb = Rc<dyn Fn(&Kernel, crate::connector::ConnectorStatus)>;

/// Parts of a bridge container that the explorer tells apart ([`kmodel::Field`]), so that
/// accesses to disjoint fields commute as C loads and stores of distinct fields do. The rule
/// that keeps this sound: a write tagged with a part changes only that part's fields; a read
/// tagged with a part reads only that part's fields and `F_CORE` fields (which no tagged write
/// changes, so every write that could change them is a whole-container write, which conflicts
/// with every tagged access). Untagged accesses touch the whole container.
///
/// Every field not in a part below (`name`, `container`, `refcount`, `funcs`, the list
/// members' handles, `of_node`, `ops`...): only ever written by
/// whole-container writes.
pub(crate) const F_CORE: &str = "drm_bridge.core";
/// `encoder`, `dev` and `chain_owner`: set at attach (a whole-container write, with the
/// chain node), cleared at detach.
pub(crate) const F_ATTACH: &str = "drm_bridge.encoder";
/// `published` and `hpd_mutex`: set by `drm_bridge_add`, cleared by `drm_bridge_remove`.
pub(crate) const F_REGISTERED: &str = "drm_bridge.registered";
/// `next_bridge`: a driver's counted reference to its downstream bridge (drivers tag the
/// accesses they make to it alone).
pub const F_NEXT_BRIDGE: &str = "drm_bridge.next_bridge";
/// `priv_obj`: the atomic state object.
pub(crate) const F_PRIV_OBJ: &str = "drm_bridge.priv_obj";
/// `base_locked`: the private object's modeset lock (`base.lock`), held by an acquire context
/// (on its `locked` list) between the lock-all's walk and `drm_modeset_drop_locks`.
pub(crate) const F_PRIV_OBJ_LOCK: &str = "drm_bridge.base.lock";
/// `unplugged`, set once by `drm_bridge_unplug`.
pub(crate) const F_UNPLUGGED: &str = "drm_bridge.unplugged";
/// `hpd_cb`, read by the HPD notify path.
pub(crate) const F_HPD_CB: &str = "drm_bridge.hpd_cb";
/// The driver's private part of the container (its own struct's other fields).
pub(crate) const F_PRIVATE: &str = "drm_bridge.private";
/// The connector embedded in the container (`panel_bridge->connector`): its memory only.
pub(crate) const F_CONNECTOR: &str = "drm_bridge.connector";

/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`: the display controller makes the connector (a
/// drm_bridge_connector); without it, the last bridge of the chain makes its own.
pub const DRM_BRIDGE_ATTACH_NO_CONNECTOR: u32 = 1;

/// A load or store of the memory of the connector embedded in `b`'s container (no model
/// field is read or changed: the connector's state is its own object).
pub(crate) fn drm_bridge_touch_connector(k: &Kernel, b: DrmBridge, write: bool) {
    if write {
        k.write_field(b.0, F_CONNECTOR, |_| ());
    } else {
        k.read_field(b.0, F_CONNECTOR, |_| ());
    }
}

/// `struct drm_bridge` inside its container (§2.2).
///
/// # Invariants
///
/// - `refcount` is `Some` iff `container` is `Some` (made by `devm_drm_bridge_alloc`); a
///   legacy bridge has a zeroed kref, modelled as `None` and treated as count 0.
/// - `list` is on at most one of `bridge_list` / `bridge_lingering_list` (I3); `published`
///   (model shadow) is true iff it is on `bridge_list`.
/// - `dev.is_some()` iff `chain_node` is on an encoder chain (I4); `encoder` may be stale.
/// - `unplugged` is monotonic (I5).
pub struct DrmBridgeObj {
    /// Model name ("sn65dsi83 2-002c"), for owners and reports.
    pub name: String,
    pub(crate) container: Option<Obj<()>>,
    pub(crate) refcount: Option<Kref>,
    pub(crate) funcs: Option<Rc<dyn DrmBridgeFuncs>>,
    list: Option<ListNode>,
    chain_node: Option<ListNode>,
    pub(crate) encoder: Option<DrmEncoder>,
    pub(crate) dev: Option<DrmDevice>,
    /// Borrowed OF node (no reference held).
    pub of_node: Option<NodeId>,
    pub(crate) hpd_mutex: Option<Mutex>,
    pub(crate) unplugged: bool,
    /// v7.0: driver-owned counted reference to the downstream bridge, put by the core at free.
    pub next_bridge: Option<DrmBridge>,
    pub ops: DrmBridgeOps,
    pub pre_enable_prev_first: bool,
    pub(crate) published: bool,
    pub(crate) chain_owner: Option<RefOwner>,
    /// The atomic state object (`base`): `Some(serial of the current state)` between attach
    /// and detach of an atomic bridge; each commit through the bridge installs a new one.
    pub(crate) priv_obj: Option<u32>,
    /// `&bridge->base.head`: the private object's member of the mode config's
    /// `privobj_list` (created with the object).
    base_head: Option<ListNode>,
    /// Whether `base.lock` is held by an acquire context (`lock->head` on its `locked` list).
    pub(crate) base_locked: bool,
    /// The HPD callback, between `drm_bridge_hpd_enable` and `_disable`.
    pub(crate) hpd_cb: Option<HpdCb>,
    /// The driver's private part of the container.
    pub(crate) private: Box<dyn Any>,
}

impl DrmBridgeObj {
    /// `&bridge->list` (created with the object).
    pub(crate) fn list(&self) -> ListNode {
        self.list.expect("list node is created at allocation")
    }

    /// `bridge->encoder` (possibly stale after detach, §5.18).
    pub fn encoder_ptr(&self) -> Option<DrmEncoder> {
        self.encoder
    }

    /// `bridge->dev`: the `drm_device` the bridge is attached to (set by `drm_bridge_attach`,
    /// cleared by detach), as HPD interrupt handlers read it.
    pub fn drm_dev_ptr(&self) -> Option<crate::drv::DrmDevice> {
        self.dev
    }

    /// `&bridge->base.head` (created with the object).
    pub(crate) fn base_head(&self) -> ListNode {
        self.base_head.expect("base.head is created at allocation")
    }

    /// `&bridge->chain_node` (created with the object).
    pub(crate) fn chain_node(&self) -> ListNode {
        self.chain_node
            .expect("chain node is created at allocation")
    }
}

/// The statics of `drm_bridge.c` (§2.1).
#[derive(Copy, Clone)]
pub(crate) struct BridgeGlobals {
    pub bridge_lock: Mutex,
    pub bridge_list: ListHead,
    pub bridge_lingering_list: ListHead,
    pub unplug_srcu: Srcu,
}

pub(crate) fn globals(k: &Kernel) -> BridgeGlobals {
    k.global(|k| BridgeGlobals {
        bridge_lock: k.mutex_init("bridge_lock"),
        bridge_list: k.list_head_init("bridge_list"),
        bridge_lingering_list: k.list_head_init("bridge_lingering_list"),
        unplug_srcu: k.init_srcu_struct("drm_bridge_unplug_srcu"),
    })
}

fn new_bridge_obj<P: 'static>(
    k: &Kernel,
    ty: &'static str,
    name: &str,
    funcs: Option<Rc<dyn DrmBridgeFuncs>>,
    private: P,
) -> Obj<DrmBridgeObj> {
    let obj = k.kzalloc(
        ty,
        name,
        DrmBridgeObj {
            name: name.to_string(),
            container: None,
            refcount: None,
            funcs,
            list: None,
            chain_node: None,
            encoder: None,
            dev: None,
            of_node: None,
            hpd_mutex: None,
            unplugged: false,
            next_bridge: None,
            ops: DrmBridgeOps::default(),
            pre_enable_prev_first: false,
            published: false,
            chain_owner: None,
            priv_obj: None,
            base_head: None,
            base_locked: false,
            hpd_cb: None,
            private: Box::new(private),
        },
    );
    let list = k.list_node(obj);
    let chain_node = k.list_node(obj);
    let base_head = k.list_node(obj);
    k.write(obj, |b| {
        b.list = Some(list);
        b.chain_node = Some(chain_node);
        b.base_head = Some(base_head);
    });
    obj
}

/// `devm_drm_bridge_alloc(dev, type, bridge, funcs)`: a zeroed container holding `private`,
/// refcount 1 owned by `dev`'s devres (a `drm_bridge_put` action). `ty` is the container's C
/// type ("struct sn65dsi83"). Fails with `-EINVAL` without funcs; if the devres action cannot
/// be registered it runs at once (the bridge is freed, `.destroy` included) (§2.3).
pub fn devm_drm_bridge_alloc<P: 'static>(
    k: &Kernel,
    dev: DeviceId,
    ty: &'static str,
    name: &str,
    funcs: Option<Rc<dyn DrmBridgeFuncs>>,
    private: P,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("devm_drm_bridge_alloc");
    if funcs.is_none() {
        k.model_event(None, format!("{}: missing funcs pointer", k.dev_name(dev)));
        return Err(Errno::EINVAL);
    }
    let obj = new_bridge_obj(k, ty, name, funcs, private);
    let owner = RefOwner::devres(k, dev);
    let r = k.kref_init(obj.id(), owner.clone());
    k.write(obj, |b| {
        b.container = Some(obj.erase());
        b.refcount = Some(r);
    });
    let b = DrmBridge(obj);
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:__devm_drm_bridge_alloc
    if rules(k).lingering_list {
        let n = k.read_field(obj, F_CORE, |x| x.list());
        k.init_list_head(obj, n);
    }
    k.devm_add_action_or_reset(dev, "drm_bridge_put_void", obj.id().0 as u64, move |k| {
        drm_bridge_put(k, b, owner)
    })?;
    k.model_event(Some(obj.id()), "devm_drm_bridge_alloc");
    Ok(b)
}

/// Not an upstream function: the pre-v6.16 pattern, a container `devm_kzalloc`ed by the
/// driver with `bridge->funcs` set by hand. No container, a zeroed kref (count 0), memory
/// freed by devres at unbind (§5.1, §5.2).
pub fn devm_drm_bridge_alloc_legacy<P: 'static>(
    k: &Kernel,
    dev: DeviceId,
    ty: &'static str,
    name: &str,
    funcs: Rc<dyn DrmBridgeFuncs>,
    private: P,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("devm_kzalloc");
    let obj = new_bridge_obj(k, ty, name, Some(funcs), private);
    k.devm_add_action_or_reset(dev, "devm_kfree", obj.id().0 as u64, move |k| k.kfree(obj))?;
    Ok(DrmBridge(obj))
}

/// Not an upstream function: the pattern of i.MX parallel-display up to v6.17
/// (v6.17:drivers/gpu/drm/imx/ipuv3/parallel-display.c:imx_pd_bind), whose bridge is a member
/// of the struct `drmm_simple_encoder_alloc` allocates with the encoder, its `funcs` set by
/// hand: no container, a zeroed kref (count 0), never added. The memory goes at the card's
/// release, after the encoder's cleanup has detached the bridge (drmm runs its actions newest
/// first, and the encoder's cleanup action is registered after the allocation). The model
/// keeps the encoder and the bridge as two objects freed by that one release.
pub fn drmm_simple_encoder_alloc_with_bridge<P: 'static>(
    k: &Kernel,
    drm: DrmDevice,
    ty: &'static str,
    name: &str,
    funcs: Option<Rc<dyn DrmBridgeFuncs>>,
    private: P,
) -> Result<(DrmEncoder, DrmBridge), Errno> {
    let _f = k.func("drmm_simple_encoder_alloc");
    let obj = new_bridge_obj(k, ty, name, funcs, private);
    crate::managed::drmm_add_action(k, drm, "drmm_kfree", obj.id().0 as u64, move |k| {
        k.kfree(obj)
    })?;
    let enc = crate::encoder::drmm_encoder_alloc(k, drm, name)?;
    Ok((enc, DrmBridge(obj)))
}

/// `bridge->ops`: a load of one field, which only the allocation's whole-container writes set
/// (`F_CORE`), as the C tests it (v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_hpd_disable,
/// v7.0:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_get_modes on its next bridge).
pub fn drm_bridge_ops(k: &Kernel, b: DrmBridge) -> DrmBridgeOps {
    k.read_field(b.0, F_CORE, |x| x.ops)
}

/// `bridge->encoder`: a load of the attach fields (`F_ATTACH`), possibly stale after detach.
pub fn drm_bridge_encoder_ptr(k: &Kernel, b: DrmBridge) -> Option<DrmEncoder> {
    k.read_field(b.0, F_ATTACH, |x| x.encoder)
}

/// `bridge->dev`: a load of the attach fields (`F_ATTACH`), as a driver's HPD path or
/// `.attach` reads it (v7.0:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_attach).
pub fn drm_bridge_dev_ptr(k: &Kernel, b: DrmBridge) -> Option<DrmDevice> {
    k.read_field(b.0, F_ATTACH, |x| x.dev)
}

/// Not an upstream function: the driver's `bridge->funcs = &funcs;` by hand, on a bridge it
/// did not allocate with `devm_drm_bridge_alloc` (the embedded bridge of
/// [`drmm_simple_encoder_alloc_with_bridge`],
/// v6.17:drivers/gpu/drm/imx/ipuv3/parallel-display.c:imx_pd_bind). A write of the bridge.
pub fn drm_bridge_set_funcs(k: &Kernel, b: DrmBridge, funcs: Rc<dyn DrmBridgeFuncs>) {
    k.write(b.0, |x| x.funcs = Some(funcs));
}

/// `container_of`: read the driver's private part of the container.
pub fn drm_bridge_priv<P: 'static, R>(k: &Kernel, b: DrmBridge, f: impl FnOnce(&P) -> R) -> R {
    k.read_field(b.0, F_PRIVATE, |x| {
        f(x.private
            .downcast_ref::<P>()
            .expect("bridge container of another type"))
    })
}

/// `container_of`: write the driver's private part of the container.
pub fn drm_bridge_priv_mut<P: 'static, R>(
    k: &Kernel,
    b: DrmBridge,
    f: impl FnOnce(&mut P) -> R,
) -> R {
    k.write_field(b.0, F_PRIVATE, |x| {
        f(x.private
            .downcast_mut::<P>()
            .expect("bridge container of another type"))
    })
}

/// Whether the container's private part is a `P` (a `funcs` pointer comparison). Reads it.
pub fn drm_bridge_is<P: 'static>(k: &Kernel, b: DrmBridge) -> bool {
    k.read_field(b.0, F_PRIVATE, |x| x.private.is::<P>())
}

/// The bridge's refcount now (0 for a legacy bridge). Model introspection for tests.
pub fn drm_bridge_refcount(k: &Kernel, b: DrmBridge) -> u32 {
    k.peek(b.0, |x| x.refcount)
        .map(|r| k.kref_peek(r))
        .unwrap_or(0)
}

/// The owners of the bridge's references now. Model introspection for tests.
pub fn drm_bridge_owners(k: &Kernel, b: DrmBridge) -> Vec<(String, u32)> {
    k.peek(b.0, |x| x.refcount)
        .map(|r| k.kref_owners(r))
        .unwrap_or_default()
}

/// The bridge's name (model introspection, no scheduling point).
pub fn drm_bridge_name(k: &Kernel, b: DrmBridge) -> String {
    k.peek(b.0, |x| x.name.clone())
}

/// `drm_bridge_get`: NULL-safe; +1 for `owner`. The caller must already own a reference or
/// hold `bridge_lock` with the bridge published (I1). On a legacy (zeroed) kref this is the
/// "refcount_t: addition on 0" of §5.2.
pub fn drm_bridge_get(
    k: &Kernel,
    b: Option<DrmBridge>,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    let _f = k.func("drm_bridge_get");
    let b = b?;
    match k.read_field(b.0, F_CORE, |x| x.refcount) {
        Some(r) => k.kref_get(r, owner),
        None => k.violation(
            ViolationKind::RefcountAddOnZero,
            Some(b.0.id()),
            Some(kmodel::AccessKind::RefGet),
            "refcount_t: addition on 0; use-after-free.".into(),
        ),
    }
    Some(b)
}

/// What `drm_bridge_put` may be given: NULL, an `ERR_PTR`, or a bridge.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BridgePtr {
    Null,
    Err(Errno),
    Bridge(DrmBridge),
}

impl From<DrmBridge> for BridgePtr {
    fn from(b: DrmBridge) -> Self {
        BridgePtr::Bridge(b)
    }
}

impl From<Option<DrmBridge>> for BridgePtr {
    fn from(b: Option<DrmBridge>) -> Self {
        b.map_or(BridgePtr::Null, BridgePtr::Bridge)
    }
}

impl From<Result<DrmBridge, Errno>> for BridgePtr {
    fn from(b: Result<DrmBridge, Errno>) -> Self {
        match b {
            Ok(b) => BridgePtr::Bridge(b),
            Err(e) => BridgePtr::Err(e),
        }
    }
}

/// `drm_bridge_put`: ignores NULL, and `ERR_PTR` from v7.2 (`put_ignores_err_ptr`; before,
/// it is an invalid dereference, reported as a WARN-level oops). The last put runs
/// `__drm_bridge_free` in this thread.
pub fn drm_bridge_put(k: &Kernel, b: impl Into<BridgePtr>, owner: impl Into<Owner>) {
    let _f = k.func("drm_bridge_put");
    let b = match b.into() {
        BridgePtr::Null => return,
        BridgePtr::Err(e) => {
            // cite: commit 55bb2b137b6d; v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_put
            if !rules(k).put_ignores_err_ptr {
                k.warn(format!(
                    "BUG: unable to handle page fault: drm_bridge_put(ERR_PTR({e}))"
                ));
            }
            return;
        }
        BridgePtr::Bridge(b) => b,
    };
    match k.read_field(b.0, F_CORE, |x| x.refcount) {
        Some(r) => {
            k.kref_put(r, owner, move |k| __drm_bridge_free(k, b));
        }
        None => k.violation(
            ViolationKind::RefcountUnderflow,
            Some(b.0.id()),
            Some(kmodel::AccessKind::RefPut),
            "refcount_t: underflow; use-after-free.".into(),
        ),
    }
}

/// `__drm_bridge_free`, in its documented order (§2.3): unlink from the lingering list under
/// `bridge_lock`, `.destroy`, put `next_bridge`, free the container.
fn __drm_bridge_free(k: &Kernel, b: DrmBridge) {
    let _f = k.func("__drm_bridge_free");
    let r = rules(k);
    let (list, funcs, name) =
        k.read_field(b.0, F_CORE, |x| (x.list(), x.funcs.clone(), x.name.clone()));
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free
    if r.lingering_list {
        let g = globals(k);
        k.mutex_lock(g.bridge_lock);
        k.list_del(list);
        k.mutex_unlock(g.bridge_lock);
    }
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free
    if r.destroy_hook {
        if let Some(f) = funcs {
            f.destroy(k, b);
        }
    }
    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free
    if r.next_bridge_field {
        let next = k.read_field(b.0, F_NEXT_BRIDGE, |x| x.next_bridge);
        drm_bridge_put(k, next, RefOwner::NextBridge(name.clone()));
    }
    let container = k.read_field(b.0, F_CORE, |x| x.container);
    k.model_event(Some(b.0.id()), "__drm_bridge_free");
    match container {
        Some(c) => k.kfree(c),
        None => k.kfree(b.0),
    }
}

/// `drm_bridge_clear_and_put(&holder->field)` (v7.1): store NULL first, then put the old
/// value, closing the put-then-clear window (§5.9).
pub fn drm_bridge_clear_and_put<T: 'static>(
    k: &Kernel,
    holder: Obj<T>,
    field: impl FnOnce(&mut T) -> &mut Option<DrmBridge>,
    owner: impl Into<Owner>,
) {
    let _f = k.func("drm_bridge_clear_and_put");
    let old = k.write(holder, |h| field(h).take());
    drm_bridge_put(k, old, owner);
}

/// `drm_bridge_clear_and_put(&bridge->next_bridge)` (v7.1): the same on the core's
/// `next_bridge` field, whose store touches that field alone (`F_NEXT_BRIDGE`).
pub fn drm_bridge_clear_and_put_next_bridge(k: &Kernel, b: DrmBridge, owner: impl Into<Owner>) {
    let _f = k.func("drm_bridge_clear_and_put");
    let old = k.write_field(b.0, F_NEXT_BRIDGE, |x| x.next_bridge.take());
    drm_bridge_put(k, old, owner);
}

/// `devm_drm_put_bridge(dev, bridge)` (v6.17): run `dev`'s allocation-put action now (WARNs
/// via devres when there is none). A documented workaround; only drm_panel_bridge_remove uses
/// it.
pub fn devm_drm_put_bridge(k: &Kernel, dev: DeviceId, b: DrmBridge) {
    let _f = k.func("devm_drm_put_bridge");
    k.devm_release_action(dev, "drm_bridge_put_void", b.0.id().0 as u64);
}

/// `drm_bridge_add`: +1 [`RefOwner::Published`] (v6.17+), unlink from the lingering list if re-added
/// (v6.19+, without `bridge_lock` as posted, §5.4), init `hpd_mutex`, append to `bridge_list`.
pub fn drm_bridge_add(k: &Kernel, b: DrmBridge) {
    let _f = k.func("drm_bridge_add");
    let r = rules(k);
    let (container, list) = k.read_field(b.0, F_CORE, |x| (x.container, x.list()));
    // A DRM_WARN log line, not a WARN() splat (upstream.md §0.0).
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_add; v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_add
    if r.warn_no_container_on_add && container.is_none() {
        drm_warn_log(k, b, NOT_DEVM_ALLOCATED);
    }
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_add
    if r.add_remove_ref {
        drm_bridge_get(k, Some(b), RefOwner::Published);
    }
    // Unlocked, as in the sources (§5.4).
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_add
    if r.lingering_list && !k.list_node_empty(b.0, list) {
        // Without bridge_lock: a concurrent change of the lingering list races it
        // (upstream.md §5.4).
        // cite: v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_add
        k.list_del_init_unlocked(list);
    }
    let m = k.mutex_init("&bridge->hpd_mutex");
    k.write_field(b.0, F_REGISTERED, |x| {
        x.hpd_mutex = Some(m);
        x.published = true;
    });
    let g = globals(k);
    k.mutex_lock(g.bridge_lock);
    k.list_add_tail(list, g.bridge_list);
    k.mutex_unlock(g.bridge_lock);
    k.model_event(Some(b.0.id()), "drm_bridge_add");
}

/// `devm_drm_bridge_add`: add, plus a devres action on `dev` that removes at unbind.
pub fn devm_drm_bridge_add(k: &Kernel, dev: DeviceId, b: DrmBridge) -> Result<(), Errno> {
    let _f = k.func("devm_drm_bridge_add");
    drm_bridge_add(k, b);
    k.devm_add_action_or_reset(dev, "drm_bridge_remove_void", b.0.id().0 as u64, move |k| {
        drm_bridge_remove(k, b)
    })
}

/// `drm_bridge_remove`: under `bridge_lock` move to the lingering list (v6.19+) or unlink,
/// destroy `hpd_mutex`, −1 [`RefOwner::Published`] (v6.17+). A remove of a bridge that is not published
/// is reported (model WARN) and then proceeds as upstream.
pub fn drm_bridge_remove(k: &Kernel, b: DrmBridge) {
    let _f = k.func("drm_bridge_remove");
    let r = rules(k);
    // Notify before the remove (upstream.md §6.7), so the hotplug-bridge detaches the tail.
    // cite: series Add support for hot-pluggable DRM bridges v4
    if r.hotplug_bridge {
        hotplug_bridge_remove_notify(k, b);
    }
    let g = globals(k);
    k.mutex_lock(g.bridge_lock);
    let (list, published, name) = k.read_field(b.0, F_REGISTERED, |x| {
        (x.list(), x.published, x.name.clone())
    });
    if !published {
        // Not in the sources: a model note (no WARN); a double remove shows as its put.
        k.model_event(
            Some(b.0.id()),
            format!("drm_bridge_remove: {name} is not published (double remove?)"),
        );
    }
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove; v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove
    if r.lingering_list {
        k.list_move_tail(list, g.bridge_lingering_list);
    } else {
        k.list_del_init(list);
    }
    k.write_field(b.0, F_REGISTERED, |x| {
        x.published = false;
        x.hpd_mutex = None;
    });
    k.mutex_unlock(g.bridge_lock);
    k.model_event(Some(b.0.id()), "drm_bridge_remove");
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove
    if r.add_remove_ref {
        drm_bridge_put(k, b, RefOwner::Published);
    }
}

/// The hotplug-bridge's handler of a REMOVE event (superseded switch `hotplug_bridge`): if `b`
/// is attached behind another bridge (the hotplug-bridge is itself a bridge of the chain, so it
/// never precedes the encoder's first one), detach the chain from `b` to its end
/// (`drm_encoder_cleanup_from`). Each detach puts the chain's reference while other threads
/// may still walk the chain: failure modes 5.5 and 5.6.
fn hotplug_bridge_remove_notify(k: &Kernel, b: DrmBridge) {
    let _f = k.func("hotplug_bridge_notify");
    let (enc, dev) = k.read_field(b.0, F_ATTACH, |x| (x.encoder, x.dev));
    if let (Some(enc), Some(_)) = (enc, dev) {
        let (head, _) = chain_of(k, enc);
        let first = k.list_first(head).map(|n| k.list_node_owner(n));
        if first != Some(b.0.id()) {
            crate::encoder::drm_encoder_cleanup_from(k, enc, b);
        }
    }
}

/// `drm_bridge_unplug` (v7.0): set `unplugged`, wait for every open enter/exit section of
/// any bridge, then `drm_bridge_remove` (it replaces remove; §2.3). With the
/// `disable_pipeline_on_unplug` proposal, the chain through the bridge's encoder is disabled
/// first, before the flag (§6.14).
///
/// Hardware: unplug does not touch device resources; they are revoked by devres at unbind
/// (or marked gone by `hw_mark_gone`). A driver that touches them outside a successful
/// `drm_bridge_enter` after this returns is what "hardware access after unplug" reports.
pub fn drm_bridge_unplug(k: &Kernel, b: DrmBridge) {
    let _f = k.func("drm_bridge_unplug");
    // cite: series disable the pipeline on unplug (roadmap item 2, no patch yet)
    if rules(k).disable_pipeline_on_unplug {
        let (enc, dev) = k.read_field(b.0, F_ATTACH, |x| (x.encoder, x.dev));
        if let (Some(enc), Some(_)) = (enc, dev) {
            crate::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
        }
    }
    k.write_field(b.0, F_UNPLUGGED, |x| x.unplugged = true);
    k.synchronize_srcu(globals(k).unplug_srcu);
    k.model_event(Some(b.0.id()), "drm_bridge_unplug");
    drm_bridge_remove(k, b);
}

/// `drm_bridge_enter` (v7.0): `Some(idx)` with the SRCU read lock held, or `None` once the
/// bridge is unplugged. Says nothing about memory: the caller must own a reference.
pub fn drm_bridge_enter(k: &Kernel, b: DrmBridge) -> Option<SrcuIdx> {
    let _f = k.func("drm_bridge_enter");
    let s = globals(k).unplug_srcu;
    let idx = k.srcu_read_lock(s);
    if k.read_field(b.0, F_UNPLUGGED, |x| x.unplugged) {
        k.srcu_read_unlock(s, idx);
        return None;
    }
    Some(idx)
}

/// `drm_bridge_exit`.
pub fn drm_bridge_exit(k: &Kernel, idx: SrcuIdx) {
    let _f = k.func("drm_bridge_exit");
    k.srcu_read_unlock(globals(k).unplug_srcu, idx);
}

/// The log line add and attach print for a bridge without a container.
const NOT_DEVM_ALLOCATED: &str = "DRM bridge corrupted or not allocated by devm_drm_bridge_alloc()";

/// `DRM_WARN(...)` about `b`: a kernel log line, recorded as a model event. Not a WARN()
/// splat, so not a violation (upstream.md §0.0).
pub(crate) fn drm_warn_log(k: &Kernel, b: DrmBridge, msg: &str) {
    let name = k.peek(b.0, |x| x.name.clone());
    k.model_event(Some(b.0.id()), format!("DRM_WARN: {msg} ({name})"));
}

fn chain_owner(k: &Kernel, enc: DrmEncoder) -> RefOwner {
    RefOwner::Chain(k.read(enc.0, |e| e.name.clone()))
}

/// Link `node` after `previous` (or at the head) of `head`. The model's lists only append,
/// so an insertion before existing entries appends and then moves the later entries behind
/// it (the same final order; every step is on the chain head).
fn chain_insert(k: &Kernel, head: ListHead, node: ListNode, previous: Option<DrmBridge>) {
    let entries = k.list_entries(head);
    let after = match previous {
        None => 0,
        Some(p) => entries
            .iter()
            .position(|&id| id == p.0.id())
            .map_or(entries.len(), |i| i + 1),
    };
    k.list_add_tail(node, head);
    for &id in &entries[after..] {
        let n = k.read_field(chain_entry(k, id).0, F_CORE, |x| x.chain_node());
        k.list_move_tail(n, head);
    }
}

/// `drm_bridge_attach(encoder, bridge, previous, flags)`: +1 `"chain of <encoder>"`
/// (v6.17+), link after `previous` (under `bridge_chain_mutex` from v7.2), `.attach`, and
/// the private object of an atomic bridge. Every error path is refcount-neutral (§2.3).
pub fn drm_bridge_attach(
    k: &Kernel,
    encoder: Option<DrmEncoder>,
    bridge: Option<DrmBridge>,
    previous: Option<DrmBridge>,
    flags: u32,
) -> Result<(), Errno> {
    let _f = k.func("drm_bridge_attach");
    let (Some(encoder), Some(bridge)) = (encoder, bridge) else {
        return Err(Errno::EINVAL);
    };
    let r = rules(k);
    let (container, list, name, funcs) = k.read_field(bridge.0, F_CORE, |x| {
        (x.container, x.list(), x.name.clone(), x.funcs.clone())
    });
    // DRM_WARN log lines, not WARN() splats (upstream.md §0.0).
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach
    if r.warn_no_container_on_attach && container.is_none() {
        drm_warn_log(k, bridge, NOT_DEVM_ALLOCATED);
    }
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach
    if r.warn_attach_without_add && k.list_node_empty(bridge.0, list) {
        drm_warn_log(k, bridge, "Missing drm_bridge_add() before attach");
    }
    let owner = chain_owner(k, encoder);
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach
    if r.attach_detach_ref {
        drm_bridge_get(k, Some(bridge), owner.clone());
    }
    let fail = |e: Errno| {
        // cite: v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach
        if r.attach_detach_ref {
            drm_bridge_put(k, bridge, owner.clone());
        }
        Err(e)
    };
    if let Some(p) = previous {
        let (pdev, penc) = k.read_field(p.0, F_ATTACH, |x| (x.dev, x.encoder));
        if pdev.is_none() || penc != Some(encoder) {
            return fail(Errno::EINVAL);
        }
    }
    if k.read_field(bridge.0, F_ATTACH, |x| x.dev).is_some() {
        return fail(Errno::EBUSY);
    }
    let (drm, head, m) = k.read(encoder.0, |e| (e.dev, e.bridge_chain, e.bridge_chain_mutex));
    let node = k.write(bridge.0, |x| {
        x.dev = Some(drm);
        x.encoder = Some(encoder);
        x.chain_owner = Some(owner.clone());
        x.chain_node()
    });
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    if r.chain_mutex {
        k.mutex_lock(m);
    }
    chain_insert(k, head, node, previous);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    if r.chain_mutex {
        k.mutex_unlock(m);
    }
    let res = match &funcs {
        Some(f) => f.attach(k, bridge, encoder, flags),
        None => Ok(()),
    };
    if let Err(e) = res {
        // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
        if r.chain_mutex {
            k.mutex_lock(m);
        }
        k.write_field(bridge.0, F_ATTACH, |x| {
            x.dev = None;
            x.encoder = None;
            x.chain_owner = None;
        });
        k.list_del(node);
        // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
        if r.chain_mutex {
            k.mutex_unlock(m);
        }
        k.model_event(
            Some(bridge.0.id()),
            format!("failed to attach bridge {name}: {e}"),
        );
        return fail(e);
    }
    if funcs.as_ref().is_some_and(|f| f.is_atomic()) {
        crate::atomic::drm_atomic_private_obj_init(k, drm, bridge);
    }
    k.model_event(Some(bridge.0.id()), "drm_bridge_attach");
    Ok(())
}

/// `drm_bridge_detach` (internal; encoder cleanup calls it): WARN if not attached; private
/// object fini, `.detach`, unlink, `dev = NULL` (`encoder` stays stale, §5.18), −1 chain.
pub fn drm_bridge_detach(k: &Kernel, bridge: Option<DrmBridge>) {
    let _f = k.func("drm_bridge_detach");
    let Some(bridge) = bridge else {
        k.warn("drm_bridge_detach(NULL)");
        return;
    };
    let (dev, funcs, node, owner, name) = k.read_field(bridge.0, F_ATTACH, |x| {
        (
            x.dev,
            x.funcs.clone(),
            x.chain_node(),
            x.chain_owner.clone(),
            x.name.clone(),
        )
    });
    if dev.is_none() {
        k.warn(format!("drm_bridge_detach: {name} is not attached"));
        return;
    }
    // An atomic bridge: unlink `base` from the mode config's privobj list.
    if k.read_field(bridge.0, F_PRIV_OBJ, |x| x.priv_obj.is_some()) {
        crate::atomic::drm_atomic_private_obj_fini(k, dev.expect("checked above"), bridge);
    }
    if let Some(f) = funcs {
        f.detach(k, bridge);
    }
    k.list_del(node);
    k.write_field(bridge.0, F_ATTACH, |x| {
        x.dev = None;
        x.chain_owner = None;
    });
    k.model_event(Some(bridge.0.id()), "drm_bridge_detach");
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_detach
    if rules(k).attach_detach_ref {
        drm_bridge_put(k, bridge, owner.map(Owner::from).unwrap_or_default());
    }
}

/// `of_drm_find_and_get_bridge(np)` (v7.0): under `bridge_lock`, the published bridge whose
/// `of_node` is `np`, +1 for `owner` taken inside the lock.
pub fn of_drm_find_and_get_bridge(
    k: &Kernel,
    np: NodeId,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    let _f = k.func("of_drm_find_and_get_bridge");
    let g = globals(k);
    k.mutex_lock(g.bridge_lock);
    let found = find_published(k, np);
    let found = found.and_then(|b| drm_bridge_get(k, Some(b), owner));
    k.mutex_unlock(g.bridge_lock);
    found
}

fn find_published(k: &Kernel, np: NodeId) -> Option<DrmBridge> {
    let g = globals(k);
    k.list_entries(g.bridge_list)
        .into_iter()
        .map(|id| DrmBridge(k.heap_handle::<DrmBridgeObj>(id)))
        .find(|b| k.read_field(b.0, F_CORE, |x| x.of_node) == Some(np))
}

/// `of_drm_find_bridge(np)` (deprecated in v7.0): a **borrowed** pointer. From v7.0 it is
/// find-and-get followed by an immediate put.
pub fn of_drm_find_bridge(k: &Kernel, np: NodeId) -> Option<DrmBridge> {
    let _f = k.func("of_drm_find_bridge");
    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_bridge; v6.19:drivers/gpu/drm/drm_bridge.c:of_drm_find_bridge
    if rules(k).of_find_and_get {
        const OWNER: RefOwner = RefOwner::Local("of_drm_find_bridge");
        let b = of_drm_find_and_get_bridge(k, np, OWNER);
        drm_bridge_put(k, b, OWNER);
        b
    } else {
        let g = globals(k);
        k.mutex_lock(g.bridge_lock);
        let b = find_published(k, np);
        k.mutex_unlock(g.bridge_lock);
        b
    }
}

/// `of_drm_get_bridge_by_endpoint(np, port, endpoint)` (v7.2), with the graph already
/// resolved: `remote` is the endpoint's remote device node (`None`: no graph or no remote).
/// `-ENODEV`, `-EPROBE_DEFER` when no published bridge matches, else +1 for `owner`.
pub fn of_drm_get_bridge_by_endpoint(
    k: &Kernel,
    remote: Option<NodeId>,
    owner: impl Into<Owner>,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("of_drm_get_bridge_by_endpoint");
    let np = remote.ok_or(Errno::ENODEV)?;
    of_drm_find_and_get_bridge(k, np, owner).ok_or(Errno::EPROBE_DEFER)
}

fn chain_of(k: &Kernel, enc: DrmEncoder) -> (ListHead, Mutex) {
    k.read(enc.0, |e| (e.bridge_chain, e.bridge_chain_mutex))
}

fn counted(
    k: &Kernel,
    b: Option<DrmBridge>,
    counts: bool,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    if counts {
        drm_bridge_get(k, b, owner)
    } else {
        b
    }
}

/// `drm_bridge_chain_get_first_bridge(encoder)`: +1 for `owner` from v6.18.
pub fn drm_bridge_chain_get_first_bridge(
    k: &Kernel,
    enc: DrmEncoder,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    let _f = k.func("drm_bridge_chain_get_first_bridge");
    let (head, _) = chain_of(k, enc);
    let first = k
        .list_first(head)
        .map(|n| chain_entry(k, k.list_node_owner(n)));
    // cite: v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_first_bridge
    counted(k, first, rules(k).first_bridge_counted, owner)
}

/// `drm_bridge_chain_get_last_bridge(encoder)` (v6.18): +1 for `owner`. Before v6.18 the
/// function does not exist; the model then returns a borrowed pointer.
pub fn drm_bridge_chain_get_last_bridge(
    k: &Kernel,
    enc: DrmEncoder,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    let _f = k.func("drm_bridge_chain_get_last_bridge");
    let (head, _) = chain_of(k, enc);
    let last = k.list_entries(head).last().map(|&id| chain_entry(k, id));
    // cite: v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_last_bridge
    counted(k, last, rules(k).last_bridge_counted, owner)
}

/// `drm_bridge_get_next_bridge(bridge)`: +1 for `owner` from v6.19; `bridge` keeps its count.
/// Reads `bridge->encoder`, which is stale after detach (§5.18).
pub fn drm_bridge_get_next_bridge(
    k: &Kernel,
    b: DrmBridge,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    let _f = k.func("drm_bridge_get_next_bridge");
    let next = next_in_chain(k, b);
    // cite: v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge; v6.18:include/drm/drm_bridge.h:drm_bridge_get_next_bridge
    counted(k, next, rules(k).next_bridge_counted, owner)
}

fn next_in_chain(k: &Kernel, b: DrmBridge) -> Option<DrmBridge> {
    let (enc, node) = k.read_field(b.0, F_ATTACH, |x| (x.encoder, x.chain_node()));
    let (head, _) = chain_of(k, enc?);
    k.list_next(head, b.0, node)
        .map(|n| chain_entry(k, k.list_node_owner(n)))
}

/// `drm_bridge_get_prev_bridge(bridge)`: +1 for `owner` from v6.18.
pub fn drm_bridge_get_prev_bridge(
    k: &Kernel,
    b: DrmBridge,
    owner: impl Into<Owner>,
) -> Option<DrmBridge> {
    let _f = k.func("drm_bridge_get_prev_bridge");
    let enc = k.read_field(b.0, F_ATTACH, |x| x.encoder);
    let (head, _) = chain_of(k, enc?);
    let entries = k.list_entries(head);
    let i = entries.iter().position(|&id| id == b.0.id())?;
    let prev = if i == 0 {
        None
    } else {
        Some(chain_entry(k, entries[i - 1]))
    };
    // cite: v6.18:include/drm/drm_bridge.h:drm_bridge_get_prev_bridge
    counted(k, prev, rules(k).prev_bridge_counted, owner)
}

/// `drm_bridge_is_last(bridge)`: no reference change.
pub fn drm_bridge_is_last(k: &Kernel, b: DrmBridge) -> bool {
    let _f = k.func("drm_bridge_is_last");
    let Some(enc) = k.read_field(b.0, F_ATTACH, |x| x.encoder) else {
        return false;
    };
    let (head, _) = chain_of(k, enc);
    k.list_entries(head).last() == Some(&b.0.id())
}

/// `drm_for_each_bridge_in_chain_scoped(encoder, bridge)` (v6.19): `f` runs on each bridge
/// with a cursor reference ([`RefOwner::ScopedCursor`]) held; a step gets the next bridge, then puts
/// the current one; `Break` puts the cursor. v7.2 holds `bridge_chain_mutex` for the whole
/// loop. Without `scoped_iteration` this is the old unreferenced
/// `drm_for_each_bridge_in_chain` (§5.5). A closure, not a guard: model operations never run
/// in `Drop`.
pub fn drm_for_each_bridge_in_chain_scoped<R>(
    k: &Kernel,
    enc: DrmEncoder,
    f: impl FnMut(DrmBridge) -> ControlFlow<R>,
) -> Option<R> {
    let _f = k.func("drm_for_each_bridge_in_chain_scoped");
    let r = rules(k);
    let (head, m) = chain_of(k, enc);
    // cite: v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_first_bridge; v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge_and_put
    if !r.scoped_iteration {
        let first = k
            .list_first(head)
            .map(|n| chain_entry(k, k.list_node_owner(n)));
        return unreferenced_walk(k, head, first, f);
    }
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let m = r.chain_mutex.then_some(m);
    if let Some(m) = m {
        k.mutex_lock(m);
    }
    let first = k
        .list_first(head)
        .map(|n| chain_entry(k, k.list_node_owner(n)));
    let first = drm_bridge_get(k, first, RefOwner::ScopedCursor);
    match first {
        None => {
            if let Some(m) = m {
                k.mutex_unlock(m);
            }
            None
        }
        Some(b) => scoped_walk(k, b, m, f),
    }
}

/// `drm_for_each_bridge_in_chain_from(first, bridge)` (v6.19): as the scoped loop, starting
/// at `first` (the caller holds a reference to it); v7.2 gets `first`, then locks.
pub fn drm_for_each_bridge_in_chain_from<R>(
    k: &Kernel,
    first: DrmBridge,
    f: impl FnMut(DrmBridge) -> ControlFlow<R>,
) -> Option<R> {
    let _f = k.func("drm_for_each_bridge_in_chain_from");
    let r = rules(k);
    let enc = k.read_field(first.0, F_ATTACH, |x| x.encoder);
    let enc = enc?;
    let (head, m) = chain_of(k, enc);
    // cite: v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge_and_put
    if !r.scoped_iteration {
        return unreferenced_walk(k, head, Some(first), f);
    }
    drm_bridge_get(k, Some(first), RefOwner::ScopedCursor);
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let m = r.chain_mutex.then_some(m);
    if let Some(m) = m {
        k.mutex_lock(m);
    }
    scoped_walk(k, first, m, f)
}

fn scoped_walk<R>(
    k: &Kernel,
    first: DrmBridge,
    m: Option<Mutex>,
    mut f: impl FnMut(DrmBridge) -> ControlFlow<R>,
) -> Option<R> {
    let mut cur = first;
    loop {
        if let ControlFlow::Break(v) = f(cur) {
            if let Some(m) = m {
                k.mutex_unlock(m);
            }
            drm_bridge_put(k, cur, RefOwner::ScopedCursor);
            return Some(v);
        }
        let next = next_in_chain(k, cur);
        let next = drm_bridge_get(k, next, RefOwner::ScopedCursor);
        if next.is_none() {
            // The natural end: v7.2 unlocks the chain before the last put (upstream.md §0.0).
            if let Some(m) = m {
                k.mutex_unlock(m);
            }
        }
        drm_bridge_put(k, cur, RefOwner::ScopedCursor);
        match next {
            Some(n) => cur = n,
            None => return None,
        }
    }
}

/// `list_for_each_entry` from `first`: no references; the next pointer is read from the
/// current entry's memory after the body ran (§5.5).
fn unreferenced_walk<R>(
    k: &Kernel,
    head: ListHead,
    first: Option<DrmBridge>,
    mut f: impl FnMut(DrmBridge) -> ControlFlow<R>,
) -> Option<R> {
    let mut cur = first;
    while let Some(b) = cur {
        if let ControlFlow::Break(v) = f(b) {
            return Some(v);
        }
        let node = k.read_field(b.0, F_CORE, |x| x.chain_node());
        cur = k
            .list_next(head, b.0, node)
            .map(|n| chain_entry(k, k.list_node_owner(n)));
    }
    None
}

/// Read the bridge's callbacks (a dereference of the bridge: a use-after-free if it was
/// freed) and run `f` on them. With the `core_enter_exit` proposal the core wraps the call
/// in `drm_bridge_enter`/`exit` and skips it on an unplugged bridge.
pub(crate) fn call_bridge<R>(
    k: &Kernel,
    b: DrmBridge,
    f: impl FnOnce(&dyn DrmBridgeFuncs) -> R,
) -> Option<R> {
    let funcs = k.read_field(b.0, F_CORE, |x| x.funcs.clone())?;
    // cite: series core-side drm_bridge_enter/exit (roadmap item 2, no patch yet)
    if rules(k).core_enter_exit {
        let idx = drm_bridge_enter(k, b)?;
        let r = f(&*funcs);
        drm_bridge_exit(k, idx);
        Some(r)
    } else {
        Some(f(&*funcs))
    }
}

/// `drm_bridge_chain_mode_valid(first)`: every bridge from `first` on must accept the mode.
/// A raw `list_for_each_entry_from` walk from `first->encoder`'s chain, with no references, in
/// every release with a tree (upstream.md §0.0); v7.2 makes it a locked from-loop.
pub fn drm_bridge_chain_mode_valid(k: &Kernel, first: DrmBridge) -> bool {
    let _f = k.func("drm_bridge_chain_mode_valid");
    let check = |b: DrmBridge| {
        if call_bridge(k, b, |f| f.mode_valid(k, b)).unwrap_or(true) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    };
    // cite: series 20251111-drm-bridge-alloc-encoder-chain-mutex
    let bad = if rules(k).chain_mutex {
        drm_for_each_bridge_in_chain_from(k, first, check)
    } else {
        // cite: v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_chain_mode_valid; v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_chain_mode_valid
        match drm_bridge_encoder_ptr(k, first) {
            Some(enc) => unreferenced_walk(k, chain_of(k, enc).0, Some(first), check),
            None => None,
        }
    };
    bad.is_none()
}

/// The `/sys/kernel/debug/dri/bridges` file (v6.16; lingering bridges from v6.19), read
/// under `bridge_lock`; `None` where the file does not exist. Never does a last put (§4.6).
pub fn drm_bridge_debugfs_show(k: &Kernel) -> Option<String> {
    let _f = k.func("allbridges_show");
    let r = rules(k);
    // cite: v6.17:drivers/gpu/drm/drm_bridge.c:allbridges_show
    if !r.debugfs_bridges {
        return None;
    }
    let g = globals(k);
    let mut out = String::new();
    k.mutex_lock(g.bridge_lock);
    let mut idx = 0;
    for id in k.list_entries(g.bridge_list) {
        let b = DrmBridge(k.heap_handle::<DrmBridgeObj>(id));
        let (name, rc, np) = k.read_field(b.0, F_CORE, |x| (x.name.clone(), x.refcount, x.of_node));
        // The count is only printed (v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_debugfs_show_bridge).
        let count = rc.map(|r| k.kref_read_for_print(r)).unwrap_or(0);
        let _ = writeln!(out, "bridge[{idx}]: {name}\n\trefcount: {count}");
        if let Some(np) = np {
            // `%pOFfc` dereferences the node, which the bridge borrows (no `of_node_get`): a
            // node an overlay revert detached is freed once its devices are gone, while a
            // bridge another device published (a panel_bridge) still points to it (§5.18).
            if k.of_node_attached(np) {
                let _ = writeln!(out, "\tOF: node{}", np.index());
            } else {
                let path = k.of_tree_peek(|t| t.full_name(np));
                k.violation_with(
                    ViolationKind::UseAfterFree,
                    Some(b.0.id()),
                    Some(kmodel::AccessKind::Read),
                    format!("Read of freed struct device_node {path} through {name}'s of_node"),
                    vec![format!(
                        "{name}->of_node is {path}, which an overlay revert detached and freed: \
                         the bridge holds no reference on it (no of_node_get)"
                    )],
                );
            }
        }
        idx += 1;
    }
    // cite: v6.19:drivers/gpu/drm/drm_bridge.c:allbridges_show
    if r.debugfs_lingering {
        for id in k.list_entries(g.bridge_lingering_list) {
            let b = DrmBridge(k.heap_handle::<DrmBridgeObj>(id));
            let (name, rc) = k.read_field(b.0, F_CORE, |x| (x.name.clone(), x.refcount));
            let count = rc.map(|r| k.kref_read_for_print(r)).unwrap_or(0);
            let _ = writeln!(
                out,
                "bridge[{idx}]: {name} [lingering]\n\trefcount: {count}"
            );
            idx += 1;
        }
    }
    k.mutex_unlock(g.bridge_lock);
    Some(out)
}

/// `drm_bridge_get_current_state(bridge)`: the committed atomic state (its serial), `None`
/// for a non-atomic bridge (no private object). No reference change.
pub fn drm_bridge_get_current_state(k: &Kernel, b: DrmBridge) -> Option<u32> {
    let _f = k.func("drm_bridge_get_current_state");
    k.read_field(b.0, F_PRIV_OBJ, |x| x.priv_obj)
}

/// A commit installs a new state in every atomic bridge of the chain it touches.
pub(crate) fn drm_bridge_commit_state(k: &Kernel, b: DrmBridge) {
    k.write_field(b.0, F_PRIV_OBJ, |x| {
        if let Some(s) = x.priv_obj.as_mut() {
            *s += 1;
        }
    });
}

/// `__free(drm_bridge_put)` (v6.18): run `f` on a counted bridge, then put it on every exit
/// path. A closure, not a `Drop` guard: model operations never run in `Drop`.
pub fn drm_bridge_with_put<R>(
    k: &Kernel,
    b: Option<DrmBridge>,
    owner: impl Into<Owner>,
    f: impl FnOnce(Option<DrmBridge>) -> R,
) -> R {
    let r = f(b);
    drm_bridge_put(k, b, owner);
    r
}

fn hpd_mutex(k: &Kernel, b: DrmBridge, func: &str) -> Option<Mutex> {
    let (m, name) = k.read_field(b.0, F_REGISTERED, |x| (x.hpd_mutex, x.name.clone()));
    if m.is_none() {
        k.warn(format!("{func}: {name}: hpd_mutex used while the bridge is not added (destroyed by drm_bridge_remove)"));
    }
    m
}

/// `drm_bridge_hpd_enable(bridge, cb, data)`: nothing without `DRM_BRIDGE_OP_HPD`; else under
/// `hpd_mutex` (valid only while published, §2.2) WARN if a callback is already set, or store
/// it and call `.hpd_enable`. Same in every release v6.17–v7.1.
pub fn drm_bridge_hpd_enable(k: &Kernel, b: DrmBridge, cb: HpdCb) {
    let _f = k.func("drm_bridge_hpd_enable");
    if !drm_bridge_ops(k, b).hpd {
        return;
    }
    let m = hpd_mutex(k, b, "drm_bridge_hpd_enable");
    if let Some(m) = m {
        k.mutex_lock(m);
    }
    if k.read_field(b.0, F_HPD_CB, |x| x.hpd_cb.is_some()) {
        k.warn("Hot plug detection already enabled");
    } else {
        k.write_field(b.0, F_HPD_CB, |x| x.hpd_cb = Some(cb));
        if let Some(f) = k.read_field(b.0, F_CORE, |x| x.funcs.clone()) {
            f.hpd_enable(k, b);
        }
    }
    if let Some(m) = m {
        k.mutex_unlock(m);
    }
}

/// `drm_bridge_hpd_disable(bridge)`: nothing without `DRM_BRIDGE_OP_HPD`.
pub fn drm_bridge_hpd_disable(k: &Kernel, b: DrmBridge) {
    let _f = k.func("drm_bridge_hpd_disable");
    if !drm_bridge_ops(k, b).hpd {
        return;
    }
    let m = hpd_mutex(k, b, "drm_bridge_hpd_disable");
    if let Some(m) = m {
        k.mutex_lock(m);
    }
    if let Some(f) = k.read_field(b.0, F_CORE, |x| x.funcs.clone()) {
        f.hpd_disable(k, b);
    }
    k.write_field(b.0, F_HPD_CB, |x| x.hpd_cb = None);
    if let Some(m) = m {
        k.mutex_unlock(m);
    }
}

/// `drm_bridge_detect(bridge, connector)`: a driver detecting through another bridge it
/// points to (v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_detect). Reads the bridge's callbacks
/// (a use-after-free if it was freed), then runs its `.detect`.
pub fn drm_bridge_detect(k: &Kernel, b: DrmBridge) -> crate::connector::ConnectorStatus {
    call_bridge(k, b, |f| f.detect(k, b)).unwrap_or(crate::connector::ConnectorStatus::Unknown)
}

/// `drm_bridge_edid_read(bridge, connector)`: a driver reading the EDID through another bridge
/// it points to (v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_edid_read). Reads the bridge's
/// callbacks, then runs its EDID read; returns the number of modes it gives.
pub fn drm_bridge_edid_read(k: &Kernel, b: DrmBridge) -> u32 {
    call_bridge(k, b, |f| f.get_modes(k, b)).unwrap_or(0)
}

/// `drm_bridge_hpd_notify(bridge, status)`: called by the bridge driver (IRQ, work): runs
/// the stored callback under `hpd_mutex`.
pub fn drm_bridge_hpd_notify(k: &Kernel, b: DrmBridge, status: crate::connector::ConnectorStatus) {
    let _f = k.func("drm_bridge_hpd_notify");
    let m = hpd_mutex(k, b, "drm_bridge_hpd_notify");
    if let Some(m) = m {
        k.mutex_lock(m);
    }
    let cb = k.read_field(b.0, F_HPD_CB, |x| x.hpd_cb.clone());
    if let Some(cb) = cb {
        cb(k, status);
    }
    if let Some(m) = m {
        k.mutex_unlock(m);
    }
}

/// The per-encoder debugfs `bridges` file: the chain, walked with the scoped iterator.
pub fn drm_encoder_bridges_show(k: &Kernel, enc: DrmEncoder) -> String {
    let _f = k.func("encoder_bridges_show");
    let mut out = String::new();
    let mut i = 0;
    drm_for_each_bridge_in_chain_scoped(k, enc, |b| {
        let name = k.read_field(b.0, F_CORE, |x| x.name.clone());
        let _ = writeln!(out, "bridge[{i}]: {name}");
        i += 1;
        ControlFlow::<()>::Continue(())
    });
    out
}
