//! The structured event log of one execution.
//!
//! Events carry the step, the thread and the model call path they happened on, so a report
//! can show "Allocated by thread T1 at step 4: probe → devm_drm_bridge_alloc". Plain heap
//! reads and writes are not events (they are only steps); everything with a lifetime meaning
//! is: allocations, frees, reference gets and puts, lock operations, device events and
//! violations.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::device::DeviceId;
use crate::report::ViolationKind;
use crate::sched::{ObjId, Tid};

/// A model call path, interned in [`Trace::paths`].
///
/// # Invariants
///
/// `PathId(0)` is the empty path; every other id names a node whose parent has a smaller id.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PathId(pub u32);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathNode {
    pub parent: u32,
    pub name: Cow<'static, str>,
}

/// What happened to a device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "what")]
pub enum DeviceEvent {
    Add,
    Probe { driver: String },
    Bound { driver: String },
    ProbeFailed { driver: String, errno: i32 },
    Deferred { driver: String },
    Remove { driver: String },
    Unbound,
    DevresRun { action: String },
    Del,
}

/// One event of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    Alloc {
        step: u32,
        tid: Tid,
        path: PathId,
        obj: ObjId,
        ty: String,
        name: String,
    },
    Free {
        step: u32,
        tid: Tid,
        path: PathId,
        obj: ObjId,
    },
    RefInit {
        step: u32,
        tid: Tid,
        path: PathId,
        obj: ObjId,
        owner: String,
    },
    RefGet {
        step: u32,
        tid: Tid,
        path: PathId,
        obj: ObjId,
        owner: String,
        count: u32,
    },
    RefPut {
        step: u32,
        tid: Tid,
        path: PathId,
        obj: ObjId,
        owner: String,
        count: u32,
    },
    Lock {
        step: u32,
        tid: Tid,
        path: PathId,
        lock: ObjId,
    },
    Unlock {
        step: u32,
        tid: Tid,
        path: PathId,
        lock: ObjId,
    },
    SrcuReadLock {
        step: u32,
        tid: Tid,
        path: PathId,
        srcu: ObjId,
        idx: u32,
    },
    SrcuReadUnlock {
        step: u32,
        tid: Tid,
        path: PathId,
        srcu: ObjId,
        idx: u32,
    },
    Synchronize {
        step: u32,
        tid: Tid,
        path: PathId,
        srcu: ObjId,
        waits_for: Vec<u32>,
    },
    Spawn {
        step: u32,
        tid: Tid,
        path: PathId,
        child: Tid,
    },
    Device {
        step: u32,
        tid: Tid,
        path: PathId,
        dev: DeviceId,
        #[serde(flatten)]
        what: DeviceEvent,
    },
    /// A higher layer's own event ("drm_bridge_add", "drm_bridge_unplug"...), about `obj`.
    Model {
        step: u32,
        tid: Tid,
        path: PathId,
        obj: Option<ObjId>,
        what: String,
    },
    Violation {
        step: u32,
        tid: Tid,
        path: PathId,
        kind: ViolationKind,
        index: usize,
    },
}

impl Event {
    /// The step the event happened in.
    pub fn step(&self) -> u32 {
        use Event::*;
        match self {
            Alloc { step, .. }
            | Free { step, .. }
            | RefInit { step, .. }
            | RefGet { step, .. }
            | RefPut { step, .. }
            | Lock { step, .. }
            | Unlock { step, .. }
            | SrcuReadLock { step, .. }
            | SrcuReadUnlock { step, .. }
            | Synchronize { step, .. }
            | Spawn { step, .. }
            | Device { step, .. }
            | Model { step, .. }
            | Violation { step, .. } => *step,
        }
    }
}

/// The event log with its interned call paths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub paths: Vec<PathNode>,
    pub events: Vec<Event>,
    /// The call path of each step's thread when the step was chosen (the stack the step's
    /// access is made from), indexed by step. Recorded with the events; not part of
    /// [`Trace::to_json_lines`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_paths: Vec<PathId>,
    #[serde(skip)]
    pub(crate) recording: bool,
    #[serde(skip)]
    children: HashMap<(u32, &'static str), u32>,
}

impl Trace {
    pub(crate) fn new(recording: bool) -> Self {
        Trace {
            paths: vec![PathNode {
                parent: 0,
                name: Cow::Borrowed(""),
            }],
            events: Vec::new(),
            step_paths: Vec::new(),
            recording,
            children: HashMap::new(),
        }
    }

    pub(crate) fn root_path(&self) -> PathId {
        PathId(0)
    }

    pub(crate) fn child_path(&mut self, parent: PathId, name: &'static str) -> PathId {
        let next = self.paths.len() as u32;
        let id = *self.children.entry((parent.0, name)).or_insert(next);
        if id == next {
            self.paths.push(PathNode {
                parent: parent.0,
                name: Cow::Borrowed(name),
            });
        }
        PathId(id)
    }

    pub(crate) fn parent_path(&self, p: PathId) -> PathId {
        PathId(self.paths[p.0 as usize].parent)
    }

    /// The function names of a path, outermost first.
    pub fn path_names(&self, p: PathId) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = p.0;
        while cur != 0 {
            let n = &self.paths[cur as usize];
            out.push(n.name.as_ref());
            cur = n.parent;
        }
        out.reverse();
        out
    }

    /// The innermost function of a path, or `"<thread>"` at top level.
    pub fn innermost(&self, p: PathId) -> &str {
        if p.0 == 0 {
            "<thread>"
        } else {
            self.paths[p.0 as usize].name.as_ref()
        }
    }

    /// The log as JSON lines: one event per line, after one line holding the paths.
    pub fn to_json_lines(&self) -> String {
        let mut out = serde_json_line(&self.paths);
        for e in &self.events {
            out.push_str(&serde_json_line(e));
        }
        out
    }
}

fn serde_json_line<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string(v).expect("trace events always serialize");
    s.push('\n');
    s
}
