//! Happens-before by vector clocks, races for source-set DPOR, and the canonical form of a
//! Mazurkiewicz trace.
//!
//! Happens-before (Abdulla et al., POPL 2014, §3) is the transitive closure of: program order;
//! every pair of dependent steps of different threads, in execution order
//! ([`Access::dependent`], used exactly as kmodel defines it); and the `sync_with` edges the
//! runtime records (unlock → next lock, readers' unlocks → `synchronize_srcu`, child's last
//! step → join, spawn → the child's first step).

use crate::options::{FreeRule, KrefRule};
use crate::thread_set::ThreadSet;
use kmodel::{Access, AccessKind, Granularity, StepRecord};

/// Reusable buffers for the analysis of one execution.
///
/// # Invariants
///
/// After [`Hb::analyze`] on `steps`, `clock(j)` is the vector clock of step `j` (entry `t` =
/// number of steps of thread `t` that happen before or are `j`) and `local[j]` is `j`'s
/// 1-based position in its thread. Buffers are reused across executions so a long search
/// allocates nothing per execution once warm.
#[derive(Default)]
pub(crate) struct Hb {
    pub nthreads: usize,
    clocks: Vec<u32>,
    pub local: Vec<u32>,
    last_of_thread: Vec<Option<usize>>,
    by_obj: Vec<Vec<u32>>,
    cand: Vec<usize>,
    pre: Vec<u32>,
    found: Vec<Race>,
    members: Vec<usize>,
    /// Under [`KrefRule::Release`], what each refcount step did (`None` for other steps).
    kops: Vec<Option<KrefOp>>,
    /// Under [`KrefRule::Release`], the *support* clocks: happens-before through program
    /// order, `sync_with` edges and conflicts on memory, leaving out every refcount
    /// conflict ([`Hb::kref_op`] says why), and the pre-clock of the current step.
    sclocks: Vec<u32>,
    spre: Vec<u32>,
    /// Which steps depend on which.
    pub relation: Relation,
}

/// A race found in an execution: step `i` (earlier) against step `j`, and the threads that are
/// initials of `v = notdep(i) · j` (a bitset by thread id).
pub(crate) struct Race {
    pub i: usize,
    pub initials: ThreadSet,
}

impl Hb {
    pub fn clock(&self, j: usize) -> &[u32] {
        &self.clocks[j * self.nthreads..(j + 1) * self.nthreads]
    }

    /// The steps on object `obj` in the last analysed execution, in order.
    pub(crate) fn steps_on(&self, obj: kmodel::ObjId) -> &[u32] {
        self.by_obj.get(obj.index()).map_or(&[], |v| v.as_slice())
    }

    /// Whether step `a` happens before (or is) step `b`.
    pub(crate) fn hb(&self, steps: &[StepRecord], a: usize, b: usize) -> bool {
        self.clock(b)[steps[a].tid.index()] >= self.local[a]
    }

    /// Compute clocks for `steps`; call `on_race` for each race (j, races of j) in execution
    /// order when `races` is set.
    ///
    /// Steps before `from` are taken to be those of the previous call (a stateless search
    /// replays the same prefix): their clocks are kept and their races, already reported
    /// then, are not reported again. `from = 0` analyses everything.
    pub fn analyze(
        &mut self,
        steps: &[StepRecord],
        from: usize,
        races: bool,
        mut on_race: impl FnMut(usize, &[Race]),
    ) {
        let n = steps.len();
        let needed = steps.iter().map(|s| s.tid.index() + 1).max().unwrap_or(1);
        let mut from = from.min(self.local.len()).min(n);
        if from == 0 || needed > self.nthreads {
            from = 0;
            self.nthreads = needed;
        }
        let nt = self.nthreads;
        self.clocks.truncate(from * nt);
        self.clocks.resize(n * nt, 0);
        let support = self.relation.observes_kref();
        if support {
            self.sclocks.truncate(from * nt);
            self.sclocks.resize(n * nt, 0);
        }
        self.local.truncate(from);
        self.last_of_thread.clear();
        self.last_of_thread.resize(nt, None);
        for (j, s) in steps[..from].iter().enumerate() {
            self.last_of_thread[s.tid.index()] = Some(j);
        }
        for v in &mut self.by_obj {
            while v.last().is_some_and(|&x| x as usize >= from) {
                v.pop();
            }
        }
        let mut found = std::mem::take(&mut self.found);
        let mut members = std::mem::take(&mut self.members);
        for j in from..n {
            let s = &steps[j];
            let t = s.tid.index();
            // Pre-clock: program order, plus sync edges except for a lock (see below).
            self.pre.clear();
            match self.last_of_thread[t] {
                Some(p) => {
                    let c = &self.clocks[p * nt..(p + 1) * nt];
                    self.pre.extend_from_slice(c);
                }
                None => self.pre.resize(nt, 0),
            }
            let lc = self.pre[t] + 1;
            self.local.push(lc);
            self.pre[t] = lc;
            // A lock's sync edge (the previous unlock) is joined only after race detection:
            // two acquisitions of one mutex race with each other, and the unlock→lock edge is
            // the one edge DPOR must not treat as an order (it cannot be reversed, the
            // acquisitions can).
            let is_lock = s.access.kind == AccessKind::Lock;
            if !is_lock {
                for &w in &s.sync_with {
                    let w = w as usize;
                    for k in 0..nt {
                        self.pre[k] = self.pre[k].max(self.clocks[w * nt + k]);
                    }
                }
            }
            // Earlier dependent steps of other threads not already ordered before j.
            let obj = s.access.obj.index();
            if self.by_obj.len() <= obj {
                self.by_obj.resize_with(obj + 1, Vec::new);
            }
            self.cand.clear();
            let rel = self.relation;
            if support {
                self.spre.clear();
                match self.last_of_thread[t] {
                    Some(p) => self
                        .spre
                        .extend_from_slice(&self.sclocks[p * nt..(p + 1) * nt]),
                    None => self.spre.resize(nt, 0),
                }
                self.spre[t] = lc;
                for &w in &s.sync_with {
                    let w = w as usize;
                    for k in 0..nt {
                        self.spre[k] = self.spre[k].max(self.sclocks[w * nt + k]);
                    }
                }
            }
            let op = if support {
                self.kref_op(steps, j)
            } else {
                None
            };
            if self.kops.len() <= j {
                self.kops.resize(j + 1, None);
            }
            self.kops[j] = op;
            for &i in &self.by_obj[obj] {
                let i = i as usize;
                let si = &steps[i];
                if si.tid == s.tid || self.pre[si.tid.index()] >= self.local[i] {
                    continue;
                }
                let dep = match (self.kops[i], op) {
                    (Some(a), Some(b)) => KrefOp::dependent(a, b),
                    _ => rel.access_dependent(&si.access, &s.access),
                };
                if dep {
                    self.cand.push(i);
                }
            }
            if support {
                // A memory conflict orders support clocks too, also one already ordered
                // through a refcount conflict.
                if op.is_none() {
                    for &i in &self.by_obj[obj] {
                        let i = i as usize;
                        let si = &steps[i];
                        if si.tid != s.tid && rel.access_dependent(&si.access, &s.access) {
                            for k in 0..nt {
                                self.spre[k] = self.spre[k].max(self.sclocks[i * nt + k]);
                            }
                        }
                    }
                }
                self.sclocks[j * nt..(j + 1) * nt].copy_from_slice(&self.spre);
            }
            // The races are the hb-maximal candidates (Abdulla et al. Def. 3.3: e' ⋖ e only
            // when no e'' lies between them in happens-before).
            found.clear();
            if races {
                for (a, &i) in self.cand.iter().enumerate() {
                    let ti = steps[i].tid.index();
                    let covered = self.cand[a + 1..]
                        .iter()
                        .any(|&i2| self.clocks[i2 * nt + ti] >= self.local[i]);
                    if !covered {
                        found.push(Race {
                            i,
                            initials: ThreadSet::default(),
                        });
                    }
                }
            }
            // Clock of j before its lock sync edge.
            for &i in &self.cand {
                for k in 0..nt {
                    self.pre[k] = self.pre[k].max(self.clocks[i * nt + k]);
                }
            }
            self.clocks[j * nt..(j + 1) * nt].copy_from_slice(&self.pre);
            if !found.is_empty() {
                for r in &mut found {
                    r.initials = self.initials(steps, r.i, j, &mut members);
                }
                on_race(j, &found);
            }
            if is_lock {
                for &w in &s.sync_with {
                    let w = w as usize;
                    for k in 0..nt {
                        self.clocks[j * nt + k] =
                            self.clocks[j * nt + k].max(self.clocks[w * nt + k]);
                    }
                }
            }
            self.last_of_thread[t] = Some(j);
            self.by_obj[obj].push(j as u32);
        }
        self.found = found;
        self.members = members;
    }

    /// What step `j` did to its refcount ([`KrefRule::Release`]), with `pre` its clock
    /// before its conflicts are joined; `None` if it is no refcount step.
    ///
    /// A put that does not release is *safe* when it could not release in any order that
    /// keeps its happens-before predecessors: let `m` be its count minus the gets of other
    /// threads before it that do not happen before it (each could move after it). Puts
    /// are ordered among themselves, so `m = init + (gets that happen before it) - (puts
    /// before it)` is the least count it sees in any such order, and the same in every
    /// one. A safe put (`m >= 2`) commutes with the gets of other threads; an unsafe one
    /// depends on all of them, before and after it. Only the predecessors *not* through
    /// the put's own refcount conflicts count: a get of the same owner, ordered with the put
    /// for that reason, must not make it safe, or DPOR misses the order where the put
    /// comes first (`tests/kref_oracle.rs`, `a_get_of_the_same_owner_does_not_make_a_put_safe`).
    fn kref_op(&self, steps: &[StepRecord], j: usize) -> Option<KrefOp> {
        let s = &steps[j];
        let (kind, count, owner) = KrefKind::of(s)?;
        if kind != KrefKind::Dec {
            return Some(KrefOp { kind, owner });
        }
        let mut free = 0u32;
        for &i in &self.by_obj[s.access.obj.index()] {
            let si = &steps[i as usize];
            if si.tid != s.tid
                && si.access.kind == AccessKind::RefGet
                && self.spre[si.tid.index()] < self.local[i as usize]
            {
                free += 1;
            }
        }
        let kind = match count.saturating_sub(free) {
            0 | 1 => KrefKind::DecUnsafe,
            2 => KrefKind::Dec,
            _ => KrefKind::DecFree,
        };
        Some(KrefOp { kind, owner })
    }

    /// Initials of `v = notdep(i, E) · j` (Abdulla et al. §4, Algorithm 1): the threads whose
    /// first step in `v` has no happens-before predecessor in `v`.
    fn initials(
        &self,
        steps: &[StepRecord],
        i: usize,
        j: usize,
        members: &mut Vec<usize>,
    ) -> ThreadSet {
        let ti = steps[i].tid.index();
        let li = self.local[i];
        let mut seen = ThreadSet::default();
        let mut init = ThreadSet::default();
        // Members of v, in order: k in (i, j) not happening after i, then j.
        let in_v = |k: usize| k == j || self.clocks[k * self.nthreads + ti] < li;
        members.clear();
        for k in (i + 1)..=j {
            if !in_v(k) {
                continue;
            }
            let tk = steps[k].tid;
            if !seen.contains(tk) {
                seen.insert(tk);
                if !members.iter().any(|&u| self.hb(steps, u, k)) {
                    init.insert(tk);
                }
            }
            members.push(k);
        }
        init
    }

    /// A 128-bit hash of the happens-before canonical form: for every thread, its steps in
    /// program order with their access and vector clock. Two executions hash alike iff they are
    /// the same Mazurkiewicz trace (up to hash collisions), whatever their interleaving.
    ///
    /// Identities enter the form by `keys` ([`kmodel::Kernel::with_object_keys`]: creating
    /// thread and rank, recursively), not by `ObjId` or `Tid`, which follow execution order:
    /// an object by its key, a thread by the key of its `task_struct` (the object of its
    /// `Begin` step), and threads and clock entries are taken in the order of those keys.
    pub fn class_hash(&self, steps: &[StepRecord], keys: &[u64]) -> u128 {
        let nt = self.nthreads;
        let key = |obj: kmodel::ObjId| {
            keys.get(obj.index())
                .copied()
                .unwrap_or(u64::MAX ^ obj.0 as u64)
        };
        // Each thread's first step is its Begin, on its task_struct.
        let mut thread_key = vec![u64::MAX; nt];
        for s in steps {
            let t = s.tid.index();
            if thread_key[t] == u64::MAX {
                thread_key[t] = key(s.access.obj);
            }
        }
        let mut order: Vec<usize> = (0..nt).collect();
        order.sort_by_key(|&t| (thread_key[t], t));
        let mut h = Mix::default();
        for &t in &order {
            h.word(thread_key[t] as u32);
            h.word((thread_key[t] >> 32) as u32);
            for (j, s) in steps.iter().enumerate() {
                if s.tid.index() != t {
                    continue;
                }
                let k = key(s.access.obj);
                h.word(k as u32);
                h.word((k >> 32) as u32);
                h.word(match self.kops.get(j).copied().flatten() {
                    Some(op) => 0x100 + op.kind as u32,
                    None => s.access.kind as u32,
                });
                let clock = self.clock(j);
                for &u in &order {
                    h.word(clock[u]);
                }
            }
        }
        h.finish()
    }
}

/// A fast two-lane multiply-xorshift hash for the trace hash (SipHash cost 10% of a DPOR
/// execution). Not keyed: the inputs are our own, not adversarial.
struct Mix(u64, u64);

impl Default for Mix {
    fn default() -> Self {
        Mix(0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344)
    }
}

impl Mix {
    #[inline]
    fn word(&mut self, w: u32) {
        self.0 = (self.0 ^ w as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
        self.1 = (self.1.rotate_left(17) ^ w as u64).wrapping_mul(0xff51_afd7_ed55_8ccd);
    }

    fn finish(self) -> u128 {
        let f = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        ((f(self.0) as u128) << 64) | f(self.1 ^ self.0.rotate_left(32)) as u128
    }
}

/// What a step on a refcount did, as [`KrefRule::Release`] tells steps apart.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum KrefKind {
    /// `kref_get` on a count of 1 or more.
    Get,
    /// `kref_put` from 2 or more, safe: it releases in no order of the gets of other
    /// threads that keeps its predecessors ([`Hb::kref_op`]).
    Dec,
    /// `kref_put` from 2 or more that could release were some gets of other threads after it.
    DecUnsafe,
    /// A safe put with a least count of 3 or more: it commutes with another such put.
    DecFree,
    /// `kref_put` from 1: it releases.
    Release,
    /// A get or put on a zero or saturated count (reported once, then ignored).
    Dead,
    /// `kref_read`.
    Read,
}

impl KrefKind {
    /// The kind as far as the step alone tells (a put from 2 or more is `Dec`), its count
    /// and owner.
    fn of(s: &StepRecord) -> Option<(KrefKind, u32, u64)> {
        let k = s.kref?;
        let kind = match s.access.kind {
            AccessKind::RefGet if k.count >= 1 => KrefKind::Get,
            AccessKind::RefPut | AccessKind::RefDec if k.count >= 2 => KrefKind::Dec,
            AccessKind::RefPut | AccessKind::RefDec if k.count == 1 => KrefKind::Release,
            AccessKind::RefGet
            | AccessKind::RefGetDead
            | AccessKind::RefPut
            | AccessKind::RefDec => KrefKind::Dead,
            AccessKind::RefRead => KrefKind::Read,
            _ => return None,
        };
        Some((kind, k.count, k.owner))
    }
}

/// A refcount step: what it did and the owner it named.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct KrefOp {
    kind: KrefKind,
    owner: u64,
}

impl KrefOp {
    /// Whether two refcount steps of different threads on one refcount conflict.
    fn dependent(a: KrefOp, b: KrefOp) -> bool {
        use KrefKind::*;
        match (a.kind, b.kind) {
            // Two gets on a live count commute (on a dead one, which thread reports the
            // addition on 0 depends on the order).
            (Get, Get) => false,
            (Release | Dead, _) | (_, Release | Dead) => true,
            (Read, Read) => false,
            (Read, _) | (_, Read) => true,
            // Puts of two owners (one owner's second put may find nothing held).
            (DecFree, DecFree) => a.owner == b.owner,
            (Dec | DecUnsafe | DecFree, Dec | DecUnsafe | DecFree) => true,
            (DecUnsafe, Get) | (Get, DecUnsafe) => true,
            // A safe put and a get: only a get and a put of one owner conflict (the put may
            // find the reference not held).
            (Dec | DecFree, Get) | (Get, Dec | DecFree) => a.owner == b.owner,
        }
    }
}

fn is_kref(k: AccessKind) -> bool {
    matches!(
        k,
        AccessKind::RefGet
            | AccessKind::RefGetDead
            | AccessKind::RefPut
            | AccessKind::RefDec
            | AccessKind::RefRead
    )
}

/// Which steps depend on which: kmodel's relation ([`Access::dependent_at`]) at the
/// search's granularity, with refcount operations ordered by the search's [`KrefRule`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Relation {
    pub granularity: Granularity,
    pub kref: KrefRule,
    pub free: FreeRule,
}

impl Relation {
    fn observes_kref(&self) -> bool {
        self.granularity == Granularity::Field && self.kref == KrefRule::Release
    }

    /// Whether a sleeping thread's pending access `a` must wake after step `b` (both as
    /// offered). Under [`KrefRule::Release`] two gets on a live count stay asleep past
    /// each other; every other pair of operations on one refcount wakes: whether a get
    /// and a put commute depends on steps not taken yet ([`Hb::kref_op`]).
    #[inline]
    pub fn dependent(&self, a: &Access, b: &Access) -> bool {
        if self.observes_kref() && is_kref(a.kind) && is_kref(b.kind) {
            let gets = a.kind == AccessKind::RefGet && b.kind == AccessKind::RefGet;
            return a.obj == b.obj && !gets;
        }
        self.access_dependent(a, b)
    }

    /// Kmodel's relation at the search's granularity. A get on a dead count
    /// ([`AccessKind::RefGetDead`]) is a get there unless [`KrefRule::Release`] is on (it
    /// was one before that rule, which is what `decrement` and `object` reproduce).
    ///
    /// Under [`FreeRule::Conflict`] a free is the whole-object write it was before
    /// [`FreeRule::Predict`] (where kmodel's relation lets it commute with everything but
    /// another free).
    #[inline]
    fn access_dependent(&self, a: &Access, b: &Access) -> bool {
        let conflict = self.free == FreeRule::Conflict;
        let fix = |x: &Access| match x.kind {
            AccessKind::Free if conflict => Access {
                kind: AccessKind::Write,
                ..*x
            },
            _ => *x,
        };
        let (a, b) = (&fix(a), &fix(b));
        if self.observes_kref() {
            return a.dependent_at(b, self.granularity);
        }
        let live = |x: &Access| match x.kind {
            AccessKind::RefGetDead => Access {
                kind: AccessKind::RefGet,
                ..*x
            },
            _ => *x,
        };
        live(a).dependent_at(&live(b), self.granularity)
    }
}
