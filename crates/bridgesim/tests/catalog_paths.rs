//! The catalog scenarios whose verdict is "clean" in every release with the mechanism must
//! still reach the path they are about; these tests check that in the trace of one run.

use std::path::Path;
use std::sync::Arc;

use bridgesim::scenario::{self, Prepared};
use bridgesim::verdict::{self, RulesColumn, SearchSpec};
use drm::{Release, Switch};
use kmodel::trace::Event;
use kmodel::ViolationKind;

fn load(name: &str) -> Arc<Prepared> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog")
        .join(name);
    scenario::load(&path).unwrap_or_else(|e| panic!("{e:?}"))
}

/// 5.3: a container freed by its devres put without ever being published (a probe that
/// failed after devm_drm_bridge_alloc and before drm_bridge_add), in every refcounted release.
#[test]
fn probe_error_before_add_frees_a_bridge_never_published() {
    let p = load("5.3-probe-error-before-add.toml");
    for release in Release::ALL
        .into_iter()
        .filter(|r| Switch::AddRemoveRef.on_in(*r))
    {
        let k = p.run_once(p.rules(Some(release)).unwrap());
        let tr = k.trace();
        let sn65: Vec<_> = tr
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Alloc { obj, ty, .. } if ty == "struct sn65dsi83" => Some(*obj),
                _ => None,
            })
            .collect();
        let published = |o| {
            tr.events.iter().any(
                |e| matches!(e, Event::RefGet { obj, owner, .. } if *obj == o && owner == "published"),
            )
        };
        let freed = |o| {
            tr.events
                .iter()
                .any(|e| matches!(e, Event::Free { obj, .. } if *obj == o))
        };
        let never = sn65.iter().position(|&o| freed(o) && !published(o));
        let Some(never) = never else {
            panic!("under {release}: no sn65dsi83 freed before being added")
        };
        // The deferred probe succeeds once the panel is back: a later one is published.
        assert!(
            sn65[never + 1..].iter().any(|&o| published(o)),
            "under {release}"
        );
    }
}

fn explore(p: &Arc<Prepared>, col: &str, preemption_bound: Option<u32>) -> verdict::Verdict {
    explore_with(p, col, preemption_bound, false)
}

/// [`explore`], with `collect`: the whole space, every distinct violation.
fn explore_with(
    p: &Arc<Prepared>,
    col: &str,
    preemption_bound: Option<u32>,
    collect: bool,
) -> verdict::Verdict {
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            preemption_bound,
            collect,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    verdict::explore(p, &RulesColumn::parse(col).unwrap(), &spec).unwrap()
}

/// 5.4, concurrent part: under every release with the lingering list, the corruption needs a
/// preemption (both threads run alone cleanly, one after the other), and it is the unlocked
/// unlink of drm_bridge_add in the thread that re-adds the DSIM bridge.
#[test]
fn readd_race_needs_the_other_thread_between_the_unlink_steps() {
    let p = load("5.4-readd-race.toml");
    for release in Release::ALL
        .into_iter()
        .filter(|r| Switch::LingeringList.on_in(*r))
    {
        let col = release.name();
        // Every violation of the space: v6.19-v7.1 also have the VGA DAC's own connector
        // written after its free at the card's release (scenarios/catalog/5.4-readd-race.toml),
        // with no preemption; the list corruption needs one.
        let is_corruption = |f: &&verdict::Finding| f.kind == ViolationKind::ListCorruption;
        let serial = explore_with(&p, col, Some(0), true);
        assert!(
            !serial.findings.iter().any(|f| is_corruption(&f)),
            "{col}: {}",
            serial.summary()
        );
        let v = explore_with(&p, col, None, true);
        let first = v
            .findings
            .iter()
            .find(is_corruption)
            .unwrap_or_else(|| panic!("{col}: {}", v.summary()));
        assert!(first.preemptions >= 1, "{col}: {}", first.schedule);
        // The collected finding's schedule, replayed: its list corruption report.
        let reports = replay_reports(&p, col, &first.schedule);
        assert!(
            reports
                .iter()
                .any(|r| stack_after(r, "by thread dsi-attach").get(..3)
                    == Some(
                        &[
                            "list_del_init",
                            "drm_bridge_add",
                            "samsung_dsim_host_attach"
                        ][..]
                    )),
            "{col}:\n{}",
            reports.join("\n")
        );
    }
    // Without the lingering list the re-add corrupts nothing under any interleaving (what
    // remains is the VGA DAC's own connector at the card's release).
    let v = explore_with(&p, "v6.18", None, true);
    assert!(
        v.exhaustive
            && v.findings
                .iter()
                .all(|f| f.kind == ViolationKind::UseAfterFree
                    && f.object.contains("simple_bridge /vga-dac")),
        "{}",
        v.summary()
    );
}

/// 5.7: before the fix, lockdep's report gives both acquisition stacks: the cleanup taking the
/// modeset locks in drm_bridge_detach with bridge_chain_mutex held, and the earlier probe
/// taking bridge_chain_mutex in mode_valid's from-loop with the modeset locks held. The fix
/// alone (cut, then detach) is clean.
#[test]
fn encoder_cleanup_abba_names_both_stacks() {
    let p = load("5.7-abba-encoder-cleanup.toml");
    let v = explore(
        &p,
        "v7.2+private_obj_fini_locking+encoder_cleanup_detach_locked",
        None,
    );
    let first = v
        .findings
        .first()
        .unwrap_or_else(|| panic!("{}", v.summary()));
    assert_eq!(first.kind, ViolationKind::LockInversion);
    let r = &first.report;
    let lines: Vec<&str> = r.lines().map(str::trim).collect();
    let after = |head: &dyn Fn(&str) -> bool| -> Vec<&str> {
        let i = lines
            .iter()
            .position(|l| head(l))
            .unwrap_or_else(|| panic!("{r}"));
        lines[i + 1..].iter().take(3).copied().collect()
    };
    assert_eq!(
        after(&|l: &str| l.starts_with(
            "trying to acquire crtc_ww_class_mutex while holding &encoder->bridge_chain_mutex"
        )),
        [
            "drm_modeset_lock_all_ctx",
            "drm_atomic_private_obj_fini",
            "drm_bridge_detach"
        ],
        "{r}"
    );
    assert_eq!(
        after(&|l: &str| l.starts_with(
            "-> &encoder->bridge_chain_mutex acquired while holding crtc_ww_class_mutex"
        )),
        [
            "drm_for_each_bridge_in_chain_from",
            "drm_bridge_chain_mode_valid",
            "drm_helper_probe_single_connector_modes"
        ],
        "{r}"
    );
    let fixed = explore(&p, "v7.2+private_obj_fini_locking", None);
    assert!(fixed.is_clean() && fixed.exhaustive, "{}", fixed.summary());
}

/// Replay `schedule` of column `col`; every violation's report.
fn replay_reports(p: &Arc<Prepared>, col: &str, schedule: &str) -> Vec<String> {
    let col = RulesColumn::parse(col).unwrap();
    let rules = col.rules(p.rules(Some(col.release)).unwrap());
    let k = kmodel::Kernel::new(kmodel::Config::default());
    let prog = p.program(rules);
    let mut rep = kmodel::Replay::new(schedule.parse().unwrap());
    k.run(&mut rep, move |k| prog(k));
    k.violations().iter().map(|v| k.render(v)).collect()
}

/// Every distinct violation of column `col`'s space (`--all`), and each one's reports,
/// rendered from a replay of its schedule.
fn all_reports(p: &Arc<Prepared>, col: &str) -> (verdict::Verdict, Vec<String>) {
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            collect: true,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    let all = verdict::explore(p, &RulesColumn::parse(col).unwrap(), &spec).unwrap();
    let reports = all
        .findings
        .iter()
        .flat_map(|f| replay_reports(p, col, &f.schedule))
        .collect();
    (all, reports)
}

/// The call path under the first line of `report` that starts with `head`.
fn stack_after<'a>(report: &'a str, head: &str) -> Vec<&'a str> {
    report
        .lines()
        .skip_while(|l| !l.starts_with(head))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect()
}

/// 5.5 and 5.6 need the hotplug-bridge's runtime detach: with it, the chain loop that holds no
/// reference (before v6.19) reads the detached, freed connector (in the loop's own step to the
/// next entry), the referenced loops (v6.19-v7.1) step through the entry the cut unlinked, and
/// the v7.2 chain mutex serialises both.
#[test]
fn chain_walks_racing_a_runtime_detach() {
    for (file, walk) in [
        (
            "5.5-unreferenced-chain-walk.toml",
            "drm_for_each_bridge_in_chain_scoped",
        ),
        (
            "5.6-chain-modified-during-walk.toml",
            "drm_bridge_chain_mode_valid",
        ),
    ] {
        let p = load(file);
        // Before v6.19: among every violation of the space, the walk reads freed memory.
        let col = "v6.18+hotplug_bridge";
        let (_, reports) = all_reports(&p, col);
        assert!(
            reports.iter().any(|r| r.contains("slab-use-after-free")
                && stack_after(r, "Read of struct display_connector /vga").get(..2)
                    == Some(&["list_next_entry", walk][..])),
            "{file} under {col}: no use-after-free in {walk}:\n{}",
            reports.join("\n")
        );
        // v6.19-v7.1: no use-after-free; the walk meets the unlinked entry.
        for col in ["v6.19+hotplug_bridge", "v7.1+hotplug_bridge"] {
            // Every violation of the space: the VGA connector's DDC probe after its unbind
            // (hw-after-unplug, the catalog's expectation) besides the walk's.
            let v = explore_with(&p, col, None, true);
            assert!(
                !v.findings
                    .iter()
                    .any(|f| f.kind == ViolationKind::UseAfterFree),
                "{file} under {col}: {}",
                v.summary()
            );
            let first = v
                .findings
                .iter()
                .find(|f| f.kind == ViolationKind::ListCorruption)
                .unwrap_or_else(|| panic!("{file} under {col}: {}", v.summary()));
            // With the VGA connector's DDC bus the bridge connector's detect notifies the chain
            // (drm_bridge_connector_hpd_notify's scoped loop) before 5.6's mode validation
            // walks it: either loop steps onto the unlinked entry, and the collected finding is
            // the first.
            let reports = replay_reports(&p, col, &first.schedule);
            assert!(
                reports.iter().any(|r| {
                    let s = stack_after(r, "by thread probe");
                    s.first() == Some(&"list_next_entry")
                        && (s.get(1) == Some(&walk)
                            || s.get(1) == Some(&"drm_for_each_bridge_in_chain_scoped"))
                }),
                "{file} {col}:\n{}",
                reports.join("\n")
            );
        }
        // Without the runtime detach no release can show it, and v7.2 fixes it: what remains
        // is the DDC probe after the VGA connector's unbind (hw-after-unplug).
        for col in ["v6.18", "v7.1", "v7.2+hotplug_bridge"] {
            let v = explore_with(&p, col, None, true);
            assert!(
                v.exhaustive
                    && v.findings
                        .iter()
                        .all(|f| f.kind == ViolationKind::HwAfterUnplug),
                "{file} {col}: {}",
                v.summary()
            );
        }
    }
}

/// 5.18: the debugfs read names the freed node behind the published panel_bridge, in every
/// release that has the file and still wraps the panel in a refcounted panel_bridge. (Silent
/// side: `5.4-readd-lingering.toml` reads the same file with every published bridge's node
/// still in the tree, and is clean.)
#[test]
fn borrowed_of_node_is_named_in_the_report() {
    let p = load("5.18-borrowed-of-node.toml");
    for release in Release::ALL
        .into_iter()
        .filter(|r| Switch::PanelBridgeAlloc.on_in(*r))
    {
        let v = explore(&p, release.name(), None);
        let first = v
            .findings
            .first()
            .unwrap_or_else(|| panic!("{release}: {}", v.summary()));
        assert_eq!(first.kind, ViolationKind::UseAfterFree, "{release}");
        assert_eq!(
            stack_after(&first.report, "Read of struct panel_bridge").first(),
            Some(&"allbridges_show"),
            "{release}:\n{}",
            first.report
        );
        assert!(
            first.report.contains(
                "->of_node is /soc@0/dsi@32e60000/panel@0, which an overlay revert detached"
            ),
            "{release}:\n{}",
            first.report
        );
    }
}

/// 5.17: with the hotplug-bridge's runtime detach, every violation of the space is where the
/// failure mode says: the WARN in the detach's `drm_modeset_lock_fini` under
/// `drm_atomic_private_obj_fini`, and the list corruption and use-after-free in the property
/// ioctl's lock-all (its walk of the private objects, or the unlock of the context). The posted
/// fix is clean.
#[test]
fn private_obj_fini_racing_the_lock_all_walk() {
    let p = load("5.17-private-obj-vs-lock-all.toml");
    let col = "v7.1+hotplug_bridge";
    let (all, reports) = all_reports(&p, col);
    let in_walk = |r: &String| {
        let user = stack_after(r, "by thread user");
        let walk = ["drm_modeset_lock_all_ctx", "drm_modeset_drop_locks"];
        let by_user = user
            .iter()
            .any(|f| walk.contains(f) || *f == "drm_mode_obj_get_properties_ioctl");
        let uaf_in_walk = r.contains("slab-use-after-free")
            && walk.iter().any(|w| r.lines().any(|l| l.trim() == *w));
        by_user || uaf_in_walk
    };
    let mut kinds = std::collections::BTreeSet::new();
    for f in &all.findings {
        kinds.insert(f.kind);
    }
    assert_eq!(
        kinds,
        [
            ViolationKind::UseAfterFree,
            ViolationKind::ListCorruption,
            ViolationKind::Warn
        ]
        .into_iter()
        .collect(),
        "{}",
        all.summary()
    );
    for r in &reports {
        if r.starts_with("==") && r.contains("WARNING in drm_modeset_lock_fini") {
            assert_eq!(
                stack_after(r, "by thread unplug").get(..3),
                Some(
                    &[
                        "drm_modeset_lock_fini",
                        "drm_atomic_private_obj_fini",
                        "drm_bridge_detach"
                    ][..]
                ),
                "{r}"
            );
        } else {
            assert!(in_walk(r), "not in the lock-all:\n{r}");
        }
    }
    let fixed = explore(&p, "v7.1+hotplug_bridge+private_obj_fini_locking", None);
    assert!(fixed.is_clean() && fixed.exhaustive, "{}", fixed.summary());
}

/// 5.2 and 5.12 on the real driver: the parallel display's bridge is attached from its
/// component bind, which the imx-drm master runs once the component is added (the stack of the
/// "addition on 0"); from v6.19 the attach of the never-added bridge logs "Missing
/// drm_bridge_add() before attach" (v6.19:drivers/gpu/drm/drm_bridge.c:drm_bridge_attach), a
/// DRM_WARN line and not a violation, absent before; the released v6.18+ driver, which adds its
/// bridge, never logs it.
#[test]
fn parallel_display_attaches_an_unadded_bridge_from_its_component_bind() {
    let missing = "Missing drm_bridge_add() before attach";
    let logged = |k: &kmodel::Kernel| {
        k.trace().events.iter().any(
            |e| matches!(e, Event::Model { what, .. } if what.starts_with("DRM_WARN") && what.contains(missing)),
        )
    };
    let pinned = load("5.12-attach-without-add.toml");
    let own = load("5.2-parallel-display.toml");
    for release in Release::ALL {
        let k = pinned.run_once(pinned.rules(Some(release)).unwrap());
        assert_eq!(
            logged(&k),
            release >= Release::V6_19,
            "pinned v6.17 driver under {release}"
        );
        let add_on_zero: Vec<String> = k
            .violations()
            .iter()
            .filter(|v| v.kind == ViolationKind::RefcountAddOnZero)
            .map(|v| k.render(v))
            .collect();
        assert_eq!(
            !add_on_zero.is_empty(),
            release >= Release::V6_17,
            "{release}"
        );
        // The first get is the attach from the component bind; later ones are the core's
        // counted walks of the chain (the modeset's getters from v6.18, the bridge-connector's
        // scoped loop from v6.19), the same kind on the same bridge.
        let from_bind = |r: &String| {
            let stack = stack_after(r, "on struct imx_parallel_display_encoder /disp0");
            let at = |f: &str| stack.iter().position(|l| *l == f);
            let path = [
                "drm_bridge_attach",
                "imx_pd_bind",
                "component_bind_all",
                "imx_drm_bind",
                "component_add",
                "imx_pd_probe",
            ]
            .map(at);
            path.iter().all(Option::is_some) && path.windows(2).all(|w| w[0] < w[1])
        };
        if let Some(first) = add_on_zero.first() {
            assert!(from_bind(first), "{release}: {first}");
        }
        let k = own.run_once(own.rules(Some(release)).unwrap());
        assert!(!logged(&k), "own driver under {release}");
    }
}
