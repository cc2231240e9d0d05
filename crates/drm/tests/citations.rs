//! Citations as data (issue #12, item 1): every rules switch cites what it models, every read
//! of a switch in the crates' Rust sources carries a `// cite:` comment, and every source
//! citation names a file of its release's tree in the corpus that defines that function.

use std::path::{Path, PathBuf};

use drm::cite::{scan_source, CITE_WINDOW};
use drm::{Citation, Switch};

fn switch_names() -> Vec<&'static str> {
    Switch::ALL.iter().map(|s| s.name()).collect()
}

/// The workspace's `crates/*/src/**/*.rs`, sorted.
fn rust_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf();
    let mut out = Vec::new();
    for c in std::fs::read_dir(&crates).expect("crates/").flatten() {
        walk(&c.path().join("src"), &mut out);
    }
    out.sort();
    out
}

/// Where the table and the reads are checked: the problems found in `files` (path, text),
/// each naming its place, and the citations to check against the corpus.
fn problems(files: &[(String, String)]) -> (Vec<String>, Vec<(String, Citation)>) {
    let names = switch_names();
    let mut bad = Vec::new();
    let mut cites = Vec::new();
    for s in Switch::ALL {
        if s.cites().is_empty() {
            bad.push(format!(
                "crates/drm/src/rules.rs: switch {s} has no citation"
            ));
        }
        for c in s.cites() {
            match c.parse::<Citation>() {
                Ok(c) => cites.push((format!("switch {s}"), c)),
                Err(e) => bad.push(format!("switch {s}: {e}")),
            }
        }
    }
    for (path, text) in files {
        // The table's own definitions are not reads.
        if path.ends_with("drm/src/rules.rs") {
            continue;
        }
        let scan = scan_source(text, &names);
        for (line, parsed) in scan.cites {
            match parsed {
                Ok(list) if list.is_empty() => bad.push(format!("{path}:{line}: empty `// cite:`")),
                Ok(list) => cites.extend(list.into_iter().map(|c| (format!("{path}:{line}"), c))),
                Err(e) => bad.push(format!("{path}:{line}: {e}")),
            }
        }
        for r in scan.reads.iter().filter(|r| !r.cited) {
            bad.push(format!(
                "{path}:{}: reads switch `{}` with no `// cite:` on its line or the {CITE_WINDOW} above",
                r.line, r.switch
            ));
        }
    }
    (bad, cites)
}

fn read_sources() -> Vec<(String, String)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/");
    let root = crates.parent().expect("the workspace");
    rust_sources()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read a source file");
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            (rel, text)
        })
        .collect()
}

/// Every switch and every read of one is cited; the citations parse (no corpus needed).
#[test]
fn every_switch_and_every_read_is_cited() {
    let files = read_sources();
    assert!(
        files.iter().any(|(p, _)| p.ends_with("bridge/mod.rs")),
        "the scan found the drm sources"
    );
    let (bad, cites) = problems(&files);
    assert!(bad.is_empty(), "uncited or malformed:\n{}", bad.join("\n"));
    // The scan saw the reads it should: at least one per switch a release turns on
    // somewhere in the core.
    assert!(cites.len() > Switch::ALL.len(), "{} citations", cites.len());
}

/// Every source citation (table and comments) names a file of the corpus that defines the
/// function.
#[test]
fn every_source_citation_is_in_the_corpus() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let kernel = corpus.join("kernel");
    let (_, cites) = problems(&read_sources());
    let mut checked = 0;
    let mut bad = Vec::new();
    for (place, c) in &cites {
        if matches!(c, Citation::Source { .. }) {
            checked += 1;
        }
        if let Err(e) = c.check_in_corpus(&kernel) {
            bad.push(format!("{place}: {e}"));
        }
    }
    assert!(bad.is_empty(), "not in the corpus:\n{}", bad.join("\n"));
    assert!(checked > 50, "only {checked} source citations checked");
}

/// The checker catches a planted uncited read, a malformed comment and a citation of a
/// function the file does not define; and is silent on the cited version.
#[test]
fn planted_faults_are_caught() {
    let cited = "fn f(k: &Kernel) {\n    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_unplug\n    if rules(k).bridge_unplug {}\n}\n";
    let (bad, _) = problems(&[("crates/x/src/ok.rs".into(), cited.into())]);
    assert!(bad.is_empty(), "{bad:?}");

    let uncited = "fn f(k: &Kernel) {\n    let r = rules(k);\n    if r.chain_mutex {}\n}\n";
    let (bad, _) = problems(&[("crates/x/src/a.rs".into(), uncited.into())]);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("crates/x/src/a.rs:3: reads switch `chain_mutex`"),
        "{bad:?}"
    );

    let malformed = "// cite: drm_bridge_add\nlet x = r.lingering_list;\n";
    let (bad, _) = problems(&[("crates/x/src/b.rs".into(), malformed.into())]);
    assert!(
        bad.len() == 1 && bad[0].starts_with("crates/x/src/b.rs:1: bad citation"),
        "{bad:?}"
    );

    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let wrong = "// cite: v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_no_such_function\nlet x = r.lingering_list;\n";
    let (bad, cites) = problems(&[("crates/x/src/c.rs".into(), wrong.into())]);
    assert!(bad.is_empty());
    let planted = &cites.last().expect("the planted citation").1;
    assert!(planted.check_in_corpus(&corpus.join("kernel")).is_err());
    let missing: Citation = "v6.17:drivers/gpu/drm/no_such_file.c:f".parse().unwrap();
    assert!(missing.check_in_corpus(&corpus.join("kernel")).is_err());
}
