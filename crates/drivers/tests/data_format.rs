//! The driver description format: the embedded descriptions load, every citation is in the
//! corpus, every malformed description gets its located error (`tests/bad-descriptions/`),
//! and the release a run follows is the one its rules come from.

use std::path::Path;

use drivers::data::format::{CallName, Slot};
use drivers::data::{self, builtin, load_dir, load_inline, release_of_rules, DATA_DIR};
use drm::rules::{Release, Rules};
use drm::Citation;

#[test]
fn every_embedded_description_loads() {
    let drivers = builtin().unwrap_or_else(|e| panic!("{e}"));
    assert!(!drivers.is_empty());
    let sn = drivers
        .iter()
        .find(|d| d.dir == "ti-sn65dsi83")
        .expect("ti-sn65dsi83 is described");
    assert_eq!(sn.compatible, ["ti,sn65dsi83", "ti,sn65dsi84"]);
    assert_eq!(
        sn.releases.keys().copied().collect::<Vec<_>>(),
        Release::ALL.to_vec()
    );
}

/// The embedded table is the data directory, file for file.
#[test]
fn the_embedded_files_are_the_data_dir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut on_disk = Vec::new();
    for d in std::fs::read_dir(&root).unwrap() {
        let d = d.unwrap().path();
        for f in std::fs::read_dir(&d).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "toml") {
                on_disk.push(
                    f.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    on_disk.sort();
    let mut embedded: Vec<String> = data::FILES.iter().map(|(p, _)| p.to_string()).collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
}

/// Every callback's `release:path:function` names a function its release's file defines, and
/// the corpus releases cite the source, not a commit.
#[test]
fn every_callback_cites_its_function_in_the_corpus() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let kernel = corpus.join("kernel");
    let mut n = 0;
    for d in builtin().unwrap() {
        for (rel, desc) in &d.releases {
            for cb in desc.callbacks.values() {
                match &cb.cite {
                    Some(c @ Citation::Source { .. }) => {
                        c.check_in_corpus(&kernel)
                            .unwrap_or_else(|e| panic!("{}/{rel} {}: {e}", d.dir, cb.name));
                        n += 1;
                    }
                    // Only a driver with no source in the corpus follows an upstream file.
                    None => assert!(
                        desc.follows.is_some() && cb.follows.is_some(),
                        "{}/{rel} {}: no cite",
                        d.dir,
                        cb.name
                    ),
                    Some(c) => assert!(
                        !drm::cite::CORPUS_RELEASES.contains(rel)
                            || desc.follows.is_some(),
                        "{}/{rel} {}: cites {c}, but {rel} has a tree in the corpus: cite the source",
                        d.dir,
                        cb.name
                    ),
                }
            }
        }
    }
    assert!(n > 0);
}

/// The check above fails on a function the file does not define.
#[test]
fn a_wrong_citation_is_caught() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let c: Citation = "v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_no_such_function"
        .parse()
        .unwrap();
    assert!(c.check_in_corpus(&corpus.join("kernel")).is_err());
}

/// ti-sn65dsi83 as the source has it (upstream.md §0.0): v7.0/v7.1 remove is only
/// drm_bridge_unplug(), and panel_bridge is borrowed, with no next_bridge anywhere.
#[test]
fn sn65dsi83_v7_is_the_source() {
    let d = builtin()
        .unwrap()
        .iter()
        .find(|d| d.dir == "ti-sn65dsi83")
        .unwrap();
    for rel in [Release::V7_0, Release::V7_1] {
        let desc = d.for_release(rel);
        let remove = desc.slot(Slot::Remove).unwrap();
        let calls: Vec<CallName> = remove.calls.iter().map(|c| c.name).collect();
        assert_eq!(calls, [CallName::DrmBridgeUnplug]);
        assert!(!desc.fields["panel_bridge"].counted);
        for cb in desc.callbacks.values() {
            for c in &cb.calls {
                assert_ne!(c.field.as_deref(), Some("next_bridge"), "{}", cb.name);
            }
        }
    }
    assert_eq!(
        d.for_release(Release::V6_19)
            .slot(Slot::Remove)
            .unwrap()
            .calls[0]
            .name,
        CallName::DrmBridgeRemove
    );
}

/// A missing release falls back to the nearest earlier description.
#[test]
fn a_missing_release_uses_the_nearest_earlier() {
    let base = r#"
name = "x"
compatible = ["test,x"]
bus = "platform"
role = "bridge"
[callbacks.probe]
cite = "commit 0123456789ab"
calls = [{ call = "devm_drm_bridge_alloc" }, { call = "drm_bridge_add" }]
"#;
    let later = "inherits = \"v6.17\"\n[callbacks.remove]\ncite = \"v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_remove\"\ncalls = [{ call = \"drm_bridge_unplug\" }]\n";
    let d = load_dir("x", &[("x/v6.17.toml", base), ("x/v7.0.toml", later)]).unwrap();
    assert_eq!(d.for_release(Release::V6_19).release, Some(Release::V6_17));
    assert_eq!(d.for_release(Release::V7_2).release, Some(Release::V7_0));
    assert_eq!(d.for_release(Release::V6_15).release, Some(Release::V6_17));
    assert!(d.for_release(Release::V7_1).slot(Slot::Remove).is_some());
    assert!(d.for_release(Release::V6_18).slot(Slot::Remove).is_none());
}

/// An inline description can start from a built-in one and replace a callback.
#[test]
fn an_inline_description_inherits_a_builtin() {
    let text = r#"
inherits = "ti-sn65dsi83/v7.0"
name = "sn65dsi83-fixed"
compatible = ["test,sn65-fixed"]
[callbacks.sn65dsi83_reset_work]
cite = "v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_reset_work"
calls = [
  { call = "drm_bridge_enter" },
  { call = "drm_bridge_helper_reset_crtc", can_fail = true, on_error = [{ call = "drm_bridge_exit" }] },
  { call = "drm_bridge_exit" },
]
"#;
    let d = load_inline("inline.toml", text).unwrap();
    let desc = d.any_release.as_ref().unwrap();
    assert_eq!(desc.name, "sn65dsi83-fixed");
    assert_eq!(desc.compatible, ["test,sn65-fixed"]);
    assert_eq!(
        desc.slot(Slot::Remove).unwrap().calls[0].name,
        CallName::DrmBridgeUnplug
    );
    assert_eq!(
        desc.callbacks["sn65dsi83_reset_work"].calls[1]
            .on_error
            .len(),
        1
    );
}

/// The run's release is inferred from its rules when the front end does not set it: each
/// release's rules give that release, and a release with proposals on top gives the release.
#[test]
fn the_release_of_a_rules_set() {
    for r in Release::ALL {
        assert_eq!(release_of_rules(&Rules::for_release(r)), r);
    }
    let mut with_proposal = Rules::for_release(Release::V7_0);
    with_proposal.panel_bridge_panel_ref = true;
    assert_eq!(release_of_rules(&with_proposal), Release::V7_0);
}

/// Every file under `tests/bad-descriptions/` is rejected with the located error its first
/// line gives (`# expect-error: LINE:COL: MESSAGE-PREFIX`). A file `NAME.toml` is loaded as
/// the only description of driver NAME for v7.0; a directory is a driver whose files are its
/// releases, and the file with the header is the one blamed.
#[test]
fn every_bad_description_gets_its_located_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-descriptions");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut n = 0;
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut files: Vec<(String, String)> = Vec::new();
        if path.is_dir() {
            for f in std::fs::read_dir(&path).unwrap() {
                let f = f.unwrap().path();
                let rel = f.file_name().unwrap().to_string_lossy().to_string();
                files.push((
                    format!("{name}/{rel}"),
                    std::fs::read_to_string(&f).unwrap(),
                ));
            }
            files.sort();
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push((
                format!("{name}/v7.0.toml"),
                std::fs::read_to_string(&path).unwrap(),
            ));
        } else {
            continue;
        }
        let (blamed, want) = files
            .iter()
            .find_map(|(p, t)| {
                t.lines()
                    .next()
                    .and_then(|l| l.strip_prefix("# expect-error: "))
                    .map(|w| (p.clone(), w.to_string()))
            })
            .unwrap_or_else(|| panic!("{}: no expect-error header", path.display()));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let err =
            load_dir(&name, &refs).expect_err(&format!("{} must be rejected", path.display()));
        let got = err.to_string();
        let expected = format!("{DATA_DIR}/{blamed}:{want}");
        assert!(
            got.starts_with(&expected),
            "\n got: {got}\nwant: {expected}"
        );
        n += 1;
    }
    assert!(n >= 15, "{n} cases");
}

/// A good description of the same shapes loads (the bad cases are not rejected for
/// something else).
#[test]
fn a_good_description_loads() {
    let text = r#"
name = "good"
compatible = ["test,good"]
bus = "i2c"
role = "bridge"
ops = ["detect", "hpd"]
[fields]
next = { kind = "bridge", counted = true }
vcc = { kind = "regulator" }
lock = { kind = "mutex" }
hpd_irq = { kind = "irq", func = "good_irq", hpd = true }
work = { kind = "work", func = "good_work" }
[callbacks.probe]
cite = "commit 0123456789ab"
calls = [
  { call = "devm_drm_bridge_alloc" },
  { call = "mutex_init", field = "lock" },
  { call = "INIT_WORK", field = "work" },
  { call = "devm_regulator_get", field = "vcc", id = "vcc" },
  { call = "of_drm_find_and_get_bridge", field = "next", port = 1, optional = true },
  { call = "devm_request_threaded_irq", field = "hpd_irq" },
  { call = "drm_bridge_add" },
]
[callbacks.remove]
cite = "commit 0123456789ab"
calls = [
  { call = "cancel_work_sync", field = "work" },
  { call = "scoped_guard", field = "lock", body = [{ call = "drm_bridge_clear_and_put", field = "next" }] },
  { call = "drm_bridge_remove" },
]
[callbacks.detect]
cite = "commit 0123456789ab"
returns = "connected"
[callbacks.good_irq]
cite = "commit 0123456789ab"
calls = [{ call = "schedule_work", field = "work" }]
[callbacks.good_work]
cite = "commit 0123456789ab"
calls = [{ call = "guard", field = "lock" }, { call = "drm_bridge_hpd_notify", status = "connected" }]
"#;
    let d = load_dir("good", &[("good/v7.0.toml", text)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.hpd_source().as_deref(), Some("interrupts"));
}

/// Boot a one-node tree whose node is claimed by the inline description `text`, then delete
/// every device. Returns the kernel and whether the device was bound.
fn run_inline(text: &str) -> (kmodel::Kernel, bool) {
    use kmodel::{Config, Kernel, ThreadOrder};
    let d = load_inline("inline.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let tree = crate::common::compile(
        "one.dts",
        "/dts-v1/;\n/ {\n\tthing {\n\t\tcompatible = \"test,thing\";\n\t};\n};\n",
    );
    let bound = std::rc::Rc::new(std::cell::Cell::new(false));
    let b = bound.clone();
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, move |k| {
        drm::set_rules(k, Rules::for_release(Release::V7_0));
        k.of_set_live_tree(tree);
        drivers::registry::register(k, vec![drivers::registry::data_entry(d)]);
        k.of_platform_populate();
        b.set(crate::common::bound(k, "/thing"));
        crate::common::unbind_all(k, &[]);
    });
    let bound = bound.get();
    (k, bound)
}

const THING: &str = r#"
name = "thing"
compatible = ["test,thing"]
bus = "platform"
role = "bridge"
[fields]
panel = { kind = "panel" }
lock = { kind = "mutex" }
"#;

/// `or_else` runs when the call fails and the callback goes on; without it the probe fails.
#[test]
fn or_else_is_the_other_branch() {
    let probe = |branch: &str| {
        format!(
            "{THING}[callbacks.probe]\ncite = \"commit 0123456789ab\"\ncalls = [\n  {{ call = \"devm_drm_bridge_alloc\" }},\n  {{ call = \"of_drm_find_panel\", field = \"panel\", port = 1{branch} }},\n  {{ call = \"drm_bridge_add\" }},\n]\n[callbacks.remove]\ncite = \"commit 0123456789ab\"\ncalls = [{{ call = \"drm_bridge_remove\" }}]\n"
        )
    };
    let (k, bound) = run_inline(&probe(
        ", or_else = [{ call = \"store\", field = \"panel\" }]",
    ));
    assert!(bound, "the or_else branch goes on to drm_bridge_add");
    crate::common::assert_clean(&k, "or_else");
    let (_, bound) = run_inline(&probe(""));
    assert!(!bound, "without or_else the failed lookup fails the probe");
}

/// A lock of a destroyed mutex is CONFIG_DEBUG_MUTEXES' warning; a live one is silent.
#[test]
fn a_lock_after_mutex_destroy_warns() {
    let probe = |destroy: bool| {
        let d = if destroy {
            "  { call = \"mutex_destroy\", field = \"lock\" },\n"
        } else {
            ""
        };
        format!(
            "{THING}[callbacks.probe]\ncite = \"commit 0123456789ab\"\ncalls = [\n  {{ call = \"devm_drm_bridge_alloc\" }},\n  {{ call = \"mutex_init\", field = \"lock\" }},\n{d}  {{ call = \"guard\", field = \"lock\" }},\n  {{ call = \"drm_bridge_add\" }},\n]\n[callbacks.remove]\ncite = \"commit 0123456789ab\"\ncalls = [{{ call = \"drm_bridge_remove\" }}]\n"
        )
    };
    let (k, _) = run_inline(&probe(true));
    let v = k.violations();
    assert!(
        v.iter().any(|x| x.kind == kmodel::ViolationKind::Warn
            && k.render(x).contains("DEBUG_LOCKS_WARN_ON")),
        "{:?}",
        v.iter().map(|x| k.render(x)).collect::<Vec<_>>()
    );
    let (k, _) = run_inline(&probe(false));
    crate::common::assert_clean(&k, "live mutex");
}
