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
    let files = scenario_files();
    assert!(files.len() >= 6, "{files:?}");
    let spec = SearchSpec {
        options: explore::Options {
            progress: false,
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
