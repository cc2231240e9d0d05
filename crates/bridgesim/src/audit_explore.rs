//! `bridgesim audit --explore`: the stress scenarios the audit generates for each extracted
//! driver (`audit::stress`), explored under the selected releases with a bounded search, and
//! the violations on the driver's own objects reported by kind, each with its shortest
//! (minimised) schedule and a replay command.
//!
//! A scenario is explored under the release R of its description and under `R+proposals`; a
//! hazard is a violation of the R column on the driver's objects (its node, its container, or
//! a report naming one of its functions), and the proposals column says whether the posted
//! fixes show it clean. Violations on the neighbours the synthetic board adds (the panel, the
//! connector) are listed apart, as "not the driver's". A driver whose generated board does not
//! bind it (probe deferred or failed) is "not explored", with the reason the boot trace gives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use audit::hazards::Kind;
use audit::stress::{Stress, StressSet};
use drm::Release;
use explore::{Options, Program, Strategy};
use kmodel::trace::{DeviceEvent, Event};
use kmodel::ViolationKind;
use serde::Serialize;

use crate::verdict::{folded, RulesColumn, SearchSpec};

/// Executions per scenario and rules column unless `--explore-budget` says otherwise.
pub const DEFAULT_BUDGET: u64 = 200;
/// Executions spent minimising each further violation of a collecting search (the first is
/// minimised by the search itself).
pub const MINIMIZE_BUDGET: u64 = 100;

/// The audit's hazard kind of a violation (issue #14's kinds), or `None` for a WARN.
pub fn kind_of(v: ViolationKind) -> Option<Kind> {
    Some(match v {
        ViolationKind::UseAfterFree | ViolationKind::ListCorruption => Kind::UseAfterFree,
        ViolationKind::DoubleFree | ViolationKind::DoubleRelease => Kind::DoubleRelease,
        ViolationKind::RefcountAddOnZero
        | ViolationKind::RefcountUnderflow
        | ViolationKind::RefNotHeld => Kind::RefcountMisuse,
        ViolationKind::Leak => Kind::Leak,
        ViolationKind::LockInversion | ViolationKind::RecursiveLock => Kind::Deadlock,
        ViolationKind::Deadlock => Kind::Hang,
        ViolationKind::HwAfterUnplug => Kind::HwAfterUnplug,
        _ => return None,
    })
}

/// What one scenario's search under one rules column covered.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnResult {
    pub rules: String,
    /// The coverage in the words every output uses ("stopped after N executions (limit N):
    /// not exhaustive", "exhaustive").
    pub coverage: String,
    pub exhaustive: bool,
    pub executions: u64,
    /// Distinct violations found (on any object).
    pub violations: usize,
}

/// One generated scenario.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    pub stress: Stress,
    /// `<driver>/<release>/<stress>.toml`, relative to the scenario directory.
    pub file: String,
    pub columns: Vec<ColumnResult>,
    /// Why it was not explored (it does not load, or a search ended on an internal error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_explored: Option<String>,
}

/// A violation an explored scenario showed.
#[derive(Clone, Debug, Serialize)]
pub struct ExploredHazard {
    /// The audit's kind (`null` for a WARN).
    pub kind: Option<Kind>,
    /// The model's violation kind (`use-after-free`, `deadlock`, ...).
    pub violation: String,
    pub object: String,
    /// The first line of the report's message.
    pub message: String,
    pub stress: Stress,
    pub rules: String,
    /// The shortest schedule found (minimised to the fewest preemptions).
    pub schedule: String,
    pub preemptions: u32,
    /// Model operations up to the violation.
    pub ops: u32,
    /// `schedule` is minimised (else it is the schedule as first found: the minimisation
    /// kept another violation that comes first in the execution).
    pub minimised: bool,
    /// A replay of `schedule` to its end shows this violation (checked).
    pub reproduced: bool,
    /// The call path of the access, innermost first (from a replay of `schedule`).
    pub at: Vec<String>,
    /// `bridgesim replay <scenario> --rules R --schedule S`.
    pub replay: String,
    /// Whether the same violation (kind and object) shows under `R+proposals` in the same
    /// scenario: `found`, `clean` (not found in an exhaustive search), or `not found within
    /// the bound`.
    pub proposals: String,
}

/// Whether a driver's scenarios were explored.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    Explored,
    NotExplored { reason: String },
}

/// One driver under one release.
#[derive(Clone, Debug, Serialize)]
pub struct DriverExplored {
    pub driver: String,
    #[serde(serialize_with = "ser_release")]
    pub release: Release,
    #[serde(flatten)]
    pub status: Status,
    pub node: String,
    pub board: String,
    pub downstream: audit::stress::Downstream,
    pub scenarios: Vec<ScenarioResult>,
    pub skipped: Vec<Skipped>,
    /// Violations on the driver's objects, one per kind and object, each with its shortest
    /// schedule over every scenario.
    pub hazards: Vec<ExploredHazard>,
    /// Violations on the synthetic neighbours or the framework's objects.
    pub not_the_drivers: Vec<ExploredHazard>,
}

fn ser_release<S: serde::Serializer>(r: &Release, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.name())
}

/// A stress that does not apply.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub stress: Stress,
    pub why: String,
}

/// The exploration of every driver.
#[derive(Clone, Debug, Serialize)]
pub struct Exploration {
    /// "a bounded search: at most N executions per scenario and rules column".
    pub bound: String,
    pub budget: u64,
    /// Where the scenarios are (the `--emit-scenarios` directory), if they were kept.
    pub scenario_dir: Option<String>,
    pub drivers: Vec<DriverExplored>,
    /// Ctrl-C stopped the exploration (exit 130).
    pub interrupted: bool,
}

impl Exploration {
    pub fn hazard_count(&self) -> usize {
        self.drivers.iter().map(|d| d.hazards.len()).sum()
    }
}

/// Called with (drivers done, drivers in all, the next driver's name).
pub type Progress = Box<dyn Fn(usize, usize, &str)>;

/// How to explore.
pub struct ExploreOpts {
    pub budget: u64,
    /// Keep the scenarios here (and name them in replay commands); else a temporary
    /// directory, removed at the end.
    pub emit_dir: Option<PathBuf>,
    /// Called with (done, total, driver) before each driver.
    pub progress: Option<Progress>,
    /// Set (by Ctrl-C) to stop: the running search reports what it covered and the drivers
    /// not reached are "not explored: interrupted".
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Write every set's files under `dir`.
pub fn write_sets(sets: &[StressSet], dir: &Path) -> std::io::Result<()> {
    for s in sets {
        if s.not_generated.is_none() {
            s.write(dir)?;
        }
    }
    Ok(())
}

/// The display controller's driver on both synthetic boards.
const DISPLAY_CONTROLLER: &str = "imx-lcdif";

/// Why a driver did not bind (`driver`), read off a boot trace: deferred, failed, or never
/// probed.
fn why_unbound(trace: &kmodel::trace::Trace, name: &str) -> Option<String> {
    let mut deferred = false;
    let mut failed = None;
    for e in &trace.events {
        if let Event::Device { what, .. } = e {
            match what {
                DeviceEvent::Bound { driver } if driver == name => return None,
                DeviceEvent::Deferred { driver } if driver == name => deferred = true,
                DeviceEvent::ProbeFailed { driver, errno } if driver == name => {
                    failed = Some(*errno)
                }
                _ => {}
            }
        }
    }
    let pending = crate::scenario::boot_deferred(trace);
    Some(match (failed, deferred) {
        (Some(e), _) => format!("probe failed with error {e}"),
        (None, true) => format!(
            "probe deferred (deferred probe pending: {})",
            pending.join(", ")
        ),
        _ => "it did not probe (no device matched it)".into(),
    })
}

/// The boot of one execution in thread order: `None` when the driver and the display
/// controller bound (so the display pipeline through the driver came up), else why not.
fn bind_status(
    p: &Arc<crate::scenario::Prepared>,
    rules: drm::Rules,
    name: &str,
) -> Option<String> {
    let k = p.run_once(rules);
    let trace = k.trace();
    if let Some(why) = why_unbound(&trace, name) {
        return Some(format!(
            "the driver did not bind on the synthetic board: {why}"
        ));
    }
    why_unbound(&trace, DISPLAY_CONTROLLER).map(|why| {
        format!(
            "the display controller did not bind, so no pipeline runs through the driver (its .attach failed or its chain is incomplete): {why}"
        )
    })
}

/// What a replay of a schedule says about one of its violations: the call path of the access
/// (innermost first) and the report's detail lines.
struct Seen {
    path: Vec<String>,
    details: Vec<String>,
}

/// Replay `schedule` to its end and find the violation of `kind` on `object`.
fn replay_violation(
    program: &Program,
    schedule: &str,
    kind: ViolationKind,
    object: &str,
) -> Option<Seen> {
    let schedule = schedule.parse::<kmodel::Schedule>().ok()?;
    let k = kmodel::Kernel::new(kmodel::Config {
        record_events: true,
        ..kmodel::Config::default()
    });
    let p = program.clone();
    k.run(&mut kmodel::Replay::new(schedule), move |k| p(k));
    let trace = k.trace();
    k.violations().into_iter().find_map(|v| {
        let obj = v.obj.map(|o| k.describe(o)).unwrap_or_default();
        (v.kind == kind && obj == object).then(|| Seen {
            path: trace
                .path_names(v.site.path)
                .iter()
                .rev()
                .map(|s| s.to_string())
                .collect(),
            details: v.details.clone(),
        })
    })
}

/// Whether a violation is the driver's. A leak: on its node or container. Any other kind: the
/// access (or, for a hang, an open section a detail line names) is in one of the driver's
/// functions, so a framework walk over a bridge the driver could not keep alive (the bridges
/// debugfs file reading a detached `of_node`, failure mode 5.18) is not blamed on it.
fn is_drivers(set: &StressSet, kind: ViolationKind, object: &str, seen: Option<&Seen>) -> bool {
    let node_name = set.node.rsplit('/').next().unwrap_or(&set.node);
    let on_its_object = (!node_name.is_empty() && object.contains(node_name))
        || set.container.as_ref().is_some_and(|c| {
            let bare = c.trim_start_matches("struct ").trim();
            !bare.is_empty() && object.contains(bare)
        });
    if kind == ViolationKind::Leak {
        return on_its_object;
    }
    let Some(seen) = seen else {
        return on_its_object;
    };
    let named = |text: &str| {
        set.functions.iter().any(|f| {
            text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == f)
        })
    };
    seen.path.iter().any(|p| named(p)) || seen.details.iter().any(|d| named(d))
}

/// Explore every generated scenario of `sets`.
pub fn explore_sets(sets: &[StressSet], opts: &ExploreOpts) -> std::io::Result<Exploration> {
    let (dir, temp) = match &opts.emit_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("bridgesim-audit-{}", std::process::id())),
            true,
        ),
    };
    write_sets(sets, &dir)?;
    let mut drivers = Vec::new();
    let stop = || {
        opts.interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
    };
    for (i, set) in sets.iter().enumerate() {
        if let Some(p) = &opts.progress {
            p(i, sets.len(), &set.driver);
        }
        drivers.push(explore_set(set, &dir, opts));
    }
    let interrupted = stop();
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Exploration {
        bound: format!(
            "a bounded search: at most {} executions per scenario and rules column (DPOR, collecting every distinct violation); a column is exhaustive only where it says so",
            opts.budget
        ),
        budget: opts.budget,
        scenario_dir: opts.emit_dir.as_ref().map(|d| d.display().to_string()),
        drivers,
        interrupted,
    })
}

fn explore_set(set: &StressSet, dir: &Path, opts: &ExploreOpts) -> DriverExplored {
    let mut out = DriverExplored {
        driver: set.driver.clone(),
        release: set.release,
        status: Status::Explored,
        node: set.node.clone(),
        board: set.board.clone(),
        downstream: set.downstream,
        scenarios: Vec::new(),
        skipped: set
            .skipped
            .iter()
            .map(|(s, w)| Skipped {
                stress: *s,
                why: w.clone(),
            })
            .collect(),
        hazards: Vec::new(),
        not_the_drivers: Vec::new(),
    };
    if let Some(why) = &set.not_generated {
        out.status = Status::NotExplored {
            reason: why.clone(),
        };
        return out;
    }
    if opts
        .interrupt
        .as_ref()
        .is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
    {
        out.status = Status::NotExplored {
            reason: "interrupted (Ctrl-C)".into(),
        };
        return out;
    }
    let col = RulesColumn::from(drm::RulesColumn::new(set.release));
    let prop = RulesColumn::parse(&format!("{}+proposals", set.release.name()))
        .expect("a release with +proposals is a column");
    let shown_dir = match &opts.emit_dir {
        Some(d) => d.display().to_string(),
        None => "DIR".to_string(),
    };
    let mut bound_checked = false;
    // (kind, folded object) → hazard, for the driver's and the others.
    let mut mine: BTreeMap<(String, String), ExploredHazard> = BTreeMap::new();
    let mut theirs: BTreeMap<(String, String), ExploredHazard> = BTreeMap::new();
    for st in &set.scenarios {
        let rel = format!("{}/{}", set.dir(), StressSet::scenario_file(*st));
        let path = dir.join(&rel);
        let mut sr = ScenarioResult {
            stress: *st,
            file: rel.clone(),
            columns: Vec::new(),
            not_explored: None,
        };
        let p = match crate::scenario::load(&path) {
            Ok(p) => p,
            Err(e) => {
                sr.not_explored = Some(format!("the generated scenario does not load: {e}"));
                out.scenarios.push(sr);
                continue;
            }
        };
        let base = match p.rules(Some(set.release)) {
            Ok(r) => r,
            Err(e) => {
                sr.not_explored = Some(format!("rules: {e}"));
                out.scenarios.push(sr);
                continue;
            }
        };
        if !bound_checked && *st != Stress::ProbeErrors {
            bound_checked = true;
            if let Some(reason) = bind_status(&p, col.rules(base), &set.driver) {
                out.status = Status::NotExplored {
                    reason: reason.clone(),
                };
                out.scenarios.push(sr);
                out.scenarios
                    .extend(set.scenarios.iter().skip(1).map(|s| ScenarioResult {
                        stress: *s,
                        file: format!("{}/{}", set.dir(), StressSet::scenario_file(*s)),
                        columns: Vec::new(),
                        not_explored: None,
                    }));
                return out;
            }
        }
        let mut per_col: Vec<Vec<crate::verdict::Finding>> = Vec::new();
        let mut exhaustive_prop = false;
        for c in [&col, &prop] {
            let spec = SearchSpec {
                strategy: Strategy::Dpor,
                options: Options {
                    max_executions: Some(opts.budget),
                    collect: true,
                    count_traces: false,
                    interrupt: opts.interrupt.clone(),
                    ..Options::default()
                },
            };
            match crate::verdict::explore(&p, c, &spec) {
                Ok(v) => {
                    sr.columns.push(ColumnResult {
                        rules: c.label.clone(),
                        coverage: v.coverage.to_string(),
                        exhaustive: v.exhaustive,
                        executions: v.stats.executions,
                        violations: v.findings.len(),
                    });
                    if std::ptr::eq(c, &prop) {
                        exhaustive_prop = v.exhaustive;
                    }
                    per_col.push(v.findings);
                }
                Err(e) => {
                    sr.not_explored = Some(match e {
                        crate::verdict::ExploreError::Input(s) => s,
                        crate::verdict::ExploreError::Internal(i) => {
                            format!(
                                "internal error: {} (schedule {})",
                                i.message,
                                i.schedule.as_deref().unwrap_or("-")
                            )
                        }
                    });
                    per_col.push(Vec::new());
                }
            }
        }
        let program: Program = Arc::new(p.program(col.rules(base)));
        let prop_keys: Vec<(ViolationKind, String)> = per_col
            .get(1)
            .map(|v| {
                v.iter()
                    .map(|f| (f.kind, folded(f.kind, &f.object)))
                    .collect()
            })
            .unwrap_or_default();
        for (n, f) in per_col
            .first()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            // The first finding is the search's minimised counterexample; minimise the others.
            // The first finding's schedule is the search's minimised counterexample; the others
            // are minimised here. `explore::minimize` keeps the first violation of the
            // execution, so a minimised schedule is used only when its replay still shows this
            // violation; else the schedule as found (not minimised).
            let minimised = if n == 0 {
                Some((f.schedule.clone(), f.preemptions))
            } else {
                f.schedule.parse::<kmodel::Schedule>().ok().map(|s| {
                    let o = Options::default();
                    let (m, _) = explore::minimize(&program, &s, &o, MINIMIZE_BUDGET);
                    let pre = explore::replay(&program, &m).preemptions;
                    (m.to_string(), pre)
                })
            };
            let mut chosen = None;
            if let Some((m, pre)) = minimised {
                if let Some(seen) = replay_violation(&program, &m, f.kind, &f.object) {
                    chosen = Some((m, pre, true, Some(seen)));
                }
            }
            let (schedule, preemptions, is_minimised, seen) = chosen.unwrap_or_else(|| {
                let seen = replay_violation(&program, &f.schedule, f.kind, &f.object);
                (f.schedule.clone(), f.preemptions, false, seen)
            });
            let key = (f.kind.to_string(), folded(f.kind, &f.object));
            let proposals = if prop_keys.contains(&(f.kind, key.1.clone())) {
                "found"
            } else if exhaustive_prop {
                "clean"
            } else {
                "not found within the bound"
            };
            let h = ExploredHazard {
                kind: kind_of(f.kind),
                violation: f.kind.to_string(),
                object: f.object.clone(),
                message: f.message.lines().next().unwrap_or_default().to_string(),
                stress: *st,
                rules: col.label.clone(),
                replay: format!(
                    "bridgesim replay {shown_dir}/{rel} --rules {} --schedule {schedule}",
                    col.label
                ),
                schedule,
                preemptions,
                ops: f.ops,
                minimised: is_minimised,
                reproduced: seen.is_some(),
                at: seen.as_ref().map(|s| s.path.clone()).unwrap_or_default(),
                proposals: proposals.to_string(),
            };
            let target = if is_drivers(set, f.kind, &f.object, seen.as_ref()) {
                &mut mine
            } else {
                &mut theirs
            };
            let better = match target.get(&key) {
                None => true,
                Some(old) => {
                    (h.preemptions, h.schedule.len()) < (old.preemptions, old.schedule.len())
                }
            };
            if better {
                target.insert(key, h);
            }
        }
        out.scenarios.push(sr);
    }
    out.hazards = mine.into_values().collect();
    out.not_the_drivers = theirs.into_values().collect();
    out
}

/// The text of the exploration, per driver (appended to the audit's report).
pub fn render(x: &Exploration) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "\nExplored stress scenarios ({})", x.bound);
    if x.interrupted {
        let _ = writeln!(
            o,
            "  interrupted by Ctrl-C: what was covered is below; the drivers not reached say so"
        );
    }
    if x.scenario_dir.is_none() {
        let _ = writeln!(
            o,
            "  (the scenarios were written to a temporary directory; rerun with --emit-scenarios DIR to keep them, and the replay commands below work with that DIR)"
        );
    }
    for d in &x.drivers {
        let _ = writeln!(o, "\n{} ({})", d.driver, d.release);
        if let Status::NotExplored { reason } = &d.status {
            let _ = writeln!(o, "  not explored: {reason}");
            continue;
        }
        let _ = writeln!(
            o,
            "  board: {}, node {}, downstream {:?}",
            d.board, d.node, d.downstream
        );
        for s in &d.scenarios {
            if let Some(w) = &s.not_explored {
                let _ = writeln!(o, "  {}: not explored: {w}", s.stress);
                continue;
            }
            let cols: Vec<String> = s
                .columns
                .iter()
                .map(|c| format!("{}: {} violation(s), {}", c.rules, c.violations, c.coverage))
                .collect();
            let _ = writeln!(o, "  {}: {}", s.stress, cols.join("; "));
        }
        for s in &d.skipped {
            let _ = writeln!(o, "  {}: skipped: {}", s.stress, s.why);
        }
        for h in &d.hazards {
            let _ = writeln!(
                o,
                "  {} [{}] in {} — {}, {}; with the proposals: {}",
                h.kind
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "warn".into()),
                h.violation,
                h.object,
                h.stress,
                h.rules,
                h.proposals
            );
            let _ = writeln!(o, "    {}", h.message);
            if !h.at.is_empty() {
                let _ = writeln!(o, "    at: {}", h.at.join(" ← "));
            }
            let _ = writeln!(
                o,
                "    {}: {} preemption(s), {} operations{}",
                if h.minimised {
                    "shortest counterexample (minimised)"
                } else {
                    "counterexample (as found; its minimisation kept an earlier violation)"
                },
                h.preemptions,
                h.ops,
                if h.reproduced {
                    ""
                } else {
                    "; its replay did not show it again"
                }
            );
            let _ = writeln!(o, "    replay: {}", h.replay);
        }
        if !d.not_the_drivers.is_empty() {
            let others: Vec<String> = d
                .not_the_drivers
                .iter()
                .map(|h| format!("{} in {} ({})", h.violation, h.object, h.stress))
                .collect();
            let _ = writeln!(o, "  not the driver's: {}", others.join("; "));
        }
    }
    let _ = writeln!(o, "\nExplored summary");
    let kinds: Vec<String> = Kind::ALL.iter().map(|k| k.to_string()).collect();
    let _ = writeln!(o, "  {:<36} {}", "driver", kinds.join("  "));
    let mut not_explored = 0;
    for d in &x.drivers {
        if matches!(d.status, Status::NotExplored { .. }) {
            not_explored += 1;
            continue;
        }
        if d.hazards.is_empty() {
            continue;
        }
        let cells: Vec<String> = Kind::ALL
            .iter()
            .zip(&kinds)
            .map(|(k, name)| {
                let n = d.hazards.iter().filter(|h| h.kind == Some(*k)).count();
                format!(
                    "{:>w$}",
                    if n == 0 { "-".into() } else { n.to_string() },
                    w = name.len()
                )
            })
            .collect();
        let _ = writeln!(
            o,
            "  {:<36} {}",
            format!("{} ({})", d.driver, d.release),
            cells.join("  ")
        );
    }
    let _ = writeln!(
        o,
        "  {} explored hazard(s) in {} driver(s); {} driver(s) explored, {} not explored",
        x.hazard_count(),
        x.drivers.iter().filter(|d| !d.hazards.is_empty()).count(),
        x.drivers.len() - not_explored,
        not_explored
    );
    o
}

/// An explored hazard of one driver, as compared between two trees.
#[derive(Clone, Debug, Serialize)]
pub struct DriverHazard {
    pub driver: String,
    #[serde(flatten)]
    pub hazard: ExploredHazard,
}

/// `--base/--head --explore`: the explored hazards the change introduces and closes, matched
/// by driver, violation kind and object (folded to its device node), not by schedule.
#[derive(Clone, Debug, Serialize)]
pub struct ExploredDiff {
    pub introduced: Vec<DriverHazard>,
    pub closed: Vec<DriverHazard>,
    /// Drivers not explored on both sides (not explored on one or both, or absent from one).
    pub not_compared: Vec<String>,
}

fn hazard_keys(x: &Exploration) -> BTreeMap<(String, String, String), DriverHazard> {
    let mut out = BTreeMap::new();
    for d in &x.drivers {
        for h in &d.hazards {
            let kind: ViolationKind = h.violation.parse().unwrap_or(ViolationKind::Warn);
            out.entry((
                d.driver.clone(),
                h.violation.clone(),
                folded(kind, &h.object),
            ))
            .or_insert_with(|| DriverHazard {
                driver: d.driver.clone(),
                hazard: h.clone(),
            });
        }
    }
    out
}

/// Compare two explorations.
pub fn diff(base: &Exploration, head: &Exploration) -> ExploredDiff {
    let explored = |x: &Exploration| -> BTreeMap<String, bool> {
        x.drivers
            .iter()
            .map(|d| (d.driver.clone(), matches!(d.status, Status::Explored)))
            .collect()
    };
    let (eb, eh) = (explored(base), explored(head));
    let both = |d: &str| eb.get(d) == Some(&true) && eh.get(d) == Some(&true);
    let (kb, kh) = (hazard_keys(base), hazard_keys(head));
    let introduced = kh
        .iter()
        .filter(|(k, _)| both(&k.0) && !kb.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect();
    let closed = kb
        .iter()
        .filter(|(k, _)| both(&k.0) && !kh.contains_key(*k))
        .map(|(_, v)| v.clone())
        .collect();
    let mut one_side: Vec<String> = eb
        .keys()
        .chain(eh.keys())
        .filter(|d| !both(d))
        .cloned()
        .collect();
    one_side.sort();
    one_side.dedup();
    ExploredDiff {
        introduced,
        closed,
        not_compared: one_side,
    }
}

/// The text of an explored comparison.
pub fn render_diff(d: &ExploredDiff, base: &Exploration) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(o, "\nExplored hazards ({} on each side)", base.bound);
    for (what, list) in [("introduced", &d.introduced), ("closed", &d.closed)] {
        for h in list {
            let _ = writeln!(
                o,
                "  {what}: {} {} in {} ({}, {})",
                h.driver, h.hazard.violation, h.hazard.object, h.hazard.stress, h.hazard.rules
            );
        }
    }
    let _ = writeln!(
        o,
        "  {} introduced, {} closed; not compared (not explored on both sides): {}",
        d.introduced.len(),
        d.closed.len(),
        if d.not_compared.is_empty() {
            "none".to_string()
        } else {
            d.not_compared.join(", ")
        }
    );
    o
}
