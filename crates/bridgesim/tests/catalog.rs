//! The scenario corpus as tests: every scenario under `scenarios/catalog/` and
//! `scenarios/demo/` is explored (DPOR) under every release, and under every extra rules
//! column its `expect` names, and the verdict must match `expect`. Where the model disagrees
//! with upstream history this fails: fix the model, not the expectation.

use std::path::Path;

use bridgesim::scenario;
use bridgesim::verdict::{self, RulesColumn, SearchSpec};

fn scenario_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files = Vec::new();
    for dir in ["catalog", "demo"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_scenario_matches_its_expectation_under_every_release() {
    check_every_scenario(false);
}

/// The same with `--all`: each search covers the whole space and reports every distinct
/// violation, and each `expect` list must be exactly those (nothing unlisted, nothing
/// missing).
#[test]
fn every_violation_of_every_scenario_is_expected() {
    check_every_scenario(true);
}

fn check_every_scenario(collect: bool) {
    let files = scenario_files();
    assert!(files.len() >= 6, "{files:?}");
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            collect,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    let mut rows = Vec::new();
    let mut wrong = Vec::new();
    for f in &files {
        let p = scenario::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            p.scenario.file.failure_mode.is_some(),
            "{}: names its failure mode",
            f.display()
        );
        let mut cols = RulesColumn::parse_list("all").unwrap();
        for label in p.scenario.file.expect.keys() {
            if label != "default" && !cols.iter().any(|c| &c.label == label) {
                cols.push(RulesColumn::parse(label).unwrap());
            }
        }
        for col in &cols {
            let v = verdict::explore(&p, col, &spec).unwrap();
            assert!(
                v.expect.is_some(),
                "{}: no expectation for {}",
                f.display(),
                col.label
            );
            assert_eq!(v.every_violation, collect, "{}", f.display());
            if v.matches_expect != Some(true) {
                wrong.push(format!(
                    "{} under {}: got {}, expected {}",
                    p.scenario.file.name,
                    col.label,
                    v.summary(),
                    v.expect.as_ref().unwrap()
                ));
            }
            rows.push((p.scenario.file.name.clone(), v));
        }
    }
    println!("{}", verdict::table(&rows));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// §5.8: the use-after-free of the 5.8 scenario is the holder's own use of its stored pointer
/// (simple_bridge_attach attaching the freed VGA connector at the card's rebind), not the
/// chain's (§5.1), in every release before v7.0; from v7.0 the counted `next_bridge` keeps the
/// connector and the rebind is clean.
#[test]
fn stored_next_bridge_is_used_by_its_holder_until_v7_0() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog/5.8-stored-next-bridge.toml");
    let p = scenario::load(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    for col in RulesColumn::parse_list("all").unwrap() {
        let v = verdict::explore(&p, &col, &spec).unwrap();
        if col.release < drm::Release::V7_0 {
            let first = v
                .findings
                .first()
                .unwrap_or_else(|| panic!("{}: clean", col.label));
            assert_eq!(first.kind, "use-after-free", "{}", col.label);
            assert!(
                first.object.contains("display_connector /vga"),
                "{}: {}",
                col.label,
                first.object
            );
            // The read is drm_bridge_attach's, called by simple-bridge with its stored pointer
            // while the LCDIF probes again.
            let stack: Vec<&str> = first
                .report
                .lines()
                .skip_while(|l| !l.starts_with("Read of"))
                .skip(1)
                .take_while(|l| l.starts_with("  "))
                .map(str::trim)
                .collect();
            assert_eq!(
                stack.get(..2),
                Some(&["drm_bridge_attach", "simple_bridge_attach"][..]),
                "{}:\n{}",
                col.label,
                first.report
            );
            assert!(stack.contains(&"lcdif_probe"), "{}: {stack:?}", col.label);
        } else {
            assert!(
                v.is_clean() && v.exhaustive,
                "{}: {}",
                col.label,
                v.summary()
            );
        }
    }
}
