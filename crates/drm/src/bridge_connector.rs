//! `display/drm_bridge_connector.c`: a connector built from the bridge chain, storing the
//! last bridge offering each operation (upstream.md §2.4, §5.16). From v6.19 each stored
//! pointer is a counted reference (owner `"bridge_connector <op>"`), put by a drmm action
//! registered right after allocation, so the references live until the final `drm_dev_put`.

use std::ops::ControlFlow;
use std::rc::Rc;

use kmodel::{Errno, Kernel, Obj};

use crate::bridge::{
    call_bridge, drm_bridge_get, drm_bridge_put, drm_for_each_bridge_in_chain_scoped, DrmBridge,
};
use crate::connector::{
    drm_connector_attach_encoder, drmm_connector_init, ConnectorStatus, DrmConnector,
    DrmConnectorFuncs,
};
use crate::drv::DrmDevice;
use crate::encoder::DrmEncoder;
use crate::managed::{drmm_add_action_or_reset, drmm_kzalloc};
use crate::ref_tracker::RefOwner;
use crate::rules::rules;

/// The eight stored bridge pointers, in `struct drm_bridge_connector` order.
pub const BRIDGE_CONNECTOR_OPS: [&str; 8] = [
    "edid",
    "hpd",
    "detect",
    "modes",
    "hdmi",
    "hdmi_audio",
    "dp_audio",
    "hdmi_cec",
];

/// The owner of the reference stored for op `i` of [`BRIDGE_CONNECTOR_OPS`].
pub fn bridge_connector_owner(i: usize) -> RefOwner {
    RefOwner::BridgeConnector(BRIDGE_CONNECTOR_OPS[i])
}

/// `struct drm_bridge_connector`.
///
/// # Invariants
///
/// Under `bridge_connector_refs`, each `Some` in `bridges[i]` holds exactly one reference
/// owned by [`bridge_connector_owner`]`(i)`, put once by the drmm action.
pub struct DrmBridgeConnectorObj {
    pub encoder: DrmEncoder,
    pub connector: Option<DrmConnector>,
    pub bridges: [Option<DrmBridge>; 8],
}

/// A `struct drm_bridge_connector *`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrmBridgeConnector(pub(crate) Obj<DrmBridgeConnectorObj>);

impl DrmBridgeConnector {
    pub fn obj(self) -> Obj<DrmBridgeConnectorObj> {
        self.0
    }
}

struct BridgeConnectorFuncs;

fn bc_of(k: &Kernel, c: DrmConnector) -> Obj<DrmBridgeConnectorObj> {
    crate::connector::drm_connector_private(k, c)
        .expect("bridge connector without private")
        .cast()
}

impl DrmConnectorFuncs for BridgeConnectorFuncs {
    fn detect(&self, k: &Kernel, c: DrmConnector) -> ConnectorStatus {
        let _f = k.func("drm_bridge_connector_detect");
        let b = k.read(bc_of(k, c), |bc| bc.bridges[2]);
        match b {
            Some(b) => {
                call_bridge(k, b, |f| f.detect(k, b)).unwrap_or(ConnectorStatus::Disconnected)
            }
            None => ConnectorStatus::Connected,
        }
    }
    fn get_modes(&self, k: &Kernel, c: DrmConnector) -> u32 {
        let _f = k.func("drm_bridge_connector_get_modes");
        let (modes, edid) = k.read(bc_of(k, c), |bc| (bc.bridges[3], bc.bridges[0]));
        match modes.or(edid) {
            Some(b) => call_bridge(k, b, |f| f.get_modes(k, b)).unwrap_or(0),
            None => 0,
        }
    }
}

fn op_offered(ops: &crate::bridge::DrmBridgeOps, i: usize) -> bool {
    [
        ops.edid,
        ops.hpd,
        ops.detect,
        ops.modes,
        ops.hdmi,
        ops.hdmi_audio,
        ops.dp_audio,
        ops.hdmi_cec,
    ][i]
}

/// `drm_bridge_connector_init(drm, encoder)`.
pub fn drm_bridge_connector_init(
    k: &Kernel,
    drm: DrmDevice,
    enc: DrmEncoder,
) -> Result<DrmConnector, Errno> {
    let _f = k.func("drm_bridge_connector_init");
    let refs = rules(k).bridge_connector_refs;
    let bc = drmm_kzalloc(
        k,
        drm,
        "struct drm_bridge_connector",
        "bridge_connector",
        DrmBridgeConnectorObj {
            encoder: enc,
            connector: None,
            bridges: [None; 8],
        },
    );
    if refs {
        drmm_add_action_or_reset(
            k,
            drm,
            "drm_bridge_connector_put_bridges",
            bc.id().0 as u64,
            move |k| {
                let _f = k.func("drm_bridge_connector_put_bridges");
                for i in 0..8 {
                    let b = k.write(bc, |x| x.bridges[i].take());
                    drm_bridge_put(k, b, bridge_connector_owner(i));
                }
            },
        )?;
    }
    drm_for_each_bridge_in_chain_scoped(k, enc, |b| {
        let ops = k.read_field(b.obj(), crate::bridge::F_CORE, |x| x.ops);
        for i in 0..8 {
            if !op_offered(&ops, i) {
                continue;
            }
            if refs {
                let old = k.write(bc, |x| x.bridges[i].take());
                drm_bridge_put(k, old, bridge_connector_owner(i));
                let b = drm_bridge_get(k, Some(b), bridge_connector_owner(i));
                k.write(bc, |x| x.bridges[i] = b);
            } else {
                k.write(bc, |x| x.bridges[i] = Some(b));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let funcs: Rc<dyn DrmConnectorFuncs> = Rc::new(BridgeConnectorFuncs);
    let c = drmm_connector_init(k, drm, "bridge-connector", funcs, Some(bc.erase()));
    k.write(bc, |x| x.connector = Some(c));
    drm_connector_attach_encoder(k, c, enc);
    Ok(c)
}
