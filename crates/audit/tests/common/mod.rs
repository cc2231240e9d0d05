//! Shared helpers of the audit tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The directory of the C cases (`tests/cases/*.c`).
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// The bridge directory of a corpus release, e.g. `v7.1`.
pub fn bridge_dir(corpus: &Path, release: &str) -> PathBuf {
    corpus
        .join("kernel")
        .join(release)
        .join(audit::source::BRIDGE_DIR)
}

/// The corpus releases that have a bridge directory, oldest first.
pub fn corpus_releases(corpus: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(corpus.join("kernel"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| bridge_dir(corpus, n).is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
