//! The demo: violations under the early releases; a clean verdict from v7.0 for the add-on made
//! of bridges, while the SUNH panel keeps §5.11 open until the proposals; and a shown
//! violation that replays from its printed schedule.

use crate::common;

/// The exit code and stdout of `bridgesim args`.
fn bridgesim(args: &[&str]) -> (i32, String) {
    let (code, out, _) = common::bridgesim(args);
    (code, out)
}

#[test]
fn demo_table_and_replay() {
    let (code, out) = bridgesim(&["demo"]);
    // What the demo prints cites what a reader can open (kernel files, commits, series).
    for cite in ["upstream.md", "real-pipelines.md", "§"] {
        assert!(!out.contains(cite), "the demo cites {cite}:\n{out}");
    }
    let row_of = |scenario: &str, rules: &str| -> String {
        out.lines()
            .find(|l| {
                let mut w = l.split_whitespace();
                w.next() == Some(scenario) && w.next() == Some(rules)
            })
            .unwrap_or_else(|| panic!("no row for {scenario} {rules} in:\n{out}"))
            .to_string()
    };
    let row = |rules: &str| row_of("sunh-unplug-during-modeset", rules);
    let bridges = |rules: &str| row_of("5.15-hw-access-after-unplug", rules);
    for early in ["v6.15", "v6.16", "v6.17", "v6.18", "v6.19"] {
        assert!(
            row(early).contains("use-after-free"),
            "{early}: {}",
            row(early)
        );
    }
    // v7.0 closes the SN65DSI84's window: its hardware access after unplug is gone from the
    // failing execution; the panel's window (§5.11) remains until the proposals.
    let sn65 = "hw-after-unplug in /soc@0/i2c@30a30000/bridge@2c";
    for before in ["v6.17", "v6.18", "v6.19"] {
        assert!(row(before).contains(sn65), "{before}: {}", row(before));
    }
    for after in ["v7.0", "v7.1", "v7.2"] {
        assert!(!row(after).contains("bridge@2c"), "{after}: {}", row(after));
        assert!(
            row(after).contains("use-after-free in struct panel_lvds /panel"),
            "{}",
            row(after)
        );
    }
    let last = row("v7.2+proposals");
    assert!(last.contains("clean (exhaustive)"), "{last}");
    // The same unplug on an add-on made only of bridges: violations before v7.0 (freed
    // memory, then hardware access after unplug); from v7.0 the SN65DSI84 is guarded and only
    // the THC63LVD1024's released supply is left (thc63_disable has no drm_bridge_enter),
    // exhaustively clean with the proposals.
    for early in ["v6.15", "v6.16"] {
        assert!(
            bridges(early).contains("use-after-free"),
            "{}",
            bridges(early)
        );
    }
    for early in ["v6.17", "v6.18", "v6.19"] {
        assert!(
            bridges(early).contains("hw-after-unplug"),
            "{}",
            bridges(early)
        );
    }
    for after in ["v7.0", "v7.1", "v7.2"] {
        assert!(!bridges(after).contains("bridge@2c"), "{}", bridges(after));
        assert!(
            bridges(after).contains("hw-after-unplug") && bridges(after).contains("/lvds-decoder"),
            "{}",
            bridges(after)
        );
    }
    let last = bridges("v7.2+proposals");
    assert!(last.contains("clean (exhaustive)"), "{last}");
    assert!(out.contains("BUG: KASAN: slab-use-after-free in"), "{out}");
    // Every row matches the demo scenario's expect section, so the exit code is 0.
    assert_eq!(code, 0, "{out}");

    // The shown violation replays from its printed command line.
    let replay = out
        .lines()
        .find(|l| l.starts_with("Replay: bridgesim replay"))
        .expect("replay line");
    let args: Vec<&str> = replay
        .trim_start_matches("Replay: bridgesim ")
        .split_whitespace()
        .collect();
    let (rcode, rout) = bridgesim(&args);
    assert_eq!(rcode, 1, "a violation is found: {rout}");
    let title = out.lines().find(|l| l.starts_with("BUG: KASAN")).unwrap();
    assert!(
        rout.contains(title),
        "replay shows the same report title `{title}`:\n{rout}"
    );
    let freed = out
        .lines()
        .find(|l| l.starts_with("Freed by thread"))
        .unwrap();
    assert!(rout.contains(freed), "same free site `{freed}`:\n{rout}");
}

#[test]
fn demo_json_is_versioned() {
    let (code, out) = bridgesim(&["demo", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["schema"], "bridgesim/1");
    assert_eq!(v["command"], "demo");
    let results = v["results"].as_array().unwrap();
    // Results are looked up by scenario and rules column, not by position.
    let result = |scenario: &str, rules: &str| -> &serde_json::Value {
        results
            .iter()
            .find(|r| r["scenario"] == scenario && r["rules"] == rules)
            .unwrap_or_else(|| panic!("no result for {scenario} under {rules}"))
    };
    let findings = |r: &serde_json::Value| r["findings"].as_array().unwrap().len();
    // Two scenarios × every release and the proposals.
    let latest = drm::Release::LATEST;
    let proposals = format!("{latest}+proposals");
    let columns: Vec<String> = drm::Release::ALL
        .iter()
        .map(|r| r.to_string())
        .chain([proposals.clone()])
        .collect();
    assert_eq!(results.len(), 2 * columns.len());
    for scenario in ["sunh-unplug-during-modeset", "5.15-hw-access-after-unplug"] {
        for c in &columns {
            result(scenario, c);
        }
        assert!(findings(result(scenario, "v6.15")) > 0, "{scenario}");
        let last = result(scenario, &proposals);
        assert_eq!(findings(last), 0, "{scenario}");
        assert_eq!(last["exhaustive"], true, "{scenario}");
    }
    let bridges = result("5.15-hw-access-after-unplug", "v7.0");
    assert_eq!(
        findings(bridges),
        1,
        "thc63lvd1024's released vcc: {bridges}"
    );
    let kind = &result("sunh-unplug-during-modeset", "v6.15")["findings"][0]["kind"];
    assert!(
        kind.as_str()
            .is_some_and(|k| k.parse::<kmodel::ViolationKind>().is_ok()),
        "a finding's kind is a violation kind name: {kind}"
    );
}

#[test]
fn explore_all_collects_every_distinct_violation() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/catalog/5.11-panel-bridge-panel.toml"
    );
    let (code, out) = bridgesim(&["explore", scenario, "--rules", "v6.17", "--all", "--json"]);
    // The scenario's expect lists every violation of the space, so it matches: exit 0.
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = results
        .iter()
        .find(|r| r["rules"] == "v6.17")
        .expect("the v6.17 result");
    assert_eq!(r["exhaustive"], true);
    assert_eq!(r["every_violation"], true);
    assert_eq!(r["matches_expect"], true);
    let found: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The panel read after its free, and the SN65DSI84's released regmap (v6.17 has no
    // drm_bridge_enter): both, where a search that stops at the first reports one.
    assert!(
        found
            .iter()
            .any(|(k, o)| k == "use-after-free" && o.ends_with("/panel")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(k, o)| k == "hw-after-unplug" && o.contains("bridge@2c")),
        "{found:?}"
    );
}
