//! The scenario corpus as tests: every scenario under `scenarios/catalog/`,
//! `scenarios/demo/` and `scenarios/drivers/` (one per described driver) is explored (DPOR) under every release, and under every extra rules
//! column its `expect` names, and the verdict must match `expect`. Where the model disagrees
//! with upstream history this fails: fix the model, not the expectation.

use std::path::Path;

use bridgesim::scenario;
use bridgesim::scenario::Expect;
use bridgesim::verdict::{self, RulesColumn, SearchSpec};
use kmodel::ViolationKind;

use crate::common;

/// The scenario directories these tests run, under `scenarios/`.
const SCENARIO_DIRS: &[&str] = &["catalog", "demo", "drivers"];

fn scenario_files() -> Vec<std::path::PathBuf> {
    common::scenario_files(SCENARIO_DIRS)
}

#[test]
fn every_scenario_matches_its_expectation_under_every_release() {
    check_every_scenario(false);
}

/// The same with `--all`: each search covers the whole space and reports every distinct
/// violation, and each `expect` list must be exactly those (nothing unlisted, nothing
/// missing).
///
/// A heavy check (two minutes in a debug build, twenty seconds in release): it runs in the
/// second test command, `cargo test --release -p bridgesim --features heavy --test all catalog::`,
/// which `.ci/run` also runs.
#[cfg(feature = "heavy")]
#[test]
fn every_violation_of_every_scenario_is_expected() {
    check_every_scenario(true);
}

fn check_every_scenario(collect: bool) {
    let files = scenario_files();
    assert!(files.len() >= 6, "{files:?}");
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            collect,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    let mut rows = Vec::new();
    let mut wrong = Vec::new();
    for f in &files {
        let p = scenario::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            p.scenario.file.failure_mode.is_some(),
            "{}: names its failure mode",
            f.display()
        );
        let mut cols = RulesColumn::parse_list("all").unwrap();
        for label in p.scenario.file.expect.keys() {
            if label == scenario::DEFAULT_EXPECT {
                continue;
            }
            // Keys are columns in any spelling; compare the parsed columns.
            let col = RulesColumn::parse(label).unwrap();
            if !cols.contains(&col) {
                cols.push(col);
            }
        }
        for col in &cols {
            let v = verdict::explore(&p, col, &spec).unwrap();
            assert!(
                v.expect.is_some(),
                "{}: no expectation for {}",
                f.display(),
                col.label
            );
            assert_eq!(v.every_violation, collect, "{}", f.display());
            if v.matches_expect != Some(true) {
                wrong.push(format!(
                    "{} under {}: got {}, expected {}",
                    p.scenario.file.name,
                    col.label,
                    v.summary(),
                    v.expect.as_ref().unwrap()
                ));
            }
            rows.push((p.scenario.file.name.clone(), v));
        }
    }
    println!("{}", verdict::table(&rows));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// §5.8: the use-after-free of the 5.8 scenario is the holder's own use of its stored pointer
/// (simple_bridge_attach attaching the freed VGA connector at the card's rebind), not the
/// chain's (§5.1), in every release before v7.0; from v7.0 the counted `next_bridge` keeps the
/// connector and the rebind is clean.
#[test]
fn stored_next_bridge_is_used_by_its_holder_until_v7_0() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog/5.8-stored-next-bridge.toml");
    let p = scenario::load(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    for col in RulesColumn::parse_list("all").unwrap() {
        let v = verdict::explore(&p, &col, &spec).unwrap();
        if col.release < drm::Release::V7_0 {
            let first = v
                .findings
                .first()
                .unwrap_or_else(|| panic!("{}: clean", col.label));
            assert_eq!(first.kind, ViolationKind::UseAfterFree, "{}", col.label);
            assert!(
                first.object.contains("display_connector /vga"),
                "{}: {}",
                col.label,
                first.object
            );
            // The read is drm_bridge_attach's, called by simple-bridge with its stored pointer
            // while the LCDIF probes again.
            let stack: Vec<&str> = first
                .report
                .lines()
                .skip_while(|l| !l.starts_with("Read of"))
                .skip(1)
                .take_while(|l| l.starts_with("  "))
                .map(str::trim)
                .collect();
            assert_eq!(
                stack.get(..2),
                Some(&["drm_bridge_attach", "simple_bridge_attach"][..]),
                "{}:\n{}",
                col.label,
                first.report
            );
            // lcdif_probe (imx_lcdif_probe where the description cites a series: v6.15, v6.16).
            assert!(
                stack.iter().any(|f| f.ends_with("lcdif_probe")),
                "{}: {stack:?}",
                col.label
            );
        } else if col.release < drm::Release::V7_2 {
            // v7.0-v7.1: the counted next_bridge keeps the connector; what remains is the
            // DAC's own connector at the card's release (the LCDIF of v6.17-v7.1 attaches with
            // flags 0: v7.1:drivers/gpu/drm/bridge/simple-bridge.c:simple_bridge_attach).
            assert!(
                v.findings
                    .iter()
                    .all(|f| !f.object.contains("display_connector /vga")),
                "{}: {}",
                col.label,
                v.summary()
            );
            assert!(
                v.findings
                    .iter()
                    .all(|f| f.object.contains("simple_bridge /vga-dac")),
                "{}: {}",
                col.label,
                v.summary()
            );
        } else {
            assert!(
                v.is_clean() && v.exhaustive,
                "{}: {}",
                col.label,
                v.summary()
            );
        }
    }
}

fn list(entries: &[&str]) -> Expect {
    Expect::Violations(entries.iter().map(|s| s.to_string()).collect())
}

/// `matches` says no to a wrong expectation: another kind, another object, "clean" for a
/// failing column, a list for a clean one, and (with every violation of the space) an entry
/// the search did not find.
#[test]
fn a_wrong_expectation_is_detected() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog/5.8-stored-next-bridge.toml");
    let p = scenario::load(&f).unwrap();
    let col = RulesColumn::parse("v6.17").unwrap();
    let v = verdict::explore(&p, &col, &SearchSpec::default()).unwrap();
    assert_eq!(v.matches_expect, Some(true), "{}", v.summary());
    let first = v.findings[0].clone();
    let kind = first.kind.to_string();
    assert!(verdict::matches(&list(&[&kind]), &v));
    for wrong in [
        list(&["double-free"]),
        list(&[&format!("{kind}:/no-such-node")]),
        list(&["leak", "warn"]),
        Expect::Verdict("clean".into()),
    ] {
        assert!(
            !verdict::matches(&wrong, &v),
            "{wrong} matched {}",
            v.summary()
        );
    }
    // Every violation of the space: an expected entry that was not found is a mismatch.
    let mut all = v.clone();
    all.every_violation = true;
    all.findings.truncate(1);
    assert!(verdict::matches(&list(&[&kind]), &all));
    assert!(!verdict::matches(&list(&[&kind, "deadlock"]), &all));

    // v7.2 is clean: only an exhaustive "clean" matches.
    let clean = verdict::explore(
        &p,
        &RulesColumn::parse("v7.2").unwrap(),
        &SearchSpec::default(),
    )
    .unwrap();
    assert!(clean.is_clean() && clean.exhaustive);
    assert!(verdict::matches(&Expect::Verdict("clean".into()), &clean));
    assert!(!verdict::matches(&list(&[&kind]), &clean));
    let mut partial = clean.clone();
    partial.exhaustive = false;
    assert!(!verdict::matches(
        &Expect::Verdict("clean".into()),
        &partial
    ));
}

/// A `{ deferred, verdict }` row matches only when its entries name exactly the devices boot
/// left deferred and its verdict matches.
#[test]
fn a_deferred_row_names_exactly_the_deferred_devices() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog/5.8-stored-next-bridge.toml");
    let p = scenario::load(&f).unwrap();
    let clean = verdict::explore(
        &p,
        &RulesColumn::parse("v7.2").unwrap(),
        &SearchSpec::default(),
    )
    .unwrap();
    // Everything on the SUNH board binds.
    assert_eq!(clean.deferred, Vec::<String>::new());
    let row = |deferred: &[&str], verdict: Expect| {
        Expect::Boot(scenario::BootExpect {
            deferred: deferred.iter().map(|s| s.to_string()).collect(),
            verdict: Box::new(verdict),
        })
    };
    let ok = Expect::Verdict("clean".into());
    assert!(verdict::matches(&row(&[], ok.clone()), &clean));
    assert!(!verdict::matches(&row(&["bridge@2c"], ok.clone()), &clean));
    assert!(!verdict::matches(&row(&[], list(&["leak"])), &clean));
    let mut two = clean.clone();
    two.deferred = vec!["/soc/a@1".into(), "/soc/b@2".into()];
    assert!(verdict::matches(&row(&["a@1", "b@2"], ok.clone()), &two));
    assert!(verdict::matches(&row(&["/soc/"], ok.clone()), &two));
    assert!(!verdict::matches(&row(&["a@1"], ok.clone()), &two));
    assert!(!verdict::matches(
        &row(&["a@1", "b@2", "c@3"], ok.clone()),
        &two
    ));
    // A plain row does not look at deferral.
    assert!(verdict::matches(&ok, &two));
}

/// `--rules 6.15` (without the v) is the v6.15 column and finds the `"v6.15"` row, not
/// `default`.
#[test]
fn a_column_finds_its_row_in_any_spelling() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog/5.8-stored-next-bridge.toml");
    let p = scenario::load(&f).unwrap();
    let row = p.scenario.file.expect["v6.15"].get_ref().clone();
    for spelling in ["6.15", "v6.15", " 6.15 "] {
        assert_eq!(
            verdict::expectation(&p, spelling),
            Some(row.clone()),
            "{spelling}"
        );
    }
    let col = RulesColumn::parse("6.15").unwrap();
    assert_eq!(col.label, "v6.15");
    let v = verdict::explore(&p, &col, &SearchSpec::default()).unwrap();
    assert_eq!(v.expect, Some(row));
    assert_eq!(v.matches_expect, Some(true), "{}", v.summary());
}

/// Every release of drm's table is a column of `all`, and the catalog has a verdict for it
/// (an `expect` row or `default`) in every scenario.
#[test]
fn every_release_is_a_column() {
    let cols = RulesColumn::parse_list("all").unwrap();
    let releases: Vec<drm::Release> = cols.iter().map(|c| c.release).collect();
    assert_eq!(releases, drm::Release::ALL);
    for f in scenario_files() {
        let p = scenario::load(&f).unwrap();
        for c in &cols {
            assert!(
                verdict::expectation(&p, &c.label).is_some(),
                "{}: no expectation for {}",
                f.display(),
                c.label
            );
        }
    }
}

/// The fifteen failure modes of the bridge lifetime (upstream.md §5, kept outside this
/// repository: its section 5 numbers them 5.1 … 5.19 with gaps).
const FAILURE_MODES: [&str; 15] = [
    "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.11", "5.12", "5.15", "5.16", "5.17",
    "5.18", "5.19",
];

/// Issue 12's coverage rule, checked: every failure mode is the `failure_mode` of a catalog
/// scenario, or has a line in the catalog README's "not (yet) expressed" table that cites the
/// sources (`release:path:function`); every catalog scenario names a known mode and has its
/// row in the README's main table.
#[test]
fn every_failure_mode_has_a_scenario_or_a_cited_reason() {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/catalog");
    let readme = std::fs::read_to_string(catalog.join("README.md")).unwrap();
    let (table, reasons) = readme
        .split_once("## Failure modes not (yet) expressed")
        .expect("the README has its table of modes not expressed");
    let mut expressed = std::collections::BTreeSet::new();
    for f in common::scenario_files(&["catalog"]) {
        let p = scenario::load(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let mode = p
            .scenario
            .file
            .failure_mode
            .clone()
            .unwrap_or_else(|| panic!("{}: names no failure mode", f.display()));
        assert!(
            FAILURE_MODES.contains(&mode.as_str()),
            "{}: unknown failure mode {mode}",
            f.display()
        );
        let file = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(&format!("| {mode} |")) && l.contains(&file)),
            "scenarios/catalog/README.md has no row `| {mode} | `{file}` ...`"
        );
        expressed.insert(mode);
    }
    let cited = |l: &str| {
        l.split(|c: char| c.is_whitespace() || "(),;`".contains(c))
            .filter_map(|w| w.parse::<drm::Citation>().ok())
            .any(|c| matches!(c, drm::Citation::Source { .. }))
    };
    for mode in FAILURE_MODES {
        if expressed.contains(mode) {
            continue;
        }
        let line = reasons
            .lines()
            .find(|l| l.starts_with(&format!("| {mode} ")))
            .unwrap_or_else(|| panic!("failure mode {mode}: no scenario and no README reason"));
        assert!(
            cited(line),
            "failure mode {mode}: the reason cites no source:\n{line}"
        );
    }
}
