//! bridgesim's accept/reject verdict equals dtc's on every input that
//! dtc-tests/TESTS.md classifies, driven by the table in dtc_tests.txt.

use crate::common;

use std::path::Path;

fn run(
    dir: &Path,
    file: &str,
    inc: &[String],
    no_symbols: bool,
) -> Result<dts::Compiled, dts::DtsError> {
    let opts = dts::Options {
        include_dirs: inc.iter().map(|d| dir.join(d)).collect(),
        defines: Vec::new(),
        no_symbols,
        ..Default::default()
    };
    dts::load(&dir.join(file), &opts)
}

/// The tree with properties and children sorted by name: dtc's tests
/// compare these pairs unordered (or through libfdt reads).
fn canon(t: &kmodel::of::DeviceTree, n: kmodel::of::NodeId) -> String {
    let mut props: Vec<String> = t
        .properties(n)
        .iter()
        .map(|p| format!("{}={:?};", p.name, p.value))
        .collect();
    props.sort();
    let mut kids: Vec<String> = t
        .children(n)
        .iter()
        .map(|&c| format!("{}{{{}}}", t.name(c), canon(t, c)))
        .collect();
    kids.sort();
    props.concat() + &kids.concat()
}

#[test]
fn verdicts_match_dtc() {
    let Some(c) = common::corpus() else { return };
    let dir = c.join("dtc-tests");
    let table = include_str!("dtc_tests.txt");
    let mut failures = Vec::new();
    let mut counted = 0;
    for (ln, line) in table.lines().enumerate() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (verb, file) = (words[0], words[1]);
        let mut inc = Vec::new();
        let mut kind = None;
        let mut i = 2;
        while i < words.len() {
            match words[i] {
                "-i" => {
                    inc.push(words[i + 1].to_string());
                    i += 2;
                }
                w if w.starts_with("kind=") => {
                    kind = Some(w["kind=".len()..].to_string());
                    i += 1;
                }
                w if verb == "same" && i == 2 => {
                    kind = Some(w.to_string());
                    i += 1;
                }
                w => panic!("dtc_tests.txt:{}: unknown word {w}", ln + 1),
            }
        }
        counted += 1;
        let r = run(&dir, file, &inc, verb == "same");
        match verb {
            "accept" => {
                if let Err(e) = r {
                    failures.push(format!("{file}: dtc accepts, bridgesim rejects: {e}"));
                }
            }
            "reject" => match r {
                Ok(_) => failures.push(format!("{file}: dtc rejects, bridgesim accepts")),
                Err(e) => {
                    let got = format!("{:?}", e.kind);
                    if kind.as_deref().is_some_and(|k| k != got) {
                        failures.push(format!(
                            "{file}: rejected as {got}, expected {}",
                            kind.unwrap()
                        ));
                    }
                    // Every rejection is located (apart from a missing top file).
                    if got != "Io" {
                        assert!(e.line > 0 && e.col > 0, "{file}: unlocated error {e}");
                    }
                }
            },
            "same" => {
                let other = kind.unwrap();
                match (r, run(&dir, &other, &inc, true)) {
                    (Ok(a), Ok(b)) => {
                        if canon(&a.tree, a.tree.root()) != canon(&b.tree, b.tree.root()) {
                            failures.push(format!("{file} and {other} differ"));
                        }
                    }
                    _ => failures.push(format!("{file} or {other} does not compile")),
                }
            }
            v => panic!("dtc_tests.txt:{}: unknown verb {v}", ln + 1),
        }
    }
    assert!(counted > 150, "table too short: {counted}");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_dts_in_dtc_tests_is_classified() {
    let Some(c) = common::corpus() else { return };
    let table = include_str!("dtc_tests.txt");
    let listed: std::collections::BTreeSet<&str> = table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    for e in std::fs::read_dir(c.join("dtc-tests")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".dts") {
            assert!(
                listed.contains(name.as_str()),
                "{name} is not in dtc_tests.txt"
            );
        }
    }
}
