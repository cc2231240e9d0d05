//! Drivers as data from the command line and in scenarios: `bridgesim drivers` lists the data
//! directory; a scenario's `[[driver]]` replaces a built-in description; `inject_faults`
//! explores a failing call both ways.

use std::path::Path;

use bridgesim::scenario::{self, Scenario};
use bridgesim::verdict::{self, RulesColumn, SearchSpec};

use kmodel::ViolationKind;

use crate::common;
use common::bridgesim;

fn spec(collect: bool) -> SearchSpec {
    SearchSpec {
        options: explore::Options {
            progress: None,
            collect,
            ..Default::default()
        },
        ..SearchSpec::default()
    }
}

/// `bridgesim drivers --json` lists every driver directory under crates/drivers/data, each
/// release file it has, and nothing else; the text form names each driver and file.
#[test]
fn drivers_lists_the_data_dir() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../drivers/data");
    let mut want: Vec<(String, Vec<String>)> = Vec::new();
    for d in std::fs::read_dir(&data).unwrap() {
        let d = d.unwrap().path();
        let mut files: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|f| f.unwrap().path())
            .filter(|f| f.extension().is_some_and(|e| e == "toml"))
            .map(|f| {
                format!(
                    "crates/drivers/data/{}/{}",
                    d.file_name().unwrap().to_string_lossy(),
                    f.file_name().unwrap().to_string_lossy()
                )
            })
            .collect();
        files.sort_by_key(|f| {
            let rel = f.rsplit('/').next().unwrap().trim_end_matches(".toml");
            rel.parse::<drm::Release>().unwrap()
        });
        want.push((d.file_name().unwrap().to_string_lossy().to_string(), files));
    }
    want.sort();
    let (code, out, err) = bridgesim(&["drivers", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut got: Vec<(String, Vec<String>)> = v["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["driver"].as_str().unwrap().to_string(),
                d["releases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["file"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
    let sn = v["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["driver"] == "ti-sn65dsi83")
        .unwrap();
    assert_eq!(
        sn["compatible"],
        serde_json::json!(["ti,sn65dsi83", "ti,sn65dsi84"])
    );
    let (code, text, _) = bridgesim(&["drivers"]);
    assert_eq!(code, 0);
    for (d, files) in &want {
        assert!(text.contains(d.as_str()), "{text}");
        for f in files {
            assert!(text.contains(f.as_str()), "{text}");
        }
    }
}

fn catalog(name: &str) -> String {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog")
        .join(name);
    std::fs::read_to_string(f).unwrap()
}

/// 5.19 with the reset's error returned: a scenario `[[driver]]` on top of the built-in v7.0.
fn catalog_519_error_returned() -> String {
    catalog("5.19-sn65dsi83-reset-error-returned.toml")
}

fn has_deadlock(v: &verdict::Verdict) -> bool {
    v.findings.iter().any(|f| f.kind == ViolationKind::Deadlock)
}

fn prepared(src: &str) -> std::sync::Arc<scenario::Prepared> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/catalog");
    let sc = Scenario::parse("inline.toml", &dir, src).unwrap_or_else(|e| panic!("{e}"));
    std::sync::Arc::new(scenario::Prepared::new(sc).unwrap_or_else(|e| panic!("{e}")))
}

/// The built-in v7.0 sn65dsi83 never leaves its reset work's section open:
/// sn65dsi83_reset_pipe returns 0 on every path, so the early return is dead code. A scenario
/// driver that returns the reset's error (5.19-sn65dsi83-reset-error-returned) takes
/// precedence over the built-in one and deadlocks the unplug; one that also exits on that
/// branch does not (the reset work's use-after-free stays in all three).
#[test]
fn a_scenario_driver_replaces_the_builtin_one() {
    let col = RulesColumn::parse("v7.0").unwrap();
    let uaf = |v: &verdict::Verdict| {
        v.findings
            .iter()
            .any(|f| f.kind == ViolationKind::UseAfterFree && f.object.contains("sn65dsi83"))
    };
    let builtin = prepared(&catalog("5.19-sn65dsi83-reset-work.toml"));
    let v = verdict::explore(&builtin, &col, &spec(true)).unwrap();
    assert!(v.exhaustive);
    assert!(!has_deadlock(&v) && uaf(&v), "{}", v.summary());

    let with_bug = prepared(&catalog_519_error_returned());
    let v = verdict::explore(&with_bug, &col, &spec(true)).unwrap();
    assert!(has_deadlock(&v) && uaf(&v), "{}", v.summary());

    let fixed = catalog_519_error_returned().replace(
        r#"{ call = "drm_bridge_helper_reset_crtc", can_fail = true },"#,
        r#"{ call = "drm_bridge_helper_reset_crtc", can_fail = true, on_error = [{ call = "drm_bridge_exit" }] },"#,
    );
    assert_ne!(fixed, catalog_519_error_returned());
    let v = verdict::explore(&prepared(&fixed), &col, &spec(true)).unwrap();
    assert!(v.exhaustive);
    assert!(!has_deadlock(&v) && uaf(&v), "{}", v.summary());
}

/// Without `inject_faults` the reset never fails, even in the driver that returns its error:
/// no deadlock under v7.0. With it, the failing branch is explored (the test above).
#[test]
fn inject_faults_explores_the_error_branch() {
    let src = catalog_519_error_returned().replace("inject_faults = true\n", "");
    assert_ne!(src, catalog_519_error_returned());
    let p = prepared(&src);
    let col = RulesColumn::parse("v7.0").unwrap();
    let v = verdict::explore(&p, &col, &spec(true)).unwrap();
    assert!(v.exhaustive);
    assert!(!has_deadlock(&v), "{}", v.summary());
}

/// An error inside an included description is located in that file (the scenario-level
/// errors of `[[driver]]` are in `tests/bad-scenarios/`).
#[test]
fn an_included_description_error_names_its_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data-drivers");
    let src = r#"
name = "inc"
[board]
dts = "builtin:sunh"
[[thread]]
name = "t"
steps = [{ op = "debugfs" }]
[[driver]]
include = "bad-driver.toml"
"#;
    let sc = Scenario::parse("inc.toml", &dir, src).unwrap();
    let err = scenario::Prepared::new(sc)
        .expect_err("rejected")
        .to_string();
    let want = format!("{}:7:45: ", dir.join("bad-driver.toml").display());
    assert!(err.starts_with(&want), "{err}");
    assert!(
        err.contains("`field` is not an argument of `drm_bridge_add`"),
        "{err}"
    );
}
