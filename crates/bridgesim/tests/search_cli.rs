//! The search side of the command line: numeric arguments are checked against their ranges,
//! results that do not cover the whole space say so in the text and the JSON alike, and
//! Ctrl-C ends a search with what it covered.

use std::process::{Command, Output};

fn bridgesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridgesim"))
        .args(args)
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn numeric_arguments_out_of_range_are_usage_errors_naming_the_range() {
    let cases: &[(&[&str], &str)] = &[
        (&["--threads", "100000"], "1..=256"),
        (&["--threads", "0"], "1..=256"),
        (&["--max-executions", "0"], "1.."),
        (&["--preemption-bound", "1000"], "0..=100"),
        (&["--depth", "0"], "1..=100"),
    ];
    for (args, range) in cases {
        let mut all = vec!["explore", "builtin:demo"];
        all.extend_from_slice(args);
        let o = bridgesim(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(range), "{args:?}: {}", stderr(&o));
    }
    // A schedule longer than any execution is rejected before it takes memory.
    let o = bridgesim(&["run", "builtin:demo", "--schedule", "v1:9x99999999999"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("column 6"), "{}", stderr(&o));
    assert!(stderr(&o).contains("max_steps"), "{}", stderr(&o));
}

/// The verdict line's text and the JSON coverage text of the same search.
fn text_and_json(args: &[&str]) -> (String, serde_json::Value) {
    let mut a = vec!["explore", "builtin:demo", "--rules", "v7.2+proposals"];
    a.extend_from_slice(args);
    let text = bridgesim(&a);
    a.push("--json");
    let json = bridgesim(&a);
    assert_eq!(text.status.code(), json.status.code());
    let j: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    (stdout(&text), j["results"][0].clone())
}

#[test]
fn a_budget_says_not_exhaustive_in_text_and_json() {
    let (text, j) = text_and_json(&["--max-executions", "5", "--threads", "1"]);
    let words = "stopped after 5 executions (limit 5): not exhaustive";
    assert!(text.contains(&format!("clean ({words})")), "{text}");
    assert_eq!(j["coverage"]["text"], words);
    assert_eq!(j["coverage"]["kind"], "truncated");
    assert_eq!(j["exhaustive"], false);
    assert_eq!(j["stats"]["truncated"], true);
}

#[test]
fn a_preemption_bound_says_up_to_k_preemptions_in_text_and_json() {
    let (text, j) = text_and_json(&["--preemption-bound", "0"]);
    assert!(text.contains("clean up to 0 preemptions"), "{text}");
    assert!(!text.contains("exhaustive"), "{text}");
    assert_eq!(j["coverage"]["text"], "up to 0 preemptions");
    assert_eq!(j["coverage"]["bound"], 0);
    assert_eq!(j["exhaustive"], false);
    assert_eq!(j["stats"]["bound_reached"], 0);
}

/// Ctrl-C ends a long search with what it found so far: exit 130, the rows searched, and the
/// interrupted row saying it is not exhaustive. (The demo takes under a second since the
/// field-granular accesses, too short to interrupt reliably; it shares this path: the same
/// handler, flag and table.) `--all`: every column has a violation (thc63lvd1024's released
/// supply), so a search that stops at the first one ends too soon to interrupt. `--free
/// conflict`: with use-after-frees predicted the whole comparison takes about a second; with
/// every free ordered against every access the v6.15 row alone runs past 20,000 executions.
#[test]
fn ctrl_c_ends_a_search_with_what_it_found_so_far() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/bench/3-unplug-disable-getmodes.toml"
    );
    let child = Command::new(env!("CARGO_BIN_EXE_bridgesim"))
        .args([
            "compare", "--rules", "all", "--all", "--free", "conflict", scenario,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let o = child.wait_with_output().expect("ends");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(130), "{out}\n{}", stderr(&o));
    assert!(out.contains("scenario"), "the table header: {out}");
    assert!(
        out.contains("interrupted after") && out.contains("not exhaustive"),
        "the interrupted row says so: {out}"
    );
}
