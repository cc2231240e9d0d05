//! `linux/sched.h`: model threads, scheduling points and the [`Scheduler`] trait.
//!
//! # Overview
//!
//! - [`Kernel`]: one simulated kernel, i.e. one execution. All model code takes `&Kernel`.
//! - [`Tid`]: a model thread (scenario thread, IRQ handler, work item). Threads are stackful
//!   coroutines that all run on the calling OS thread, one at a time.
//! - [`Access`]: what the next step of a thread will do (an object and an [`AccessKind`]).
//!   Every operation on a shared object is a *scheduling point*: the thread declares the access,
//!   the [`Scheduler`] picks which enabled thread runs next, and the chosen thread performs its
//!   access and runs on until its next point. One step = one access plus the thread-local code
//!   that follows it.
//! - [`Scheduler`]: chooses among enabled threads. [`ThreadOrder`] (no preemption) and
//!   [`Replay`] (follow a recorded [`Schedule`]) live here; the explorer crate adds the rest.
//!
//! The runtime is deterministic: object ids, thread ids and step numbers are assigned in
//! execution order, so the same program under the same schedule gives the same trace.

use std::cell::{Cell, RefCell};
use std::fmt;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use serde::{Deserialize, Serialize};

use crate::trace::{Event, PathId, Trace};
use crate::{ObjKind, State};

/// A model thread.
///
/// # Invariants
///
/// Thread ids are dense and assigned in spawn order within one [`Kernel`]: `Tid(0)` is the
/// thread that runs the program's entry closure.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tid(pub u32);

impl Tid {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.0)
    }
}

/// A shared object: a heap object, a refcount, a lock, an SRCU domain, a list, a device's
/// state or a thread. Scheduling points name the object they touch by this id.
///
/// # Invariants
///
/// Ids are dense and assigned in creation order within one [`Kernel`], never reused.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjId(pub u32);

impl ObjId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ObjId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The kind of access a step makes to its object.
///
/// The explorer derives dependencies from these (see [`Access::dependent`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// A read of heap memory (a load through a handle).
    Read,
    /// A write of heap memory.
    Write,
    /// `kfree`. kmodel never branches on whether an object is freed (a freed object keeps
    /// its contents in quarantine and every access goes on with them), so a free changes no
    /// value any thread observes: only whether a later access is *reported* depends on its
    /// order. It therefore conflicts only with another free of the object (a double free:
    /// which thread reports it). An explorer that lets it commute with the other accesses
    /// must predict the use-after-frees a reordering would show (explore's `FreeRule`).
    Free,
    /// `kref_get`: commutes with other gets.
    RefGet,
    /// `kref_put`: may reach zero, so it commutes with nothing on the same refcount.
    RefPut,
    /// A `kref_put` chosen while the count was 3 or more: it cannot reach zero, nor can one
    /// other such put before or after it, so two of them commute (their order leaves the
    /// same count and the same holders). The scheduler classifies a pending put when it
    /// offers it (`State::effective_access`); the thread declared `RefPut`. The class of a
    /// pending put can change when another put runs first: a scheduler that remembers
    /// offered accesses (sleep sets) must compare them with the ones offered now.
    RefDec,
    /// A `kref_get` chosen while the count is 0 or saturated: it is reported (addition on
    /// 0) or ignored, and which of two such gets reports depends on their order, so it
    /// conflicts with every operation on the refcount. The scheduler classifies a pending
    /// get so when it offers it (`State::effective_access`); the thread declared `RefGet`.
    RefGetDead,
    /// `kref_read`: reads the count.
    RefRead,
    /// A change of a list (add, del, move).
    ListWrite,
    /// A read of a list (first/next during a walk).
    ListRead,
    /// `mutex_lock`: enabled only when the mutex is free.
    Lock,
    /// `mutex_unlock`.
    Unlock,
    /// `srcu_read_lock`/`srcu_read_unlock`: reader entries commute with each other.
    SrcuRead,
    /// `synchronize_srcu`, first half: snapshot the readers to wait for.
    SrcuSync,
    /// `synchronize_srcu`, second half: enabled once the snapshotted readers have left.
    SrcuWait,
    /// Spawning a thread (on the child's thread object).
    Spawn,
    /// A thread's first step (on its own thread object).
    Begin,
    /// Waiting for a thread to finish (on the child's thread object); enabled once it has.
    Join,
}

/// How an [`AccessKind`] conflicts with others on the same object.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// Conflicts with `Update` and `Write`.
    Read,
    /// A commutative update: conflicts with `Read` and `Write`, commutes with `Update`.
    Update,
    /// A decrement that cannot reach zero: commutes only with another `Decrement`.
    Decrement,
    /// Conflicts with everything but a `Free`.
    Write,
    /// A free: conflicts only with another free (see [`AccessKind::Free`]).
    Free,
    /// Lock acquisition: races only with other acquisitions of the same lock; see
    /// [`Access::dependent`].
    Acquire,
    /// Lock release: orders the next acquisition (a happens-before edge), never reversible.
    Release,
    /// A blocking wait: happens after what it waited for, never reversible with it.
    Wait,
    /// A thread's first step: independent of everything (ordered after its spawn).
    None,
}

impl AccessKind {
    pub fn class(self) -> Class {
        use AccessKind::*;
        match self {
            Read | ListRead | RefRead | SrcuSync => Class::Read,
            RefGet | SrcuRead => Class::Update,
            RefDec => Class::Decrement,
            Write | ListWrite | RefPut | RefGetDead | Spawn => Class::Write,
            Free => Class::Free,
            Lock => Class::Acquire,
            Unlock => Class::Release,
            SrcuWait | Join => Class::Wait,
            Begin => Class::None,
        }
    }
}

/// The part of an object a step touches: the whole object, or one field or sub-object of
/// it (`bridge->unplugged`, the driver's private part of a bridge container, a `list_head`
/// member). Two accesses to one object conflict only when their parts overlap: a part
/// overlaps itself and the whole object.
///
/// # Invariants
///
/// `Field(0)` is the whole object; named parts have bit 31 clear and are never 0; list
/// nodes have bit 31 set. An access tagged with a part touches only that part (a write
/// tagged `unplugged` changes nothing else, a read tagged with it reads nothing else): that
/// is what makes two accesses to different parts commute. A name collision only merges two
/// parts, which is sound.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Field(pub u32);

impl Field {
    /// The whole object.
    pub const WHOLE: Field = Field(0);

    /// The part named `name` (FNV-1a of the name; the same name is the same part in every
    /// object and every execution).
    pub const fn named(name: &str) -> Field {
        let b = name.as_bytes();
        let mut h: u32 = 0x811c_9dc5;
        let mut i = 0;
        while i < b.len() {
            h ^= b[i] as u32;
            h = h.wrapping_mul(0x0100_0193);
            i += 1;
        }
        let h = h & 0x7fff_ffff;
        Field(if h == 0 { 1 } else { h })
    }

    /// The `list_head` member with node index `i` (its `next`/`prev` pointers).
    pub(crate) fn list_node(i: u32) -> Field {
        Field(0x8000_0000 | (i & 0x7fff_ffff))
    }

    pub fn is_whole(&self) -> bool {
        self.0 == 0
    }

    /// Whether two parts of one object share memory.
    pub fn overlaps(self, other: Field) -> bool {
        self.is_whole() || other.is_whole() || self == other
    }
}

thread_local! {
    /// The names of the parts tagged on this OS thread, for statistics.
    static FIELD_NAMES: RefCell<Vec<(Field, &'static str)>> = const { RefCell::new(Vec::new()) };
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_whole() {
            return Ok(());
        }
        if self.0 & 0x8000_0000 != 0 {
            return write!(f, ".list_head#{}", self.0 & 0x7fff_ffff);
        }
        let name =
            FIELD_NAMES.with(|n| n.borrow().iter().find(|(g, _)| g == self).map(|(_, s)| *s));
        match name {
            Some(s) => write!(f, ".{s}"),
            None => write!(f, ".field#{:08x}", self.0),
        }
    }
}

/// Remember the name of a part (for [`Field`]'s Display).
pub(crate) fn field_named(name: &'static str) -> Field {
    let f = Field::named(name);
    FIELD_NAMES.with(|n| {
        let mut n = n.borrow_mut();
        if !n.iter().any(|(g, _)| *g == f) {
            n.push((f, name));
        }
    });
    f
}

/// How finely the explorer tells apart the memory that accesses touch.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Per field or sub-object ([`Field`]): accesses to disjoint parts commute.
    #[default]
    Field,
    /// Per whole object, ignoring [`Field`] tags (the explorer before field-granular
    /// accesses; kept to check the reduction against it).
    Object,
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Granularity::Field => "field",
            Granularity::Object => "object",
        })
    }
}

/// What a step does: the object it touches, which part of it, and how.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Access {
    pub obj: ObjId,
    pub kind: AccessKind,
    #[serde(default, skip_serializing_if = "Field::is_whole")]
    pub field: Field,
}

impl Access {
    pub fn new(obj: ObjId, kind: AccessKind) -> Self {
        Access {
            obj,
            kind,
            field: Field::WHOLE,
        }
    }

    /// An access to one part of the object.
    pub fn to_field(obj: ObjId, kind: AccessKind, field: Field) -> Self {
        Access { obj, kind, field }
    }

    /// [`Access::dependent`] at granularity `g`.
    pub fn dependent_at(&self, other: &Access, g: Granularity) -> bool {
        match g {
            Granularity::Field => self.dependent(other),
            Granularity::Object => self.dependent_objects(other),
        }
    }

    /// Whether two accesses conflict when only objects are told apart (fields ignored).
    /// Refcount decrements are puts there, as before they were told apart.
    pub fn dependent_objects(&self, other: &Access) -> bool {
        let whole = |a: &Access| {
            let kind = match a.kind {
                AccessKind::RefDec => AccessKind::RefPut,
                AccessKind::RefGetDead => AccessKind::RefGet,
                k => k,
            };
            Access::new(a.obj, kind)
        };
        whole(self).dependent(&whole(other))
    }

    /// Whether two accesses by different threads do not commute.
    ///
    /// Same object, overlapping parts ([`Field::overlaps`]), and: two frees; or at least one
    /// `Write` and no free; or a `Read` against an `Update`. A free commutes with every
    /// other access ([`AccessKind::Free`]). Two gets on a
    /// refcount commute (both add one and neither can reach zero); a put can reach zero and
    /// so does not commute with anything. Two SRCU reader entries commute, but a reader entry
    /// does not commute with the snapshot `synchronize_srcu` takes.
    ///
    /// Lock acquisitions conflict with each other. Releases and waits are ordering edges, not
    /// conflicts the explorer may reverse: a release enables the acquisition that follows it,
    /// so the two can never be swapped; the explorer reverses the two *acquisitions* instead.
    pub fn dependent(&self, other: &Access) -> bool {
        if self.obj != other.obj || !self.field.overlaps(other.field) {
            return false;
        }
        use Class::*;
        match (self.kind.class(), other.kind.class()) {
            (None, _) | (_, None) => false,
            (Acquire, Acquire) => true,
            (Acquire | Release | Wait, _) | (_, Acquire | Release | Wait) => false,
            (Free, Free) => true,
            (Free, _) | (_, Free) => false,
            (Decrement, Decrement) => false,
            (Decrement, _) | (_, Decrement) => true,
            (Write, _) | (_, Write) => true,
            (Read, Update) | (Update, Read) => true,
            (Read, Read) | (Update, Update) => false,
        }
    }
}

/// The state of a thread as a scheduler sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ThreadStatus {
    /// Its next access can run now.
    Enabled(Access),
    /// Its next access waits for another thread (a held mutex, SRCU readers, a join).
    Blocked(Access),
    /// It has returned.
    Done,
}

/// What a [`Scheduler`] sees at a scheduling point.
pub struct SchedView<'a> {
    /// Number of the step about to be chosen (0-based).
    pub step: u32,
    /// The thread that ran the previous step, if it is still alive.
    pub current: Option<Tid>,
    /// Every thread, indexed by [`Tid`].
    pub threads: &'a [ThreadStatus],
}

impl SchedView<'_> {
    /// The enabled threads, in thread order.
    pub fn enabled(&self) -> impl Iterator<Item = (Tid, Access)> + '_ {
        self.threads
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                ThreadStatus::Enabled(a) => Some((Tid(i as u32), *a)),
                _ => None,
            })
    }

    pub fn is_enabled(&self, t: Tid) -> bool {
        matches!(self.threads.get(t.index()), Some(ThreadStatus::Enabled(_)))
    }

    /// Whether choosing `t` here is a preemption: the current thread could have gone on.
    pub fn is_preemption(&self, t: Tid) -> bool {
        matches!(self.current, Some(c) if c != t && self.is_enabled(c))
    }
}

/// Chooses which enabled thread runs the next step.
pub trait Scheduler {
    /// Return an enabled thread of `view`. Returning `None` stops the execution early (a
    /// replay that ran out, a pruned branch); the run then reports [`Stop::Scheduler`].
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid>;
}

/// Run in thread order without preemption: keep running the current thread while it is
/// enabled, otherwise the lowest-numbered enabled thread.
#[derive(Default, Debug, Clone, Copy)]
pub struct ThreadOrder;

impl Scheduler for ThreadOrder {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        match view.current {
            Some(c) if view.is_enabled(c) => Some(c),
            _ => view.enabled().next().map(|(t, _)| t),
        }
    }
}

/// Preempt at every point: the next enabled thread after the current one, in thread order.
/// The opposite of [`ThreadOrder`]; useful to shake out races in a single run.
#[derive(Default, Debug, Clone, Copy)]
pub struct RoundRobin;

impl Scheduler for RoundRobin {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let start = view.current.map(|c| c.0 + 1).unwrap_or(0);
        let n = view.threads.len() as u32;
        (0..n)
            .map(|i| Tid((start + i) % n))
            .find(|&t| view.is_enabled(t))
    }
}

/// A recorded schedule: the thread chosen at every step where two or more were enabled.
///
/// Steps with a single enabled thread are not recorded, so a schedule is short: its length is
/// the number of real choices. The text form is a run-length list, `v1:0x5.1.0x2`, meaning
/// "thread 0 five times, thread 1 once, thread 0 twice".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schedule(pub Vec<Tid>);

impl Schedule {
    /// The longest schedule a string may spell: one choice per step, and no execution runs
    /// more steps than the default per-execution step limit ([`Config::max_steps`]).
    pub const MAX_LEN: usize = DEFAULT_MAX_STEPS as usize;
}

/// The default of [`Config::max_steps`].
pub const DEFAULT_MAX_STEPS: u32 = 1_000_000;

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v1:")?;
        let mut i = 0;
        let mut first = true;
        while i < self.0.len() {
            let t = self.0[i];
            let mut n = 1;
            while i + n < self.0.len() && self.0[i + n] == t {
                n += 1;
            }
            if !first {
                f.write_str(".")?;
            }
            first = false;
            if n == 1 {
                write!(f, "{}", t.0)?;
            } else {
                write!(f, "{}x{}", t.0, n)?;
            }
            i += n;
        }
        Ok(())
    }
}

/// Why a schedule string could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleParseError {
    /// Byte offset in the string.
    pub offset: usize,
    pub expected: &'static str,
}

impl fmt::Display for ScheduleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad schedule at column {}: expected {}",
            self.offset + 1,
            self.expected
        )
    }
}

impl std::error::Error for ScheduleParseError {}

impl std::str::FromStr for Schedule {
    type Err = ScheduleParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let body = s.strip_prefix("v1:").ok_or(ScheduleParseError {
            offset: 0,
            expected: "the prefix `v1:`",
        })?;
        let mut out = Vec::new();
        if body.is_empty() {
            return Ok(Schedule(out));
        }
        let mut offset = 3;
        for run in body.split('.') {
            let (t, n) = match run.split_once('x') {
                Some((t, n)) => (t, Some(n)),
                None => (run, None),
            };
            let tid: u32 = t.parse().map_err(|_| ScheduleParseError {
                offset,
                expected: "a thread number",
            })?;
            let count_at = offset + t.len() + 1;
            let count: usize = match n {
                Some(n) => n
                    .parse()
                    .ok()
                    .filter(|&c| c > 0)
                    .ok_or(ScheduleParseError {
                        offset: count_at,
                        expected: "a positive repeat count",
                    })?,
                None => 1,
            };
            // Checked before anything is allocated: `0x99999999999` must not reserve memory.
            if count > Schedule::MAX_LEN - out.len() {
                return Err(ScheduleParseError {
                    offset: if n.is_some() { count_at } else { offset },
                    expected: "at most 1000000 steps in all (the per-execution step limit, \
                               max_steps)",
                });
            }
            out.extend(std::iter::repeat_n(Tid(tid), count));
            offset += run.len() + 1;
        }
        Ok(Schedule(out))
    }
}

/// Follow a recorded [`Schedule`]; after it runs out, go on in [`ThreadOrder`].
///
/// A choice that names a thread which is not enabled makes the replay diverge; it is counted
/// in [`Replay::diverged`] and the run goes on in thread order, so a stale schedule still gives
/// a deterministic execution.
#[derive(Debug, Clone)]
pub struct Replay {
    schedule: Schedule,
    pos: usize,
    diverged: Option<u32>,
}

impl Replay {
    pub fn new(schedule: Schedule) -> Self {
        Replay {
            schedule,
            pos: 0,
            diverged: None,
        }
    }

    /// The first step at which the schedule named a thread that could not run.
    pub fn diverged(&self) -> Option<u32> {
        self.diverged
    }
}

impl Scheduler for Replay {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let mut enabled = view.enabled();
        let first = enabled.next()?.0;
        if enabled.next().is_none() {
            return Some(first);
        }
        if let Some(&t) = self.schedule.0.get(self.pos) {
            self.pos += 1;
            if view.is_enabled(t) && self.diverged.is_none() {
                return Some(t);
            }
            self.diverged.get_or_insert(view.step);
        }
        ThreadOrder.choose(view)
    }
}

/// One executed step, for explorers and the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub tid: Tid,
    pub access: Access,
    /// Number of threads that were enabled when this step was chosen.
    pub enabled: u32,
    /// Happens-before edges that are not conflicts: for a blocking access (`Lock`,
    /// `SrcuWait`, `Join`) the earlier steps it waited for (the last unlock, the readers'
    /// unlocks, the child's last step); for `Begin`, the step that spawned the thread.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_with: Vec<u32>,
    /// For a step on a refcount (`kref_get`, `kref_put`, `kref_read`): the count it saw and
    /// the reference's owner. An explorer that lets gets and puts commute needs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kref: Option<KrefStep>,
}

/// What a step on a refcount saw ([`StepRecord::kref`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KrefStep {
    /// The count before the step; 0 also for a saturated count (after an addition on 0 or
    /// an underflow the count never changes again).
    pub count: u32,
    /// A hash of the owner the get or put names, with its thread for a
    /// [`crate::kref::Owner::local`] one (0 for `kref_read`): a get and a put of one owner do
    /// not commute (the put of a reference not held is reported).
    pub owner: u64,
}

impl KrefStep {
    /// The owner key of a reference's owner name (FNV-1a, 64 bits).
    pub fn owner_key(name: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.as_bytes() {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// Why an execution ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Every thread returned.
    Finished,
    /// Every live thread is blocked; a deadlock violation was reported.
    Deadlock,
    /// A violation was reported and [`Config::stop_on_violation`] is set.
    Violation,
    /// The scheduler returned `None`.
    Scheduler,
    /// [`Config::max_steps`] was reached.
    StepLimit,
}

/// Knobs of one execution.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stop at the first violation instead of running on (the explorer's mode).
    pub stop_on_violation: bool,
    /// Report every heap object still alive at the end (kmemleak at quiescence).
    pub leak_check: bool,
    /// Give up after this many steps (a livelock guard).
    pub max_steps: u32,
    /// Record trace events (allocs, refs, locks, devices). Steps are always recorded.
    pub record_events: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stop_on_violation: false,
            leak_check: true,
            max_steps: DEFAULT_MAX_STEPS,
            record_events: true,
        }
    }
}

type Body = Box<dyn FnOnce(&Kernel)>;
type Co = Coroutine<(), (), (), DefaultStack>;

/// Why a blocked thread waits, beyond its access.
#[derive(Clone, Debug)]
pub(crate) enum WaitFor {
    Nothing,
    /// SRCU reader tokens that must leave their sections.
    SrcuReaders(Vec<u32>),
}

pub(crate) struct ThreadRec {
    pub name: String,
    pub obj: ObjId,
    pub pending: Option<Access>,
    /// The owner key of a pending `kref_get`/`kref_put` ([`KrefStep::owner`]).
    pub pending_owner: u64,
    pub wait: WaitFor,
    pub done: bool,
    pub last_step: Option<u32>,
    /// The step that spawned it (none for `init`).
    pub spawned_at: Option<u32>,
    pub yielder: Cell<*const Yielder<(), ()>>,
    /// Shadow call path (model function names), innermost last.
    pub path: PathId,
    pub body: Option<Body>,
}

/// Scheduling state inside [`State`].
pub(crate) struct SchedState {
    pub threads: Vec<ThreadRec>,
    pub current: Option<Tid>,
    pub handoff: Option<Tid>,
    pub steps: Vec<StepRecord>,
    pub status_buf: Vec<ThreadStatus>,
    pub stop: Option<Stop>,
}

impl SchedState {
    pub fn new() -> Self {
        SchedState {
            threads: Vec::new(),
            current: None,
            handoff: None,
            steps: Vec::new(),
            status_buf: Vec::new(),
            stop: None,
        }
    }
}

thread_local! {
    static STACKS: RefCell<Vec<DefaultStack>> = const { RefCell::new(Vec::new()) };
}

const STACK_SIZE: usize = 256 * 1024;

fn take_stack() -> DefaultStack {
    STACKS
        .with(|s| s.borrow_mut().pop())
        .unwrap_or_else(|| DefaultStack::new(STACK_SIZE).expect("cannot map a coroutine stack"))
}

fn give_stack(stack: DefaultStack) {
    STACKS.with(|s| s.borrow_mut().push(stack));
}

/// One simulated kernel: one execution of a model program.
///
/// Create it, [`Kernel::run`] it once with a scheduler, then read its trace, steps and
/// violations.
pub struct Kernel {
    pub(crate) st: RefCell<State>,
    globals: RefCell<Vec<(std::any::TypeId, Box<dyn std::any::Any>)>>,
    coroutines: RefCell<Vec<Option<Co>>>,
    sched: Cell<Option<*mut (dyn Scheduler + 'static)>>,
    pub(crate) config: Config,
}

impl Kernel {
    pub fn new(config: Config) -> Self {
        Kernel {
            st: RefCell::new(State::new(config.record_events)),
            globals: RefCell::new(Vec::new()),
            coroutines: RefCell::new(Vec::new()),
            sched: Cell::new(None),
            config,
        }
    }

    /// A kernel-wide static of a higher layer (`static LIST_HEAD(bridge_list)`,
    /// `DEFINE_STATIC_SRCU`...), created by `init` on first use. Handles are `Copy`, so the
    /// value is returned by copy. `init` must not itself ask for a global of the same type.
    pub fn global<T: Copy + 'static>(&self, init: impl FnOnce(&Kernel) -> T) -> T {
        let id = std::any::TypeId::of::<T>();
        if let Some((_, v)) = self.globals.borrow().iter().find(|(t, _)| *t == id) {
            return *v.downcast_ref::<T>().expect("global of the wrong type");
        }
        let v = init(self);
        self.globals.borrow_mut().push((id, Box::new(v)));
        v
    }

    /// Run `entry` as thread 0 (named `init`) and every thread it spawns until all finish,
    /// deadlock, or the scheduler stops. Call once per `Kernel`.
    ///
    /// A host panic (a bug in model code or in the scheduler) propagates to the caller after
    /// every unfinished thread has been unwound: no coroutine outlives this call.
    pub fn run(&self, sched: &mut dyn Scheduler, entry: impl FnOnce(&Kernel) + 'static) -> Stop {
        // SAFETY: the pointer is only dereferenced inside `decide`, called during this `run`
        // (from this frame or from coroutines that all finish or are unwound before it
        // returns, see `Teardown`), while `sched` is still mutably borrowed by this frame.
        // `Teardown` clears it on every exit, a panic included.
        let sched_ptr: *mut (dyn Scheduler + '_) = sched;
        let sched_ptr: *mut (dyn Scheduler + 'static) = unsafe { std::mem::transmute(sched_ptr) };
        self.sched.set(Some(sched_ptr));
        let teardown = Teardown(self);
        let obj = self.new_task_struct("init");
        self.spawn_thread("init", obj, Box::new(entry));
        loop {
            let next = {
                let h = self.st.borrow_mut().sched.handoff.take();
                match h {
                    Some(t) => Some(t),
                    None => self.decide(),
                }
            };
            let Some(t) = next else { break };
            self.resume(t);
        }
        drop(teardown);
        let stop = self
            .st
            .borrow()
            .sched
            .stop
            .clone()
            .unwrap_or(Stop::Finished);
        if stop == Stop::Finished && self.config.leak_check {
            self.leak_check();
        }
        stop
    }

    fn resume(&self, t: Tid) {
        let mut co = self.coroutines.borrow_mut()[t.index()]
            .take()
            .expect("thread has no coroutine");
        let r = co.resume(());
        match r {
            CoroutineResult::Yield(()) => {
                self.coroutines.borrow_mut()[t.index()] = Some(co);
            }
            CoroutineResult::Return(()) => {
                give_stack(co.into_stack());
                let mut st = self.st.borrow_mut();
                let th = &mut st.sched.threads[t.index()];
                th.done = true;
                th.pending = None;
                st.sched.current = None;
            }
        }
    }

    /// Unwind the coroutines of threads that never finished (deadlock, early stop, or a host
    /// panic on its way out of [`Kernel::run`]). Every coroutine is suspended, not started or
    /// finished here: the one that was running when a panic started has already left
    /// `resume` (corosensei caught the panic at its root and finished it).
    fn unwind_all(&self) {
        loop {
            // One at a time, without holding the borrow while a coroutine unwinds.
            let co = self
                .coroutines
                .borrow_mut()
                .iter_mut()
                .find_map(Option::take);
            let Some(mut co) = co else { break };
            co.force_unwind();
            give_stack(co.into_stack());
        }
    }

    /// Start a thread whose `task_struct` is `obj` (made by [`State::new_object`] with
    /// [`ObjKind::Thread`]).
    pub(crate) fn spawn_thread(&self, name: &str, obj: ObjId, body: Body) -> Tid {
        let tid = {
            let mut st = self.st.borrow_mut();
            let tid = Tid(st.sched.threads.len() as u32);
            let root = st.trace.root_path();
            let spawned_at = st
                .sched
                .current
                .and_then(|_| st.sched.steps.len().checked_sub(1))
                .map(|s| s as u32);
            st.sched.threads.push(ThreadRec {
                name: name.to_string(),
                obj,
                pending: Some(Access::new(obj, AccessKind::Begin)),
                pending_owner: 0,
                wait: WaitFor::Nothing,
                done: false,
                last_step: None,
                spawned_at,
                yielder: Cell::new(std::ptr::null()),
                path: root,
                body: Some(body),
            });
            tid
        };
        let kp: *const Kernel = self;
        let co = Co::with_stack(take_stack(), move |y: &Yielder<(), ()>, ()| {
            // SAFETY: coroutines never outlive `Kernel::run`, which holds `&self` (so the
            // kernel is neither moved nor dropped while this body runs).
            let k = unsafe { &*kp };
            let body = {
                let mut st = k.st.borrow_mut();
                let th = &mut st.sched.threads[tid.index()];
                th.yielder.set(y as *const _);
                th.body.take().expect("thread body taken twice")
            };
            body(k);
        });
        self.coroutines.borrow_mut().push(Some(co));
        tid
    }

    fn new_task_struct(&self, name: &str) -> ObjId {
        self.st
            .borrow_mut()
            .new_object("task_struct", name.to_string(), ObjKind::Thread)
    }

    /// Spawn a model thread (a scenario thread, an IRQ handler, a work item). A scheduling
    /// point of the spawning thread.
    pub fn spawn(&self, name: &str, body: impl FnOnce(&Kernel) + 'static) -> Tid {
        // The task_struct exists before the point, so the Spawn step names it whatever
        // other threads allocate while this one waits to run.
        let obj = self.new_task_struct(name);
        self.point(Access::new(obj, AccessKind::Spawn));
        let tid = self.spawn_thread(name, obj, Box::new(body));
        self.event(|step, t, path| Event::Spawn {
            step,
            tid: t,
            path,
            child: tid,
        });
        tid
    }

    /// Wait until thread `t` has returned.
    pub fn join(&self, t: Tid) {
        let obj = self.st.borrow().sched.threads[t.index()].obj;
        self.point(Access::new(obj, AccessKind::Join));
    }

    /// The thread running now. Panics outside a model thread.
    pub fn current(&self) -> Tid {
        self.st
            .borrow()
            .sched
            .current
            .expect("not inside a model thread")
    }

    /// The name a thread was spawned with.
    pub fn thread_name(&self, t: Tid) -> String {
        self.st.borrow().sched.threads[t.index()].name.clone()
    }

    /// The step being executed now (the one the current thread's last point started).
    pub fn step_no(&self) -> u32 {
        (self.st.borrow().sched.steps.len() as u32).saturating_sub(1)
    }

    /// Every executed step, in order.
    pub fn steps(&self) -> Vec<StepRecord> {
        self.st.borrow().sched.steps.clone()
    }

    /// Look at the executed steps without copying them.
    pub fn with_steps<R>(&self, f: impl FnOnce(&[StepRecord]) -> R) -> R {
        f(&self.st.borrow().sched.steps)
    }

    /// Whether any violation was reported.
    pub fn has_violations(&self) -> bool {
        !self.st.borrow().violations.is_empty()
    }

    /// The schedule that reproduces this execution under [`Replay`].
    pub fn schedule(&self) -> Schedule {
        Schedule(
            self.st
                .borrow()
                .sched
                .steps
                .iter()
                .filter(|s| s.enabled > 1)
                .map(|s| s.tid)
                .collect(),
        )
    }

    /// A scheduling point: declare the next access of the current thread, let the scheduler
    /// pick who runs, and return when the current thread may perform it.
    pub fn point(&self, access: Access) {
        self.point_wait(access, WaitFor::Nothing)
    }

    /// [`Kernel::point`] for a step on a refcount on behalf of `owner` (its
    /// [`KrefStep::owner_key`]; 0 for none).
    pub(crate) fn point_kref(&self, access: Access, owner: u64) {
        {
            let mut st = self.st.borrow_mut();
            if let Some(me) = st.sched.current {
                st.sched.threads[me.index()].pending_owner = owner;
            }
        }
        self.point(access)
    }

    /// [`Kernel::point`] for a blocking access that waits for `wait`.
    pub(crate) fn point_wait(&self, access: Access, wait: WaitFor) {
        let me = {
            let mut st = self.st.borrow_mut();
            let Some(me) = st.sched.current else {
                drop(st);
                panic!("scheduling point outside a model thread");
            };
            let th = &mut st.sched.threads[me.index()];
            th.pending = Some(access);
            th.wait = wait;
            me
        };
        let next = self.decide();
        if next == Some(me) {
            return;
        }
        let y = {
            let mut st = self.st.borrow_mut();
            st.sched.handoff = next;
            st.sched.threads[me.index()].yielder.get()
        };
        // SAFETY: the yielder pointer was set by this thread's coroutine body, which is
        // still running (we are inside it), so the `Yielder` it points to is alive.
        unsafe { (*y).suspend(()) };
    }

    /// Pick the next step: compute who is enabled, detect deadlock, ask the scheduler and
    /// record the step. Returns `None` when the execution is over.
    pub(crate) fn decide(&self) -> Option<Tid> {
        let mut st = self.st.borrow_mut();
        if st.sched.stop.is_some() {
            return None;
        }
        if self.config.stop_on_violation && !st.violations.is_empty() {
            st.sched.stop = Some(Stop::Violation);
            return None;
        }
        if st.sched.steps.len() as u32 >= self.config.max_steps {
            st.sched.stop = Some(Stop::StepLimit);
            return None;
        }
        let mut buf = std::mem::take(&mut st.sched.status_buf);
        buf.clear();
        let mut n_enabled = 0u32;
        let mut any_alive = false;
        for th in &st.sched.threads {
            let s = match th.pending {
                None => ThreadStatus::Done,
                Some(a) => {
                    any_alive = true;
                    let a = st.effective_access(a);
                    if st.is_enabled(th, a) {
                        n_enabled += 1;
                        ThreadStatus::Enabled(a)
                    } else {
                        ThreadStatus::Blocked(a)
                    }
                }
            };
            buf.push(s);
        }
        if n_enabled == 0 {
            st.sched.status_buf = buf;
            if any_alive {
                st.sched.stop = Some(Stop::Deadlock);
                drop(st);
                self.report_deadlock();
            } else {
                st.sched.stop = Some(Stop::Finished);
            }
            return None;
        }
        let current = st
            .sched
            .current
            .filter(|c| !st.sched.threads[c.index()].done);
        let step = st.sched.steps.len() as u32;
        let sched = self.sched.get().expect("no scheduler");
        drop(st);
        let view = SchedView {
            step,
            current,
            threads: &buf,
        };
        // SAFETY: see `run`; the scheduler is borrowed for the whole run and no other
        // reference to it is live while `choose` runs.
        let choice = unsafe { (*sched).choose(&view) };
        let mut st = self.st.borrow_mut();
        let choice = match choice {
            Some(t) if view.is_enabled(t) => t,
            Some(t) => panic!("scheduler chose {t}, which is not enabled"),
            None => {
                st.sched.status_buf = buf;
                st.sched.stop = Some(Stop::Scheduler);
                return None;
            }
        };
        let access = match buf[choice.index()] {
            ThreadStatus::Enabled(a) => a,
            _ => unreachable!(),
        };
        st.sched.status_buf = buf;
        let sync_with = st.sync_with(choice, access);
        let kref = st.kref_step(access).map(|count| KrefStep {
            count,
            owner: st.sched.threads[choice.index()].pending_owner,
        });
        let step_no = st.sched.steps.len() as u32;
        st.sched.steps.push(StepRecord {
            tid: choice,
            access,
            enabled: n_enabled,
            sync_with,
            kref,
        });
        st.sched.current = Some(choice);
        if st.trace.recording {
            let path = st.sched.threads[choice.index()].path;
            st.trace.step_paths.push(path);
        }
        let th = &mut st.sched.threads[choice.index()];
        th.pending = None;
        th.last_step = Some(step_no);
        Some(choice)
    }

    /// Append a trace event built from the current step, thread and call path.
    pub(crate) fn event(&self, f: impl FnOnce(u32, Tid, PathId) -> Event) {
        let mut st = self.st.borrow_mut();
        if !st.trace.recording {
            return;
        }
        let (step, tid, path) = st.here();
        let e = f(step, tid, path);
        st.trace.events.push(e);
    }

    /// Record a higher layer's own event ("drm_bridge_add", "drm_bridge_unplug") about `obj`.
    /// Not a scheduling point.
    pub fn model_event(&self, obj: Option<ObjId>, what: impl Into<String>) {
        let what = what.into();
        self.event(|step, tid, path| Event::Model {
            step,
            tid,
            path,
            obj,
            what,
        });
    }

    /// A copy of the trace recorded so far.
    pub fn trace(&self) -> Trace {
        self.st.borrow().trace.clone()
    }
}

/// A guard that pushes a model function name on the current thread's shadow call path and
/// pops it when dropped. Use it through [`Kernel::func`].
pub struct FuncGuard<'k> {
    k: &'k Kernel,
    tid: Option<Tid>,
}

impl Kernel {
    /// Enter model function `name`: reports show it in call paths until the guard drops.
    pub fn func(&self, name: &'static str) -> FuncGuard<'_> {
        let mut st = self.st.borrow_mut();
        let tid = st.sched.current;
        if let Some(t) = tid {
            let parent = st.sched.threads[t.index()].path;
            let p = st.trace.child_path(parent, name);
            st.sched.threads[t.index()].path = p;
        }
        FuncGuard { k: self, tid }
    }
}

impl Drop for FuncGuard<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.tid {
            // Only touches the shadow path: never a scheduling point, so it is safe while a
            // coroutine unwinds. A guard lives on its thread's coroutine stack, which
            // `Teardown` unwinds inside `Kernel::run`, so the kernel is alive here; it still
            // neither panics nor waits (a borrowed state or a missing thread skips the pop).
            if let Ok(mut st) = self.k.st.try_borrow_mut() {
                let st = &mut *st;
                if let Some(th) = st.sched.threads.get_mut(t.index()) {
                    th.path = st.trace.parent_path(th.path);
                }
            }
        }
    }
}

/// The owner of a run's coroutines: dropped at the end of [`Kernel::run`], normally or while
/// a host panic unwinds through it. It forgets the scheduler (whose borrow ends with `run`),
/// then unwinds every unfinished coroutine while the kernel they point to is still alive, so
/// no coroutine, and no [`FuncGuard`] on a coroutine stack, outlives the run.
struct Teardown<'k>(&'k Kernel);

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        // A scheduling point during unwinding is a host bug; without a scheduler it panics
        // ("no scheduler") instead of calling a scheduler whose borrow has ended.
        self.0.sched.set(None);
        self.0.unwind_all();
    }
}

impl State {
    /// The current step, thread and call path; step and thread are 0 outside a thread.
    pub(crate) fn here(&self) -> (u32, Tid, PathId) {
        let step = (self.sched.steps.len() as u32).saturating_sub(1);
        match self.sched.current {
            Some(t) => (step, t, self.sched.threads[t.index()].path),
            None => (step, Tid(0), self.trace.root_path()),
        }
    }

    fn is_enabled(&self, th: &ThreadRec, a: Access) -> bool {
        match a.kind {
            AccessKind::Lock => self.mutex_can_lock(a.obj, th),
            AccessKind::SrcuWait => match &th.wait {
                WaitFor::SrcuReaders(tokens) => self.srcu_readers_gone(a.obj, tokens),
                WaitFor::Nothing => true,
            },
            AccessKind::Join => self.sched.threads.iter().any(|t| t.obj == a.obj && t.done),
            _ => true,
        }
    }

    fn sync_with(&self, t: Tid, a: Access) -> Vec<u32> {
        match a.kind {
            AccessKind::Lock => self.mutex_last_unlock(a.obj).into_iter().collect(),
            AccessKind::SrcuWait => match &self.sched.threads[t.index()].wait {
                WaitFor::SrcuReaders(tokens) => self.srcu_unlock_steps(a.obj, tokens),
                WaitFor::Nothing => Vec::new(),
            },
            AccessKind::Join => self
                .sched
                .threads
                .iter()
                .filter(|c| c.obj == a.obj)
                .filter_map(|c| c.last_step)
                .collect(),
            AccessKind::Begin => self.sched.threads[t.index()]
                .spawned_at
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }
}
