//! Shared helpers for the corpus tests: where the corpus is, whether dtc is
//! installed, and the dtc-decompile comparison with phandles renumbered by
//! the path of the node they point to.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `../shared/corpus` relative to the workspace root, if present (a visible skip otherwise,
/// a failure under `CI=true`: see `testkit`).
pub fn corpus() -> Option<PathBuf> {
    testkit::corpus()
}

/// Whether dtc is installed (see `testkit`).
pub fn have_dtc() -> bool {
    testkit::need_dtc()
}

pub fn kernel_opts(corpus: &Path) -> dts::Options {
    dts::Options {
        include_dirs: vec![corpus.join("dts/include"), corpus.join("dts/src")],
        defines: Vec::new(),
        ..Default::default()
    }
}

static N: AtomicUsize = AtomicUsize::new(0);

/// `dtc -I dtb -O dts -s` of a blob.
pub fn decompile(blob: &[u8]) -> String {
    let p = std::env::temp_dir().join(format!(
        "bridgesim-dts-{}-{}.dtb",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&p, blob).unwrap();
    let out = Command::new("dtc")
        .args(["-q", "-I", "dtb", "-O", "dts", "-s"])
        .arg(&p)
        .output()
        .expect("run dtc");
    let _ = std::fs::remove_file(&p);
    assert!(
        out.status.success(),
        "dtc failed to decompile: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// phandle value → node path, from decompiled text.
fn phandle_paths(text: &str) -> HashMap<u32, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut map = HashMap::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_suffix(" {") {
            let name = name.rsplit(' ').next().unwrap_or(name);
            stack.push(name.to_string());
        } else if t == "};" {
            stack.pop();
        } else if let Some(v) = t
            .strip_prefix("phandle = <")
            .and_then(|r| r.strip_suffix(">;"))
        {
            if let Some(v) = parse_cell(v) {
                let path = if stack.len() <= 1 {
                    "/".to_string()
                } else {
                    stack[1..].iter().map(|s| format!("/{s}")).collect()
                };
                map.insert(v, path);
            }
        }
    }
    map
}

fn parse_cell(s: &str) -> Option<u32> {
    let s = s.trim();
    s.strip_prefix("0x")
        .map_or_else(|| s.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
}

fn cells(line: &str) -> Vec<&str> {
    line.split(|c: char| c.is_whitespace() || "<>;,=".contains(c))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Compares two decompiled trees; cells may differ only where both values
/// are phandles of nodes with the same path. Returns the first mismatch.
pub fn compare_decompiled(mine: &str, reference: &str) -> Result<(), String> {
    let (pm, pr) = (phandle_paths(mine), phandle_paths(reference));
    let (lm, lr): (Vec<&str>, Vec<&str>) = (mine.lines().collect(), reference.lines().collect());
    for (i, (a, b)) in lm.iter().zip(&lr).enumerate() {
        if a == b {
            continue;
        }
        let (ca, cb) = (cells(a), cells(b));
        let ok = ca.len() == cb.len()
            && ca.iter().zip(&cb).all(|(x, y)| {
                x == y
                    || match (parse_cell(x), parse_cell(y)) {
                        (Some(vx), Some(vy)) => pm.get(&vx).is_some_and(|p| pr.get(&vy) == Some(p)),
                        _ => false,
                    }
            });
        if !ok {
            return Err(format!(
                "line {}:\n  bridgesim: {a}\n  dtc:       {b}",
                i + 1
            ));
        }
    }
    if lm.len() != lr.len() {
        return Err(format!(
            "line counts differ: bridgesim {} vs dtc {}",
            lm.len(),
            lr.len()
        ));
    }
    Ok(())
}
