//! `drm_connector.c` and the probe helper: the connector as a refcounted mode object with
//! `.destroy` (upstream.md §4.5).

use std::rc::Rc;

use kmodel::kref::{Kref, Owner};

use crate::ref_tracker::RefOwner;
use kmodel::{Kernel, Obj};

use crate::bridge::{
    drm_bridge_chain_get_first_bridge, drm_bridge_chain_mode_valid, drm_bridge_put, DrmBridge,
};
use crate::drv::DrmDevice;
use crate::encoder::DrmEncoder;
use crate::managed::drmm_add_action;
use crate::rules::rules;

/// The owner of the reference the mode config holds on each registered connector.
pub const MODE_CONFIG_OWNER: RefOwner = RefOwner::ModeConfig;

/// A `struct drm_connector *`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrmConnector(pub(crate) Obj<DrmConnectorObj>);

impl DrmConnector {
    /// The handle of a heap object (a pointer cast, e.g. from `dev_get_drvdata`).
    pub fn from_obj(o: Obj<DrmConnectorObj>) -> Self {
        DrmConnector(o)
    }

    /// The heap object, for scheduling and reports.
    pub fn obj(self) -> Obj<DrmConnectorObj> {
        self.0
    }
}

/// `enum drm_connector_status`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConnectorStatus {
    Connected,
    Disconnected,
    Unknown,
}

/// `struct drm_connector_funcs` plus the helper funcs the probe helper calls.
pub trait DrmConnectorFuncs: 'static {
    fn detect(&self, _k: &Kernel, _c: DrmConnector) -> ConnectorStatus {
        ConnectorStatus::Unknown
    }
    fn get_modes(&self, _k: &Kernel, _c: DrmConnector) -> u32 {
        0
    }
    /// `.destroy`: runs at the last put, before the core frees the object.
    fn destroy(&self, _k: &Kernel, _c: DrmConnector) {}
}

/// `struct drm_connector`.
///
/// # Invariants
///
/// `refcount` is `Some` from init on; the last put runs `funcs.destroy` and frees the object.
pub struct DrmConnectorObj {
    pub name: String,
    pub dev: DrmDevice,
    pub(crate) refcount: Option<Kref>,
    pub(crate) funcs: Rc<dyn DrmConnectorFuncs>,
    /// The encoder it is attached to (`drm_connector_attach_encoder`).
    pub encoder: Option<DrmEncoder>,
    /// Driver data (`container_of` target, e.g. a bridge_connector).
    pub private: Option<Obj<()>>,
    /// The bridge whose container embeds this connector (`panel_bridge->connector`,
    /// `sbridge->connector`: the legacy connector a bridge makes when attached without
    /// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`). Its memory is the container's: every access to the
    /// connector is also an access to the container (a use-after-free once it is freed).
    pub container: Option<DrmBridge>,
}

/// `drm_connector_init`: the mode config holds the first reference.
pub fn drm_connector_init(
    k: &Kernel,
    drm: DrmDevice,
    name: &str,
    funcs: Rc<dyn DrmConnectorFuncs>,
    private: Option<Obj<()>>,
) -> DrmConnector {
    let _f = k.func("drm_connector_init");
    let obj = k.kzalloc(
        "struct drm_connector",
        name,
        DrmConnectorObj {
            name: name.to_string(),
            dev: drm,
            refcount: None,
            funcs,
            encoder: None,
            private,
            container: None,
        },
    );
    let r = k.kref_init(obj.id(), MODE_CONFIG_OWNER);
    k.write(obj, |c| c.refcount = Some(r));
    let c = DrmConnector(obj);
    k.write(drm.0, |d| d.connectors.push(c));
    c
}

/// `drmm_connector_init`: like [`drm_connector_init`], the mode config's reference being
/// dropped by a drmm action instead of by `drm_mode_config_cleanup`.
pub fn drmm_connector_init(
    k: &Kernel,
    drm: DrmDevice,
    name: &str,
    funcs: Rc<dyn DrmConnectorFuncs>,
    private: Option<Obj<()>>,
) -> DrmConnector {
    let _f = k.func("drmm_connector_init");
    let c = drm_connector_init(k, drm, name, funcs, private);
    // On the card's list until the drmm action, which runs before drm_mode_config_cleanup
    // (registered earlier by drmm_mode_config_init), unlinks it and drops the reference.
    let _ = drmm_add_action(
        k,
        drm,
        "drmm_connector_cleanup",
        c.0.id().0 as u64,
        move |k| {
            k.write(drm.0, |d| d.connectors.retain(|&x| x != c));
            drm_connector_put(k, c, MODE_CONFIG_OWNER)
        },
    );
    c
}

/// `drm_connector_init(bridge->dev, &container->connector, ...)` on a connector embedded in
/// bridge `b`'s container (the legacy connector of a bridge attached without
/// `DRM_BRIDGE_ATTACH_NO_CONNECTOR`: v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_attach,
/// v7.1:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_attach). The mode config holds the
/// first reference; the connector is on the card's connector list until
/// [`drm_connector_cleanup`].
pub fn drm_connector_init_embedded(
    k: &Kernel,
    drm: DrmDevice,
    name: &str,
    funcs: Rc<dyn DrmConnectorFuncs>,
    b: DrmBridge,
) -> DrmConnector {
    let c = drm_connector_init(k, drm, name, funcs, None);
    k.write(c.0, |x| x.container = Some(b));
    c
}

/// An access to the memory of an embedded connector is an access to its container.
fn touch_container(k: &Kernel, c: DrmConnector, write: bool) {
    if let Some(b) = k.read(c.0, |x| x.container) {
        crate::bridge::drm_bridge_touch_connector(k, b, write);
    }
}

/// `drm_connector_cleanup`: unlink the connector from the card's list and clear it (its
/// `.destroy` for the connectors of drm_connector_init; panel_bridge_detach calls it
/// directly). For an embedded connector, a write of its container.
pub fn drm_connector_cleanup(k: &Kernel, c: DrmConnector) {
    let _f = k.func("drm_connector_cleanup");
    touch_container(k, c, true);
    let drm = k.read(c.0, |x| x.dev);
    k.write(drm.0, |d| d.connectors.retain(|&x| x != c));
    k.write(c.0, |x| x.encoder = None);
}

/// After [`drm_connector_cleanup`] called outside the last put (panel_bridge_detach): the
/// memory is the container's, the mode object's reference is abandoned with it; the model
/// frees its separate connector object here.
pub fn drm_connector_forget(k: &Kernel, c: DrmConnector) {
    if let Some(r) = k.read(c.0, |x| x.refcount) {
        k.kref_put(r, MODE_CONFIG_OWNER, move |k| k.kfree(c.0));
    }
}

/// `drm_connector_list_iter` over the card's connectors, for the one attached to `enc`: what
/// userspace finds through `DRM_IOCTL_MODE_GETRESOURCES` for that pipeline.
pub fn drm_connector_for_encoder(
    k: &Kernel,
    drm: DrmDevice,
    enc: DrmEncoder,
) -> Option<DrmConnector> {
    let conns = k.read(drm.0, |d| d.connectors.clone());
    conns
        .into_iter()
        .find(|&c| k.read(c.0, |x| x.encoder) == Some(enc))
}

/// `drm_connector_attach_encoder`.
pub fn drm_connector_attach_encoder(k: &Kernel, c: DrmConnector, enc: DrmEncoder) {
    let _f = k.func("drm_connector_attach_encoder");
    k.write(c.0, |x| x.encoder = Some(enc));
}

/// `drm_connector_get`.
pub fn drm_connector_get(k: &Kernel, c: DrmConnector, owner: impl Into<Owner>) {
    let _f = k.func("drm_connector_get");
    if let Some(r) = k.read(c.0, |x| x.refcount) {
        k.kref_get(r, owner);
    }
}

/// `drm_connector_put`: the last put runs `.destroy`, then `drm_connector_cleanup` and the
/// free.
pub fn drm_connector_put(k: &Kernel, c: DrmConnector, owner: impl Into<Owner>) {
    let _f = k.func("drm_connector_put");
    if let Some(r) = k.read(c.0, |x| x.refcount) {
        k.kref_put(r, owner, move |k| {
            let _f = k.func("drm_connector_free");
            let funcs = k.read(c.0, |x| x.funcs.clone());
            funcs.destroy(k, c);
            k.kfree(c.0);
        });
    }
}

/// The connector's driver data.
pub fn drm_connector_private(k: &Kernel, c: DrmConnector) -> Option<Obj<()>> {
    k.read(c.0, |x| x.private)
}

/// `drm_helper_probe_detect`: the connector's `.detect`.
pub fn drm_helper_probe_detect(k: &Kernel, c: DrmConnector) -> ConnectorStatus {
    let _f = k.func("drm_helper_probe_detect");
    touch_container(k, c, false);
    let funcs = k.read(c.0, |x| x.funcs.clone());
    funcs.detect(k, c)
}

/// `drm_helper_probe_single_connector_modes`: detect, get_modes, then validate the modes
/// through the encoder's bridge chain (`drm_mode_validate_pipeline`, which gets the first
/// bridge, counted from v6.18, and runs `drm_bridge_chain_mode_valid` from it). Returns
/// the number of valid modes.
pub fn drm_helper_probe_single_connector_modes(k: &Kernel, c: DrmConnector) -> u32 {
    let _f = k.func("drm_helper_probe_single_connector_modes");
    // Called by drm_mode_getconnector with the connection mutex held (§5.7 path B).
    let drm = k.read(c.0, |x| x.dev);
    crate::drv::drm_modeset_lock_all(k, drm);
    let n = probe_locked(k, c);
    crate::drv::drm_modeset_unlock_all(k, drm);
    n
}

fn probe_locked(k: &Kernel, c: DrmConnector) -> u32 {
    touch_container(k, c, false);
    let status = drm_helper_probe_detect(k, c);
    if status == ConnectorStatus::Disconnected {
        return 0;
    }
    let funcs = k.read(c.0, |x| x.funcs.clone());
    let n = funcs.get_modes(k, c);
    let Some(enc) = k.read(c.0, |x| x.encoder) else {
        return n;
    };
    const OWNER: RefOwner = RefOwner::Local("drm_mode_validate_pipeline");
    let first = drm_bridge_chain_get_first_bridge(k, enc, OWNER);
    let ok = match first {
        Some(b) => drm_bridge_chain_mode_valid(k, b),
        None => true,
    };
    // cite: v6.18:drivers/gpu/drm/drm_probe_helper.c:drm_mode_validate_pipeline
    if rules(k).first_bridge_counted {
        drm_bridge_put(k, first, OWNER);
    }
    if ok {
        n
    } else {
        0
    }
}

/// `drm_kms_helper_hotplug_event(dev)` (drm_probe_helper.c): the sysfs hotplug uevent and the
/// in-kernel clients' hotplug callbacks, which read the `drm_device`.
pub fn drm_kms_helper_hotplug_event(k: &Kernel, drm: DrmDevice) {
    let _f = k.func("drm_kms_helper_hotplug_event");
    k.read(drm.obj(), |_| ());
}
