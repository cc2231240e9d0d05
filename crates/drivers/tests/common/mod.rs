//! Shared helpers of the driver tests: compile a test tree, boot it under a release's rules,
//! look devices and bridges up by path, tear everything down.

#![allow(dead_code)]

use drivers::registry::{self, Entry};
use drm::bridge::{drm_bridge_owners, DrmBridge};
use drm::rules::{set_rules, Release, Rules};
use kmodel::device::DeviceId;
use kmodel::of::DeviceTree;
use kmodel::{Config, Kernel, ThreadOrder, Violation, ViolationKind};

pub fn compile(name: &str, src: &str) -> DeviceTree {
    dts::compile_bytes(
        name,
        None,
        src.as_bytes().to_vec(),
        &dts::Options::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e:?}"))
    .tree
}

/// Every model except those whose driver name is in `late`, and those.
pub fn split(late: &[&str]) -> (Vec<Entry>, Vec<Entry>) {
    registry::all()
        .into_iter()
        .partition(|e| !late.contains(&e.driver.name()))
}

/// Boot `tree` under `release`: rules, live tree, the drivers not in `late`, populate; then
/// `body`. Returns the kernel after the run (violations, leak check).
pub fn boot(
    release: Release,
    tree: DeviceTree,
    late: &'static [&'static str],
    body: impl FnOnce(&Kernel) + 'static,
) -> Kernel {
    boot_with(release, tree, late, &[], body)
}

/// [`boot`] with description overrides (compatible, `DRIVER/RELEASE`), as a scenario's
/// `[drivers]` table sets them.
pub fn boot_with(
    release: Release,
    tree: DeviceTree,
    late: &'static [&'static str],
    descriptions: &'static [(&'static str, &'static str)],
    body: impl FnOnce(&Kernel) + 'static,
) -> Kernel {
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, move |k| {
        set_rules(k, Rules::for_release(release));
        for (compatible, name) in descriptions {
            drivers::data::set_description(k, compatible, name);
        }
        k.of_set_live_tree(tree);
        let (early, _) = split(late);
        registry::register(k, early);
        k.of_platform_populate();
        body(k);
    });
    k
}

/// Register the drivers held back by [`boot`].
pub fn register_late(k: &Kernel, late: &[&str]) {
    let (_, l) = split(late);
    registry::register(k, l);
}

pub fn dev(k: &Kernel, path: &str) -> Option<DeviceId> {
    let n = k.of_tree_peek(|t| t.of_find_node_by_path(path))?;
    k.of_find_device_by_node(n)
}

pub fn bound(k: &Kernel, path: &str) -> bool {
    dev(k, path).is_some_and(|d| k.device_is_bound(d))
}

pub fn deferred(k: &Kernel, path: &str) -> bool {
    dev(k, path).is_some_and(|d| k.device_is_deferred(d))
}

pub fn bridge(k: &Kernel, path: &str) -> DrmBridge {
    let d = dev(k, path).unwrap_or_else(|| panic!("no device for {path}"));
    drivers::common::drvdata_bridge(k, d).unwrap_or_else(|| panic!("{path} has no bridge"))
}

/// The owners of the bridge of `path`, sorted, as "owner" or "owner xN".
pub fn owners(k: &Kernel, path: &str) -> Vec<String> {
    let mut v: Vec<String> = drm_bridge_owners(k, bridge(k, path))
        .into_iter()
        .map(|(o, n)| if n == 1 { o } else { format!("{o} x{n}") })
        .collect();
    v.sort();
    v
}

/// Unbind and delete every device: the display controllers in `first` (paths) first, then the
/// rest in reverse creation order.
pub fn unbind_all(k: &Kernel, first: &[&str]) {
    for p in first {
        if let Some(d) = dev(k, p) {
            k.device_del(d);
        }
    }
    for d in k.devices().into_iter().rev() {
        if k.dev_of_node(d)
            .is_some_and(|n| k.of_find_device_by_node(n) == Some(d))
        {
            k.device_del(d);
        }
    }
}

pub fn kinds(v: &[Violation]) -> Vec<ViolationKind> {
    v.iter().map(|x| x.kind).collect()
}

pub fn assert_clean(k: &Kernel, what: &str) {
    let v = k.violations();
    assert!(
        v.is_empty(),
        "{what}: {}",
        v.iter().map(|x| k.render(x)).collect::<Vec<_>>().join("\n")
    );
}
