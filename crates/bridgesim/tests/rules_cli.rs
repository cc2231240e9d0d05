//! `bridgesim rules`: each switch of a rules column with its value and its citations, as
//! text and as JSON; a column that does not parse is a usage error.

use drm::{Release, RulesColumn, Switch};

use crate::common;
use common::bridgesim;

#[test]
fn rules_prints_every_switch_with_its_value_and_citations() {
    for col in ["v7.0", "v6.17", "v7.2+proposals"] {
        let (code, out, err) = bridgesim(&["rules", "--release", col]);
        assert_eq!(code, 0, "{col}: {err}");
        let want: RulesColumn = col.parse().unwrap();
        let r = want.rules();
        for s in Switch::ALL {
            let value = if r.get(s) { "on " } else { "off" };
            let line = out
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some(s.name()))
                .unwrap_or_else(|| panic!("{col}: no line for {s}:\n{out}"));
            assert!(line.starts_with(value), "{col}: {line}");
            for c in s.citations() {
                assert!(
                    out.contains(&format!("       {c}\n")),
                    "{col}: {s} lacks {c}"
                );
            }
        }
    }
}

#[test]
fn rules_json_lists_the_switches_of_the_column() {
    let (code, out, _) = bridgesim(&["rules", "--release", "v6.18", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["schema"], "bridgesim/1");
    assert_eq!(v["rules"], "v6.18");
    let switches = v["switches"].as_array().expect("switches");
    assert_eq!(switches.len(), Switch::ALL.len());
    for (row, s) in switches.iter().zip(Switch::ALL) {
        assert_eq!(row["name"], s.name());
        assert_eq!(row["on"], s.on_in(Release::V6_18), "{s}");
        let cites: Vec<String> = s.citations().iter().map(|c| c.to_string()).collect();
        assert_eq!(row["cites"], serde_json::json!(cites), "{s}");
    }
    // The split of §0.0: the last-bridge getter is counted in v6.18, the next one is not.
    let on = |name: &str| switches.iter().find(|r| r["name"] == name).unwrap()["on"].clone();
    assert_eq!(on("last_bridge_counted"), true);
    assert_eq!(on("next_bridge_counted"), false);
}

#[test]
fn rules_rejects_an_unknown_column() {
    let (code, _, err) = bridgesim(&["rules", "--release", "v9.9"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown release `v9.9`"), "{err}");
    let (code, _, err) = bridgesim(&["rules", "--release", "v7.0+no_such_switch"]);
    assert_eq!(code, 2);
    assert!(err.contains("no_such_switch"), "{err}");
}
