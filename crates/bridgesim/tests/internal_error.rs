//! A bug of bridgesim's own (a panic), on any thread and in any command, ends the process with
//! exit code 3 and says so; inside a search it also gives the schedule, whose replay panics
//! again. The panic is injected with `BRIDGESIM_INJECT_PANIC` (bridgesim::fault).

use crate::common::bridgesim_env;

const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scenarios/catalog/5.1-freed-at-remove.toml"
);

fn injected(site: &str, args: &[&str]) -> (i32, String, String) {
    bridgesim_env(args, &[("BRIDGESIM_INJECT_PANIC", site)])
}

fn assert_internal(what: &str, (code, _, err): &(i32, String, String)) {
    assert_eq!(*code, 3, "{what}: exit code; stderr:\n{err}");
    assert!(err.contains("internal error"), "{what}: {err}");
    assert!(err.contains("injected panic"), "{what}: {err}");
}

#[test]
fn a_panic_in_the_cli_thread_exits_3() {
    assert_internal("main", &injected("main", &["explore", SCENARIO]));
}

#[test]
fn a_panic_in_a_model_thread_exits_3_in_every_command() {
    for args in [
        vec!["run", SCENARIO, "--rules", "v7.0"],
        vec!["explore", SCENARIO, "--rules", "v7.0"],
        vec!["explore", SCENARIO, "--rules", "v7.0", "--strategy", "dfs"],
        vec!["compare", SCENARIO, "--rules", "v6.17,v7.0"],
    ] {
        assert_internal(&args.join(" "), &injected("scenario-thread", &args));
    }
}

#[test]
fn a_search_that_panics_gives_a_schedule_whose_replay_panics_again() {
    let out = injected("scenario-thread", &["explore", SCENARIO, "--rules", "v7.0"]);
    assert_internal("explore", &out);
    let schedule = out
        .2
        .split("--schedule ")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .unwrap_or_else(|| panic!("no schedule in:\n{}", out.2));
    let replay = injected(
        "scenario-thread",
        &[
            "replay",
            SCENARIO,
            "--rules",
            "v7.0",
            "--schedule",
            schedule,
        ],
    );
    assert_internal("replay", &replay);
}

#[test]
fn without_the_variable_the_same_commands_finish() {
    let (code, _, err) = bridgesim_env(&["explore", SCENARIO, "--rules", "v7.0"], &[]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let (code, _, err) = injected("no-such-site", &["explore", SCENARIO, "--rules", "v7.0"]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
}

/// A reader that goes away early (`bridgesim rules --json | head -c 1`) is not a bug of ours:
/// the process ends on SIGPIPE, as a C tool does, and never reports an internal error.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_quietly_not_as_an_internal_error() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // The read end is closed before the child starts, so its first write fails.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_bridgesim"))
        .args(["rules", "--json"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("bridgesim runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("internal error"), "stderr:\n{err}");
    assert!(!err.contains("panicked"), "stderr:\n{err}");
    // SIGPIPE is 13 on every unix the project builds on.
    assert_eq!(
        out.status.signal(),
        Some(13),
        "status {:?}, stderr:\n{err}",
        out.status
    );
}
