//! `bridge/panel.c`: the panel_bridge wrapper (upstream.md §2.4, §4.4, §5.11).
//!
//! The allocation reference hangs on the **panel's** device (v6.17+; before, the wrapper is
//! `devm_kzalloc`ed on it). The consumer's devres only removes; drmm removes and puts early
//! via `devm_drm_put_bridge`. The wrapper borrows the panel unless the
//! `panel_bridge_panel_ref` proposal is on.

use std::rc::Rc;

use kmodel::device::DeviceId;
use kmodel::{Errno, Kernel};

use crate::bridge::{
    devm_drm_bridge_alloc, devm_drm_bridge_alloc_legacy, devm_drm_put_bridge, drm_bridge_add,
    drm_bridge_is, drm_bridge_priv, drm_bridge_priv_mut, drm_bridge_remove, DrmBridge,
    DrmBridgeFuncs, DRM_BRIDGE_ATTACH_NO_CONNECTOR,
};
use crate::connector::{
    drm_connector_attach_encoder, drm_connector_cleanup, drm_connector_forget,
    drm_connector_init_embedded, ConnectorStatus, DrmConnector, DrmConnectorFuncs,
};
use crate::drv::DrmDevice;
use crate::encoder::DrmEncoder;
use crate::managed::drmm_add_action_or_reset;
use crate::panel::{
    drm_panel_disable, drm_panel_enable, drm_panel_get, drm_panel_get_modes, drm_panel_prepare,
    drm_panel_put, drm_panel_unprepare, DrmPanel,
};
use crate::ref_tracker::RefOwner;
use crate::rules::rules;

/// `struct panel_bridge`: the container's private part.
#[derive(Copy, Clone, Debug)]
pub struct PanelBridge {
    pub panel: DrmPanel,
    /// `panel_bridge->connector` once initialised (`connector->dev` set): the connector
    /// panel_bridge_attach makes when attached without `DRM_BRIDGE_ATTACH_NO_CONNECTOR`.
    pub connector: Option<DrmConnector>,
}

struct PanelBridgeFuncs;

fn panel_of(k: &Kernel, b: DrmBridge) -> DrmPanel {
    drm_bridge_priv::<PanelBridge, _>(k, b, |p| p.panel)
}

/// `panel_bridge_connector_funcs` and `panel_bridge_connector_helper_funcs` (the same in every
/// release v6.17–v7.1): no `.detect` (the probe helper reports it connected), `get_modes`
/// through the panel the panel_bridge borrows, `.destroy = drm_connector_cleanup`.
struct PanelBridgeConnectorFuncs {
    bridge: DrmBridge,
}

impl DrmConnectorFuncs for PanelBridgeConnectorFuncs {
    fn detect(&self, _k: &Kernel, _c: DrmConnector) -> ConnectorStatus {
        ConnectorStatus::Connected
    }
    /// v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_connector_get_modes: `container_of`,
    /// then drm_panel_get_modes on the borrowed `panel_bridge->panel`.
    fn get_modes(&self, k: &Kernel, _c: DrmConnector) -> u32 {
        let _f = k.func("panel_bridge_connector_get_modes");
        let panel = panel_of(k, self.bridge);
        drm_panel_get_modes(k, panel)
    }
    fn destroy(&self, k: &Kernel, c: DrmConnector) {
        drm_connector_cleanup(k, c);
    }
}

impl DrmBridgeFuncs for PanelBridgeFuncs {
    /// v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_attach (unchanged since v6.17):
    /// nothing with `DRM_BRIDGE_ATTACH_NO_CONNECTOR`; else `drm_connector_init` of the
    /// connector embedded in the container, on `bridge->dev`, and
    /// `drm_connector_attach_encoder`. (`drm_connector_register` when the card is already
    /// registered is left out: the model has no connector registration.)
    fn attach(&self, k: &Kernel, b: DrmBridge, enc: DrmEncoder, flags: u32) -> Result<(), Errno> {
        let _f = k.func("panel_bridge_attach");
        if flags & DRM_BRIDGE_ATTACH_NO_CONNECTOR != 0 {
            return Ok(());
        }
        let Some(drm) = k.read(b.obj(), |x| x.drm_dev_ptr()) else {
            return Err(Errno::EINVAL);
        };
        let name = format!("{}-connector", crate::bridge::drm_bridge_name(k, b));
        let funcs: Rc<dyn DrmConnectorFuncs> = Rc::new(PanelBridgeConnectorFuncs { bridge: b });
        let c = drm_connector_init_embedded(k, drm, &name, funcs, b);
        drm_bridge_priv_mut::<PanelBridge, _>(k, b, |p| p.connector = Some(c));
        drm_connector_attach_encoder(k, c, enc);
        Ok(())
    }
    /// v7.1:drivers/gpu/drm/bridge/panel.c:panel_bridge_detach (unchanged since v6.17):
    /// `drm_connector_cleanup` of the embedded connector if it was initialised. Its mode
    /// object reference is abandoned with the memory (the model frees its connector object).
    fn detach(&self, k: &Kernel, b: DrmBridge) {
        let _f = k.func("panel_bridge_detach");
        let c = drm_bridge_priv_mut::<PanelBridge, _>(k, b, |p| p.connector.take());
        if let Some(c) = c {
            drm_connector_cleanup(k, c);
            drm_connector_forget(k, c);
        }
    }
    fn atomic_pre_enable(&self, k: &Kernel, b: DrmBridge) {
        let _ = drm_panel_prepare(k, panel_of(k, b));
    }
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        let _ = drm_panel_enable(k, panel_of(k, b));
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        let _ = drm_panel_disable(k, panel_of(k, b));
    }
    fn atomic_post_disable(&self, k: &Kernel, b: DrmBridge) {
        let _ = drm_panel_unprepare(k, panel_of(k, b));
    }
    fn get_modes(&self, k: &Kernel, b: DrmBridge) -> u32 {
        drm_panel_get_modes(k, panel_of(k, b))
    }
    fn detect(&self, _k: &Kernel, _b: DrmBridge) -> ConnectorStatus {
        ConnectorStatus::Connected
    }
    /// `panel_bridge_bridge_funcs` sets `.atomic_reset` in every release (v6.17…v7.1
    /// bridge/panel.c): an atomic bridge, with a private object from attach to detach.
    fn is_atomic(&self) -> bool {
        true
    }
}

fn panel_ref_owner(k: &Kernel, panel: DrmPanel) -> RefOwner {
    RefOwner::PanelBridge(k.read(panel.obj(), |p| p.name.clone()))
}

/// `drm_panel_bridge_add_typed(panel, type)`: allocate on `panel->dev`, copy `of_node`, add.
/// The caller gets **no** reference of its own.
pub fn drm_panel_bridge_add_typed(k: &Kernel, panel: DrmPanel) -> Result<DrmBridge, Errno> {
    let _f = k.func("drm_panel_bridge_add_typed");
    let r = rules(k);
    let (pdev, np, pname) = k.read(panel.obj(), |p| (p.dev, p.of_node, p.name.clone()));
    let name = format!("panel_bridge {pname}");
    let funcs: Rc<dyn DrmBridgeFuncs> = Rc::new(PanelBridgeFuncs);
    // cite: v6.17:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_add_typed
    let b = if r.panel_bridge_alloc {
        devm_drm_bridge_alloc(
            k,
            pdev,
            "struct panel_bridge",
            &name,
            Some(funcs),
            PanelBridge {
                panel,
                connector: None,
            },
        )?
    } else {
        devm_drm_bridge_alloc_legacy(
            k,
            pdev,
            "struct panel_bridge",
            &name,
            funcs,
            PanelBridge {
                panel,
                connector: None,
            },
        )?
    };
    k.write(b.obj(), |x| {
        x.of_node = np;
        x.ops.modes = true;
    });
    // cite: series drm/bridge: panel: hold a drm_panel reference (Albert Esteve, 2026)
    if r.panel_bridge_panel_ref {
        drm_panel_get(k, panel, panel_ref_owner(k, panel));
    }
    drm_bridge_add(k, b);
    Ok(b)
}

/// `drm_panel_bridge_remove(bridge)`: a `drm_warn` log line and return unless it is a
/// panel_bridge; remove, then read `panel_bridge->panel->dev` (after a remove that may have
/// dropped the last reference: upstream.md §0.0) to drop the allocation reference on the
/// panel's device now (`devm_drm_put_bridge`, v6.17+; before, `devm_kfree`).
pub fn drm_panel_bridge_remove(k: &Kernel, b: Option<DrmBridge>) {
    let _f = k.func("drm_panel_bridge_remove");
    let Some(b) = b else { return };
    if !drm_bridge_is::<PanelBridge>(k, b) {
        let name = crate::bridge::drm_bridge_name(k, b);
        k.model_event(
            Some(b.obj().id()),
            format!("drm_warn: drm_panel_bridge_remove: called on non-panel bridge! ({name})"),
        );
        return;
    }
    // cite: v6.17:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_remove; v7.1:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_remove
    drm_bridge_remove(k, b);
    let panel = panel_of(k, b);
    let pdev = k.read(panel.obj(), |p| p.dev);
    let r = rules(k);
    // cite: series drm/bridge: panel: hold a drm_panel reference (Albert Esteve, 2026)
    if r.panel_bridge_panel_ref {
        drm_panel_put(k, panel, panel_ref_owner(k, panel));
    }
    // cite: v6.17:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_remove
    if r.panel_bridge_alloc {
        devm_drm_put_bridge(k, pdev, b);
    } else {
        k.devm_release_action(pdev, "devm_kfree", b.obj().id().0 as u64);
    }
}

/// `devm_drm_panel_bridge_add(dev, panel)`: the devres on the **consumer** `dev` only removes;
/// the allocation reference stays on the panel device (§2.4).
pub fn devm_drm_panel_bridge_add(
    k: &Kernel,
    dev: DeviceId,
    panel: DrmPanel,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("devm_drm_panel_bridge_add");
    let b = drm_panel_bridge_add_typed(k, panel)?;
    let owner = panel_ref_owner(k, panel);
    k.devm_add_action_or_reset(
        dev,
        "devm_drm_panel_bridge_release",
        b.obj().id().0 as u64,
        move |k| {
            let _f = k.func("devm_drm_panel_bridge_release");
            drm_bridge_remove(k, b);
            // cite: series drm/bridge: panel: hold a drm_panel reference (Albert Esteve, 2026)
            if rules(k).panel_bridge_panel_ref {
                drm_panel_put(k, panel, owner);
            }
        },
    )?;
    Ok(b)
}

/// `drmm_panel_bridge_add(drm, panel)`: `drm_panel_bridge_remove` at the final `drm_dev_put`.
pub fn drmm_panel_bridge_add(
    k: &Kernel,
    drm: DrmDevice,
    panel: DrmPanel,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("drmm_panel_bridge_add");
    let b = drm_panel_bridge_add_typed(k, panel)?;
    drmm_add_action_or_reset(
        k,
        drm,
        "drmm_drm_panel_bridge_release",
        b.obj().id().0 as u64,
        move |k| drm_panel_bridge_remove(k, Some(b)),
    )?;
    Ok(b)
}
