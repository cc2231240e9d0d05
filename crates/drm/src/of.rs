//! `drm_of.c`: `drm_of_find_panel_or_bridge` and the devm/drmm bridge getters built on it
//! (upstream.md §2.4, §8.1). Graph resolution is the caller's: functions take the remote
//! endpoint's device node already resolved (`None`: no graph or no remote), so they can be
//! wired to `kmodel::of` later.

use std::fmt;
use std::str::FromStr;

use kmodel::device::DeviceId;
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel};

use crate::bridge::panel::{devm_drm_panel_bridge_add, drmm_panel_bridge_add};
use crate::bridge::{of_drm_find_bridge, DrmBridge};
use crate::drv::DrmDevice;
use crate::panel::{of_drm_find_panel, DrmPanel};
use crate::rules::{rules, Release, Rules, Switch};

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

/// The OF lookup functions a consumer calls to find a bridge, as the sources spell them (the
/// scenario's `lookup` step names one in its `api` field).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum LookupApi {
    /// `of_drm_find_bridge(np)`: a borrowed pointer. From v7.0 a deprecated wrapper that gets
    /// and puts at once.
    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_bridge
    OfDrmFindBridge,
    /// `of_drm_find_and_get_bridge(np)` (v7.0): +1 for the caller.
    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_and_get_bridge
    OfDrmFindAndGetBridge,
    /// `drm_of_find_panel_or_bridge(np, port, endpoint, &panel, &bridge)`: the panel or the
    /// bridge at the remote end of the endpoint, both borrowed.
    // cite: v7.1:drivers/gpu/drm/drm_of.c:drm_of_find_panel_or_bridge
    DrmOfFindPanelOrBridge,
    /// `of_drm_get_bridge_by_endpoint(np, port, endpoint)` (v7.2): +1 for the caller.
    // cite: commit 03d1078112fd
    OfDrmGetBridgeByEndpoint,
}

impl LookupApi {
    /// Every lookup API, in the order of the table.
    pub const ALL: [LookupApi; 4] = [
        LookupApi::OfDrmFindBridge,
        LookupApi::OfDrmFindAndGetBridge,
        LookupApi::DrmOfFindPanelOrBridge,
        LookupApi::OfDrmGetBridgeByEndpoint,
    ];

    /// The function's name, as printed and parsed.
    pub fn name(self) -> &'static str {
        match self {
            LookupApi::OfDrmFindBridge => "of_drm_find_bridge",
            LookupApi::OfDrmFindAndGetBridge => "of_drm_find_and_get_bridge",
            LookupApi::DrmOfFindPanelOrBridge => "drm_of_find_panel_or_bridge",
            LookupApi::OfDrmGetBridgeByEndpoint => "of_drm_get_bridge_by_endpoint",
        }
    }

    /// The switch whose release brought the function (`None`: in every release modelled).
    /// of_drm_find_and_get_bridge is declared in include/drm/drm_bridge.h from v7.0 and not in
    /// v6.17–v6.19; of_drm_get_bridge_by_endpoint is v7.2 only (upstream.md §1.2).
    pub fn switch(self) -> Option<Switch> {
        match self {
            LookupApi::OfDrmFindBridge | LookupApi::DrmOfFindPanelOrBridge => None,
            LookupApi::OfDrmFindAndGetBridge => Some(Switch::OfFindAndGet),
            LookupApi::OfDrmGetBridgeByEndpoint => Some(Switch::OfGetBridgeByEndpoint),
        }
    }

    /// Whether the function exists under `rules`.
    pub fn available(self, rules: &Rules) -> bool {
        self.switch().is_none_or(|s| rules.get(s))
    }

    /// The releases that have it, oldest first.
    pub fn releases(self) -> Vec<Release> {
        Release::ALL
            .into_iter()
            .filter(|r| self.switch().is_none_or(|s| s.on_in(*r)))
            .collect()
    }

    /// Whether it follows the consumer's OF graph (`np, port, endpoint`) rather than taking
    /// the bridge's own node.
    pub fn follows_graph(self) -> bool {
        matches!(
            self,
            LookupApi::DrmOfFindPanelOrBridge | LookupApi::OfDrmGetBridgeByEndpoint
        )
    }

    /// Whether the caller gets a reference it must put.
    pub fn counted(self) -> bool {
        matches!(
            self,
            LookupApi::OfDrmFindAndGetBridge | LookupApi::OfDrmGetBridgeByEndpoint
        )
    }
}

impl fmt::Display for LookupApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A lookup function the model does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLookupApi(pub String);

impl fmt::Display for UnknownLookupApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = LookupApi::ALL.iter().map(|a| a.name()).collect();
        write!(
            f,
            "unknown lookup api `{}`: expected one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownLookupApi {}

impl FromStr for LookupApi {
    type Err = UnknownLookupApi;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LookupApi::ALL
            .into_iter()
            .find(|a| a.name() == s.trim())
            .ok_or_else(|| UnknownLookupApi(s.to_string()))
    }
}

impl<'de> serde::Deserialize<'de> for LookupApi {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
