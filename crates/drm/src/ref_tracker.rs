//! Who holds a counted reference: the owner names of the references the DRM model takes
//! (the kernel's `ref_tracker` names, done everywhere; upstream.md §3 I2, I6).
//!
//! Every owner a reference is taken or dropped under is a [`RefOwner`], built in one place and
//! printed by one `Display`: a leak report names its holders in these words, and a put must
//! name the reference it drops, so both sides of a reference use the same value.

use std::borrow::Cow;
use std::fmt;

use kmodel::device::DeviceId;
use kmodel::Kernel;

/// The owner of one counted reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefOwner {
    /// `"devres of <dev>"`: the allocation reference of a devm allocator (a bridge, a panel,
    /// a `drm_device`), dropped by the devres action at unbind.
    Devres(String),
    /// `"published"`: taken by `drm_bridge_add`, dropped by `drm_bridge_remove` (v6.17+).
    Published,
    /// `"chain of <encoder>"`: taken by `drm_bridge_attach`, dropped by detach (v6.17+).
    Chain(String),
    /// `"next_bridge of <holder>"`: a bridge's stored next bridge (the `next_bridge` field
    /// from v7.0, or a driver's own pointer), named after the holder.
    NextBridge(String),
    /// `"bridge_connector <op>"`: the bridge stored for one op of a bridge connector (v6.19+).
    BridgeConnector(&'static str),
    /// `"panel_bridge of <panel>"`: the panel_bridge's panel reference (proposal, §5.11).
    PanelBridge(String),
    /// `"scoped loop cursor"`: the cursor of `drm_for_each_bridge_in_chain_scoped`, a local
    /// reference (each loop holds its own, [`kmodel::kref::Owner::local`]).
    ScopedCursor,
    /// `"mode_config"`: a connector's reference from its mode config.
    ModeConfig,
    /// `"drm file"`: an open DRM file's reference on its device.
    DrmFile,
    /// The name a getter's caller passes (its function, such as `"of_drm_find_bridge"`).
    Caller(Cow<'static, str>),
    /// A reference a function holds in a local variable for the length of one call (a chain
    /// walk's first bridge), named after the function. Each call holds its own (the kernel's
    /// ref_tracker gives each holder an entry), so two threads running the function hold two
    /// references: [`kmodel::kref::Owner::local`].
    Local(&'static str),
}

impl RefOwner {
    /// `"devres of <dev>"`.
    pub fn devres(k: &Kernel, dev: DeviceId) -> RefOwner {
        RefOwner::Devres(k.dev_name(dev))
    }

    /// `"next_bridge of <dev>"`: the next bridge stored by `dev`'s driver.
    pub fn next_bridge(k: &Kernel, dev: DeviceId) -> RefOwner {
        RefOwner::NextBridge(k.dev_name(dev))
    }
}

impl fmt::Display for RefOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefOwner::Devres(dev) => write!(f, "devres of {dev}"),
            RefOwner::Published => f.write_str("published"),
            RefOwner::Chain(encoder) => write!(f, "chain of {encoder}"),
            RefOwner::NextBridge(holder) => write!(f, "next_bridge of {holder}"),
            RefOwner::BridgeConnector(op) => write!(f, "bridge_connector {op}"),
            RefOwner::PanelBridge(panel) => write!(f, "panel_bridge of {panel}"),
            RefOwner::ScopedCursor => f.write_str("scoped loop cursor"),
            RefOwner::ModeConfig => f.write_str("mode_config"),
            RefOwner::DrmFile => f.write_str("drm file"),
            RefOwner::Caller(name) => f.write_str(name),
            RefOwner::Local(func) => f.write_str(func),
        }
    }
}

impl From<RefOwner> for kmodel::kref::Owner {
    fn from(o: RefOwner) -> Self {
        match o {
            RefOwner::Caller(name) => name.into(),
            RefOwner::Local(func) => kmodel::kref::Owner::local(func),
            RefOwner::ScopedCursor => kmodel::kref::Owner::local(o.to_string()),
            o => o.to_string().into(),
        }
    }
}

impl From<&RefOwner> for kmodel::kref::Owner {
    fn from(o: &RefOwner) -> Self {
        o.clone().into()
    }
}
