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

/// The step-kind errors name what the node is (the headers above hold only a prefix that
/// fits on the command line's first line).
#[test]
fn step_kind_errors_say_what_the_node_is() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-scenarios");
    for (file, what) in [
        (
            "disable-not-display-controller.toml",
            "but /soc@0/dsi@32e60000 is a bridge (samsung-dsim)",
        ),
        (
            "lookup-no-bridge-driver.toml",
            "but /soc@0/display-controller@32e80000 is a display controller (imx-lcdif)",
        ),
        (
            "get-modes-no-connector.toml",
            "but /soc@0/i2c@30a30000/bridge@2c is a bridge (sn65dsi83)",
        ),
        (
            "hpd-no-hpd-driver.toml",
            "(adv7511, display-connector, it66121, lt9611, lt9611uxc, tpd12s015), but \
             /soc@0/i2c@30a30000/bridge@2c is a bridge (sn65dsi83)",
        ),
        (
            "lookup-api-not-in-release.toml",
            "does not exist in v6.19; it exists in v7.0, v7.1, v7.2",
        ),
        (
            "lookup-api-endpoint-v7.2-only.toml",
            "does not exist in v7.1; it exists in v7.2",
        ),
        (
            "lookup-api-no-endpoint.toml",
            "follows the OF graph of /soc@0/dsi@32e60000, but it has no endpoint 0 in port 7",
        ),
        (
            "overlays-do-not-stack.toml",
            "apply on top of `first`: changing value of #address-cells is not allowed in /addon-bus",
        ),
    ] {
        let err = scenario::load(&dir.join(file)).expect_err(file).to_string();
        assert!(err.ends_with(what), "{file}: {err}");
    }
}
