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

fn catalog_519() -> String {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog/5.19-sn65dsi83-reset-work.toml");
    std::fs::read_to_string(f).unwrap()
}

fn prepared(src: &str) -> std::sync::Arc<scenario::Prepared> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/catalog");
    let sc = Scenario::parse("inline.toml", &dir, src).unwrap_or_else(|e| panic!("{e}"));
    std::sync::Arc::new(scenario::Prepared::new(sc).unwrap_or_else(|e| panic!("{e}")))
}

/// The 5.19 deadlock is sn65dsi83_reset_work's skipped drm_bridge_exit: a scenario driver that
/// inherits the built-in v7.0 description and exits on the error branch takes precedence over
/// it, and the deadlock is gone (the reset work's use-after-free stays).
#[test]
fn a_scenario_driver_replaces_the_builtin_one() {
    let col = RulesColumn::parse("v7.0").unwrap();
    let with_bug = prepared(&catalog_519());
    let v = verdict::explore(&with_bug, &col, &spec(true)).unwrap();
    assert!(
        v.findings.iter().any(|f| f.kind == ViolationKind::Deadlock),
        "{}",
        v.summary()
    );
    let src = catalog_519();
    let cut = src.find("[expect]").unwrap();
    let fixed = format!(
        "{}{}",
        &src[..cut],
        r#"
[[driver]]
inherits = "ti-sn65dsi83/v7.0"
name = "sn65dsi83-exit-on-error"
[driver.callbacks.sn65dsi83_reset_work]
cite = "v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_reset_work"
calls = [
  { call = "drm_bridge_enter" },
  { call = "drm_bridge_helper_reset_crtc", can_fail = true, on_error = [{ call = "drm_bridge_exit" }] },
  { call = "enable_irq", field = "irq", if = "irq" },
  { call = "drm_bridge_exit" },
]
"#
    );
    let p = prepared(&fixed);
    let v = verdict::explore(&p, &col, &spec(true)).unwrap();
    assert!(v.exhaustive);
    assert!(
        !v.findings.iter().any(|f| f.kind == ViolationKind::Deadlock),
        "{}",
        v.summary()
    );
    assert!(
        v.findings
            .iter()
            .any(|f| f.kind == ViolationKind::UseAfterFree && f.object.contains("sn65dsi83")),
        "{}",
        v.summary()
    );
}

/// Without `inject_faults` the reset never fails: no deadlock under v7.0. With it, the
/// failing branch is explored (the test above).
#[test]
fn inject_faults_explores_the_error_branch() {
    let src = catalog_519().replace("inject_faults = true\n", "");
    let p = prepared(&src);
    let col = RulesColumn::parse("v7.0").unwrap();
    let v = verdict::explore(&p, &col, &spec(true)).unwrap();
    assert!(v.exhaustive);
    assert!(
        !v.findings.iter().any(|f| f.kind == ViolationKind::Deadlock),
        "{}",
        v.summary()
    );
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
