//! The hazard patterns as data: each `tests/cases/*.c` names the release it is audited under
//! (`// audit-release: R`) and the hazards expected (`// expect: PATTERN LINE`, or
//! `// expect: none`). Buggy cases show that each pattern fires; their corrected twins show
//! that it stays silent on correct code.

use std::collections::BTreeSet;

use crate::common;
use drm::Release;

struct Case {
    name: String,
    release: Release,
    expected: BTreeSet<(String, u32)>,
    says_none: bool,
    src: String,
}

fn load() -> Vec<Case> {
    let mut files: Vec<_> = std::fs::read_dir(common::cases_dir())
        .expect("tests/cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let src = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let mut release = None;
            let mut expected = BTreeSet::new();
            let mut says_none = false;
            for l in src.lines().take_while(|l| l.starts_with("//")) {
                let l = l.trim_start_matches("//").trim();
                if let Some(r) = l.strip_prefix("audit-release:") {
                    release = Some(r.trim().parse::<Release>().unwrap());
                } else if let Some(e) = l.strip_prefix("expect:") {
                    let e = e.trim();
                    if e == "none" {
                        says_none = true;
                    } else {
                        let (pat, line) = e.split_once(' ').expect("expect: PATTERN LINE");
                        expected.insert((pat.to_string(), line.trim().parse().unwrap()));
                    }
                }
            }
            Case {
                release: release.unwrap_or_else(|| panic!("{name}: no audit-release line")),
                name,
                expected,
                says_none,
                src,
            }
        })
        .collect()
}

#[test]
fn every_case_reports_exactly_its_expected_hazards() {
    let cases = load();
    assert!(cases.len() >= 8, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        assert!(
            c.says_none == c.expected.is_empty(),
            "{}: say `expect: none` or list hazards, not both",
            c.name
        );
        let r = audit::report::audit_source(&c.name, &c.src, &[c.release], None);
        let got: BTreeSet<(String, u32)> = r
            .hazards
            .iter()
            .map(|h| (h.pattern.to_string(), h.line))
            .collect();
        if got != c.expected {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                c.name, c.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn both_outcomes_are_covered_by_the_cases() {
    let cases = load();
    let firing: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.expected.iter().map(|(p, _)| p.clone()))
        .collect();
    for p in [
        "enter-without-exit",
        "counted-get-leak",
        "hw-after-unplug-call",
        "unguarded-hw-access",
        "work-not-cancelled",
        "irq-not-freed",
        "borrowed-bridge-stored",
    ] {
        assert!(firing.contains(p), "no case fires {p}");
    }
    assert!(cases.iter().filter(|c| c.says_none).count() >= 4);
}

#[test]
fn the_counterexample_path_goes_from_the_enter_to_the_return() {
    let src = std::fs::read_to_string(common::cases_dir().join("enter_missing_exit.c")).unwrap();
    let r = audit::report::audit_source("enter_missing_exit.c", &src, &[Release::V7_1], None);
    let h = &r.hazards[0];
    let lines: Vec<u32> = h.trail.iter().map(|t| t.line).collect();
    assert_eq!(lines, [16, 19, 20], "{:?}", h.trail);
    assert_eq!(h.kind, audit::hazards::Kind::Hang);
}

#[test]
fn a_lookup_is_a_leak_only_in_the_releases_where_it_is_counted() {
    let src = "static int f(struct drm_bridge *b)\n{\n\tstruct drm_bridge *n = drm_bridge_get_next_bridge(b);\n\tif (foo())\n\t\treturn -EINVAL;\n\tdrm_bridge_put(n);\n\treturn 0;\n}\n";
    let r = audit::report::audit_source("x.c", src, &Release::ALL, None);
    assert_eq!(r.hazards.len(), 1, "{:?}", r.hazards);
    // Counted from v6.19 (v6.19:include/drm/drm_bridge.h:drm_bridge_get_next_bridge).
    let from: Vec<Release> = Release::ALL
        .into_iter()
        .filter(|r| *r >= Release::V6_19)
        .collect();
    assert_eq!(r.hazards[0].releases, from);
}

#[test]
fn calls_are_counted_and_unknown_ones_listed_with_their_line() {
    let src = "static int f(void)\n{\n\tdev_err(d, \"x\");\n\tdrm_bridge_add(b);\n\tfrobnicate(1);\n\tg();\n\treturn 0;\n}\nstatic void g(void) {}\n";
    let r = audit::report::audit_source("x.c", src, &[Release::V7_1], None);
    let c = &r.driver.calls;
    assert_eq!(
        (c.seen, c.recognised, c.neutral, c.internal, c.unknown),
        (4, 1, 1, 1, 1)
    );
    assert_eq!(r.driver.unknown_calls, [(5, "frobnicate".to_string())]);
}
