//! Test support shared by the workspace's tests: where `../shared/corpus` is, whether `dtc`
//! and `cpp` are installed, and what a test does when they are not.
//!
//! A test that needs one of them asks here ([`corpus`], [`need_tool`], [`need_dtc`]) and
//! returns early when the answer is no. The skip is never silent:
//!
//! - it writes `SKIPPED <test>: <what> is absent ...` to the process's real stderr (libtest
//!   captures `print!`/`eprint!`, not writes to `std::io::stderr()`), so it shows in the
//!   summary output of `cargo test` even when the test passes;
//! - when the environment variable `CI` is `true`, it fails the test instead: CI installs
//!   `dtc` and `cpp` and runs beside `../shared/corpus`, so a missing one is a broken CI run,
//!   not a skip.
//!
//! Every test that needs the corpus, dtc, cpp or a browser (each a [`Tool`]) goes
//! through here; none checks for them on its own.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An external program a test compares with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Tool {
    /// The device-tree compiler (Debian's `device-tree-compiler`).
    Dtc,
    /// The C preprocessor.
    Cpp,
    /// Debian's Chromium, for the browser tests (run headless).
    Chromium,
}

impl Tool {
    /// The command name.
    pub fn command(self) -> &'static str {
        match self {
            Tool::Dtc => "dtc",
            Tool::Cpp => "cpp",
            Tool::Chromium => "chromium",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.command())
    }
}

/// What a test needs from outside the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// `../shared/corpus` (relative to the workspace root), at the path it was looked for.
    Corpus(PathBuf),
    /// A program on the `PATH`.
    Tool(Tool),
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Corpus(p) => write!(f, "../shared/corpus is absent (looked at {})", p.display()),
            Need::Tool(t) => write!(f, "{t} is not installed"),
        }
    }
}

/// A test that cannot run because something it needs is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    pub test: String,
    pub need: Need,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.test, self.need)
    }
}

/// What a test does about a need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<T> {
    /// It is there: run.
    Run(T),
    /// It is missing outside CI: skip with a notice.
    Skip(Missing),
    /// It is missing under `CI=true`: fail.
    Fail(Missing),
}

/// Where to look and whether this is CI; [`Env::from_process`] for the real one, a literal
/// for tests of this crate.
pub struct Env {
    /// The workspace root; the corpus is `<root>/../shared/corpus`.
    pub workspace_root: PathBuf,
    /// `CI=true`.
    pub ci: bool,
    /// Whether a tool is installed.
    pub has_tool: fn(Tool) -> bool,
}

/// Whether `tool --version` runs and succeeds.
pub fn tool_on_path(tool: Tool) -> bool {
    Command::new(tool.command())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Env {
    /// This workspace, `CI` from the environment, tools from the `PATH`.
    pub fn from_process() -> Env {
        Env {
            workspace_root: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
            ci: std::env::var("CI").is_ok_and(|v| v == "true"),
            has_tool: tool_on_path,
        }
    }

    fn decide<T>(&self, test: &str, found: Option<T>, need: Need) -> Decision<T> {
        match found {
            Some(t) => Decision::Run(t),
            None => {
                let m = Missing {
                    test: test.to_string(),
                    need,
                };
                if self.ci {
                    Decision::Fail(m)
                } else {
                    Decision::Skip(m)
                }
            }
        }
    }

    /// The corpus directory, if it holds its `MANIFEST.md`.
    pub fn corpus(&self, test: &str) -> Decision<PathBuf> {
        let p = self.workspace_root.join("../shared/corpus");
        let found = p.join("MANIFEST.md").is_file().then(|| p.clone());
        self.decide(test, found, Need::Corpus(p))
    }

    /// Whether `tool` is installed.
    pub fn tool(&self, test: &str, tool: Tool) -> Decision<()> {
        let found = (self.has_tool)(tool).then_some(());
        self.decide(test, found, Need::Tool(tool))
    }
}

/// Act on a decision: the value if present; otherwise write the `SKIPPED` line to the real
/// stderr and return `None`, or, under CI, panic (fail the test) with the reason.
pub fn resolve<T>(d: Decision<T>) -> Option<T> {
    match d {
        Decision::Run(t) => Some(t),
        Decision::Skip(m) => {
            notice(&m.to_string());
            None
        }
        Decision::Fail(m) => panic!(
            "{m}; CI=true, and CI must run every test (it installs dtc, cpp and chromium and runs beside \
             ../shared/corpus)"
        ),
    }
}

/// Write `SKIPPED <what>` to the process's stderr, bypassing libtest's capture.
fn notice(what: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {what}");
}

/// The running test's name: libtest names each test's thread after it.
fn current_test() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("this test")
        .to_string()
}

/// `../shared/corpus` relative to the workspace root, or `None` after a visible skip notice
/// (a failure under `CI=true`).
pub fn corpus() -> Option<PathBuf> {
    resolve(Env::from_process().corpus(&current_test()))
}

/// Whether `tool` is installed; `false` after a visible skip notice (a failure under
/// `CI=true`).
pub fn need_tool(tool: Tool) -> bool {
    resolve(Env::from_process().tool(&current_test(), tool)).is_some()
}

/// [`need_tool`] for dtc.
pub fn need_dtc() -> bool {
    need_tool(Tool::Dtc)
}

/// Skip the rest of `test` for `reason` with a visible notice, for needs this crate does not
/// know. Prefer [`corpus`] and [`need_tool`], which also fail under CI.
pub fn skip(test: &str, reason: &str) {
    notice(&format!("{test}: {reason}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(root: &Path, ci: bool) -> Env {
        Env {
            workspace_root: root.to_path_buf(),
            ci,
            has_tool: |t| t == Tool::Cpp,
        }
    }

    /// A workspace root whose `../shared/corpus` holds a MANIFEST.md.
    fn fake_workspace(name: &str, with_corpus: bool) -> PathBuf {
        let base = std::env::temp_dir().join(format!("testkit-{}-{name}", std::process::id()));
        let root = base.join("ws");
        std::fs::create_dir_all(&root).unwrap();
        if with_corpus {
            let c = base.join("shared/corpus");
            std::fs::create_dir_all(&c).unwrap();
            std::fs::write(c.join("MANIFEST.md"), "corpus\n").unwrap();
        }
        root
    }

    #[test]
    fn a_present_corpus_runs() {
        let root = fake_workspace("present", true);
        for ci in [false, true] {
            let d = env(&root, ci).corpus("t");
            assert_eq!(d, Decision::Run(root.join("../shared/corpus")));
            assert_eq!(resolve(d), Some(root.join("../shared/corpus")));
        }
    }

    #[test]
    fn an_absent_corpus_skips_with_a_notice_outside_ci() {
        let root = fake_workspace("absent", false);
        // A made-up test name, so the notice `resolve` writes below is not read as a real skip.
        let d = env(&root, false).corpus("testkit-self-test");
        let Decision::Skip(m) = &d else {
            panic!("expected a skip, got {d:?}")
        };
        assert_eq!(
            format!("SKIPPED {m}"),
            format!(
                "SKIPPED testkit-self-test: ../shared/corpus is absent (looked at {})",
                root.join("../shared/corpus").display()
            )
        );
        assert_eq!(resolve(d), None);
    }

    #[test]
    fn an_absent_corpus_fails_under_ci() {
        let root = fake_workspace("absent-ci", false);
        let d = env(&root, true).corpus("corpus_boot");
        assert!(
            matches!(&d, Decision::Fail(m) if m.test == "corpus_boot"),
            "{d:?}"
        );
        let e = std::panic::catch_unwind(|| resolve(d)).expect_err("fails the test");
        let msg = e.downcast_ref::<String>().expect("a formatted message");
        assert!(
            msg.starts_with("corpus_boot: ../shared/corpus is absent") && msg.contains("CI=true"),
            "{msg}"
        );
    }

    #[test]
    fn tools_run_skip_or_fail() {
        let root = fake_workspace("tools", false);
        assert_eq!(env(&root, false).tool("t", Tool::Cpp), Decision::Run(()));
        let missing = Missing {
            test: "t".into(),
            need: Need::Tool(Tool::Dtc),
        };
        assert_eq!(missing.to_string(), "t: dtc is not installed");
        assert_eq!(
            env(&root, false).tool("t", Tool::Dtc),
            Decision::Skip(missing.clone())
        );
        assert_eq!(
            env(&root, true).tool("t", Tool::Dtc),
            Decision::Fail(missing)
        );
    }

    #[test]
    fn the_test_name_is_the_thread_name() {
        let name = std::thread::Builder::new()
            .name("crate::some_test".into())
            .spawn(current_test)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(name, "crate::some_test");
    }

    /// The modules `tests/all.rs` declares (`mod NAME;` lines).
    fn declared_modules(all_rs: &str) -> Vec<&str> {
        all_rs
            .lines()
            .filter_map(|l| l.trim().strip_prefix("mod ")?.strip_suffix(';'))
            .collect()
    }

    /// The `.rs` files of `dir` that `all_rs` leaves out, but for `all.rs` itself.
    fn unlisted(dir: &Path, all_rs: &str) -> Vec<String> {
        let declared = declared_modules(all_rs);
        let mut missing: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                let module = name.strip_suffix(".rs")?.to_string();
                (module != "all" && !declared.contains(&module.as_str())).then_some(module)
            })
            .collect();
        missing.sort();
        missing
    }

    /// Each crate builds its integration tests as one binary, `tests/all.rs`
    /// (`autotests = false`): a test file it does not declare would never run.
    #[test]
    fn every_integration_test_file_is_compiled() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut checked = 0;
        for krate in std::fs::read_dir(&crates).unwrap() {
            let tests = krate.unwrap().path().join("tests");
            if !tests.is_dir() {
                continue;
            }
            let all = std::fs::read_to_string(tests.join("all.rs"))
                .unwrap_or_else(|e| panic!("{}: no all.rs: {e}", tests.display()));
            let missing = unlisted(&tests, &all);
            assert!(
                missing.is_empty(),
                "{}/all.rs misses {missing:?}",
                tests.display()
            );
            checked += 1;
        }
        assert!(checked >= 6, "found only {checked} crates with tests");
    }

    #[test]
    fn an_unlisted_test_file_is_found() {
        let dir = std::env::temp_dir().join(format!("testkit-unlisted-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["all.rs", "listed.rs", "forgotten.rs"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let missing = unlisted(&dir, "mod common;\nmod listed;\n");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(missing, ["forgotten"]);
    }
}
