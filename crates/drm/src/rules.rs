//! The lifetime rules of each kernel release, as named switches (upstream.md §1.2).
//!
//! Framework code branches on these switches, never on a [`Release`]: a scenario may mix
//! them (a release plus a proposal under review). Two tables hold the whole
//! version-to-behaviour mapping: the release table (`releases!` below) lists the releases,
//! and the switch table (`switches!`) gives each switch the release that introduced it and,
//! if any, the one that dropped it (none for a proposal under review).
//! [`Rules::for_release`] is derived from them.
//!
//! Adding a release is one line in the release table, plus the `since`/`until` of the switches
//! it brings; every list of releases (CLI columns, `expect` keys, the demo, the docs' tables)
//! derives from [`Release::ALL`].

use std::fmt;
use std::str::FromStr;

use kmodel::Kernel;

use crate::cite::Citation;

/// Defines [`Release`] from its table: one line per release, oldest first.
macro_rules! releases {
    ($($(#[$m:meta])* $V:ident => $name:literal,)*) => {
        /// A kernel release whose bridge lifetime rules the model knows.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Release {
            $($(#[$m])* $V,)*
        }

        impl Release {
            /// Every release, oldest first.
            pub const ALL: [Release; [$($name),*].len()] = [$(Release::$V),*];

            /// Its name, as printed and parsed ("v6.15").
            pub fn name(self) -> &'static str {
                match self {
                    $(Release::$V => $name,)*
                }
            }
        }
    };
}

releases! {
    V6_15 => "v6.15",
    V6_16 => "v6.16",
    V6_17 => "v6.17",
    V6_18 => "v6.18",
    V6_19 => "v6.19",
    /// Announced as v6.20 (upstream.md §0).
    V7_0 => "v7.0",
    V7_1 => "v7.1",
    V7_2 => "v7.2",
}

impl Release {
    /// The newest release modelled.
    pub const LATEST: Release = Release::ALL[Release::ALL.len() - 1];

    /// Other names a release is known by.
    const ALIASES: [(&'static str, Release); 1] = [("v6.20", Release::V7_0)];

    /// The release names, comma-separated, for messages.
    pub fn names() -> String {
        join(Release::ALL.iter().map(|r| r.name()))
    }
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A release name that is not modelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRelease(pub String);

impl fmt::Display for UnknownRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown release `{}`: expected one of {}",
            self.0,
            Release::names()
        )?;
        for (alias, r) in Release::ALIASES {
            write!(f, " (\"{alias}\" is {r})")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownRelease {}

impl FromStr for Release {
    type Err = UnknownRelease;

    /// Accepts "v6.15" or "6.15", and the aliases ("v6.20" is the old name of v7.0,
    /// upstream.md §0).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let named = |name: &str| name.strip_prefix('v') == Some(t);
        Release::ALL
            .into_iter()
            .find(|r| named(r.name()))
            .or_else(|| {
                Release::ALIASES
                    .into_iter()
                    .find(|(a, _)| named(a))
                    .map(|(_, r)| r)
            })
            .ok_or_else(|| UnknownRelease(s.to_string()))
    }
}

/// Defines [`Rules`] (one `bool` field per switch) and [`Switch`] (one variant per field)
/// from one table: each entry is the switch's documentation (its upstream change), its field
/// name, its variant, the release that introduced it (`None`: a proposal under review) and
/// the release that dropped it (`None`: still on).
macro_rules! switches {
    ($(
        $(#[doc = $doc:literal])+
        $field:ident / $V:ident: since $since:expr, until $until:expr,
            cites [$($cite:literal),* $(,)?];
    )*) => {
        /// The bridge-lifetime behaviour switches. One per upstream change; see each field.
        ///
        /// Most switches change what the core does. A few (`clear_and_put`,
        /// `of_get_bridge_by_endpoint`, `bridge_unplug` for drivers) mark that an API exists
        /// in that release: the model's functions always exist, and driver models consult the
        /// switch to pick the variant of their era.
        ///
        /// # Invariants
        ///
        /// A `Rules` value is fixed for a whole execution (set once with [`set_rules`] before
        /// the first drm call); reading it is not a scheduling point because it is
        /// configuration, not shared kernel state.
        #[derive(
            serde::Serialize, serde::Deserialize, Copy, Clone, Debug, Default, PartialEq, Eq,
            Hash,
        )]
        pub struct Rules {
            $($(#[doc = $doc])+ pub $field: bool,)*
        }

        /// The name of one [`Rules`] switch (one variant per field, printed as the field's
        /// name).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Switch {
            $($(#[doc = $doc])+ $V,)*
        }

        impl Switch {
            /// Every switch, in the order of [`Rules`]' fields.
            pub const ALL: [Switch; [$(stringify!($V)),*].len()] = [$(Switch::$V),*];

            /// The field's name, as printed and parsed.
            pub fn name(self) -> &'static str {
                match self {
                    $(Switch::$V => stringify!($field),)*
                }
            }

            /// The release that introduced it; `None` for a proposal under review.
            pub fn since(self) -> Option<Release> {
                match self {
                    $(Switch::$V => $since,)*
                }
            }

            /// The release that dropped it, if any.
            pub fn until(self) -> Option<Release> {
                match self {
                    $(Switch::$V => $until,)*
                }
            }

            /// Its citations as written in the table: the sources (release:path:function) and
            /// upstream commits or series it models ([`Citation`]).
            pub fn cites(self) -> &'static [&'static str] {
                match self {
                    $(Switch::$V => &[$($cite),*],)*
                }
            }

            /// Its documentation: the upstream change it models, with its citation.
            pub fn doc(self) -> &'static str {
                match self {
                    $(Switch::$V => concat!($($doc, "\n"),+),)*
                }
            }
        }

        impl Rules {
            /// Whether switch `s` is on.
            pub fn get(&self, s: Switch) -> bool {
                match s {
                    $(Switch::$V => self.$field,)*
                }
            }

            /// Turn switch `s` on or off.
            pub fn set(&mut self, s: Switch, on: bool) {
                match s {
                    $(Switch::$V => self.$field = on,)*
                }
            }
        }
    };
}

use Release::*;

switches! {
    /// "drm/bridge: add devm_drm_bridge_alloc()" and "drm/bridge: add support for
    /// refcounting": bridges live in a refcounted container whose first reference belongs to
    /// the allocating device's devres.
    bridge_refcount / BridgeRefcount:
        since Some(V6_16), until None,
        cites [
            "series 20250320-drm-bridge-refcount",
            "v6.17:drivers/gpu/drm/drm_bridge.c:__devm_drm_bridge_alloc",
            "v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_put",
        ];
    /// "drm/debugfs: add top-level 'bridges' file showing all added bridges".
    debugfs_bridges / DebugfsBridges:
        since Some(V6_16), until None,
        cites [
            "series drm/debugfs: add top-level 'bridges' file showing all added bridges",
            "v6.17:drivers/gpu/drm/drm_bridge.c:allbridges_show",
        ];
    /// "drm/bridge: add a .destroy func" (85ad3e84105d): `funcs->destroy` runs at last put.
    destroy_hook / DestroyHook:
        since Some(V6_17), until None,
        cites [
            "commit 85ad3e84105d",
            "v6.17:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free",
        ];
    /// "get/put the bridge reference in drm_bridge_add/remove()" (a7748dd127ea).
    add_remove_ref / AddRemoveRef:
        since Some(V6_17), until None,
        cites [
            "commit a7748dd127ea",
            "v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_add",
            "v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove",
        ];
    /// "...in drm_bridge_attach/detach()" (94d50c1a2ca3).
    attach_detach_ref / AttachDetachRef:
        since Some(V6_17), until None,
        cites [
            "commit 94d50c1a2ca3",
            "v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach",
            "v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_detach",
        ];
    /// "add warning for bridges not using devm_drm_bridge_alloc()" (e6565e76e977): a
    /// `DRM_WARN` log line (not a WARN() splat) in drm_bridge_add when `container` is NULL, in
    /// every release from v6.17 (v6.19 added a second one in attach and kept this one).
    warn_no_container_on_add / WarnNoContainerOnAdd:
        since Some(V6_17), until None,
        cites [
            "commit e6565e76e977",
            "v6.17:drivers/gpu/drm/drm_bridge.c:drm_bridge_add",
            "v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_add",
        ];
    /// "drm/bridge: panel: convert to devm_drm_bridge_alloc() API" (6ad88bf9e74d), together
    /// with "drm/bridge: add devm_drm_put_bridge()" (5164553d739e) used by
    /// drm_panel_bridge_remove.
    panel_bridge_alloc / PanelBridgeAlloc:
        since Some(V6_17), until None,
        cites [
            "commit 6ad88bf9e74d",
            "commit 5164553d739e",
            "v6.17:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_add_typed",
            "v6.17:drivers/gpu/drm/bridge/panel.c:drm_panel_bridge_remove",
            "v6.17:drivers/gpu/drm/drm_bridge.c:devm_drm_put_bridge",
        ];
    /// "drm_bridge_chain_get_first_bridge() returns a reference" (v6.18, §1.2).
    first_bridge_counted / FirstBridgeCounted:
        since Some(V6_18), until None,
        cites [
            "v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_first_bridge",
        ];
    /// "drm_bridge_get_prev_bridge() returns a reference" (v6.18, §1.2).
    prev_bridge_counted / PrevBridgeCounted:
        since Some(V6_18), until None,
        cites [
            "v6.18:include/drm/drm_bridge.h:drm_bridge_get_prev_bridge",
        ];
    /// "add drm_bridge_chain_get_last_bridge()" and "add drm_bridge_is_last()": the
    /// last-bridge getter exists and is counted from v6.18 (upstream.md §0.0; §1.2 wrongly
    /// says v6.19). Off: the function does not exist and the model returns a borrowed pointer.
    last_bridge_counted / LastBridgeCounted:
        since Some(V6_18), until None,
        cites [
            "v6.18:include/drm/drm_bridge.h:drm_bridge_chain_get_last_bridge",
            "v6.18:include/drm/drm_bridge.h:drm_bridge_is_last",
        ];
    /// "get the bridge returned by drm_bridge_get_next_bridge()" (61aa4f7a6008).
    next_bridge_counted / NextBridgeCounted:
        since Some(V6_19), until None,
        cites [
            "commit 61aa4f7a6008",
            "v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge",
        ];
    /// "add drm_for_each_bridge_in_chain_scoped()" (e46efc6a7d28), "...from()" (78f4eec62097)
    /// and "remove drm_for_each_bridge_in_chain()" (2f08387a444c): chain loops hold a
    /// reference on their cursor. Off: the old unreferenced loop.
    scoped_iteration / ScopedIteration:
        since Some(V6_19), until None,
        cites [
            "commit e46efc6a7d28",
            "commit 78f4eec62097",
            "commit 2f08387a444c",
            "v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge_and_put",
        ];
    /// "refcount last_bridge in drm_atomic_bridge_chain_select_bus_fmts()" (v6.19, §1.2): a
    /// `drm_bridge_get` on the raw last chain entry, put at the end of the walk.
    select_bus_fmts_last_ref / SelectBusFmtsLastRef:
        since Some(V6_19), until None,
        cites ["v6.19:drivers/gpu/drm/drm_bridge.c:drm_atomic_bridge_chain_select_bus_fmts"];
    /// "add list of removed refcounted bridges" (17805a15d175): remove moves to
    /// `bridge_lingering_list`, alloc does `INIT_LIST_HEAD`, free unlinks, re-add unlinks.
    lingering_list / LingeringList:
        since Some(V6_19), until None,
        cites [
            "commit 17805a15d175",
            "v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_remove",
            "v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_add",
            "v6.19:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free",
            "v6.19:drivers/gpu/drm/drm_bridge.c:__devm_drm_bridge_alloc",
        ];
    /// "drm/debugfs: show lingering bridges" (27312a8f2441).
    debugfs_lingering / DebugfsLingering:
        since Some(V6_19), until None,
        cites [
            "commit 27312a8f2441",
            "v6.19:drivers/gpu/drm/drm_bridge.c:allbridges_show",
        ];
    /// "bridge-connector: get/put the stored bridges" (13adb8c97846, re-applied after
    /// b4027536933f) and "get/put the panel_bridge" (a3f433c57c46): references held until
    /// drmm release.
    bridge_connector_refs / BridgeConnectorRefs:
        since Some(V6_19), until None,
        cites [
            "commit 13adb8c97846",
            "commit a3f433c57c46",
            "v6.19:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_init",
            "v6.19:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_put_bridges",
        ];
    /// "add warning for bridges attached without being added" (76f1a9711b83): the
    /// "Missing drm_bridge_add() before attach" `DRM_WARN` log line.
    warn_attach_without_add / WarnAttachWithoutAdd:
        since Some(V6_19), until None,
        cites [
            "commit 76f1a9711b83",
            "v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach",
        ];
    /// "add warning for bridges using neither devm_drm_bridge_alloc() nor drm_bridge_add()"
    /// (9347f2fbb018): a `DRM_WARN` log line in drm_bridge_attach when `container` is NULL.
    warn_no_container_on_attach / WarnNoContainerOnAttach:
        since Some(V6_19), until None,
        cites [
            "commit 9347f2fbb018",
            "v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach",
        ];
    /// "drm/bridge: add of_drm_find_and_get_bridge()" (293a8fd7721a) and "make
    /// of_drm_find_bridge() a wrapper of of_drm_find_and_get_bridge()" (5d7cb36254b5).
    of_find_and_get / OfFindAndGet:
        since Some(V7_0), until None,
        cites [
            "commit 293a8fd7721a",
            "commit 5d7cb36254b5",
            "v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_and_get_bridge",
            "v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_bridge",
        ];
    /// "add next_bridge pointer to struct drm_bridge" (3fdeae134ba9): put in
    /// `__drm_bridge_free` right after `.destroy`.
    next_bridge_field / NextBridgeField:
        since Some(V7_0), until None,
        cites [
            "commit 3fdeae134ba9",
            "v7.0:drivers/gpu/drm/drm_bridge.c:__drm_bridge_free",
        ];
    /// "drm/bridge: add drm_bridge_unplug() and drm_bridge_enter/exit()" (d36137085a4a).
    bridge_unplug / BridgeUnplug:
        since Some(V7_0), until None,
        cites [
            "commit d36137085a4a",
            "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_unplug",
            "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_enter",
            "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_exit",
        ];
    /// "drm/bridge: add drm_bridge_clear_and_put()" (8f3c83720555).
    clear_and_put / ClearAndPut:
        since Some(V7_1), until None,
        cites [
            "commit 8f3c83720555",
            "v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_clear_and_put",
        ];
    /// bridge_connector in v7.1: a later bridge with OP_EDID or OP_MODES clears both earlier
    /// holders (edid and modes) before storing itself in the ones it offers, so the last such
    /// bridge alone answers get_modes (upstream.md §0.0). Off: each op keeps its own last
    /// bridge.
    bridge_connector_edid_modes / BridgeConnectorEdidModes:
        since Some(V7_1), until None,
        cites [
            "v7.1:drivers/gpu/drm/display/drm_bridge_connector.c:drm_bridge_connector_init",
        ];
    /// "protect encoder bridge chain with a mutex" (series v4, upstream.md §0.0):
    /// `encoder->bridge_chain_mutex` held in attach (insertion, error unlink), while cutting the
    /// chain in `drm_encoder_cleanup`, by the scoped loops (unlocked before the final put), by
    /// the from-loops of mode_valid, mode_set and chain_enable, and by chain_disable,
    /// chain_check, pre_enable and post_disable.
    chain_mutex / ChainMutex:
        since Some(V7_2), until None,
        cites [
            "series 20251111-drm-bridge-alloc-encoder-chain-mutex",
        ];
    /// "drm/bridge: drm_bridge_put(): ignore ERR_PTR" (55bb2b137b6d).
    put_ignores_err_ptr / PutIgnoresErrPtr:
        since Some(V7_2), until None,
        cites [
            "commit 55bb2b137b6d",
        ];
    /// "add of_drm_get_bridge_by_endpoint()" (03d1078112fd).
    of_get_bridge_by_endpoint / OfGetBridgeByEndpoint:
        since Some(V7_2), until None,
        cites [
            "commit 03d1078112fd",
        ];
    /// "drm: of: forbid bridge-only calls to drm_of_find_panel_or_bridge()" (0d5da248ea2d).
    forbid_bridge_only_find_panel_or_bridge / ForbidBridgeOnlyFindPanelOrBridge:
        since Some(V7_2), until None,
        cites [
            "commit 0d5da248ea2d",
        ];
    /// Proposal: Albert Esteve's 2026 patch (§5.11): the panel_bridge holds a
    /// `drm_panel_get()` reference, put in drm_panel_bridge_remove /
    /// devm_drm_panel_bridge_release.
    panel_bridge_panel_ref / PanelBridgePanelRef:
        since None, until None,
        cites [
            "series drm/bridge: panel: hold a drm_panel reference (Albert Esteve, 2026)",
        ];
    /// Proposal: core-side enter/exit (§8.3): chain helpers skip callbacks of unplugged
    /// bridges.
    core_enter_exit / CoreEnterExit:
        since None, until None,
        cites [
            "series core-side drm_bridge_enter/exit (roadmap item 2, no patch yet)",
        ];
    /// Proposal: disable the pipeline on unplug (§6.14): the chain feeding the bridge is
    /// disabled *before* `unplugged` is set.
    disable_pipeline_on_unplug / DisablePipelineOnUnplug:
        since None, until None,
        cites [
            "series disable the pipeline on unplug (roadmap item 2, no patch yet)",
        ];
    /// Proposal: "drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal from
    /// list" (v3 on 7.0-rc3, §5.17, listed "Not merged" in §1.2): the patch puts
    /// `DRM_MODESET_LOCK_ALL_BEGIN`/`_END` on the object's device around the `list_del` of
    /// `drm_atomic_private_obj_fini`, so a concurrent lock-all either drops every lock before
    /// the unlink or walks the list after it (the kind of locking upstream.md could only
    /// infer; the v3 mail shows it).
    private_obj_fini_locking / PrivateObjFiniLocking:
        since None, until None,
        cites [
            "series drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal from list v3",
        ];
    /// Superseded: the hot-pluggable bridge series ("Add support for hot-pluggable DRM
    /// bridges" v4, 2024, upstream.md §1.1, §1.2 "Not merged", §8.5), set aside at LPC 2024
    /// for the refcounting plan whose first part v6.16 merged: a hotplug-bridge before the
    /// removable part of the pipeline hears of a bridge's removal (`bridge_event_notify`,
    /// before the remove) and detaches the chain from that bridge to its end at runtime
    /// (`drm_encoder_cleanup_from`), while the `drm_device` and the rest of the chain live on.
    /// The model runs that detach from `drm_bridge_remove` of any attached bridge, as if a
    /// hotplug-bridge sat right before it; with `chain_mutex` the cut takes the mutex as
    /// `drm_encoder_cleanup` does (inference: v4 predates the mutex).
    hotplug_bridge / HotplugBridge:
        since None, until Some(V6_16),
        cites [
            "series Add support for hot-pluggable DRM bridges v4",
        ];
    /// Superseded: the chain-mutex series before its fix for upstream.md §5.7 (the "ABBA
    /// deadlock in encoder cleanup"): `drm_encoder_cleanup` detaches every bridge with
    /// `bridge_chain_mutex` held, instead of cutting the chain onto a temporary list under the
    /// mutex and detaching without it as the merged series does. Only meaningful with
    /// `chain_mutex`; never on in a release, and not a proposal: a column names it
    /// (`v7.2+encoder_cleanup_detach_locked`).
    encoder_cleanup_detach_locked / EncoderCleanupDetachLocked:
        since None, until Some(V7_2),
        cites [
            "series 20251111-drm-bridge-alloc-encoder-chain-mutex",
        ];
}

impl Switch {
    /// The proposals under review: the switches no release turns on (upstream.md §1.2
    /// "Not merged", §5.11, §5.17, §6.14, §8.3).
    pub fn proposals() -> impl Iterator<Item = Switch> {
        Switch::ALL.into_iter().filter(|s| s.is_proposal())
    }

    /// Whether it is a proposal under review (no release introduced it, none dropped it).
    pub fn is_proposal(self) -> bool {
        self.since().is_none() && self.until().is_none()
    }

    /// Whether it is a superseded revision or design: no release has it, and its `until` is
    /// the release that merged what replaced it. Never on in a release or with `+proposals`;
    /// a column may name it.
    pub fn is_superseded(self) -> bool {
        self.since().is_none() && self.until().is_some()
    }

    /// Whether `release` has it on: introduced at or before `release`, not dropped since.
    pub fn on_in(self, release: Release) -> bool {
        self.since().is_some_and(|s| release >= s) && self.until().is_none_or(|u| release < u)
    }

    /// Its citations, parsed ([`Switch::cites`]). The table is code: a citation that does not
    /// parse is a host bug, caught by the crate's tests (`tests/citations.rs`).
    pub fn citations(self) -> Vec<Citation> {
        self.cites()
            .iter()
            .map(|c| {
                c.parse()
                    .unwrap_or_else(|e| panic!("switch table: {}: {e}", self.name()))
            })
            .collect()
    }

    /// The switch names, comma-separated, for messages.
    pub fn names() -> String {
        join(Switch::ALL.iter().map(|s| s.name()))
    }
}

impl fmt::Display for Switch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A switch name that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownSwitch(pub String);

impl fmt::Display for UnknownSwitch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown rule switch `{}`: expected one of {}",
            self.0,
            Switch::names()
        )
    }
}

impl std::error::Error for UnknownSwitch {}

impl FromStr for Switch {
    type Err = UnknownSwitch;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Switch::ALL
            .into_iter()
            .find(|w| w.name() == s.trim())
            .ok_or_else(|| UnknownSwitch(s.to_string()))
    }
}

impl Rules {
    /// The switches of `release`, derived from the switch table (no proposal is ever on).
    pub fn for_release(release: Release) -> Rules {
        let mut r = Rules::default();
        for s in Switch::ALL {
            r.set(s, s.on_in(release));
        }
        r
    }
}

/// What a rules column adds to its release: every proposal, or one switch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Extra {
    /// `+proposals`: every [`Switch::proposals`].
    Proposals,
    Switch(Switch),
}

impl Extra {
    const PROPOSALS: &'static str = "proposals";
}

impl fmt::Display for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Extra::Proposals => f.write_str(Extra::PROPOSALS),
            Extra::Switch(s) => s.fmt(f),
        }
    }
}

/// A rules column: a release, maybe with switches on top (`v7.2`, `v7.2+proposals`,
/// `v7.0+panel_bridge_panel_ref`). It prints in one canonical form (`6.15` prints as
/// `v6.15`), so two spellings of one column compare and look up equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RulesColumn {
    release: Release,
    extra: Vec<Extra>,
}

/// A rules column that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnError {
    Release(UnknownRelease),
    /// A switch that does not exist (`proposals` is also accepted).
    Switch(UnknownSwitch),
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnError::Release(e) => e.fmt(f),
            ColumnError::Switch(UnknownSwitch(s)) => write!(
                f,
                "unknown rule switch `{s}`: expected `{}` or one of {}",
                Extra::PROPOSALS,
                Switch::names()
            ),
        }
    }
}

impl std::error::Error for ColumnError {}

impl RulesColumn {
    /// The column of `release` alone.
    pub fn new(release: Release) -> RulesColumn {
        RulesColumn {
            release,
            extra: Vec::new(),
        }
    }

    /// `self` with `extra` on top.
    pub fn with(mut self, extra: Extra) -> RulesColumn {
        self.extra.push(extra);
        self
    }

    /// Every release alone, oldest first.
    pub fn every_release() -> Vec<RulesColumn> {
        Release::ALL.into_iter().map(RulesColumn::new).collect()
    }

    /// Parse a comma-separated list of columns; `all` stands for every release.
    pub fn parse_list(s: &str) -> Result<Vec<RulesColumn>, ColumnError> {
        let mut out = Vec::new();
        for c in s.split(',').map(str::trim) {
            if c == "all" {
                out.extend(RulesColumn::every_release());
            } else {
                out.push(c.parse()?);
            }
        }
        Ok(out)
    }

    pub fn release(&self) -> Release {
        self.release
    }

    /// The switches it forces on, proposals expanded.
    pub fn switches(&self) -> impl Iterator<Item = Switch> + '_ {
        self.extra.iter().flat_map(|e| match e {
            Extra::Proposals => Switch::proposals().collect::<Vec<_>>(),
            Extra::Switch(s) => vec![*s],
        })
    }

    /// `base` with this column's switches turned on.
    pub fn apply(&self, mut base: Rules) -> Rules {
        for s in self.switches() {
            base.set(s, true);
        }
        base
    }

    /// The rules of this column: its release's, with its switches on.
    pub fn rules(&self) -> Rules {
        self.apply(Rules::for_release(self.release))
    }
}

impl fmt::Display for RulesColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.release.fmt(f)?;
        for e in &self.extra {
            write!(f, "+{e}")?;
        }
        Ok(())
    }
}

impl FromStr for RulesColumn {
    type Err = ColumnError;

    /// `RELEASE[+SWITCH|+proposals]...`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split('+');
        let release = parts
            .next()
            .unwrap_or("")
            .parse()
            .map_err(ColumnError::Release)?;
        let mut col = RulesColumn::new(release);
        for p in parts {
            let p = p.trim();
            let e = if p == Extra::PROPOSALS {
                Extra::Proposals
            } else {
                Extra::Switch(p.parse().map_err(ColumnError::Switch)?)
            };
            col = col.with(e);
        }
        Ok(col)
    }
}

/// The kernel-wide active rules.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct ActiveRules(Rules);

/// Choose the rules of this execution. Call before any other drm function; choosing two
/// different rule sets in one execution panics (a host-program bug).
pub fn set_rules(k: &Kernel, rules: Rules) {
    let got = k.global(|_| ActiveRules(rules));
    assert_eq!(
        got.0, rules,
        "drm rules were already chosen for this execution"
    );
}

/// The rules of this execution; those of [`Release::LATEST`] if none were chosen.
pub fn rules(k: &Kernel) -> Rules {
    k.global(|_| ActiveRules(Rules::for_release(Release::LATEST)))
        .0
}
