//! Leaks with counts: with `teardown = false` the final check reports each type and name of
//! object still allocated once, with how many there are and the owners of their references,
//! and `compare` shows that count. `tests/leaks/consumer-rebind.toml` rebinds the panel's
//! consumer N times; each rebind leaves one more panel_bridge on the panel's devres, so the
//! count grows by exactly N over the same scenario without its rebinds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bridgesim::scenario::{Prepared, Scenario, Step};
use drm::{Release, Switch};
use kmodel::{leak_count, ViolationKind};

const PANEL_BRIDGE: &str = "struct panel_bridge panel_bridge /panel";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/leaks/consumer-rebind.toml")
}

/// The panel_bridges still allocated at the end of one run in thread order, and the lines
/// that list them and their owners.
fn panel_bridges(p: &Arc<Prepared>, release: Release) -> (usize, Vec<String>) {
    let k = p.run_once(p.rules(Some(release)).unwrap());
    let leaks: Vec<_> = k
        .violations()
        .into_iter()
        .filter(|v| v.kind == ViolationKind::Leak)
        .filter(|v| v.obj.map(|o| k.describe(o)).as_deref() == Some(PANEL_BRIDGE))
        .collect();
    assert_eq!(leaks.len(), 1, "one leak per type and name under {release}");
    let v = &leaks[0];
    let n = leak_count(&v.message).expect("a leak message");
    // The details: a header, one line per object, then the owners summed (when the objects
    // have counted references).
    assert_eq!(
        v.details[0],
        format!("{n} x {PANEL_BRIDGE} still allocated:")
    );
    (n, v.details[1..].to_vec())
}

fn is_rebind(s: &Step) -> bool {
    matches!(s, Step::Bind { .. } | Step::Unbind { .. })
}

#[test]
fn each_rebind_of_the_consumer_leaves_one_more_panel_bridge_on_the_panels_devres() {
    let sc = Scenario::load(&data()).unwrap();
    let rebinds = sc.file.threads[0]
        .steps
        .iter()
        .filter(|s| matches!(s.get_ref(), Step::Bind { .. }))
        .count();
    assert!(rebinds >= 2, "the data rebinds more than once");
    let mut without = sc.clone();
    without.file.threads[0]
        .steps
        .retain(|s| !is_rebind(s.get_ref()));
    let with = Arc::new(Prepared::new(sc).unwrap());
    let without = Arc::new(Prepared::new(without).unwrap());
    for release in Release::ALL {
        let (base, _) = panel_bridges(&without, release);
        let (n, lines) = panel_bridges(&with, release);
        assert_eq!(n, base + rebinds, "under {release}");
        if Switch::PanelBridgeAlloc.on_in(release) {
            // A counted container: every one still holds the allocation reference on the
            // panel's devres.
            assert_eq!(lines.len(), n + 1, "{lines:?}");
            assert!(
                lines[n].starts_with(&format!("references by owner: devres of /panel (x{n})")),
                "under {release}: {lines:?}"
            );
        } else {
            // devm_kzalloc memory of the panel's device: no references to own.
            assert_eq!(lines.len(), n, "{lines:?}");
            assert!(lines
                .iter()
                .all(|l| l.ends_with("no reference holders (never freed)")));
        }
    }
}

/// `compare` does not fold the panel_bridges into one finding per node: its line names the
/// count the run found.
#[test]
fn compare_shows_the_count() {
    let sc = Scenario::load(&data()).unwrap();
    let (n, _) = panel_bridges(&Arc::new(Prepared::new(sc).unwrap()), Release::V7_1);
    let bridgesim = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bridgesim"))
            .args(args)
            .arg(data())
            .output()
            .unwrap()
    };
    let out = bridgesim(&["compare", "--all", "--rules", "v7.1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("leak of {n} x {PANEL_BRIDGE}")),
        "{stdout}"
    );
    // A run prints every leak with its objects and owners.
    let out = bridgesim(&["run", "--rules", "v7.1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{n} x {PANEL_BRIDGE} still allocated:")),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}
