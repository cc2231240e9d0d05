//! Driver variants: the lifetime pattern of each kernel era, for drivers converted upstream.
//!
//! The rules pick the default (real-pipelines.md §4: pre-conversion, converted, then the
//! next_bridge/unplug-aware version); a scenario's `[drivers]` table can override it per
//! compatible string.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use drm::rules::rules;
use kmodel::{Kernel, Obj};

/// A driver's era.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Variant {
    /// Before v6.16: `devm_kzalloc` container, raw stored pointers, memory freed at unbind.
    PreRefcount,
    /// v6.16–v6.19: `devm_drm_bridge_alloc`, counted where the core counts, raw stored
    /// next-bridge pointers.
    Refcounted,
    /// v7.0+: counted lookups stored in `bridge->next_bridge`, `drm_bridge_unplug` and
    /// enter/exit where the driver was converted.
    NextBridge,
}

impl Variant {
    pub const ALL: [Variant; 3] = [
        Variant::PreRefcount,
        Variant::Refcounted,
        Variant::NextBridge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::PreRefcount => "pre-refcount",
            Variant::Refcounted => "refcounted",
            Variant::NextBridge => "next-bridge",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Variant::ALL.into_iter().find(|v| v.name() == s).ok_or_else(|| {
            format!("unknown driver variant `{s}`, expected one of: pre-refcount, refcounted, next-bridge")
        })
    }
}

#[derive(Copy, Clone)]
struct Overrides(Obj<BTreeMap<String, Variant>>);

fn overrides(k: &Kernel) -> Overrides {
    k.global(|k| Overrides(k.static_obj("driver variants", "driver variants", BTreeMap::new())))
}

/// Force `variant` for the driver matching `compatible`. Setup, before drivers register.
pub fn set_variant(k: &Kernel, compatible: &str, variant: Variant) {
    k.write(overrides(k).0, |o| {
        o.insert(compatible.to_string(), variant)
    });
}

/// The variant of the driver bound with `compatible` (any of its table's strings): the
/// override if one is set, else the newest the rules allow. An override never goes past what
/// the core offers (a `next-bridge` driver needs `next_bridge` and counted lookups, a
/// `refcounted` one needs `devm_drm_bridge_alloc`); an older driver on newer rules is fine.
pub fn variant(k: &Kernel, table: &[&str]) -> Variant {
    let r = rules(k);
    // cite: commit 3fdeae134ba9; commit 293a8fd7721a
    let next_bridge_era = r.next_bridge_field && r.of_find_and_get;
    // cite: series 20250320-drm-bridge-refcount
    let newest = if !r.bridge_refcount {
        Variant::PreRefcount
    } else if next_bridge_era {
        Variant::NextBridge
    } else {
        Variant::Refcounted
    };
    match k.read(overrides(k).0, |o| {
        table.iter().find_map(|c| o.get(*c).copied())
    }) {
        Some(v) => v.min(newest),
        None => newest,
    }
}

/// The variant a scenario forced for the driver matching `table`, if any (the data drivers
/// map it to a release's description).
pub fn overridden(k: &Kernel, table: &[&str]) -> Option<Variant> {
    k.read(overrides(k).0, |o| {
        table.iter().find_map(|c| o.get(*c).copied())
    })
}
