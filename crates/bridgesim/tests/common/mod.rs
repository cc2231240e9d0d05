//! Helpers shared by the command-line tests.

use std::process::Command;

/// Run the `bridgesim` binary with `args`: its exit code (-1 when killed by a signal), its
/// stdout and its stderr.
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
