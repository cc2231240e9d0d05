//! Bad input never panics: the catalog's scenario files, cut, punched and spliced at random,
//! either load or get a located error (a line and column inside the file). Loading goes all
//! the way: TOML, the checks of the format, the boards and overlays, and every node path.

use std::cell::Cell;
use std::path::Path;

use bridgesim::scenario::{Prepared, Scenario};
use proptest::prelude::*;

fn sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/catalog");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let s = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), s)
        })
        .collect();
    v.sort();
    v
}

/// The largest char boundary at or below `i`.
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, String),
}

fn apply(src: &str, m: &Mutation) -> String {
    match m {
        Mutation::Truncate(at) => src[..floor(src, *at)].to_string(),
        Mutation::Delete(at, len) => {
            let a = floor(src, *at);
            let b = floor(src, a + len);
            format!("{}{}", &src[..a], &src[b..])
        }
        Mutation::Insert(at, text) => {
            let a = floor(src, *at);
            format!("{}{text}{}", &src[..a], &src[a..])
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..4096).prop_map(Mutation::Truncate),
        (0usize..4096, 1usize..24).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (0usize..4096, "[\\[\\]{}=\"',.#:\\n a-z0-9/@_-]{1,12}")
            .prop_map(|(a, t)| Mutation::Insert(a, t)),
    ]
}

/// Runs 2,000 mutated files; counts how far each got so the test shows it reached every layer.
#[test]
fn mutated_scenarios_load_or_fail_with_a_location() {
    use proptest::test_runner::{Config, TestRunner};
    let all = sources();
    let mut runner = TestRunner::new(Config {
        cases: 2_000,
        failure_persistence: None,
        ..Config::default()
    });
    // `TestRunner::run` takes a `Fn`.
    let (toml_errors, load_errors, loaded) = (Cell::new(0), Cell::new(0), Cell::new(0));
    let strategy = (0usize..64, proptest::collection::vec(mutation(), 1..4));
    runner
        .run(&strategy, |(which, muts)| {
            let (path, src) = &all[which % all.len()];
            let text = muts.iter().fold(src.clone(), |s, m| apply(&s, m));
            let dir = Path::new(path).parent().unwrap();
            match Scenario::parse(path, dir, &text) {
                Err(e) => {
                    toml_errors.set(toml_errors.get() + 1);
                    let lines = text.lines().count().max(1);
                    prop_assert!(e.line >= 1 && e.line <= lines + 1, "{e} in\n{text}");
                    prop_assert!(e.column >= 1, "{e}");
                }
                // The rest of loading: boards, overlays, node paths; a panic fails the test.
                Ok(sc) => match Prepared::new(sc) {
                    Ok(_) => loaded.set(loaded.get() + 1),
                    Err(_) => load_errors.set(load_errors.get() + 1),
                },
            }
            Ok(())
        })
        .unwrap();
    let (t, e, l) = (toml_errors.get(), load_errors.get(), loaded.get());
    println!("{t} rejected by the format, {e} at load, {l} loaded");
    assert!(t > 0 && l > 0, "{t} {e} {l}");
}
