//! Violations and their kernel-style reports.
//!
//! A violation is what KASAN, kmemleak, refcount_t, lockdep, list debugging or a `WARN_ON`
//! would print on real hardware. Each is recorded with the step, thread and model call path
//! where it happened; [`Kernel::render`] prints it the way the kernel would, with the
//! allocation and free sites and the last reference operations on the object.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::sched::{AccessKind, Kernel, ObjId, Tid};
use crate::trace::{Event, PathId};
use crate::{ObjKind, State};

/// Where something happened: a step, a thread and a model call path.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub step: u32,
    pub tid: Tid,
    pub path: PathId,
}

impl State {
    pub(crate) fn site(&self) -> Site {
        let (step, tid, path) = self.here();
        Site { step, tid, path }
    }
}

/// One table of the violation kinds: each variant with its doc and its one name. It makes
/// the enum, [`ViolationKind::ALL`] and [`ViolationKind::name`], so a kind cannot be added
/// without its name or left out of `ALL`.
macro_rules! violation_kinds {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// The kinds of violation the model reports.
        ///
        /// Each has one name ([`ViolationKind::name`]) used everywhere a user sees it:
        /// `Display`, `FromStr`, serde (JSON, traces), scenario `expect` entries and verdict
        /// tables.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ViolationKind {
            $( $(#[$doc])* $variant, )*
        }

        impl ViolationKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ViolationKind] = &[ $( ViolationKind::$variant, )* ];

            /// Its short stable name ("use-after-free"): the one spelling of the kind.
            pub fn name(self) -> &'static str {
                match self {
                    $( ViolationKind::$variant => $name, )*
                }
            }
        }
    };
}

violation_kinds! {
    /// KASAN slab-use-after-free: an access through a handle to a freed object.
    UseAfterFree => "use-after-free",
    /// KASAN double-free.
    DoubleFree => "double-free",
    /// `refcount_t: addition on 0; use-after-free.`
    RefcountAddOnZero => "refcount-add-on-zero",
    /// `refcount_t: underflow; use-after-free.`
    RefcountUnderflow => "refcount-underflow",
    /// ref_tracker: a put of a reference the caller does not hold.
    RefNotHeld => "ref-not-held",
    /// kmemleak: an object still alive at the end of the run, with its holders.
    Leak => "leak",
    /// lockdep: possible circular locking dependency.
    LockInversion => "lock-inversion",
    /// lockdep: possible recursive locking.
    RecursiveLock => "recursive-lock",
    /// Every live thread is blocked.
    Deadlock => "deadlock",
    /// list debugging: `list_add`/`list_del` corruption or a walk through a deleted entry.
    ListCorruption => "list-corruption",
    /// A device resource touched after its device was unbound or unplugged.
    HwAfterUnplug => "hw-after-unplug",
    /// A device resource released twice (a regulator enable/disable imbalance).
    DoubleRelease => "double-release",
    /// A `WARN_ON` the kernel prints (API misuse).
    Warn => "warn",
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A violation kind name that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownViolationKind(pub String);

impl fmt::Display for UnknownViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown violation kind `{}`: expected one of {}",
            self.0,
            ViolationKind::ALL
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl std::error::Error for UnknownViolationKind {}

impl FromStr for ViolationKind {
    type Err = UnknownViolationKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ViolationKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownViolationKind(s.to_string()))
    }
}

impl Serialize for ViolationKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ViolationKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The message of a leak violation covering `count` objects of one type and name.
pub fn leak_message(count: usize) -> String {
    if count == 1 {
        "1 object still allocated at the end of the run".to_string()
    } else {
        format!("{count} objects still allocated at the end of the run")
    }
}

/// The object count of a leak violation's message ([`leak_message`]); `None` for any other
/// message.
pub fn leak_count(message: &str) -> Option<usize> {
    let (n, rest) = message.split_once(' ')?;
    let n: usize = n.parse().ok()?;
    (leak_message(n).split_once(' ').map(|(_, r)| r) == Some(rest)).then_some(n)
}

/// Objects leaked under one (type, name): the first, a detail line per object, and the
/// owners of their references with counts.
type LeakGroup<'a> = ((&'a str, &'a str), ObjId, Vec<String>, Vec<(String, u32)>);

/// `owner`, with `×n` when it holds more than one reference.
fn times(owner: &str, n: u32) -> String {
    if n == 1 {
        owner.to_string()
    } else {
        format!("{owner} (x{n})")
    }
}

/// One reported violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub kind: ViolationKind,
    pub site: Site,
    /// The object concerned, if any.
    pub obj: Option<ObjId>,
    /// For memory errors: the access that hit the object.
    pub access: Option<AccessKind>,
    /// The one-line message ("double free", "refcount_t: underflow; use-after-free.").
    pub message: String,
    /// Extra lines: holders of a leaked object, a lock chain, what each thread waits for.
    pub details: Vec<String>,
}

impl Kernel {
    /// Record a violation at the current site.
    pub fn violation(
        &self,
        kind: ViolationKind,
        obj: Option<ObjId>,
        access: Option<AccessKind>,
        message: String,
    ) {
        self.violation_with(kind, obj, access, message, Vec::new());
    }

    /// [`Kernel::violation`] with extra detail lines.
    pub fn violation_with(
        &self,
        kind: ViolationKind,
        obj: Option<ObjId>,
        access: Option<AccessKind>,
        message: String,
        details: Vec<String>,
    ) {
        let mut st = self.st.borrow_mut();
        let site = st.site();
        let index = st.violations.len();
        st.violations.push(Violation {
            kind,
            site,
            obj,
            access,
            message,
            details,
        });
        if st.trace.recording {
            st.trace.events.push(Event::Violation {
                step: site.step,
                tid: site.tid,
                path: site.path,
                kind,
                index,
            });
        }
    }

    /// Emit a `WARN_ON`-style warning (reported as a [`ViolationKind::Warn`]).
    pub fn warn(&self, message: impl Into<String>) {
        self.violation(ViolationKind::Warn, None, None, message.into());
    }

    /// Every violation so far, in order.
    pub fn violations(&self) -> Vec<Violation> {
        self.st.borrow().violations.clone()
    }

    /// kmemleak at quiescence: report every heap object still alive, with the owners that hold
    /// its references. Called by [`Kernel::run`] when [`crate::Config::leak_check`] is set.
    ///
    /// Objects of one C type and name (three `panel_bridge`s on one panel's device) are one
    /// violation whose message carries their count ([`leak_message`], read back by
    /// [`leak_count`]) and whose details list each object: its allocation site and the owner
    /// of each reference it still has; a last line sums the owners.
    pub fn leak_check(&self) {
        let groups: Vec<(ObjId, Vec<String>, usize)> = {
            let st = self.st.borrow();
            // Per (type, name), in allocation order: the first object, a line per object and
            // the owners summed.
            let mut groups: Vec<LeakGroup<'_>> = Vec::new();
            for (i, o) in st.objects.iter().enumerate() {
                let ObjKind::Heap(slot) = &o.kind else {
                    continue;
                };
                if slot.free.is_some() || slot.persistent {
                    continue;
                }
                let id = ObjId(i as u32);
                let holders = st.kref_holders(id);
                let thread = st
                    .sched
                    .threads
                    .get(slot.alloc.tid.index())
                    .map(|t| t.name.as_str())
                    .unwrap_or("?");
                let held = if holders.is_empty() {
                    "no reference holders (never freed)".to_string()
                } else {
                    let hs: Vec<String> = holders.iter().map(|(h, n)| times(h, *n)).collect();
                    format!("held by: {}", hs.join(", "))
                };
                let line = format!(
                    "  {id} allocated by {thread} ({}) at step {} in {}; {held}",
                    slot.alloc.tid,
                    slot.alloc.step,
                    st.trace.innermost(slot.alloc.path),
                );
                let key = (o.ty, o.name.as_str());
                let g = match groups.iter_mut().position(|g| g.0 == key) {
                    Some(at) => &mut groups[at],
                    None => {
                        groups.push((key, id, Vec::new(), Vec::new()));
                        groups.last_mut().expect("just pushed")
                    }
                };
                g.2.push(line);
                for (h, n) in holders {
                    match g.3.iter_mut().find(|(o, _)| *o == h) {
                        Some((_, c)) => *c += n,
                        None => g.3.push((h, n)),
                    }
                }
            }
            groups
                .into_iter()
                .map(|((ty, name), first, mut lines, owners)| {
                    let n = lines.len();
                    let mut details = vec![format!("{} x {ty} {name} still allocated:", n)];
                    details.append(&mut lines);
                    if !owners.is_empty() {
                        let os: Vec<String> = owners.iter().map(|(o, c)| times(o, *c)).collect();
                        details.push(format!("references by owner: {}", os.join(", ")));
                    }
                    (first, details, n)
                })
                .collect()
        };
        for (id, details, n) in groups {
            self.violation_with(
                ViolationKind::Leak,
                Some(id),
                None,
                leak_message(n),
                details,
            );
        }
    }

    pub(crate) fn report_deadlock(&self) {
        let details: Vec<String> = {
            let st = self.st.borrow();
            let mut details: Vec<String> = st
                .sched
                .threads
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let a = t.pending?;
                    let what = match a.kind {
                        AccessKind::Lock => {
                            let owner = st
                                .mutex_owner(a.obj)
                                .map(|o| {
                                    format!(", held by {} ({o})", st.sched.threads[o.index()].name)
                                })
                                .unwrap_or_default();
                            format!("mutex_lock({}){owner}", st.obj(a.obj).name)
                        }
                        AccessKind::SrcuWait => format!("synchronize_srcu({})", st.obj(a.obj).name),
                        AccessKind::Join => format!("waiting for thread {}", st.obj(a.obj).name),
                        k => format!("{k:?} on {}", st.obj(a.obj).name),
                    };
                    Some(format!("{} (T{i}) blocked in {what}", t.name))
                })
                .collect();
            // A synchronize_srcu that never returns: the read sections it waits for, each with
            // the thread that entered it, the step and the call path it was entered from.
            for t in &st.sched.threads {
                let (Some(a), crate::sched::WaitFor::SrcuReaders(tokens)) = (t.pending, &t.wait)
                else {
                    continue;
                };
                if a.kind != AccessKind::SrcuWait {
                    continue;
                }
                for site in st.srcu_open_sections(a.obj, tokens) {
                    let owner = st
                        .sched
                        .threads
                        .get(site.tid.index())
                        .map(|o| (o.name.as_str(), o.done))
                        .unwrap_or(("?", false));
                    details.push(format!(
                        "open read section of {} entered by {} ({}) at step {}{}, from:",
                        st.obj(a.obj).name,
                        owner.0,
                        site.tid,
                        site.step,
                        if owner.1 {
                            " (the thread has exited)"
                        } else {
                            ""
                        }
                    ));
                    let names = st.trace.path_names(site.path);
                    if names.is_empty() {
                        details.push("  <thread body>".to_string());
                    }
                    details.extend(names.iter().rev().map(|n| format!("  {n}")));
                }
            }
            details
        };
        self.violation_with(
            ViolationKind::Deadlock,
            None,
            None,
            "every thread is blocked (deadlock)".into(),
            details,
        );
    }

    /// Print violation `v` the way the kernel would.
    pub fn render(&self, v: &Violation) -> String {
        let st = self.st.borrow();
        let mut o = String::new();
        let tr = &st.trace;
        let thread = |t: Tid| {
            format!(
                "{} ({t})",
                st.sched
                    .threads
                    .get(t.index())
                    .map(|x| x.name.as_str())
                    .unwrap_or("?")
            )
        };
        let path = |p: PathId, o: &mut String| {
            let names = tr.path_names(p);
            if names.is_empty() {
                o.push_str("  <thread body>\n");
            }
            for n in names.iter().rev() {
                let _ = writeln!(o, "  {n}");
            }
        };
        // "<lead> by thread NAME (Tn) at step S:" and the call path under it.
        let by = |o: &mut String, lead: &str, site: Site| {
            let lead = if lead.is_empty() {
                String::new()
            } else {
                format!("{lead} ")
            };
            let _ = writeln!(
                o,
                "{lead}by thread {} at step {}:",
                thread(site.tid),
                site.step
            );
            path(site.path, o);
        };
        let func = tr.innermost(v.site.path).to_string();
        let objdesc = v.obj.map(|id| {
            let r = st.obj(id);
            format!("{} {} ({id})", r.ty, r.name)
        });
        o.push_str("==================================================================\n");
        use ViolationKind::*;
        match v.kind {
            UseAfterFree | DoubleFree => {
                let title = if v.kind == UseAfterFree {
                    "slab-use-after-free"
                } else {
                    "double-free"
                };
                let _ = writeln!(o, "BUG: KASAN: {title} in {func}");
                let what = match (v.kind, v.access) {
                    (DoubleFree, _) => "Free",
                    (_, Some(AccessKind::Write)) => "Write",
                    _ => "Read",
                };
                by(
                    &mut o,
                    &format!("{what} of {}", objdesc.as_deref().unwrap_or("?")),
                    v.site,
                );
                if let Some(ObjKind::Heap(slot)) = v.obj.map(|id| &st.obj(id).kind) {
                    by(&mut o, "\nAllocated", slot.alloc);
                    if let Some(f) = slot.free {
                        by(&mut o, "\nFreed", f);
                    }
                }
            }
            RefcountAddOnZero | RefcountUnderflow => {
                let _ = writeln!(o, "{}", v.message);
                let _ = writeln!(o, "WARNING: refcount_warn_saturate in {func}");
                by(
                    &mut o,
                    &format!("on {}", objdesc.as_deref().unwrap_or("?")),
                    v.site,
                );
            }
            Leak => {
                let what = objdesc.as_deref().unwrap_or("?");
                let _ = match leak_count(&v.message) {
                    Some(n) if n > 1 => {
                        writeln!(o, "kmemleak: {n} unreferenced objects like {what}")
                    }
                    _ => writeln!(o, "kmemleak: unreferenced object {what}"),
                };
                if let Some(ObjKind::Heap(slot)) = v.obj.map(|id| &st.obj(id).kind) {
                    let _ = writeln!(
                        o,
                        "  allocated by thread {} at step {}:",
                        thread(slot.alloc.tid),
                        slot.alloc.step
                    );
                    let mut p = String::new();
                    path(slot.alloc.path, &mut p);
                    for l in p.lines() {
                        let _ = writeln!(o, "  {l}");
                    }
                }
            }
            LockInversion => {
                let _ = writeln!(o, "WARNING: possible circular locking dependency detected");
                let _ = writeln!(
                    o,
                    "{} is trying to acquire lock at step {}:",
                    thread(v.site.tid),
                    v.site.step
                );
                let _ = writeln!(o, "{}", v.message);
                path(v.site.path, &mut o);
            }
            RecursiveLock => {
                let _ = writeln!(o, "WARNING: possible recursive locking detected");
                let _ = writeln!(
                    o,
                    "{} at step {}: {}",
                    thread(v.site.tid),
                    v.site.step,
                    v.message
                );
                path(v.site.path, &mut o);
            }
            Deadlock => {
                let _ = writeln!(o, "INFO: task hung: {} at step {}", v.message, v.site.step);
            }
            ListCorruption => {
                let _ = writeln!(o, "{}", v.message);
                let _ = writeln!(o, "kernel BUG at lib/list_debug.c in {func}");
                by(&mut o, "", v.site);
            }
            HwAfterUnplug | DoubleRelease | RefNotHeld | Warn => {
                let title = match v.kind {
                    HwAfterUnplug => "BUG: hardware access after unplug",
                    DoubleRelease => "WARNING: unbalanced release",
                    RefNotHeld => "ref_tracker: put of a reference that is not held",
                    _ => "WARNING",
                };
                let _ = writeln!(o, "{title} in {func}: {}", v.message);
                if let Some(d) = &objdesc {
                    let _ = writeln!(o, "on {d}");
                }
                by(&mut o, "", v.site);
            }
        }
        for d in &v.details {
            let _ = writeln!(o, "{d}");
        }
        if let Some(id) = v.obj {
            let refs: Vec<&Event> = tr
                .events
                .iter()
                .filter(|e| matches!(e, Event::RefInit { obj, .. } | Event::RefGet { obj, .. } | Event::RefPut { obj, .. } if *obj == id))
                .collect();
            if !refs.is_empty() {
                let _ = writeln!(o, "\nLast reference operations on the object:");
                for e in refs.iter().rev().take(8).rev() {
                    let line = match e {
                        Event::RefInit {
                            step,
                            tid,
                            path,
                            owner,
                            ..
                        } => {
                            format!(
                                "  step {step:>4} {tid}: init  -> 1 owner \"{owner}\" in {}",
                                tr.innermost(*path)
                            )
                        }
                        Event::RefGet {
                            step,
                            tid,
                            path,
                            owner,
                            count,
                            ..
                        } => {
                            format!(
                                "  step {step:>4} {tid}: get   -> {count} owner \"{owner}\" in {}",
                                tr.innermost(*path)
                            )
                        }
                        Event::RefPut {
                            step,
                            tid,
                            path,
                            owner,
                            count,
                            ..
                        } => {
                            format!(
                                "  step {step:>4} {tid}: put   -> {count} owner \"{owner}\" in {}",
                                tr.innermost(*path)
                            )
                        }
                        _ => unreachable!(),
                    };
                    let _ = writeln!(o, "{line}");
                }
            }
        }
        o.push_str("==================================================================\n");
        o
    }
}
