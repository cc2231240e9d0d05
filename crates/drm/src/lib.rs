//! bridgesim's model of the DRM bridge framework, on top of the kernel model (`kmodel`).
//!
//! Modules are named after the kernel files they model:
//! - [`rules`]: the per-release behaviour switches (upstream.md §1.2); code branches on them.
//! - [`drv`], [`managed`]: `drm_device` (kref, register, enter/exit/unplug) and drmm.
//! - [`encoder`]: the encoder and its bridge chain; `drm_encoder_cleanup`.
//! - [`connector`]: refcounted connectors and the probe helper path.
//! - [`bridge`]: `struct drm_bridge` and every API of §2.3; [`bridge::panel`] the panel_bridge.
//! - [`bridge_connector`]: the connector that stores per-op bridge references.
//! - [`cite`]: citations (`release:path:function`, `commit <id>`) of the sources a rule models.
//! - [`panel`]: `drm_panel`; [`of`]: `drm_of_find_panel_or_bridge` and the devm/drmm getters.
//! - [`atomic`]: enable/disable through the chain; the bridges' private objects.
//! - [`modeset_lock`]: the lock-all of an acquire context (its walk of the private objects);
//!   [`mode_object`]: the property ioctl that takes it.
//! - [`testing`]: small driver models (a panel, an sn65dsi83-like bridge, a display
//!   controller) for tests and demos.
//!
//! Every model function takes `&Kernel` and performs its kernel accesses as kernel-model
//! operations (each a scheduling point). The crate uses only `kmodel`'s public API.

pub mod atomic;
pub mod bridge;
pub mod bridge_connector;
pub mod cite;
pub mod connector;
pub mod drv;
pub mod encoder;
pub mod managed;
pub mod mode_object;
pub mod modeset_lock;
pub mod of;
pub mod panel;
pub mod ref_tracker;
pub mod rules;

pub use cite::Citation;
pub use ref_tracker::RefOwner;
pub use rules::{rules, set_rules, Release, Rules, RulesColumn, Switch};
