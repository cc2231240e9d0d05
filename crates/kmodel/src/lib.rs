//! The simulated kernel runtime of bridgesim. It knows nothing about DRM.
//!
//! # Overview
//!
//! - [`sched`]: [`Kernel`] (one execution), model threads as coroutines, scheduling points,
//!   the [`Scheduler`] trait with [`ThreadOrder`] and [`Replay`].
//! - [`slab`]: the object heap; [`Obj`] is a typed, copyable, checked handle that can dangle.
//! - [`kref`]: reference counts whose every reference names its owner.
//! - [`mutex`], [`srcu`], [`lockdep`]: sleeping locks, SRCU and lock-order tracking.
//! - [`list`]: `list_head` lists with list-debugging checks.
//! - [`device`], [`devres`]: buses, devices, drivers, probe deferral, device-managed actions.
//! - [`hw`]: device resources (regulator, GPIO, I2C, IRQ) revoked at unbind or unplug.
//! - [`trace`], [`report`]: the event log and kernel-style reports of violations.
//! - [`of`]: the device tree, the OF graph and overlay changesets.
//! - [`of_platform`]: the live tree inside the kernel; devices created from it and by overlays.
//!
//! Model code is ordinary Rust that takes `&Kernel`. Every operation on a shared object is a
//! scheduling point, so the explorer can interleave threads at exactly those points.

pub mod device;
pub mod devres;
pub mod errno;
pub mod hw;
pub mod interrupt;
pub mod kref;
pub mod list;
pub mod lockdep;
pub mod mutex;
pub mod of;
pub mod of_platform;
pub mod report;
pub mod sched;
pub mod slab;
pub mod srcu;
pub mod trace;

pub use errno::Errno;
pub use report::{leak_count, leak_message, UnknownViolationKind, Violation, ViolationKind};
pub use sched::{
    Access, AccessKind, Config, Field, Granularity, Kernel, KrefStep, ObjId, Replay, RoundRobin,
    SchedView, Schedule, Scheduler, StepRecord, Stop, ThreadOrder, ThreadStatus, Tid,
    DEFAULT_MAX_STEPS,
};
pub use slab::Obj;

/// What a shared object is, for the scheduler and for reports.
pub(crate) enum ObjKind {
    Thread,
    Heap(slab::Slot),
    Kref(kref::KrefRec),
    Mutex(mutex::MutexRec),
    Srcu(srcu::SrcuRec),
    List(list::ListRec),
    Device,
    Devres,
    Hw(hw::HwRec),
}

/// One entry of the object table.
pub(crate) struct ObjRec {
    /// The C type it stands for ("struct drm_bridge", "struct mutex").
    pub ty: &'static str,
    /// Its instance name ("sn65dsi84@2c", "bridge_lock").
    pub name: String,
    pub kind: ObjKind,
}

/// The key of the `rank`-th object made by the thread whose task_struct has key `creator`
/// (a SplitMix64 step over both: distinct inputs collide with probability about 2^-64).
fn object_key(creator: u64, rank: u32) -> u64 {
    let mut z = creator
        .rotate_left(17)
        .wrapping_add(rank as u64)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// All mutable state of one [`Kernel`].
pub(crate) struct State {
    pub sched: sched::SchedState,
    pub trace: trace::Trace,
    pub violations: Vec<Violation>,
    pub objects: Vec<ObjRec>,
    /// Per object, [`Kernel::object_key`]; per thread, the objects it created so far.
    pub object_keys: Vec<u64>,
    created_by: Vec<u32>,
    pub lockdep: lockdep::Lockdep,
    pub list_nodes: Vec<list::NodeRec>,
    pub devices: device::DeviceModel,
    pub live_tree: Option<of::DeviceTree>,
    pub gen: u32,
}

impl State {
    fn new(record_events: bool) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static GEN: AtomicU32 = AtomicU32::new(1);
        State {
            sched: sched::SchedState::new(),
            trace: trace::Trace::new(record_events),
            violations: Vec::new(),
            objects: Vec::new(),
            object_keys: Vec::new(),
            created_by: Vec::new(),
            lockdep: lockdep::Lockdep::default(),
            list_nodes: Vec::new(),
            devices: device::DeviceModel::default(),
            live_tree: None,
            gen: GEN.fetch_add(1, Ordering::Relaxed),
        }
    }

    pub(crate) fn new_object(&mut self, ty: &'static str, name: String, kind: ObjKind) -> ObjId {
        let id = ObjId(self.objects.len() as u32);
        self.objects.push(ObjRec { ty, name, kind });
        // The creating thread by its own task_struct's key, so keys stay stable however
        // concurrent spawns number the threads. Objects made outside any model thread
        // (init's task_struct) have creator key 0.
        let t = self.sched.current.map_or(0, |t| t.index());
        let creator = self.sched.current.map_or(0, |t| {
            self.object_keys[self.sched.threads[t.index()].obj.index()]
        });
        if self.created_by.len() <= t {
            self.created_by.resize(t + 1, 0);
        }
        self.object_keys
            .push(object_key(creator, self.created_by[t]));
        self.created_by[t] += 1;
        id
    }

    pub(crate) fn obj(&self, id: ObjId) -> &ObjRec {
        &self.objects[id.index()]
    }

    pub(crate) fn obj_mut(&mut self, id: ObjId) -> &mut ObjRec {
        &mut self.objects[id.index()]
    }
}

impl Kernel {
    /// The C type and instance name of an object, for messages.
    pub fn describe(&self, id: ObjId) -> String {
        let st = self.st.borrow();
        match st.objects.get(id.index()) {
            Some(o) => format!("{} {}", o.ty, o.name),
            None => format!("object {id}"),
        }
    }

    /// Every object's C type and instance name, indexed by [`ObjId`] (for renderers that lay
    /// out every object of a run, such as the HTML timeline).
    pub fn object_names(&self) -> Vec<(&'static str, String)> {
        let st = self.st.borrow();
        st.objects.iter().map(|o| (o.ty, o.name.clone())).collect()
    }

    /// Every object's identity that does not depend on the interleaving, indexed by
    /// [`ObjId`]: a hash of its creating thread (by that thread's task_struct key, so
    /// recursively stable) and its rank among that thread's objects. [`ObjId`]s and
    /// [`Tid`]s are handed out in execution order, so two interleavings of one Mazurkiewicz
    /// trace can number an object or a thread differently, but never key it differently.
    pub fn with_object_keys<R>(&self, f: impl FnOnce(&[u64]) -> R) -> R {
        f(&self.st.borrow().object_keys)
    }
}
