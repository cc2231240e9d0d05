//! Soundness of field-granular accesses (issue 15): the reduced search (`--granularity
//! field`, the default) must give the same verdict and, with `--all`, the same set of
//! distinct violations as the per-object search it replaces (`--granularity object`, today's
//! DPOR), on everything the per-object search finishes: the catalog, the demo, the corpus
//! scenarios and the 2-thread benchmark case. Both searches run here, side by side.

use std::path::PathBuf;

use bridgesim::scenario;
use bridgesim::verdict::{self, RulesColumn, SearchSpec, Verdict};
use kmodel::Granularity;

use crate::common;
use common::scenario_files as scenarios;

fn spec(granularity: Granularity, collect: bool) -> SearchSpec {
    SearchSpec {
        options: explore::Options {
            progress: None,
            collect,
            granularity,
            ..Default::default()
        },
        ..SearchSpec::default()
    }
}

/// What must not change: clean or not, and (collecting) the distinct violations.
fn answer(v: &Verdict, collect: bool) -> (bool, Vec<String>) {
    let mut keys: Vec<String> = v.findings.iter().map(|f| f.key()).collect();
    keys.sort();
    if !collect {
        // A search that stops at its first violation may stop at another one.
        keys.clear();
    }
    (v.is_clean(), keys)
}

/// Run every file under every release at both granularities; return the differences and
/// the executions of each granularity (summed).
fn compare(files: &[PathBuf], collect: bool) -> (Vec<String>, u64, u64) {
    let (field, object) = (
        spec(Granularity::Field, collect),
        spec(Granularity::Object, collect),
    );
    let mut diffs = Vec::new();
    let (mut nf, mut no) = (0, 0);
    for f in files {
        let p = scenario::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for col in RulesColumn::parse_list("all").unwrap() {
            let a = verdict::explore(&p, &col, &field).unwrap();
            let b = verdict::explore(&p, &col, &object).unwrap();
            assert!(a.exhaustive && b.exhaustive || !collect, "{}", f.display());
            assert_eq!(a.stats.granularity, Granularity::Field);
            assert_eq!(b.stats.granularity, Granularity::Object);
            nf += a.stats.executions;
            no += b.stats.executions;
            if answer(&a, collect) != answer(&b, collect) {
                diffs.push(format!(
                    "{} under {}: field {} / object {}",
                    p.scenario.file.name,
                    col.label,
                    a.summary(),
                    b.summary()
                ));
            }
        }
    }
    (diffs, nf, no)
}

/// Every catalog and demo scenario, every release, stopping at the first violation: the
/// same verdict at both granularities.
#[test]
fn field_granular_search_keeps_every_catalog_verdict() {
    let files = scenarios(&["catalog", "demo"]);
    assert!(files.len() >= 6, "{files:?}");
    let (diffs, nf, no) = compare(&files, false);
    println!("executions: field {nf}, object {no}");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The whole space (`--all`): the same set of distinct violations, on the catalog, the demo,
/// the corpus scenarios and the 2-thread benchmark case, under every release. Heavy (the
/// per-object search of the benchmark case runs 13,742 executions per release):
/// `cargo test --release -p bridgesim --features heavy --test all granularity::`.
#[cfg(feature = "heavy")]
#[test]
fn field_granular_search_finds_every_violation_the_object_search_finds() {
    let mut files = scenarios(&["catalog", "demo"]);
    if testkit::corpus().is_some() {
        files.extend(scenarios(&["corpus"]));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/bench");
    files.push(root.join("2-unplug-disable.toml"));
    let (diffs, nf, no) = compare(&files, true);
    println!("executions: field {nf}, object {no}");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
