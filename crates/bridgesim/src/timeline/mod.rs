//! The HTML timeline of an execution: which object, who held it, when the last reference
//! went, which thread touched it after.
//!
//! [`Timeline::from_kernel`] reads a finished [`Kernel`] (its steps, the per-step call paths
//! and the event log of `kmodel::trace`) into lanes per thread, a lifeline per tracked object
//! (allocation to free, its refcount as a step line, one band per reference from get to put,
//! labelled with its owner), lock and SRCU sections, and the violations. [`page`] turns
//! timelines and a verdict matrix into one self-contained HTML file whose inline script draws
//! the SVG from the embedded JSON. `docs/timeline.md` describes the page.

pub mod page;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use kmodel::trace::{DeviceEvent, Event};
use kmodel::{AccessKind, Kernel, ObjId, Schedule, Stop, Tid, ViolationKind};
use serde::Serialize;

use crate::scenario::Prepared;
use crate::verdict::RulesColumn;

/// What a lifeline stands for, as the page groups and colours it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Panel,
    PanelBridge,
    Bridge,
    DrmDevice,
    Connector,
    Device,
    Regulator,
    Work,
    /// Any other object, shown only when a violation names it.
    Other,
}

impl Category {
    /// The category of a heap or kernel object of C type `ty`; `refcounted` when it embeds a
    /// kref (a driver's bridge container, whatever its type's name).
    fn of(ty: &str, refcounted: bool) -> Category {
        match ty {
            "struct drm_device" => Category::DrmDevice,
            "struct panel_bridge" => Category::PanelBridge,
            "struct device" => Category::Device,
            "struct regulator" => Category::Regulator,
            "struct work_struct" => Category::Work,
            _ if ty.contains("connector") => Category::Connector,
            _ if ty.contains("panel") => Category::Panel,
            _ if refcounted => Category::Bridge,
            _ => Category::Other,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Category::DrmDevice => "drm_device",
            Category::Bridge => "bridge",
            Category::PanelBridge => "panel_bridge",
            Category::Panel => "panel",
            Category::Connector => "connector",
            Category::Device => "device",
            Category::Regulator => "regulator",
            Category::Work => "work item",
            Category::Other => "object",
        })
    }
}

/// How a lifeline ends.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    Kfree,
    DeviceDel,
}

/// One reference: from the step that took it to the step that dropped it (`None`: still held
/// at the end).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Band {
    pub owner: String,
    pub from: u32,
    pub to: Option<u32>,
}

/// One tracked object from its allocation (or `device_add`, or first use) to its free (or
/// `device_del`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lifeline {
    pub obj: u32,
    pub label: String,
    pub category: Category,
    pub start: u32,
    pub end: Option<u32>,
    pub end_kind: Option<EndKind>,
    /// The refcount after each change: `[step, count]`.
    pub counts: Vec<[u32; 2]>,
    pub refs: Vec<Band>,
    /// The steps that touched it: `[step, tid, kind]`, `kind` indexing [`Timeline::kinds`].
    pub accesses: Vec<[u32; 3]>,
}

impl Lifeline {
    /// The owners still holding a reference at the end.
    pub fn holders_at_end(&self) -> Vec<&str> {
        self.refs
            .iter()
            .filter(|b| b.to.is_none())
            .map(|b| b.owner.as_str())
            .collect()
    }
}

/// Which lock a section holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Mutex,
    SrcuRead,
}

/// A critical section of one thread: a mutex held or an SRCU read-side section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    pub tid: u32,
    pub kind: SectionKind,
    pub label: String,
    pub from: u32,
    pub to: Option<u32>,
}

/// A violation, placed: where, on which lifeline, with what it leaves open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub step: u32,
    pub tid: u32,
    pub path: u32,
    pub kind: ViolationKind,
    pub message: String,
    pub object: Option<String>,
    /// Index into [`Timeline::lifelines`].
    pub lifeline: Option<usize>,
    pub access: Option<AccessKind>,
    pub details: Vec<String>,
    /// For a leak: the owners still holding the object at the end.
    pub holders: Vec<String>,
    /// For a hang: indexes into [`Timeline::sections`] of the sections still open.
    pub open_sections: Vec<usize>,
    /// The kernel-style report.
    pub report: String,
}

/// What the timeline is of.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A search's counterexample, replayed to the end.
    Counterexample,
    /// The thread-order run (no schedule given).
    ThreadOrder,
    /// A run along a schedule from the command line.
    Schedule,
}

impl fmt::Display for RunKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunKind::Counterexample => "counterexample, replayed to the end",
            RunKind::ThreadOrder => "one run in thread order",
            RunKind::Schedule => "one run along the given schedule",
        })
    }
}

/// The page header of a timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The scenario's name.
    pub scenario: String,
    /// How the command line named it (a path or `builtin:NAME`).
    pub source: String,
    pub rules: String,
    pub release: String,
    /// Every rule switch and whether it is on.
    pub switches: Vec<(String, bool)>,
    pub verdict: String,
    pub run: RunKind,
    pub stop: String,
    pub schedule: String,
}

impl Header {
    /// The command that reproduces this execution.
    pub fn replay_command(&self) -> String {
        format!(
            "bridgesim replay {} --rules {} --schedule {}",
            self.source, self.rules, self.schedule
        )
    }
}

/// Everything the page draws for one execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub header: Header,
    /// Thread names, by [`Tid`].
    pub threads: Vec<String>,
    /// The interned call paths: `[parent, name]`, as `kmodel::trace::Trace::paths`.
    pub paths: Vec<(u32, String)>,
    /// Every object's description, by [`ObjId`].
    pub objects: Vec<String>,
    /// The access kinds `steps` and `accesses` index.
    pub kinds: Vec<AccessKind>,
    /// The steps, flattened: `tid, obj, kind, path` per step.
    pub steps: Vec<u32>,
    pub lifelines: Vec<Lifeline>,
    pub sections: Vec<Section>,
    pub violations: Vec<Mark>,
}

const KINDS: [AccessKind; 18] = [
    AccessKind::Read,
    AccessKind::Write,
    AccessKind::RefGet,
    AccessKind::RefPut,
    AccessKind::RefRead,
    AccessKind::ListWrite,
    AccessKind::ListRead,
    AccessKind::Lock,
    AccessKind::Unlock,
    AccessKind::SrcuRead,
    AccessKind::SrcuSync,
    AccessKind::SrcuWait,
    AccessKind::Spawn,
    AccessKind::Begin,
    AccessKind::Join,
    AccessKind::RefDec,
    AccessKind::RefGetDead,
    AccessKind::Free,
];

fn kind_index(k: AccessKind) -> u32 {
    KINDS.iter().position(|x| *x == k).unwrap_or(0) as u32
}

/// The index of `obj`'s lifeline, opened at `start` if it has none yet.
fn open_line(
    by_obj: &mut HashMap<u32, usize>,
    names: &[(&'static str, String)],
    obj: ObjId,
    start: u32,
    building: &mut Vec<Building>,
) -> usize {
    *by_obj.entry(obj.0).or_insert_with(|| {
        let (ty, label) = names
            .get(obj.index())
            .map_or(("", format!("object {obj}")), |(ty, n)| {
                (*ty, format!("{ty} {n}"))
            });
        building.push(Building {
            line: Lifeline {
                obj: obj.0,
                label,
                category: Category::Other,
                start,
                end: None,
                end_kind: None,
                counts: Vec::new(),
                refs: Vec::new(),
                accesses: Vec::new(),
            },
            refcounted: false,
            ty,
        });
        building.len() - 1
    })
}

/// A heap object's, device's or resource's lifeline under construction.
struct Building {
    line: Lifeline,
    refcounted: bool,
    ty: &'static str,
}

impl Timeline {
    /// Read a finished execution. The kernel must have recorded events
    /// (`Config::record_events`, the default).
    pub fn from_kernel(k: &Kernel, header: Header) -> Timeline {
        let trace = k.trace();
        let names = k.object_names();
        let steps = k.steps();
        let n_steps = steps.len() as u32;
        let describe = |o: ObjId| -> String {
            names
                .get(o.index())
                .map(|(ty, n)| format!("{ty} {n}"))
                .unwrap_or_else(|| format!("object {o}"))
        };

        // Threads: every tid that ran, spawned or reported.
        let mut n_threads = 1u32;
        for s in &steps {
            n_threads = n_threads.max(s.tid.0 + 1);
        }
        for e in &trace.events {
            if let Event::Spawn { child, .. } = e {
                n_threads = n_threads.max(child.0 + 1);
            }
        }
        let threads = (0..n_threads).map(|t| k.thread_name(Tid(t))).collect();

        let mut flat = Vec::with_capacity(steps.len() * 4);
        for (i, s) in steps.iter().enumerate() {
            let path = trace.step_paths.get(i).map_or(0, |p| p.0);
            flat.extend([s.tid.0, s.access.obj.0, kind_index(s.access.kind), path]);
        }

        // Lifelines, keyed by object.
        let mut building: Vec<Building> = Vec::new();
        let mut by_obj: HashMap<u32, usize> = HashMap::new();
        let mut open = |obj: ObjId, start: u32, building: &mut Vec<Building>| {
            open_line(&mut by_obj, &names, obj, start, building)
        };
        // The i-th `struct device` object is DeviceId(i): kmodel creates both together.
        let device_objs: Vec<ObjId> = names
            .iter()
            .enumerate()
            .filter(|(_, (ty, _))| *ty == "struct device")
            .map(|(i, _)| ObjId(i as u32))
            .collect();
        // A step on a kref is a step on its container: the ref event of that step names it.
        let mut container_of: HashMap<u32, u32> = HashMap::new();
        let mut sections: Vec<Section> = Vec::new();
        let mut srcu_open: HashMap<(u32, u32), usize> = HashMap::new();
        for e in &trace.events {
            match e {
                Event::Alloc { step, obj, .. } => {
                    open(*obj, *step, &mut building);
                }
                Event::Free { step, obj, .. } => {
                    let i = open(*obj, *step, &mut building);
                    let l = &mut building[i].line;
                    l.end.get_or_insert(*step);
                    l.end_kind.get_or_insert(EndKind::Kfree);
                }
                Event::RefInit {
                    step, obj, owner, ..
                } => {
                    let i = open(*obj, *step, &mut building);
                    let b = &mut building[i];
                    b.refcounted = true;
                    b.line.counts.push([*step, 1]);
                    b.line.refs.push(Band {
                        owner: owner.clone(),
                        from: *step,
                        to: None,
                    });
                }
                Event::RefGet {
                    step,
                    obj,
                    owner,
                    count,
                    ..
                }
                | Event::RefPut {
                    step,
                    obj,
                    owner,
                    count,
                    ..
                } => {
                    if let Some(s) = steps.get(*step as usize) {
                        container_of.insert(s.access.obj.0, obj.0);
                    }
                    let i = open(*obj, *step, &mut building);
                    let b = &mut building[i];
                    b.refcounted = true;
                    b.line.counts.push([*step, *count]);
                    if matches!(e, Event::RefGet { .. }) {
                        b.line.refs.push(Band {
                            owner: owner.clone(),
                            from: *step,
                            to: None,
                        });
                    } else if let Some(band) = b
                        .line
                        .refs
                        .iter_mut()
                        .find(|r| r.to.is_none() && r.owner == *owner)
                    {
                        band.to = Some(*step);
                    }
                }
                Event::Device {
                    step, dev, what, ..
                } => {
                    let Some(obj) = device_objs.get(dev.0 as usize) else {
                        continue;
                    };
                    match what {
                        DeviceEvent::Add => {
                            open(*obj, *step, &mut building);
                        }
                        DeviceEvent::Del => {
                            let i = open(*obj, *step, &mut building);
                            let l = &mut building[i].line;
                            l.end.get_or_insert(*step);
                            l.end_kind.get_or_insert(EndKind::DeviceDel);
                        }
                        _ => {}
                    }
                }
                Event::Lock {
                    step, tid, lock, ..
                } => sections.push(Section {
                    tid: tid.0,
                    kind: SectionKind::Mutex,
                    label: describe(*lock),
                    from: *step,
                    to: None,
                }),
                Event::Unlock {
                    step, tid, lock, ..
                } => {
                    let label = describe(*lock);
                    if let Some(s) = sections.iter_mut().rev().find(|s| {
                        s.kind == SectionKind::Mutex
                            && s.tid == tid.0
                            && s.to.is_none()
                            && s.label == label
                    }) {
                        s.to = Some(*step);
                    }
                }
                Event::SrcuReadLock {
                    step,
                    tid,
                    srcu,
                    idx,
                    ..
                } => {
                    srcu_open.insert((srcu.0, *idx), sections.len());
                    sections.push(Section {
                        tid: tid.0,
                        kind: SectionKind::SrcuRead,
                        label: describe(*srcu),
                        from: *step,
                        to: None,
                    });
                }
                Event::SrcuReadUnlock {
                    step, srcu, idx, ..
                } => {
                    if let Some(i) = srcu_open.remove(&(srcu.0, *idx)) {
                        sections[i].to = Some(*step);
                    }
                }
                _ => {}
            }
        }
        let violations = k.violations();
        // Resources (regulators) and objects a violation names start at their first use.
        for (i, s) in steps.iter().enumerate() {
            let obj = container_of
                .get(&s.access.obj.0)
                .copied()
                .unwrap_or(s.access.obj.0);
            let ty = names.get(obj as usize).map_or("", |(ty, _)| *ty);
            let named = violations.iter().any(|v| v.obj.map(|o| o.0) == Some(obj));
            if !by_obj.contains_key(&obj) && (ty == "struct regulator" || named) {
                open_line(&mut by_obj, &names, ObjId(obj), i as u32, &mut building);
            }
            if let Some(&b) = by_obj.get(&obj) {
                building[b]
                    .line
                    .accesses
                    .push([i as u32, s.tid.0, kind_index(s.access.kind)]);
            }
        }
        let named: Vec<u32> = violations
            .iter()
            .filter_map(|v| v.obj.map(|o| o.0))
            .collect();
        let mut lifelines: Vec<Lifeline> = building
            .into_iter()
            .filter_map(|mut b| {
                b.line.category = Category::of(b.ty, b.refcounted);
                (b.line.category != Category::Other || named.contains(&b.line.obj))
                    .then_some(b.line)
            })
            .collect();
        // The objects a violation names first, then by category and age.
        lifelines.sort_by_key(|l| (!named.contains(&l.obj), l.category, l.obj));

        let marks = violations
            .iter()
            .map(|v| {
                let lifeline = v
                    .obj
                    .and_then(|o| lifelines.iter().position(|l| l.obj == o.0));
                let holders = match (v.kind, lifeline) {
                    (ViolationKind::Leak, Some(i)) => lifelines[i]
                        .holders_at_end()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                    _ => Vec::new(),
                };
                let open_sections = if v.kind == ViolationKind::Deadlock {
                    (0..sections.len())
                        .filter(|i| sections[*i].to.is_none())
                        .collect()
                } else {
                    Vec::new()
                };
                Mark {
                    step: v.site.step.min(n_steps.saturating_sub(1)),
                    tid: v.site.tid.0,
                    path: v.site.path.0,
                    kind: v.kind,
                    message: v.message.clone(),
                    object: v.obj.map(describe),
                    lifeline,
                    access: v.access,
                    details: v.details.clone(),
                    holders,
                    open_sections,
                    report: k.render(v),
                }
            })
            .collect();
        Timeline {
            header,
            threads,
            paths: trace
                .paths
                .iter()
                .map(|p| (p.parent, p.name.to_string()))
                .collect(),
            objects: (0..names.len() as u32)
                .map(|i| describe(ObjId(i)))
                .collect(),
            kinds: KINDS.to_vec(),
            steps: flat,
            lifelines,
            sections,
            violations: marks,
        }
    }

    /// The number of steps.
    pub fn n_steps(&self) -> usize {
        self.steps.len() / 4
    }

    /// The function names of a path, outermost first.
    pub fn path_names(&self, path: u32) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = path as usize;
        while cur != 0 && cur < self.paths.len() {
            out.push(self.paths[cur].1.as_str());
            cur = self.paths[cur].0 as usize;
        }
        out.reverse();
        out
    }

    /// The call path of step `i`, outermost first.
    pub fn step_stack(&self, i: usize) -> Vec<&str> {
        self.steps
            .get(i * 4 + 3)
            .map_or_else(Vec::new, |p| self.path_names(*p))
    }
}

/// The header fields a timeline takes from its scenario and rules column.
pub fn header(
    p: &Prepared,
    source: &str,
    col: &RulesColumn,
    verdict: String,
    run: RunKind,
) -> Result<Header, String> {
    let base = p.rules(Some(col.release)).map_err(|e| e.to_string())?;
    let rules = col.rules(base);
    let switches = drm::Switch::ALL
        .iter()
        .map(|&sw| (sw.to_string(), rules.get(sw)))
        .collect();
    Ok(Header {
        scenario: p.scenario.file.name.clone(),
        source: source.to_string(),
        rules: col.label.clone(),
        release: col.release.to_string(),
        switches,
        verdict,
        run,
        stop: String::new(),
        schedule: String::new(),
    })
}

/// Run `p` under `col` (along `schedule`, or in thread order) to the end, with leak checking,
/// and read its timeline.
pub fn record(
    p: &Arc<Prepared>,
    source: &str,
    col: &RulesColumn,
    schedule: Option<&Schedule>,
    verdict: String,
    run: RunKind,
) -> Result<Timeline, String> {
    let mut header = header(p, source, col, verdict, run)?;
    let base = p.rules(Some(col.release)).map_err(|e| e.to_string())?;
    let rules = col.rules(base);
    let k = Kernel::new(kmodel::Config::default());
    let prog = p.program(rules);
    let stop = match schedule {
        Some(s) => k.run(&mut kmodel::Replay::new(s.clone()), move |k| prog(k)),
        None => k.run(&mut kmodel::ThreadOrder, move |k| prog(k)),
    };
    header.stop = stop_text(&stop);
    header.schedule = k.schedule().to_string();
    Ok(Timeline::from_kernel(&k, header))
}

/// How the run ended, in words.
pub fn stop_text(stop: &Stop) -> String {
    match stop {
        Stop::Finished => "every thread returned",
        Stop::Deadlock => "every live thread blocked (hang)",
        Stop::Violation => "stopped at the first violation",
        Stop::Scheduler => "the scheduler stopped",
        Stop::StepLimit => "the step limit was reached",
    }
    .to_string()
}
