//! Fault injection for the tests of the internal-error path: with `BRIDGESIM_INJECT_PANIC`
//! set to a [`Site`]'s name, bridgesim panics there, as a bug of its own would, so the tests
//! can check end to end that any panic ends the process promptly with exit code 3, the
//! message, and (inside a search) the schedule to replay. Unset, it costs one load per check.

use std::sync::OnceLock;

/// The environment variable naming the site to panic at.
pub const ENV: &str = "BRIDGESIM_INJECT_PANIC";

/// Where a panic can be injected.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// In the CLI's own thread, before any command runs (`main`).
    Main,
    /// At the start of every scenario thread of every execution, inside the model
    /// (`scenario-thread`): in a search, on the explorer's threads.
    ScenarioThread,
}

impl Site {
    const ALL: [Site; 2] = [Site::Main, Site::ScenarioThread];

    fn name(self) -> &'static str {
        match self {
            Site::Main => "main",
            Site::ScenarioThread => "scenario-thread",
        }
    }
}

fn injected() -> Option<Site> {
    static SITE: OnceLock<Option<Site>> = OnceLock::new();
    *SITE.get_or_init(|| {
        let v = std::env::var(ENV).ok()?;
        Site::ALL.into_iter().find(|s| s.name() == v)
    })
}

/// Panics when `BRIDGESIM_INJECT_PANIC` names `site`.
pub fn maybe_panic(site: Site) {
    if injected() == Some(site) {
        panic!("injected panic at {} ({ENV} is set)", site.name());
    }
}
