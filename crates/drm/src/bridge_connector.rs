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

/// `drm_bridge_connector_hpd_notify`: every bridge of the chain hears the new status (a
/// chain loop: unreferenced before v6.19, scoped after).
fn drm_bridge_connector_hpd_notify(k: &Kernel, c: DrmConnector, status: ConnectorStatus) {
    let _f = k.func("drm_bridge_connector_hpd_notify");
    let enc = k.read(bc_of(k, c), |bc| bc.encoder);
    drm_for_each_bridge_in_chain_scoped(k, enc, |b| {
        call_bridge(k, b, |f| f.hpd_notify(k, b, status));
        ControlFlow::<()>::Continue(())
    });
}

impl DrmConnectorFuncs for BridgeConnectorFuncs {
    /// The detect bridge answers, then the whole chain is notified; without one the status
    /// is the connector type's (the model's bridge-connectors are of fixed-panel types:
    /// connected).
    fn detect(&self, k: &Kernel, c: DrmConnector) -> ConnectorStatus {
        let _f = k.func("drm_bridge_connector_detect");
        let b = k.read(bc_of(k, c), |bc| bc.bridges[2]);
        match b {
            Some(b) => {
                let status =
                    call_bridge(k, b, |f| f.detect(k, b)).unwrap_or(ConnectorStatus::Disconnected);
                drm_bridge_connector_hpd_notify(k, c, status);
                status
            }
            None => ConnectorStatus::Connected,
        }
    }
    /// EDID first, then the modes bridge (every release).
    fn get_modes(&self, k: &Kernel, c: DrmConnector) -> u32 {
        let _f = k.func("drm_bridge_connector_get_modes");
        let (edid, modes) = k.read(bc_of(k, c), |bc| (bc.bridges[EDID], bc.bridges[MODES]));
        match edid.or(modes) {
            Some(b) => call_bridge(k, b, |f| f.get_modes(k, b)).unwrap_or(0),
            None => 0,
        }
    }
}

const EDID: usize = 0;
const MODES: usize = 3;
const HDMI: usize = 4;
const HDMI_AUDIO: usize = 5;
const DP_AUDIO: usize = 6;
const HDMI_CEC: usize = 7;

/// The ops whose second offering bridge makes init fail with `-EBUSY`, each with the slots
/// that must still be empty (every release).
const EXCLUSIVE: [(usize, &[usize]); 4] = [
    (HDMI, &[HDMI]),
    (HDMI_AUDIO, &[HDMI_AUDIO, DP_AUDIO]),
    (DP_AUDIO, &[DP_AUDIO, HDMI_AUDIO]),
    (HDMI_CEC, &[HDMI_CEC]),
];

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
    // cite: commit 13adb8c97846; v6.19:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_put_bridges
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
    // cite: v7.1:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_init
    let edid_modes_pair = rules(k).bridge_connector_edid_modes;
    let store = |i: usize, b: Option<DrmBridge>| {
        // cite: v6.19:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_init
        if refs {
            let old = k.write(bc, |x| x.bridges[i].take());
            drm_bridge_put(k, old, bridge_connector_owner(i));
            let b = drm_bridge_get(k, b, bridge_connector_owner(i));
            k.write(bc, |x| x.bridges[i] = b);
        } else {
            k.write(bc, |x| x.bridges[i] = b);
        }
    };
    let busy = drm_for_each_bridge_in_chain_scoped(k, enc, |b| {
        let ops = k.read_field(b.obj(), crate::bridge::F_CORE, |x| x.ops);
        for i in 0..8 {
            if !op_offered(&ops, i) {
                continue;
            }
            if let Some((_, empty)) = EXCLUSIVE.iter().find(|(op, _)| *op == i) {
                let held = k.read(bc, |x| empty.iter().any(|&j| x.bridges[j].is_some()));
                if held {
                    return ControlFlow::Break(Errno::EBUSY);
                }
            }
            if edid_modes_pair && (i == EDID || i == MODES) {
                // v7.1: the first of OP_EDID/OP_MODES this bridge offers clears both.
                if i == EDID || !ops.edid {
                    store(EDID, None);
                    store(MODES, None);
                }
            }
            store(i, Some(b));
        }
        ControlFlow::Continue(())
    });
    if let Some(e) = busy {
        return Err(e);
    }
    let funcs: Rc<dyn DrmConnectorFuncs> = Rc::new(BridgeConnectorFuncs);
    let c = drmm_connector_init(k, drm, "bridge-connector", funcs, Some(bc.erase()));
    k.write(bc, |x| x.connector = Some(c));
    drm_connector_attach_encoder(k, c, enc);
    Ok(c)
}
