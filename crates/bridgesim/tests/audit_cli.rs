//! `bridgesim audit`: the exit codes (1 with hazards, 0 without, 2 for bad input), the JSON,
//! the one-function replay and `--base/--head`, on the audit crate's C cases.

use std::path::PathBuf;

use crate::common;
use common::bridgesim;

fn case(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../audit/tests/cases")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn audit_exits_1_with_hazards_and_0_without() {
    let (code, out, err) =
        bridgesim(&["audit", &case("enter_missing_exit.c"), "--release", "v7.1"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("hang [enter-without-exit]"), "{out}");
    assert!(
        out.contains("path: 16: drm_bridge_enter() succeeds → 19: if: taken → 20: return"),
        "{out}"
    );
    assert!(out.contains("replay: bridgesim audit "), "{out}");
    let (code, out, err) =
        bridgesim(&["audit", &case("enter_exit_balanced.c"), "--release", "v7.1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 hazard(s)"), "{out}");
}

#[test]
fn audit_json_carries_the_hazards_and_the_call_counts() {
    let (code, out, _) = bridgesim(&[
        "audit",
        &case("counted_get_leak.c"),
        "--release",
        "v7.1",
        "--json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["schema"], "bridgesim-audit/1");
    let h = &v["drivers"][0]["hazards"][0];
    assert_eq!(h["pattern"], "counted-get-leak");
    assert_eq!(h["kind"], "leak");
    assert_eq!(h["line"], 17);
    assert_eq!(h["releases"][0], "v7.1");
    assert!(v["drivers"][0]["driver"]["calls"]["seen"].as_u64().unwrap() > 0);
}

#[test]
fn audit_function_filter_replays_one_function() {
    let (code, out, _) = bridgesim(&[
        "audit",
        &case("work_and_irq.c"),
        "--release",
        "v7.1",
        "--function",
        "foo_remove",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = bridgesim(&[
        "audit",
        &case("work_and_irq.c"),
        "--release",
        "v7.1",
        "--function",
        "foo_probe",
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("replay: ").count(), 3, "{out}");
}

#[test]
fn audit_base_head_lists_what_the_fix_closes() {
    // The buggy case as the base, its corrected twin as the head: three hazards closed,
    // none introduced (exit 0).
    let dir = std::env::temp_dir().join(format!("bridgesim-audit-cli-{}", std::process::id()));
    let (base, head) = (dir.join("base"), dir.join("head"));
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&head).unwrap();
    std::fs::copy(case("work_and_irq.c"), base.join("foo.c")).unwrap();
    std::fs::copy(case("work_and_irq_released.c"), head.join("foo.c")).unwrap();
    let (code, out, err) = bridgesim(&[
        "audit",
        "--base",
        &base.display().to_string(),
        "--head",
        &head.display().to_string(),
        "--release",
        "v7.1",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 hazard(s) introduced, 3 closed"), "{out}");
    assert!(
        out.contains(
            "calls +: i2c_driver.probe:of_drm_find_and_get_bridge i2c_driver.remove:foo_teardown"
        ),
        "{out}"
    );
    assert!(
        out.contains("calls -: i2c_driver.probe:devm_drm_of_get_bridge"),
        "{out}"
    );
}

#[test]
fn audit_input_errors_exit_2() {
    let (code, _, err) = bridgesim(&["audit", "/nonexistent/driver.c"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("/nonexistent/driver.c: cannot read it"),
        "{err}"
    );
    let (code, _, err) = bridgesim(&["audit", &case("enter_missing_exit.c"), "--release", "v9.9"]);
    assert_eq!(code, 2, "{err}");
    let readme = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let (code, _, err) = bridgesim(&["audit", &readme.display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a .c file"), "{err}");
}

#[test]
fn audit_emit_model_writes_a_description_per_driver() {
    let dir = std::env::temp_dir().join(format!("bridgesim-audit-emit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, _, err) = bridgesim(&[
        "audit",
        &case("unplug_guarded.c"),
        "--release",
        "v7.1",
        "--emit-model",
        &dir.display().to_string(),
    ]);
    let written = std::fs::read_to_string(dir.join("unplug_guarded/v7.1.toml"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote 1 description(s)"), "{err}");
    let t = written.expect("the description is written");
    for want in [
        "compatible = [\"vendor,foo\"]",
        "bus = \"i2c\"",
        "[callbacks.remove]",
        "{ call = \"drm_bridge_unplug\" }",
        "[callbacks.atomic_disable]",
        "{ call = \"drm_bridge_enter\" }",
        "{ call = \"gpiod_set_value_cansleep\", field = \"enable_gpio\"",
    ] {
        assert!(t.contains(want), "lacks {want}:\n{t}");
    }
}
