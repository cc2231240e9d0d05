//! Real boards: the corpus boards with their overlays (`scenarios/corpus/`), plugged at boot
//! and unplugged while userspace turns the display off, explored under v6.15 and v7.2. Each
//! scenario's `expect` section explains what the model finds and why. Skipped with a notice
//! when `../shared/corpus` is absent.

use std::path::Path;

use bridgesim::scenario;
use bridgesim::verdict::{self, RulesColumn, SearchSpec};

#[test]
fn corpus_overlays_unplugged_during_a_modeset() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if testkit::corpus().is_none() {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(root.join("scenarios/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    let spec = SearchSpec {
        options: explore::Options {
            progress: None,
            ..Default::default()
        },
        ..SearchSpec::default()
    };
    let mut rows = Vec::new();
    for f in &files {
        let p = scenario::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        // The oldest and the newest release of drm's table.
        for r in [drm::Release::ALL[0], drm::Release::LATEST] {
            let col = RulesColumn::from(drm::RulesColumn::new(r));
            let v = verdict::explore(&p, &col, &spec).unwrap();
            rows.push((p.scenario.file.name.clone(), v));
        }
    }
    println!("{}", verdict::table(&rows));
    for (name, v) in &rows {
        assert_eq!(
            v.matches_expect,
            Some(true),
            "{name} under {}: {}",
            v.rules,
            v.summary()
        );
    }
}
