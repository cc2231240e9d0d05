//! What a user reads: every command's `--help` names `--json` (and docs/json.md), the exit
//! codes and, where it takes `--rules`, its values and default; user-facing texts cite what a
//! reader can open; the "not modelled" line is a summary.

use std::path::Path;

use bridgesim::scenario::{not_modelled_summary, release_names};

use crate::common;
use common::bridgesim;

/// What a reader of this repository cannot open.
const UNREACHABLE_CITATIONS: &[&str] = &["upstream.md", "real-pipelines.md", "§"];

#[test]
fn every_help_names_json_exit_codes_and_rules() {
    for cmd in ["", "demo", "run", "replay", "explore", "compare"] {
        let args: Vec<&str> = [cmd, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let (code, out, _) = bridgesim(&args);
        assert_eq!(code, 0, "{cmd} --help");
        for want in [
            "--json",
            "docs/json.md",
            "Exit codes:",
            "0  clean",
            "1  violations",
            "2  usage or input error",
            "3  internal error",
        ] {
            assert!(out.contains(want), "`{cmd} --help` lacks {want:?}:\n{out}");
        }
        for cite in UNREACHABLE_CITATIONS {
            assert!(!out.contains(cite), "`{cmd} --help` cites {cite}");
        }
        if matches!(cmd, "run" | "replay" | "explore" | "compare") {
            for r in release_names() {
                assert!(out.contains(&r), "`{cmd} --help` lacks release {r}:\n{out}");
            }
            assert!(out.contains("+proposals"), "{cmd}");
        }
        if matches!(cmd, "run" | "replay" | "explore") {
            let default = format!("else {}", drm::Release::LATEST);
            assert!(
                out.contains(&default),
                "`{cmd} --help` lacks the default:\n{out}"
            );
        }
        if cmd == "compare" {
            assert!(out.contains("[default: all]"), "{out}");
        }
    }
}

#[test]
fn user_facing_texts_cite_what_a_reader_can_open() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    let mut dirs = vec![root.join("scenarios")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "md" || x == "toml" || x == "dts" || x == "dtso")
            {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 10);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for cite in UNREACHABLE_CITATIONS {
            assert!(!text.contains(cite), "{} cites {cite}", f.display());
        }
    }
}

#[test]
fn not_modelled_is_a_summary_with_a_flag_for_all() {
    let entries: Vec<String> = [
        "/a (x,one)",
        "/b (x,two, x,one)",
        "/c (x,three)",
        "/d (x,one)",
        "/e (x,four)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let short = not_modelled_summary(&entries, false).unwrap();
    assert_eq!(
        short,
        "not modelled (inert): 5 nodes, 4 compatibles: /a (x,one); /b (x,two, x,one); \
         /c (x,three); ... (--list-unmodelled for all)"
    );
    let all = not_modelled_summary(&entries, true).unwrap();
    assert!(all.ends_with("/d (x,one); /e (x,four)"), "{all}");
    assert!(!all.contains("..."));
    assert_eq!(not_modelled_summary(&[], false), None);
}

#[test]
fn run_prints_the_summary_and_lists_all_on_request() {
    let (code, out, err) = bridgesim(&["run", "builtin:demo", "--list-unmodelled"]);
    assert!(code == 0 || code == 1, "{code}: {err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("not modelled (inert): "))
        .unwrap_or_else(|| panic!("no summary in:\n{out}"));
    assert!(
        line.contains("/addon-connector (ge,sunh-addon-connector)"),
        "{line}"
    );
    assert!(!line.contains("..."), "{line}");
}

#[test]
fn an_oversized_schedule_is_a_usage_error() {
    let (code, _, err) = bridgesim(&["run", "builtin:demo", "--schedule", "v1:0x99999999999"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad schedule at column 6: expected at most 1000000 steps in all"),
        "{err}"
    );
}
