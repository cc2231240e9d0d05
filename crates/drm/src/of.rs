//! `drm_of.c`: `drm_of_find_panel_or_bridge` and the devm/drmm bridge getters built on it
//! (upstream.md §2.4, §8.1). Graph resolution is the caller's: functions take the remote
//! endpoint's device node already resolved (`None`: no graph or no remote), so they can be
//! wired to `kmodel::of` later.

use kmodel::device::DeviceId;
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel};

use crate::bridge::panel::{devm_drm_panel_bridge_add, drmm_panel_bridge_add};
use crate::bridge::{of_drm_find_bridge, DrmBridge};
use crate::drv::DrmDevice;
use crate::panel::{of_drm_find_panel, DrmPanel};
use crate::rules::rules;

/// `drm_of_find_panel_or_bridge(np, port, endpoint, &panel, &bridge)`. Both results are
/// **borrowed**. A bridge-only call (no panel wanted) is forbidden from v7.2 (WARN, `-EINVAL`).
pub fn drm_of_find_panel_or_bridge(
    k: &Kernel,
    remote: Option<NodeId>,
    want_panel: bool,
    want_bridge: bool,
) -> Result<(Option<DrmPanel>, Option<DrmBridge>), Errno> {
    let _f = k.func("drm_of_find_panel_or_bridge");
    // cite: commit 0d5da248ea2d
    if !want_panel && rules(k).forbid_bridge_only_find_panel_or_bridge {
        k.warn(
            "drm_of_find_panel_or_bridge: bridge-only call, use of_drm_get_bridge_by_endpoint()",
        );
        return Err(Errno::EINVAL);
    }
    let np = remote.ok_or(Errno::ENODEV)?;
    if want_panel {
        if let Ok(p) = of_drm_find_panel(k, np) {
            return Ok((Some(p), None));
        }
    }
    if want_bridge {
        if let Some(b) = of_drm_find_bridge(k, np) {
            return Ok((None, Some(b)));
        }
    }
    Err(Errno::EPROBE_DEFER)
}

/// `devm_drm_of_get_bridge(dev, np, port, endpoint)`: a panel is wrapped with
/// `devm_drm_panel_bridge_add(dev)`; a bridge is returned **without a reference** (§8.1).
pub fn devm_drm_of_get_bridge(
    k: &Kernel,
    dev: DeviceId,
    remote: Option<NodeId>,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("devm_drm_of_get_bridge");
    match drm_of_find_panel_or_bridge(k, remote, true, true)? {
        (Some(p), _) => devm_drm_panel_bridge_add(k, dev, p),
        (None, Some(b)) => Ok(b),
        (None, None) => Err(Errno::EPROBE_DEFER),
    }
}

/// `drmm_of_get_bridge(drm, np, port, endpoint)`: as [`devm_drm_of_get_bridge`] with
/// `drmm_panel_bridge_add`.
pub fn drmm_of_get_bridge(
    k: &Kernel,
    drm: DrmDevice,
    remote: Option<NodeId>,
) -> Result<DrmBridge, Errno> {
    let _f = k.func("drmm_of_get_bridge");
    match drm_of_find_panel_or_bridge(k, remote, true, true)? {
        (Some(p), _) => drmm_panel_bridge_add(k, drm, p),
        (None, Some(b)) => Ok(b),
        (None, None) => Err(Errno::EPROBE_DEFER),
    }
}
