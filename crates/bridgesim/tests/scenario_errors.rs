//! Malformed scenario files get a located error. Each file under `tests/bad-scenarios/` starts
//! with `# expect-error: LINE:COL: MESSAGE-PREFIX`; `tests/bad-scenarios/data/` holds the
//! device-tree files they name.

use std::path::Path;

use bridgesim::scenario::{self, Scenario};

#[test]
fn every_bad_scenario_gets_its_located_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-scenarios");
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    entries.sort();
    for path in entries {
        let src = std::fs::read_to_string(&path).unwrap();
        let want = src
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect-error: "))
            .expect("header");
        let err = scenario::load(&path).expect_err("must be rejected");
        let got = err.to_string();
        // The command line prints the same located error and exits with 2.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bridgesim"))
            .arg("run")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!("{}:{want}", path.display());
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(
            got.starts_with(&expected),
            "\n got: {got}\nwant: {expected}"
        );
        n += 1;
    }
    assert!(n >= 16);
}

#[test]
fn a_good_scenario_loads() {
    let src = r#"
name = "ok"
[board]
dts = "builtin:sunh"
[overlays.addon]
file = "builtin:sunh-addon"
plugged = true
[[thread]]
name = "unplug"
steps = [{ op = "unplug", overlay = "addon" }, { op = "close" }]
[expect]
default = "clean"
"v6.15" = ["use-after-free:sn65dsi84", "leak"]
"#;
    let sc = Scenario::parse("ok.toml", Path::new("."), src).unwrap();
    assert_eq!(sc.file.threads[0].steps.len(), 2);
    assert!(sc.file.overlays["addon"].get_ref().plugged);
}
