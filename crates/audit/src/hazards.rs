//! The hazard pass: patterns found in one function's paths, or across one driver's
//! functions, each with the shortest path that shows it.
//!
//! A function's paths are walked over its structured statements with a small abstract state
//! (inside a drm_bridge_enter() section or not, the counted bridge references held in
//! locals, drm_bridge_unplug() done or not). Conditions are not evaluated: both branches are
//! taken, except the outcome of `drm_bridge_enter()` and null tests of a held variable.
//! States are merged per value, keeping the shortest trail, so a function's walk is linear
//! in its size times the number of distinct states.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use drm::Release;
use serde::Serialize;

use crate::cfile::{CFile, CallSite, Cond, Ret, Stmt, Val};
use crate::extract::{for_each_call, Driver, Ops};
use crate::vocab::{Api, Class, Held};

/// What can go wrong, in the kernel's words (the kinds of issue #14's report).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    UseAfterFree,
    Leak,
    HwAfterUnplug,
    DoubleRelease,
    RefcountMisuse,
    Hang,
    Deadlock,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::UseAfterFree,
        Kind::Leak,
        Kind::HwAfterUnplug,
        Kind::DoubleRelease,
        Kind::RefcountMisuse,
        Kind::Hang,
        Kind::Deadlock,
    ];
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::UseAfterFree => "use-after-free",
            Kind::Leak => "leak",
            Kind::HwAfterUnplug => "hw-after-unplug",
            Kind::DoubleRelease => "double-release",
            Kind::RefcountMisuse => "refcount-misuse",
            Kind::Hang => "hang",
            Kind::Deadlock => "deadlock",
        })
    }
}

/// The pattern a hazard was found by.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// A path from a successful drm_bridge_enter() to a return without drm_bridge_exit():
    /// the SRCU read section never ends, and the next drm_bridge_unplug() waits forever in
    /// synchronize_srcu().
    EnterWithoutExit,
    /// A counted bridge reference held in a local and not put on some path.
    CountedGetLeak,
    /// Hardware access after drm_bridge_unplug() in the same function.
    HwAfterUnplugCall,
    /// A driver that calls drm_bridge_unplug() reaches the hardware from a bridge callback,
    /// IRQ handler or work function outside any drm_bridge_enter() section.
    UnguardedHwAccess,
    /// A work item initialised by the driver that no teardown path cancels or flushes.
    WorkNotCancelled,
    /// An IRQ requested without devm that no teardown path frees.
    IrqNotFreed,
    /// A borrowed bridge pointer (no reference taken) stored in the driver's private data.
    BorrowedBridgeStored,
}

impl Pattern {
    pub fn kind(self) -> Kind {
        match self {
            Pattern::EnterWithoutExit => Kind::Hang,
            Pattern::CountedGetLeak => Kind::Leak,
            Pattern::HwAfterUnplugCall | Pattern::UnguardedHwAccess => Kind::HwAfterUnplug,
            Pattern::WorkNotCancelled | Pattern::IrqNotFreed | Pattern::BorrowedBridgeStored => {
                Kind::UseAfterFree
            }
        }
    }

    /// Where the pattern shows: in one function, across a driver's functions, or only in an
    /// interleaving with another thread.
    pub fn scope(self) -> Scope {
        match self {
            Pattern::EnterWithoutExit | Pattern::CountedGetLeak | Pattern::HwAfterUnplugCall => {
                Scope::OneFunction
            }
            Pattern::UnguardedHwAccess | Pattern::WorkNotCancelled | Pattern::IrqNotFreed => {
                Scope::Driver
            }
            Pattern::BorrowedBridgeStored => Scope::Interleaving,
        }
    }

    /// The kernel source of the rule the pattern checks.
    pub fn cite(self) -> &'static str {
        match self {
            Pattern::EnterWithoutExit => "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_unplug",
            Pattern::CountedGetLeak => "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_put",
            Pattern::HwAfterUnplugCall | Pattern::UnguardedHwAccess => {
                "v7.0:drivers/gpu/drm/drm_bridge.c:drm_bridge_enter"
            }
            Pattern::WorkNotCancelled => "v7.1:drivers/base/dd.c:device_unbind_cleanup",
            Pattern::IrqNotFreed => "v7.1:drivers/base/dd.c:device_unbind_cleanup",
            Pattern::BorrowedBridgeStored => {
                "v7.1:drivers/gpu/drm/bridge/panel.c:devm_drm_of_get_bridge"
            }
        }
    }

    /// The first release whose API the pattern is about.
    fn since(self) -> Option<Release> {
        match self {
            Pattern::EnterWithoutExit | Pattern::HwAfterUnplugCall | Pattern::UnguardedHwAccess => {
                Some(Release::V7_0)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pattern::EnterWithoutExit => "enter-without-exit",
            Pattern::CountedGetLeak => "counted-get-leak",
            Pattern::HwAfterUnplugCall => "hw-after-unplug-call",
            Pattern::UnguardedHwAccess => "unguarded-hw-access",
            Pattern::WorkNotCancelled => "work-not-cancelled",
            Pattern::IrqNotFreed => "irq-not-freed",
            Pattern::BorrowedBridgeStored => "borrowed-bridge-stored",
        })
    }
}

/// Where a hazard shows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// On a path of one function: a Coccinelle/Smatch-style pattern finds it.
    OneFunction,
    /// Across the functions of one driver file: a file-level pattern finds it.
    Driver,
    /// Only when another thread runs in between (an unbind, an unplug): needs an
    /// interleaving.
    Interleaving,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::OneFunction => "one function",
            Scope::Driver => "one driver",
            Scope::Interleaving => "interleaving",
        })
    }
}

/// One step of a counterexample path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TrailStep {
    pub line: u32,
    pub note: String,
}

impl fmt::Display for TrailStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.note)
    }
}

/// A hazard found.
#[derive(Clone, Debug, Serialize)]
pub struct Hazard {
    pub pattern: Pattern,
    pub kind: Kind,
    pub scope: Scope,
    pub file: String,
    pub function: String,
    pub line: u32,
    pub message: String,
    /// The shortest path that shows it (one function's lines, in order).
    pub trail: Vec<TrailStep>,
    #[serde(serialize_with = "crate::ser::releases")]
    pub releases: Vec<Release>,
    pub cite: &'static str,
}

impl Hazard {
    /// What identifies the hazard across releases and across two trees (lines move).
    pub fn key(&self) -> (Pattern, String, String, String) {
        (
            self.pattern,
            self.file.clone(),
            self.function.clone(),
            self.subject(),
        )
    }

    /// The variable, field or call the hazard is about, without line numbers.
    fn subject(&self) -> String {
        let s = self.message.split('`').nth(1).unwrap_or_default();
        // `foo() → regmap_write() (line 12)`: lines move between trees.
        s.split(" (line ").next().unwrap_or(s).to_string()
    }
}

/// The abstract state of a path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
struct St {
    /// The line of the drm_bridge_enter() whose section is open.
    entered: Option<u32>,
    /// Counted references held in locals: variable → line of the get.
    held: BTreeMap<String, u32>,
    /// The line of drm_bridge_unplug() on this path.
    unplugged: Option<u32>,
    /// Locals known to be zero or an error (`ret = -EINVAL`), to prune the branches of a
    /// later `if (ret)` that the path cannot take.
    vals: BTreeMap<String, Val>,
}

#[derive(Clone, Debug)]
struct Path {
    st: St,
    trail: Vec<TrailStep>,
}

impl Path {
    fn note(&mut self, line: u32, note: impl Into<String>) {
        // Long functions: keep the trail readable and bounded.
        if self.trail.len() < 64 {
            self.trail.push(TrailStep {
                line,
                note: note.into(),
            });
        }
    }
}

enum Esc {
    Return(u32, Ret),
    Goto(String),
    Break,
    Continue,
}

/// At most this many distinct states per program point (more are dropped: counted).
const MAX_STATES: usize = 256;

fn merge(paths: Vec<Path>) -> Vec<Path> {
    let mut best: BTreeMap<St, Path> = BTreeMap::new();
    for p in paths {
        match best.get(&p.st) {
            Some(q) if q.trail.len() <= p.trail.len() => {}
            _ => {
                best.insert(p.st.clone(), p);
            }
        }
    }
    best.into_values().take(MAX_STATES).collect()
}

/// What a function reaches: its first hardware access outside its own enter sections
/// (through the static functions it calls, too).
type Summary = Option<(u32, String)>;

struct Walker<'a> {
    file: &'a CFile,
    release: Release,
    /// Whether hardware access outside enter/exit is reported (a callback of a driver that
    /// calls drm_bridge_unplug()).
    report_unguarded: bool,
    function: String,
    found: Vec<Hazard>,
    file_name: String,
    summaries: &'a mut BTreeMap<String, Summary>,
    in_progress: &'a mut BTreeSet<String>,
    /// The first unguarded hardware access seen (for summaries).
    first_unguarded: Option<(u32, String)>,
    /// Locals declared `__free(drm_bridge_put)`: put at the end of their scope.
    auto_put: BTreeSet<String>,
}

fn var_of(arg: &str) -> &str {
    arg.trim().trim_start_matches('&').trim()
}

fn is_local(v: &str) -> bool {
    !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Walker<'_> {
    fn hazard(&mut self, pattern: Pattern, line: u32, message: String, trail: Vec<TrailStep>) {
        self.found.push(Hazard {
            pattern,
            kind: pattern.kind(),
            scope: pattern.scope(),
            file: self.file_name.clone(),
            function: self.function.clone(),
            line,
            message,
            trail,
            releases: vec![self.release],
            cite: pattern.cite(),
        });
    }

    /// The unguarded hardware access a static function reaches, computed once.
    fn summary(&mut self, name: &str) -> Summary {
        if let Some(s) = self.summaries.get(name) {
            return s.clone();
        }
        let f = self.file.functions.get(name)?;
        if !self.in_progress.insert(name.to_string()) {
            return None;
        }
        let mut w = Walker {
            file: self.file,
            release: self.release,
            report_unguarded: false,
            function: name.to_string(),
            found: Vec::new(),
            file_name: self.file_name.clone(),
            summaries: self.summaries,
            in_progress: self.in_progress,
            first_unguarded: None,
            auto_put: BTreeSet::new(),
        };
        w.run(&f.body, f.line);
        let s = w.first_unguarded.take();
        self.in_progress.remove(name);
        self.summaries.insert(name.to_string(), s.clone());
        s
    }

    fn run(&mut self, body: &[Stmt], line: u32) {
        let start = Path {
            st: St::default(),
            trail: Vec::new(),
        };
        let (out, esc) = self.block(body, vec![start]);
        let end_line = last_line(body).unwrap_or(line);
        for mut p in out {
            p.note(end_line, "end of function");
            self.at_return(p, end_line, &Ret::Void);
        }
        for (e, mut p) in esc {
            if let Esc::Return(l, v) = e {
                p.note(l, "return");
                self.at_return(p, l, &v);
            }
            // A goto whose label is not after it (a retry loop) ends the path here: it
            // repeats states already walked.
        }
    }

    fn at_return(&mut self, p: Path, line: u32, value: &Ret) {
        if let Some(e) = p.st.entered {
            self.hazard(
                Pattern::EnterWithoutExit,
                line,
                format!(
                    "`drm_bridge_enter` at line {e} succeeds and the function returns at line {line} without drm_bridge_exit(): the SRCU read section never ends, so drm_bridge_unplug() hangs in synchronize_srcu()"
                ),
                p.trail.clone(),
            );
        }
        for (v, l) in &p.st.held {
            if matches!(value, Ret::Value(r) if r == v) {
                continue;
            }
            let how = if *value == Ret::Error {
                "an error return"
            } else {
                "a return"
            };
            self.hazard(
                Pattern::CountedGetLeak,
                line,
                format!(
                    "`{v}` holds a counted bridge reference (line {l}) that {how} at line {line} does not put: the bridge is never freed (under {})",
                    self.release
                ),
                p.trail.clone(),
            );
        }
    }

    fn block(&mut self, stmts: &[Stmt], ins: Vec<Path>) -> (Vec<Path>, Vec<(Esc, Path)>) {
        let mut cur = ins;
        let mut esc: Vec<(Esc, Path)> = Vec::new();
        for (i, s) in stmts.iter().enumerate() {
            match s {
                Stmt::Label { line, name } => {
                    let (hit, rest): (Vec<_>, Vec<_>) = esc
                        .into_iter()
                        .partition(|(e, _)| matches!(e, Esc::Goto(l) if l == name));
                    esc = rest;
                    for (_, mut p) in hit {
                        p.note(*line, format!("{name}:"));
                        cur.push(p);
                    }
                    cur = merge(cur);
                }
                Stmt::Goto { line, label } => {
                    for mut p in cur.drain(..) {
                        p.note(*line, format!("goto {label}"));
                        esc.push((Esc::Goto(label.clone()), p));
                    }
                }
                Stmt::Return { line, value } => {
                    for p in cur.drain(..) {
                        esc.push((Esc::Return(*line, value.clone()), p));
                    }
                }
                Stmt::Break { .. } => {
                    for p in cur.drain(..) {
                        esc.push((Esc::Break, p));
                    }
                }
                Stmt::Continue { .. } => {
                    for p in cur.drain(..) {
                        esc.push((Esc::Continue, p));
                    }
                }
                Stmt::If {
                    line,
                    cond,
                    then,
                    els,
                } => {
                    let mut t_in = Vec::new();
                    let mut e_in = Vec::new();
                    for p in cur.drain(..) {
                        let (mut t, mut e) = (p.clone(), p);
                        match cond {
                            Cond::Enter { then_entered } => {
                                let (inn, out) = if *then_entered {
                                    (&mut t, &mut e)
                                } else {
                                    (&mut e, &mut t)
                                };
                                inn.st.entered = Some(*line);
                                inn.note(*line, "drm_bridge_enter() succeeds");
                                out.note(*line, "drm_bridge_enter() fails (unplugged)");
                            }
                            Cond::Null { var, then_null } => {
                                // A known value takes one branch only: zero goes
                                // where the variable is null, an error where it is not.
                                let known = t.st.vals.get(var).copied();
                                let null_is_then = *then_null;
                                match known {
                                    Some(Val::Zero) | Some(Val::Error) => {
                                        let to_null = known == Some(Val::Zero);
                                        let goes_then = to_null == null_is_then;
                                        let mut q = t;
                                        q.note(
                                            *line,
                                            if goes_then {
                                                "if: taken"
                                            } else {
                                                "if: not taken"
                                            },
                                        );
                                        if goes_then {
                                            t_in.push(q);
                                        } else {
                                            e_in.push(q);
                                        }
                                        continue;
                                    }
                                    _ => {}
                                }
                                let null = if *then_null { &mut t } else { &mut e };
                                null.st.held.remove(var);
                                null.st.vals.insert(var.clone(), Val::Zero);
                                t.note(*line, "if: taken");
                                e.note(*line, "if: not taken");
                            }
                            Cond::Other => {
                                t.note(*line, "if: taken");
                                e.note(*line, "if: not taken");
                            }
                        }
                        t_in.push(t);
                        e_in.push(e);
                    }
                    let (t_out, t_esc) = self.block(then, t_in);
                    let (e_out, e_esc) = self.block(els, e_in);
                    cur = merge(t_out.into_iter().chain(e_out).collect());
                    esc.extend(t_esc);
                    esc.extend(e_esc);
                }
                Stmt::Loop { line, body } => {
                    let mut into = cur.clone();
                    for p in &mut into {
                        p.note(*line, "loop body runs");
                    }
                    let (b_out, b_esc) = self.block(body, into);
                    let mut after = cur;
                    after.extend(b_out);
                    for (e, p) in b_esc {
                        match e {
                            Esc::Break | Esc::Continue => after.push(p),
                            e => esc.push((e, p)),
                        }
                    }
                    cur = merge(after);
                }
                Stmt::Scoped { body, .. } => {
                    let (b_out, b_esc) = self.block(body, cur);
                    cur = b_out;
                    for (e, p) in b_esc {
                        match e {
                            Esc::Break => cur.push(p),
                            e => esc.push((e, p)),
                        }
                    }
                    cur = merge(cur);
                }
                Stmt::Switch {
                    line,
                    cases,
                    has_default,
                } => {
                    let mut after = Vec::new();
                    for (n, case) in cases.iter().enumerate() {
                        let mut into = cur.clone();
                        for p in &mut into {
                            p.note(*line, format!("switch: case {}", n + 1));
                        }
                        let (o, e) = self.block(case, into);
                        after.extend(o);
                        for (e, p) in e {
                            match e {
                                Esc::Break => after.push(p),
                                e => esc.push((e, p)),
                            }
                        }
                    }
                    if !has_default {
                        after.extend(cur);
                    }
                    cur = merge(after);
                }
                Stmt::Cleanup { var, func, .. } => {
                    if func == "drm_bridge_put" {
                        self.auto_put.insert(var.clone());
                    }
                }
                Stmt::Set { lhs, value, .. } => {
                    for p in &mut cur {
                        match value {
                            Val::Unknown => p.st.vals.remove(lhs),
                            v => p.st.vals.insert(lhs.clone(), *v),
                        };
                    }
                    cur = merge(cur);
                }
                Stmt::Store { line, lhs, rhs } => {
                    for p in &mut cur {
                        p.st.vals.remove(lhs);
                        if let Some(l) = p.st.held.remove(rhs) {
                            if is_local(lhs) {
                                p.st.held.insert(lhs.clone(), l);
                            } else {
                                p.note(*line, format!("{lhs} = {rhs} (reference handed on)"));
                            }
                        }
                    }
                    cur = merge(cur);
                }
                Stmt::Call(cs) => {
                    let gated = matches!(
                        stmts.get(i + 1),
                        Some(Stmt::If {
                            cond: Cond::Enter { .. },
                            ..
                        })
                    );
                    for p in &mut cur {
                        self.call(cs, p, gated);
                    }
                    cur = merge(cur);
                }
            }
        }
        (cur, esc)
    }

    fn call(&mut self, cs: &CallSite, p: &mut Path, gated: bool) {
        if let Some(v) = &cs.assigned_to {
            p.st.vals.remove(v);
        }
        let hw = match &cs.class {
            Class::Api(a) if a.is_hw() => Some((cs.line, format!("{}()", cs.name))),
            Class::Internal => self
                .summary(&cs.name)
                .map(|(l, what)| (cs.line, format!("{}() → {what} (line {l})", cs.name))),
            _ => None,
        };
        if let Some((line, what)) = hw {
            if let Some(u) = p.st.unplugged {
                let mut trail = p.trail.clone();
                trail.push(TrailStep {
                    line,
                    note: what.clone(),
                });
                self.hazard(
                    Pattern::HwAfterUnplugCall,
                    line,
                    format!("`{what}` reaches the hardware after drm_bridge_unplug() at line {u}: the device may be gone"),
                    trail,
                );
            }
            if p.st.entered.is_none() {
                if self.first_unguarded.is_none() {
                    self.first_unguarded = Some((line, what.clone()));
                }
                if self.report_unguarded {
                    let mut trail = p.trail.clone();
                    trail.push(TrailStep {
                        line,
                        note: what.clone(),
                    });
                    self.hazard(
                        Pattern::UnguardedHwAccess,
                        line,
                        format!("`{what}` reaches the hardware outside drm_bridge_enter()/drm_bridge_exit(), in a driver that calls drm_bridge_unplug(): after an unplug it touches a device that is gone"),
                        trail,
                    );
                }
            }
        }
        let Class::Api(api) = cs.class else {
            // A put helper of the driver's own releases what it is given.
            if cs.name.contains("put") {
                for a in &cs.args {
                    p.st.held.remove(var_of(a));
                }
            }
            return;
        };
        match api {
            Api::BridgeEnter if !gated => {
                p.st.entered = Some(cs.line);
                p.note(cs.line, "drm_bridge_enter()");
            }
            Api::BridgeExit if p.st.entered.take().is_some() => {
                p.note(cs.line, "drm_bridge_exit()");
            }
            Api::BridgeUnplug => {
                p.st.unplugged = Some(cs.line);
                p.note(cs.line, "drm_bridge_unplug()");
            }
            Api::BridgePut | Api::BridgeClearAndPut => {
                for a in &cs.args {
                    if p.st.held.remove(var_of(a)).is_some() {
                        p.note(cs.line, format!("{}({a})", cs.name));
                    }
                }
            }
            Api::BridgeGet if cs.assigned_to.is_none() && !cs.returned => {
                // drm_bridge_get(local): the local now holds a reference.
                if let Some(a) = cs.args.first().map(|a| var_of(a)) {
                    if is_local(a) && !self.auto_put.contains(a) {
                        p.st.held.insert(a.to_string(), cs.line);
                        p.note(cs.line, format!("drm_bridge_get({a})"));
                    }
                }
            }
            Api::Lookup { .. } | Api::BridgeGet => {
                if api.held(self.release) != Some(Held::Counted) || cs.returned {
                    return;
                }
                let counted_by_free = cs.free_attr.as_deref() == Some("drm_bridge_put");
                match &cs.assigned_to {
                    Some(v) if is_local(v) && !counted_by_free && !self.auto_put.contains(v) => {
                        p.st.held.insert(v.clone(), cs.line);
                        p.note(cs.line, format!("{v} = {}() (counted)", cs.name));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        if cs.name == "no_free_ptr" || cs.name == "return_ptr" {
            for a in &cs.args {
                p.st.held.remove(var_of(a));
            }
        }
    }
}

fn last_line(body: &[Stmt]) -> Option<u32> {
    body.last().map(|s| match s {
        Stmt::Call(c) => c.line,
        Stmt::Store { line, .. }
        | Stmt::Set { line, .. }
        | Stmt::Cleanup { line, .. }
        | Stmt::If { line, .. }
        | Stmt::Loop { line, .. }
        | Stmt::Scoped { line, .. }
        | Stmt::Switch { line, .. }
        | Stmt::Return { line, .. }
        | Stmt::Goto { line, .. }
        | Stmt::Label { line, .. }
        | Stmt::Break { line }
        | Stmt::Continue { line } => *line,
    })
}

/// The functions reached from `roots` through calls to static functions of the file.
fn reachable(file: &CFile, roots: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(f) = todo.pop() {
        if !seen.insert(f.clone()) {
            continue;
        }
        if let Some(def) = file.functions.get(&f) {
            for_each_call(&def.body, &mut |cs| {
                if cs.class == Class::Internal {
                    todo.push(cs.name.clone());
                }
            });
        }
    }
    seen
}

/// The hazards of one file under one release.
pub fn check(file: &CFile, driver: &Driver, release: Release) -> Vec<Hazard> {
    let mut summaries = BTreeMap::new();
    let mut in_progress = BTreeSet::new();
    let mut found = Vec::new();
    let unplugs = file.functions.values().any(|f| {
        let mut any = false;
        for_each_call(&f.body, &mut |cs| {
            any |= cs.class == Class::Api(Api::BridgeUnplug)
        });
        any
    });
    // Reached by the framework or the device after an unplug: bridge callbacks, IRQ
    // handlers, work functions.
    let guarded: BTreeSet<&str> = driver
        .callbacks
        .iter()
        .filter(|c| matches!(c.ops, Ops::DrmBridgeFuncs | Ops::Irq | Ops::Work))
        .filter(|c| {
            !matches!(
                c.member.as_str(),
                "attach" | "detach" | "destroy" | "debugfs_init"
            )
        })
        .map(|c| c.function.as_str())
        .collect();
    for f in file.functions.values() {
        let mut w = Walker {
            file,
            release,
            report_unguarded: unplugs && guarded.contains(f.name.as_str()),
            function: f.name.clone(),
            found: Vec::new(),
            file_name: driver.file.clone(),
            summaries: &mut summaries,
            in_progress: &mut in_progress,
            first_unguarded: None,
            auto_put: BTreeSet::new(),
        };
        w.run(&f.body, f.line);
        found.extend(w.found);
    }
    found.extend(driver_level(file, driver, release));
    // One hazard per (pattern, function, line): the shortest trail.
    found.sort_by(|a, b| {
        (a.pattern, &a.function, a.line, a.trail.len()).cmp(&(
            b.pattern,
            &b.function,
            b.line,
            b.trail.len(),
        ))
    });
    found.dedup_by(|b, a| a.pattern == b.pattern && a.function == b.function && a.line == b.line);
    // Unguarded access: the first one per function is enough to show it.
    let mut seen_unguarded = BTreeSet::new();
    found.retain(|h| {
        h.pattern != Pattern::UnguardedHwAccess || seen_unguarded.insert(h.function.clone())
    });
    found.retain(|h| h.pattern.since().is_none_or(|s| release >= s));
    found
}

/// The field a `&ctx->work` or `&ctx->work.work` argument names.
fn field_of(arg: &str) -> String {
    let a = var_of(arg);
    a.rsplit("->").next().unwrap_or(a).to_string()
}

/// Patterns across a driver's functions. The work and IRQ patterns need the file to hold
/// the driver struct (its remove is the teardown); a helper file of a multi-file driver is
/// checked for borrowed pointers only.
fn driver_level(file: &CFile, driver: &Driver, release: Release) -> Vec<Hazard> {
    let mut out = Vec::new();
    let is_bus = |o: Ops| {
        matches!(
            o,
            Ops::I2cDriver | Ops::PlatformDriver | Ops::MipiDsiDriver | Ops::AuxiliaryDriver
        )
    };
    let has_driver_struct = driver.callbacks.iter().any(|c| is_bus(c.ops));
    let roots = |pred: &dyn Fn(Ops, &str) -> bool| -> Vec<String> {
        driver
            .callbacks
            .iter()
            .filter(|c| pred(c.ops, &c.member))
            .map(|c| c.function.clone())
            .collect()
    };
    let teardown = reachable(
        file,
        roots(&|o, m| {
            (is_bus(o) && matches!(m, "remove" | "remove_new" | "shutdown"))
                || (o == Ops::DrmBridgeFuncs && matches!(m, "detach" | "destroy"))
                || (o == Ops::MipiDsiHostOps && m == "detach")
                || o == Ops::DevmAction
        }),
    );
    // Set up for the device's lifetime: probe, bridge attach, DSI host attach.
    let setup = reachable(
        file,
        roots(&|o, m| {
            (is_bus(o) && m == "probe")
                || (o == Ops::DrmBridgeFuncs && m == "attach")
                || (o == Ops::MipiDsiHostOps && m == "attach")
        }),
    );
    // Released on a teardown path: works cancelled or flushed, workqueues flushed or
    // destroyed, IRQs freed (by number or by dev_id).
    let mut released: BTreeSet<String> = BTreeSet::new();
    for f in &teardown {
        if let Some(def) = file.functions.get(f) {
            for_each_call(&def.body, &mut |cs| match cs.class {
                Class::Api(Api::CancelWorkSync | Api::FlushWork) => {
                    if let Some(a) = cs.args.first() {
                        released.insert(field_of(a));
                    }
                }
                Class::Api(Api::FreeIrq) => {
                    let i = usize::from(cs.name.starts_with("devm_"));
                    for a in cs.args.iter().skip(i) {
                        released.insert(field_of(a));
                    }
                }
                _ => {}
            });
        }
    }
    // The workqueue each work is queued on.
    let mut queued_on: BTreeMap<String, String> = BTreeMap::new();
    for f in file.functions.values() {
        for_each_call(&f.body, &mut |cs| {
            if matches!(
                cs.name.as_str(),
                "queue_work" | "queue_delayed_work" | "mod_delayed_work"
            ) {
                if let (Some(wq), Some(w)) = (cs.args.first(), cs.args.get(1)) {
                    queued_on.insert(field_of(w), field_of(wq));
                }
            }
        });
    }
    let mut push = |pattern: Pattern, function: &str, line: u32, message: String| {
        out.push(Hazard {
            pattern,
            kind: pattern.kind(),
            scope: pattern.scope(),
            file: driver.file.clone(),
            function: function.to_string(),
            line,
            message,
            trail: vec![TrailStep {
                line,
                note: "here".into(),
            }],
            releases: vec![release],
            cite: pattern.cite(),
        })
    };
    for f in file.functions.values() {
        let mut borrowed: BTreeMap<String, (u32, String)> = BTreeMap::new();
        let mut stores: Vec<(u32, String, String)> = Vec::new();
        collect_borrowed(&f.body, release, &mut borrowed, &mut stores);
        for (line, lhs, what) in stores {
            push(
                Pattern::BorrowedBridgeStored,
                &f.name,
                line,
                format!("`{lhs}` stores a bridge from {what} without a reference: when that bridge's device unbinds, the pointer dangles (open upstream: these lookups return borrowed pointers in every release; docs/findings.md)"),
            );
        }
        if !has_driver_struct {
            continue;
        }
        for_each_call(&f.body, &mut |cs| match cs.class {
            Class::Api(Api::InitWork) if !cs.name.starts_with("devm_") => {
                if let Some(a) = cs.args.first() {
                    let w = field_of(a);
                    let wq_done = queued_on.get(&w).is_some_and(|q| released.contains(q));
                    if !released.contains(&w) && !wq_done {
                        push(
                            Pattern::WorkNotCancelled,
                            &f.name,
                            cs.line,
                            format!("work `{w}` (set up here) is cancelled or flushed on no teardown path (remove, detach, destroy, devm actions): it can run after unbind, on a device and resources that are gone"),
                        );
                    }
                }
            }
            Class::Api(Api::RequestIrq { managed: false }) if setup.contains(&f.name) => {
                let irq = cs.args.first().map(|a| field_of(a)).unwrap_or_default();
                let dev_id = cs.args.last().map(|a| field_of(a)).unwrap_or_default();
                if !released.contains(&irq) && !released.contains(&dev_id) {
                    push(
                        Pattern::IrqNotFreed,
                        &f.name,
                        cs.line,
                        format!("IRQ `{irq}` requested without devm is freed on no teardown path: its handler can run after unbind"),
                    );
                }
            }
            _ => {}
        });
    }
    out
}

/// Locals and fields assigned a borrowed bridge pointer (flow-insensitive), and the stores of
/// one into the private data.
fn collect_borrowed(
    body: &[Stmt],
    release: Release,
    borrowed: &mut BTreeMap<String, (u32, String)>,
    stores: &mut Vec<(u32, String, String)>,
) {
    for s in body {
        match s {
            Stmt::Call(cs) => {
                let Class::Api(api @ Api::Lookup { .. }) = cs.class else {
                    continue;
                };
                if api.held(release) != Some(Held::Borrowed) {
                    continue;
                }
                let what = format!("{}() (line {})", cs.name, cs.line);
                // drm_of_find_panel_or_bridge(np, port, ep, &panel, &bridge).
                let dest = if cs.name == "drm_of_find_panel_or_bridge" {
                    cs.args.get(4).map(|a| var_of(a).to_string())
                } else {
                    cs.assigned_to.clone()
                };
                let Some(d) = dest.filter(|d| d != "NULL") else {
                    continue;
                };
                if is_local(&d) {
                    borrowed.insert(d, (cs.line, what));
                } else {
                    stores.push((cs.line, d, what));
                }
            }
            Stmt::Store { line, lhs, rhs } => {
                if let Some((_, what)) = borrowed.get(rhs) {
                    if !is_local(lhs) {
                        stores.push((*line, lhs.clone(), what.clone()));
                    }
                }
            }
            Stmt::If { then, els, .. } => {
                collect_borrowed(then, release, borrowed, stores);
                collect_borrowed(els, release, borrowed, stores);
            }
            Stmt::Loop { body, .. } | Stmt::Scoped { body, .. } => {
                collect_borrowed(body, release, borrowed, stores)
            }
            Stmt::Switch { cases, .. } => {
                for c in cases {
                    collect_borrowed(c, release, borrowed, stores);
                }
            }
            _ => {}
        }
    }
}
