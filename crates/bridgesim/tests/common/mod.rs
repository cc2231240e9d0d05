//! Helpers shared by the command-line tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Run the `bridgesim` binary with `args`: its exit code (-1 when killed by a signal), its
/// stdout and its stderr.
#[allow(dead_code)] // not every test binary runs the CLI
pub fn bridgesim(args: &[&str]) -> (i32, String, String) {
    bridgesim_env(args, &[])
}

/// [`bridgesim`] with extra environment variables.
pub fn bridgesim_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bridgesim"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("bridgesim runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The scenario files (`*.toml`) of the given folders of `scenarios/`, sorted.
#[allow(dead_code)] // not every test binary lists scenarios
pub fn scenario_files(dirs: &[&str]) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files = Vec::new();
    for dir in dirs {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}
