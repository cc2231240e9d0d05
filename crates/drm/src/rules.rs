//! The lifetime rules of each kernel release, as named switches (upstream.md §1.2).
//!
//! Framework code branches on these switches, never on a [`Release`]: a scenario may mix
//! them (a release plus a proposal under review). [`Rules::for_release`] is the only place
//! that maps versions to behaviour.

use std::fmt;
use std::str::FromStr;

use kmodel::Kernel;

/// A kernel release whose bridge lifetime rules the model knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Release {
    V6_15,
    V6_16,
    V6_17,
    V6_18,
    V6_19,
    V7_0,
    V7_1,
    V7_2,
}

impl Release {
    /// Every release, oldest first.
    pub const ALL: [Release; 8] = [
        Release::V6_15,
        Release::V6_16,
        Release::V6_17,
        Release::V6_18,
        Release::V6_19,
        Release::V7_0,
        Release::V7_1,
        Release::V7_2,
    ];

    /// The newest release modelled.
    pub const LATEST: Release = Release::V7_2;

    fn name(self) -> &'static str {
        match self {
            Release::V6_15 => "v6.15",
            Release::V6_16 => "v6.16",
            Release::V6_17 => "v6.17",
            Release::V6_18 => "v6.18",
            Release::V6_19 => "v6.19",
            Release::V7_0 => "v7.0",
            Release::V7_1 => "v7.1",
            Release::V7_2 => "v7.2",
        }
    }
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
            "unknown release {:?} (known: v6.15 ... v7.2; \"v6.20\" is v7.0)",
            self.0
        )
    }
}

impl std::error::Error for UnknownRelease {}

impl FromStr for Release {
    type Err = UnknownRelease;

    /// Accepts "v6.15" or "6.15"; "v6.20" is the old name of v7.0 (upstream.md §0).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let t = if t == "6.20" { "7.0" } else { t };
        Release::ALL
            .into_iter()
            .find(|r| &r.name()[1..] == t)
            .ok_or_else(|| UnknownRelease(s.to_string()))
    }
}

/// The bridge-lifetime behaviour switches. One per upstream change; see each field.
///
/// Most switches change what the core does. A few (`clear_and_put`,
/// `of_get_bridge_by_endpoint`, `bridge_unplug` for drivers) mark that an API exists in
/// that release: the model's functions always exist, and driver models consult the switch
/// to pick the variant of their era.
///
/// # Invariants
///
/// A `Rules` value is fixed for a whole execution (set once with [`set_rules`] before the first
/// drm call); reading it is not a scheduling point because it is configuration, not shared
/// kernel state.
#[derive(
    serde::Serialize, serde::Deserialize, Copy, Clone, Debug, Default, PartialEq, Eq, Hash,
)]
pub struct Rules {
    // ---- v6.16 ----
    /// "drm/bridge: add devm_drm_bridge_alloc()" and "drm/bridge: add support for
    /// refcounting": bridges live in a refcounted container whose first reference belongs to
    /// the allocating device's devres.
    pub bridge_refcount: bool,
    /// "drm/debugfs: add top-level 'bridges' file showing all added bridges".
    pub debugfs_bridges: bool,
    // ---- v6.17 ----
    /// "drm/bridge: add a .destroy func" (85ad3e84105d): `funcs->destroy` runs at last put.
    pub destroy_hook: bool,
    /// "get/put the bridge reference in drm_bridge_add/remove()" (a7748dd127ea).
    pub add_remove_ref: bool,
    /// "...in drm_bridge_attach/detach()" (94d50c1a2ca3).
    pub attach_detach_ref: bool,
    /// "add warning for bridges not using devm_drm_bridge_alloc()" (e6565e76e977): WARN in
    /// drm_bridge_add when `container` is NULL. v6.17–v6.18 only: v6.19 moved the check to
    /// attach (see `warn_no_container_on_attach`).
    pub warn_no_container_on_add: bool,
    /// "drm/bridge: panel: convert to devm_drm_bridge_alloc() API" (6ad88bf9e74d), together
    /// with "drm/bridge: add devm_drm_put_bridge()" (5164553d739e) used by
    /// drm_panel_bridge_remove.
    pub panel_bridge_alloc: bool,
    // ---- v6.18 ----
    /// "drm_bridge_chain_get_first_bridge() returns a reference" (v6.18, §1.2).
    pub first_bridge_counted: bool,
    /// "drm_bridge_get_prev_bridge() returns a reference" (v6.18, §1.2).
    pub prev_bridge_counted: bool,
    // ---- v6.19 ----
    /// "add drm_for_each_bridge_in_chain_scoped()" (e46efc6a7d28), "...from()" (78f4eec62097)
    /// and "remove drm_for_each_bridge_in_chain()" (2f08387a444c): chain loops hold a
    /// reference on their cursor. Off: the old unreferenced loop.
    pub scoped_iteration: bool,
    /// "get the bridge returned by drm_bridge_get_next_bridge()" (61aa4f7a6008) and "add
    /// drm_bridge_chain_get_last_bridge()" (counted).
    pub next_last_bridge_counted: bool,
    /// "add list of removed refcounted bridges" (17805a15d175): remove moves to
    /// `bridge_lingering_list`, alloc does `INIT_LIST_HEAD`, free unlinks, re-add unlinks.
    pub lingering_list: bool,
    /// "drm/debugfs: show lingering bridges" (27312a8f2441).
    pub debugfs_lingering: bool,
    /// "bridge-connector: get/put the stored bridges" (13adb8c97846, re-applied after
    /// b4027536933f) and "get/put the panel_bridge" (a3f433c57c46): references held until
    /// drmm release.
    pub bridge_connector_refs: bool,
    /// "add warning for bridges attached without being added" (76f1a9711b83).
    pub warn_attach_without_add: bool,
    /// "add warning for bridges using neither devm_drm_bridge_alloc() nor drm_bridge_add()"
    /// (9347f2fbb018): WARN in drm_bridge_attach when `container` is NULL.
    pub warn_no_container_on_attach: bool,
    // ---- v7.0 ----
    /// "drm/bridge: add of_drm_find_and_get_bridge()" (293a8fd7721a) and "make
    /// of_drm_find_bridge() a wrapper of of_drm_find_and_get_bridge()" (5d7cb36254b5).
    pub of_find_and_get: bool,
    /// "add next_bridge pointer to struct drm_bridge" (3fdeae134ba9): put in
    /// `__drm_bridge_free` right after `.destroy`.
    pub next_bridge_field: bool,
    /// "drm/bridge: add drm_bridge_unplug() and drm_bridge_enter/exit()" (d36137085a4a).
    pub bridge_unplug: bool,
    // ---- v7.1 ----
    /// "drm/bridge: add drm_bridge_clear_and_put()" (8f3c83720555).
    pub clear_and_put: bool,
    // ---- v7.2 ----
    /// "protect encoder bridge chain with a mutex": `encoder->bridge_chain_mutex` in the
    /// scoped loops, pre_enable/post_disable and the cut-then-detach `drm_encoder_cleanup`.
    pub chain_mutex: bool,
    /// "drm/bridge: drm_bridge_put(): ignore ERR_PTR" (55bb2b137b6d).
    pub put_ignores_err_ptr: bool,
    /// "add of_drm_get_bridge_by_endpoint()" (03d1078112fd).
    pub of_get_bridge_by_endpoint: bool,
    /// "drm: of: forbid bridge-only calls to drm_of_find_panel_or_bridge()" (0d5da248ea2d).
    pub forbid_bridge_only_find_panel_or_bridge: bool,
    // ---- proposals under review (never set by a release) ----
    /// Albert Esteve's 2026 patch (§5.11): the panel_bridge holds a `drm_panel_get()`
    /// reference, put in drm_panel_bridge_remove / devm_drm_panel_bridge_release.
    pub panel_bridge_panel_ref: bool,
    /// Core-side enter/exit (§8.3): chain helpers skip callbacks of unplugged bridges.
    pub core_enter_exit: bool,
    /// Disable the pipeline on unplug (§6.14): the chain feeding the bridge is disabled
    /// *before* `unplugged` is set.
    pub disable_pipeline_on_unplug: bool,
    /// "drm/atomic: drm_atomic_private_obj_fini: protect private_obj removal from list"
    /// (v3 on 7.0-rc3, §5.17): the private object's removal takes the modeset locks
    /// (inference on the kind of locking, as upstream.md says).
    pub private_obj_fini_locking: bool,
}

impl Rules {
    /// The switches of `release` (cumulative; no proposal is ever on).
    pub fn for_release(release: Release) -> Rules {
        let at = |r: Release| release >= r;
        Rules {
            bridge_refcount: at(Release::V6_16),
            debugfs_bridges: at(Release::V6_16),
            destroy_hook: at(Release::V6_17),
            add_remove_ref: at(Release::V6_17),
            attach_detach_ref: at(Release::V6_17),
            warn_no_container_on_add: at(Release::V6_17) && !at(Release::V6_19),
            panel_bridge_alloc: at(Release::V6_17),
            first_bridge_counted: at(Release::V6_18),
            prev_bridge_counted: at(Release::V6_18),
            scoped_iteration: at(Release::V6_19),
            next_last_bridge_counted: at(Release::V6_19),
            lingering_list: at(Release::V6_19),
            debugfs_lingering: at(Release::V6_19),
            bridge_connector_refs: at(Release::V6_19),
            warn_attach_without_add: at(Release::V6_19),
            warn_no_container_on_attach: at(Release::V6_19),
            of_find_and_get: at(Release::V7_0),
            next_bridge_field: at(Release::V7_0),
            bridge_unplug: at(Release::V7_0),
            clear_and_put: at(Release::V7_1),
            chain_mutex: at(Release::V7_2),
            put_ignores_err_ptr: at(Release::V7_2),
            of_get_bridge_by_endpoint: at(Release::V7_2),
            forbid_bridge_only_find_panel_or_bridge: at(Release::V7_2),
            panel_bridge_panel_ref: false,
            core_enter_exit: false,
            disable_pipeline_on_unplug: false,
            private_obj_fini_locking: false,
        }
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
