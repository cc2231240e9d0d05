//! Exploring a scenario under a set of rules, and what the answer looks like: a verdict per
//! rules column, checked against the scenario's `expect`, in text or versioned JSON.

use std::fmt::Write as _;
use std::sync::Arc;

use drm::{Release, Rules};
use explore::{Coverage, Explorer, InternalError, Options, Program, Strategy};
use kmodel::ViolationKind;
use serde::Serialize;

use crate::scenario::{expected_violation, Expect, Prepared, DEFAULT_EXPECT};

/// The JSON schema version of `--json` output (see `docs/json.md`).
pub const SCHEMA: &str = "bridgesim/1";

/// One column of a verdict table: drm's typed [`drm::RulesColumn`] (a release, maybe with
/// switches or `+proposals` on top) and its label, the column's canonical form (`6.15` is
/// labelled `v6.15`), under which `expect` rows are looked up.
#[derive(Clone, Debug, PartialEq)]
pub struct RulesColumn {
    /// Canonical: `v7.2`, `v7.2+proposals`, `v7.0+panel_bridge_panel_ref`.
    pub label: String,
    pub release: Release,
    pub column: drm::RulesColumn,
}

impl From<drm::RulesColumn> for RulesColumn {
    fn from(column: drm::RulesColumn) -> Self {
        RulesColumn {
            label: column.to_string(),
            release: column.release(),
            column,
        }
    }
}

impl RulesColumn {
    /// Parse `RELEASE[+SWITCH|+proposals]...`.
    pub fn parse(s: &str) -> Result<RulesColumn, String> {
        s.parse::<drm::RulesColumn>()
            .map(RulesColumn::from)
            .map_err(|e| e.to_string())
    }

    /// Parse a comma-separated list of columns; `all` stands for every release.
    pub fn parse_list(s: &str) -> Result<Vec<RulesColumn>, String> {
        drm::RulesColumn::parse_list(s)
            .map(|v| v.into_iter().map(RulesColumn::from).collect())
            .map_err(|e| e.to_string())
    }

    /// `base` with this column's switches turned on.
    pub fn rules(&self, base: Rules) -> Rules {
        self.column.apply(base)
    }
}

/// A violation a search found: the explorer's [`explore::Finding`] (its fields are this one's
/// in the JSON) and, for the first one, the kernel-style report of its replay.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub found: explore::Finding,
    /// Replays the execution: `bridgesim replay SCENARIO --rules LABEL --schedule S`
    /// (`found.schedule`); empty for the other findings of a collecting search.
    #[serde(skip)]
    pub report: String,
}

impl std::ops::Deref for Finding {
    type Target = explore::Finding;
    fn deref(&self) -> &explore::Finding {
        &self.found
    }
}

impl Finding {
    /// `kind:object` as written in `expect`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.object)
    }
}

/// The answer for one scenario under one rules column.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub rules: String,
    /// Empty when clean.
    pub findings: Vec<Finding>,
    /// The whole space was covered (DPOR/DFS run to its end, no bound): `coverage` is
    /// exhaustive.
    pub exhaustive: bool,
    /// What the search covered, with the words every output uses.
    pub coverage: Coverage,
    pub stats: explore::Stats,
    /// The other violations of the failing execution, `kind in object`, each once (what else
    /// that interleaving breaks, beyond the first report).
    pub also: Vec<String>,
    /// The scenario's expectation for this column, if any.
    pub expect: Option<Expect>,
    /// Whether the verdict matches it.
    pub matches_expect: Option<bool>,
    /// `findings` is every distinct violation of the whole space (a collecting search,
    /// `--all`, that was exhaustive), not just the first.
    pub every_violation: bool,
    /// The node paths of the devices boot left deferred ("deferred probe pending"), the same
    /// in every execution: boot runs before the scenario's threads start.
    pub deferred: Vec<String>,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether the search was cut short by Ctrl-C.
    pub fn interrupted(&self) -> bool {
        matches!(self.coverage, Coverage::Interrupted { .. })
    }

    /// "clean (exhaustive)", "clean up to K preemptions", "clean (interrupted after N
    /// executions: not exhaustive)", or the findings, one line (with the coverage when the
    /// search was cut short).
    pub fn summary(&self) -> String {
        if self.is_clean() {
            match self.coverage {
                Coverage::UpToPreemptions { .. } => format!("clean {}", self.coverage),
                c => format!("clean ({c})"),
            }
        } else {
            let first = self
                .findings
                .iter()
                .map(|f| finding_text(f.kind, &f.object, &f.message))
                .collect::<Vec<_>>()
                .join("; ");
            let text = if self.also.is_empty() {
                first
            } else {
                format!("{first}; also {}", self.also.join("; "))
            };
            match self.coverage {
                Coverage::Interrupted { .. } | Coverage::Truncated { .. } => {
                    format!("{text} ({})", self.coverage)
                }
                _ => text,
            }
        }
    }
}

/// `kind in object`, or the kind alone for a violation that names no object (a WARN); a leak
/// of several objects of one type and name gives their count (`leak of 3 x struct
/// panel_bridge panel_bridge /panel`).
fn finding_text(kind: ViolationKind, object: &str, message: &str) -> String {
    match kmodel::leak_count(message) {
        Some(n) if kind == ViolationKind::Leak && n > 1 => format!("{kind} of {n} x {object}"),
        _ if object.is_empty() => kind.to_string(),
        _ => format!("{kind} in {object}"),
    }
}

/// How to search.
#[derive(Clone, Debug)]
pub struct SearchSpec {
    pub strategy: Strategy,
    pub options: Options,
}

impl Default for SearchSpec {
    fn default() -> Self {
        SearchSpec {
            strategy: Strategy::Dpor,
            options: Options::default(),
        }
    }
}

/// Why a scenario could not be explored.
#[derive(Debug)]
pub enum ExploreError {
    /// The rules column does not apply to the scenario (an input error).
    Input(String),
    /// The search ended on a host panic (a bug of bridgesim).
    Internal(InternalError),
}

/// Explore `p` under `col` and check the result against the scenario's `expect`.
pub fn explore(
    p: &Arc<Prepared>,
    col: &RulesColumn,
    search: &SearchSpec,
) -> Result<Verdict, ExploreError> {
    let base = p
        .rules(Some(col.release))
        .map_err(|e| ExploreError::Input(e.to_string()))?;
    let rules = col.rules(base);
    let program: Program = Arc::new(p.program(rules));
    let report = Explorer::new(search.strategy, search.options.clone()).run(&program);
    if let Some(e) = report.internal_error() {
        return Err(ExploreError::Internal(e.clone()));
    }
    let findings: Vec<Finding> = report
        .counterexample()
        .map(|c| Finding {
            found: c.finding(),
            report: c.report.clone(),
        })
        .into_iter()
        .collect();
    // A collecting search (`Options::collect`, `--all`) lists every distinct violation of
    // the space; keep one per kind and device node (a leak: per type and name).
    let mut findings = findings;
    for f in &report.findings {
        let key = (f.kind, folded(f.kind, &f.object));
        if findings
            .iter()
            .any(|g: &Finding| (g.kind, folded(g.kind, &g.object)) == key)
        {
            continue;
        }
        findings.push(Finding {
            found: f.clone(),
            report: String::new(),
        });
    }
    let also = match report.counterexample() {
        Some(c) if findings.len() == 1 => others_in_execution(&program, c),
        _ => Vec::new(),
    };
    let every_violation = search.options.collect && report.stats.exhaustive;
    let deferred = boot_deferred_of(&program);
    let mut v = Verdict {
        rules: col.label.clone(),
        findings,
        exhaustive: report.coverage.is_exhaustive(),
        coverage: report.coverage,
        stats: report.stats,
        also,
        expect: None,
        matches_expect: None,
        every_violation,
        deferred,
    };
    v.expect = expectation(p, &col.label);
    v.matches_expect = v.expect.as_ref().map(|e| matches(e, &v));
    Ok(v)
}

/// The devices boot leaves deferred: one execution in thread order, read off its trace.
fn boot_deferred_of(program: &Program) -> Vec<String> {
    let k = kmodel::Kernel::new(kmodel::Config {
        leak_check: false,
        ..kmodel::Config::default()
    });
    let p = program.clone();
    k.run(&mut kmodel::ThreadOrder, move |k| p(k));
    crate::scenario::boot_deferred(&k.trace())
}

/// Replay a counterexample to the end and list the other distinct violations of that
/// execution (`kind in object`), skipping the reported one and leaks (which follow from an
/// early stop of the teardown more than from the interleaving).
fn others_in_execution(program: &Program, c: &explore::Counterexample) -> Vec<String> {
    let Ok(schedule) = c.schedule.parse::<kmodel::Schedule>() else {
        return Vec::new();
    };
    let k = kmodel::Kernel::new(kmodel::Config {
        leak_check: false,
        ..kmodel::Config::default()
    });
    let p = program.clone();
    k.run(&mut kmodel::Replay::new(schedule), move |k| p(k));
    // One entry per kind and device node (a leak: per type and name, with its count): a
    // driver touching three released resources of one device is one finding.
    let mut out: Vec<String> = Vec::new();
    for v in k.violations() {
        let obj = v.obj.map(|o| k.describe(o)).unwrap_or_default();
        if v.kind == c.kind && folded(v.kind, &obj) == folded(c.kind, &c.object) {
            continue;
        }
        let s = finding_text(v.kind, &folded(v.kind, &obj), &v.message);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// What findings fold on: a leak is its object's type and name (three panel_bridges and the
/// panel on one node are two leaks, each with its count), any other finding the device node
/// of its object ([`node_of`]). `bridgesim merge` folds the shards' findings with it too, so
/// a merge lists what one unsharded search lists.
pub fn folded(kind: ViolationKind, object: &str) -> String {
    if kind == ViolationKind::Leak {
        object.to_string()
    } else {
        node_of(object)
    }
}

/// The device-tree node path in an object description (`struct regmap /soc@0/.../bridge@2c
/// regmap` → `/soc@0/.../bridge@2c`), so findings on one device's resources count once.
fn node_of(desc: &str) -> String {
    desc.split_whitespace()
        .find(|w| w.starts_with('/'))
        .unwrap_or(desc)
        .to_string()
}

/// The scenario's expectation for a column: its own row, else `default`. Rows are matched by
/// column, not spelling: `6.15` finds the `"v6.15"` row.
pub fn expectation(p: &Prepared, label: &str) -> Option<Expect> {
    let canonical = |l: &str| {
        l.parse::<drm::RulesColumn>()
            .map(|c| c.to_string())
            .unwrap_or_else(|_| l.to_string())
    };
    let want = canonical(label);
    let e = &p.scenario.file.expect;
    e.iter()
        .find(|(k, _)| k.as_str() != DEFAULT_EXPECT && canonical(k) == want)
        .map(|(_, v)| v)
        .or_else(|| e.get(DEFAULT_EXPECT))
        .map(|s| s.get_ref().clone())
}

/// Whether a verdict matches an expectation. A list matches when every violation reported is
/// one of the listed `kind` or `kind:object` entries (the object's name contains `object`)
/// and, when the verdict has every violation of the space (`--all`), every entry was
/// reported. A search that stops at its first violation reports one, so the list then reads
/// "one of these". "clean" matches an exhaustive clean search. A table row also needs its
/// `deferred` entries to name exactly the devices boot left deferred: each entry part of one's
/// node path, and each such device named by an entry.
pub fn matches(e: &Expect, v: &Verdict) -> bool {
    let hit = |want: &String, f: &Finding| match expected_violation(want) {
        Ok((kind, obj)) => f.kind == kind && obj.is_none_or(|o| f.object.contains(o)),
        Err(_) => false,
    };
    match e {
        Expect::Verdict(_) => v.is_clean() && v.exhaustive,
        Expect::Violations(list) => {
            !v.findings.is_empty()
                && v.findings.iter().all(|f| list.iter().any(|w| hit(w, f)))
                && (!v.every_violation || list.iter().all(|w| v.findings.iter().any(|f| hit(w, f))))
        }
        Expect::Boot(b) => {
            b.deferred
                .iter()
                .all(|w| v.deferred.iter().any(|d| d.contains(w.as_str())))
                && v.deferred
                    .iter()
                    .all(|d| b.deferred.iter().any(|w| d.contains(w.as_str())))
                && matches(&b.verdict, v)
        }
    }
}

/// A text table: one row per verdict.
pub fn table(rows: &[(String, Verdict)]) -> String {
    let mut o = String::new();
    let w0 = rows.iter().map(|(s, _)| s.len()).max().unwrap_or(8).max(8);
    let w1 = rows
        .iter()
        .map(|(_, v)| v.rules.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        o,
        "{:w0$}  {:w1$}  {:>10}  verdict",
        "scenario", "rules", "executions"
    );
    for (name, v) in rows {
        let mark = match v.matches_expect {
            Some(true) => "  (as expected)",
            Some(false) => "  (EXPECTED OTHERWISE)",
            None => "",
        };
        let _ = writeln!(
            o,
            "{name:w0$}  {:w1$}  {:>10}  {}{mark}",
            v.rules,
            v.stats.executions,
            v.summary()
        );
    }
    o
}

/// The JSON document of a command's results.
#[derive(Serialize)]
pub struct JsonOut<'a> {
    pub schema: &'static str,
    pub command: &'a str,
    pub results: Vec<JsonResult<'a>>,
}

#[derive(Serialize)]
pub struct JsonResult<'a> {
    pub scenario: &'a str,
    #[serde(flatten)]
    pub verdict: &'a Verdict,
}
