//! `linux/kref.h` with the kernel's `ref_tracker` done everywhere.
//!
//! Every reference names its owner ("published", "chain of encoder-0", "devres of 2-002c"), and
//! every put names the reference it drops. The count behaves like `refcount_t`: an addition on
//! zero or an underflow is reported and saturates the counter, after which it never changes
//! again (the object then leaks, as in the kernel).

use std::borrow::Cow;
use std::fmt;

use crate::report::ViolationKind;
use crate::sched::{field_named, Access, AccessKind, Kernel, KrefStep, ObjId, Tid};
use crate::trace::Event;
use crate::{ObjKind, State};

/// The owner of a reference, as the kernel's `ref_tracker` tells holders apart: a name
/// ("published", "devres of 2-002c"), and for a reference held by one call of a function (a
/// local variable: a chain walk's first bridge, a loop cursor) that call.
///
/// In the kernel each holder has its own tracker entry: two chain walks in two threads hold
/// two references, even when both are made by one function. A [`Owner::local`] reference is
/// therefore held per thread (the thread of the call that takes and drops it): a get and a
/// put name the same holder only in the same thread, so puts by walks of different threads
/// are puts of different owners (and commute as such), and a put in a thread that took no
/// such reference is a put of a reference not held. Its [`Display`](fmt::Display) is the
/// name alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Owner {
    name: Cow<'static, str>,
    local: bool,
}

impl Owner {
    /// A reference held by one call of a function, named `name` (see [`Owner`]).
    pub fn local(name: impl Into<Cow<'static, str>>) -> Owner {
        Owner {
            name: name.into(),
            local: true,
        }
    }

    /// The owner's name, as reports print it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is held per call (see [`Owner::local`]).
    pub fn is_local(&self) -> bool {
        self.local
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl From<Cow<'static, str>> for Owner {
    fn from(name: Cow<'static, str>) -> Owner {
        Owner { name, local: false }
    }
}

impl From<&'static str> for Owner {
    fn from(name: &'static str) -> Owner {
        Cow::Borrowed(name).into()
    }
}

impl From<String> for Owner {
    fn from(name: String) -> Owner {
        Cow::<'static, str>::Owned(name).into()
    }
}

/// One holder of references on a count: an owner, and for a local owner the thread whose
/// call holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Holder {
    owner: Owner,
    thread: Option<Tid>,
}

impl Holder {
    /// The holder `owner` names when the thread that `current` returns (asked only for a
    /// local owner) takes or drops a reference.
    fn of(owner: &Owner, current: impl FnOnce() -> Tid) -> Holder {
        Holder {
            owner: owner.clone(),
            thread: owner.local.then(current),
        }
    }

    /// Its key for the explorer ([`KrefStep::owner`]): the name's, mixed with the thread for
    /// a local holder. A collision only makes two holders one, which orders more puts.
    fn key(&self) -> u64 {
        let k = KrefStep::owner_key(&self.owner.name);
        match self.thread {
            None => k,
            Some(t) => k ^ (u64::from(t.0) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.owner.fmt(f)
    }
}

/// A reference count embedded in a heap object.
///
/// # Invariants
///
/// Always names a [`KrefRec`] in its kernel's object table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Kref(ObjId);

impl Kref {
    /// The refcount's own object id (for scheduling).
    pub fn id(self) -> ObjId {
        self.0
    }
}

pub(crate) struct KrefRec {
    /// The object the count is embedded in (reports name it).
    pub container: ObjId,
    pub count: u32,
    pub saturated: bool,
    /// Holders and how many references each holds.
    pub holders: Vec<(Holder, u32)>,
}

/// The part of a container that [`Kernel::kref_read_for_print`] reads: the embedded
/// `struct kref`'s memory, which no other tagged access names.
pub const KREF_PART: &str = "kref";

/// Whether a put at count 3 or more is offered as a commuting [`AccessKind::RefDec`].
const REF_DEC: bool = true;

impl State {
    /// A pending access as the scheduler offers it: a `kref_put` while the count is 3 or
    /// more is a [`AccessKind::RefDec`] (neither it nor one other such put can reach zero).
    ///
    /// Why it is sound: two `RefDec`s next to each other in an execution saw counts `v`
    /// and `v - 1`, both 3 or more; swapped, they see `v` and `v - 1` again, so each stays a
    /// `RefDec`, leaves the same count and the same holders (removing two owners commutes),
    /// and neither releases. A step therefore keeps its class across every swap of
    /// independent neighbours, and equivalent executions have one happens-before. Against
    /// a get or a plain put a `RefDec` stays dependent: a get before it raises the count it
    /// sees, and at 3 that changes its class.
    ///
    /// What is state-dependent is the class of a *pending* put: after another put it may
    /// drop from `RefDec` to `RefPut`. An explorer that keeps a thread asleep (sleep sets)
    /// must wake it when the access it is offered changes; `explore`'s tree search does,
    /// and its oracle test (`a_put_asleep_as_a_commuting_decrement_wakes_when_the_count_drops`)
    /// misses a class without that wake.
    ///
    /// A `kref_get` on a zero or saturated count is a [`AccessKind::RefGetDead`]: it is
    /// reported or ignored, and the order of two of them decides which thread reports.
    pub(crate) fn effective_access(&self, a: Access) -> Access {
        if !matches!(a.kind, AccessKind::RefPut | AccessKind::RefGet) {
            return a;
        }
        let kind = match (a.kind, &self.obj(a.obj).kind) {
            (AccessKind::RefPut, ObjKind::Kref(k)) if REF_DEC && !k.saturated && k.count >= 3 => {
                AccessKind::RefDec
            }
            (AccessKind::RefGet, ObjKind::Kref(k)) if k.saturated || k.count == 0 => {
                AccessKind::RefGetDead
            }
            _ => return a,
        };
        Access { kind, ..a }
    }

    /// For an access to a refcount, the count it sees ([`crate::KrefStep::count`]: 0 when
    /// saturated); `None` for any other access.
    pub(crate) fn kref_step(&self, a: Access) -> Option<u32> {
        match a.kind {
            AccessKind::RefGet
            | AccessKind::RefGetDead
            | AccessKind::RefPut
            | AccessKind::RefDec
            | AccessKind::RefRead => {}
            _ => return None,
        }
        match &self.obj(a.obj).kind {
            ObjKind::Kref(k) if k.saturated => Some(0),
            ObjKind::Kref(k) => Some(k.count),
            _ => None,
        }
    }

    fn kref(&mut self, r: Kref) -> &mut KrefRec {
        match &mut self.obj_mut(r.0).kind {
            ObjKind::Kref(k) => k,
            _ => unreachable!("not a kref"),
        }
    }

    /// The owners of the references `container`'s krefs still have, each with its count.
    pub(crate) fn kref_holders(&self, container: ObjId) -> Vec<(String, u32)> {
        self.objects
            .iter()
            .filter_map(|o| match &o.kind {
                ObjKind::Kref(k) if k.container == container => Some(k),
                _ => None,
            })
            .flat_map(|k| k.holders.iter().map(|(o, n)| (o.to_string(), *n)))
            .collect()
    }
}

impl KrefRec {
    fn hold(&mut self, holder: Holder) {
        match self.holders.iter_mut().find(|(o, _)| *o == holder) {
            Some((_, n)) => *n += 1,
            None => self.holders.push((holder, 1)),
        }
    }

    /// Drop one reference of `holder`; false if it held none.
    fn unhold(&mut self, holder: &Holder) -> bool {
        let Some(i) = self.holders.iter().position(|(o, _)| o == holder) else {
            return false;
        };
        self.holders[i].1 -= 1;
        if self.holders[i].1 == 0 {
            self.holders.remove(i);
        }
        true
    }
}

impl Kernel {
    /// The refcount_t checks shared by get and put: a saturated count ignores the operation; a
    /// zero count is reported (as `kind`, with the kernel's `message`) and saturates. Returns
    /// the container when the operation may proceed.
    fn kref_check(
        &self,
        r: Kref,
        access: AccessKind,
        holder: &Holder,
        kind: ViolationKind,
        message: &str,
    ) -> Option<ObjId> {
        self.point_kref(Access::new(r.0, access), holder.key());
        let mut st = self.st.borrow_mut();
        let k = st.kref(r);
        let container = k.container;
        if k.saturated {
            return None;
        }
        if k.count == 0 {
            k.saturated = true;
            drop(st);
            self.violation(kind, Some(container), Some(access), message.into());
            return None;
        }
        Some(container)
    }

    /// `kref_init`: a count of one, held by `owner`, embedded in `container`.
    ///
    /// Not a scheduling point: the container is fresh.
    pub fn kref_init(&self, container: ObjId, owner: impl Into<Owner>) -> Kref {
        let owner = owner.into();
        let mut st = self.st.borrow_mut();
        let name = st.obj(container).name.clone();
        let id = st.new_object(
            "struct kref",
            name,
            ObjKind::Kref(KrefRec {
                container,
                count: 1,
                saturated: false,
                holders: vec![(Holder::of(&owner, || self.current()), 1)],
            }),
        );
        drop(st);
        self.event(|step, tid, path| Event::RefInit {
            step,
            tid,
            path,
            obj: container,
            owner: owner.to_string(),
        });
        Kref(id)
    }

    /// `kref_get`: take a reference for `owner`. A get on a zero count is reported as
    /// "refcount_t: addition on 0; use-after-free." and saturates the count.
    pub fn kref_get(&self, r: Kref, owner: impl Into<Owner>) {
        let owner = owner.into();
        let holder = Holder::of(&owner, || self.current());
        let Some(container) = self.kref_check(
            r,
            AccessKind::RefGet,
            &holder,
            ViolationKind::RefcountAddOnZero,
            "refcount_t: addition on 0; use-after-free.",
        ) else {
            return;
        };
        let mut st = self.st.borrow_mut();
        let k = st.kref(r);
        k.count += 1;
        k.hold(holder);
        let count = k.count;
        drop(st);
        self.event(|step, tid, path| Event::RefGet {
            step,
            tid,
            path,
            obj: container,
            owner: owner.to_string(),
            count,
        });
    }

    /// `kref_put`: drop the reference `owner` holds. When the count reaches zero, `release`
    /// runs now, in this thread, and `true` is returned.
    ///
    /// A put on a zero count is reported as an underflow (and saturates); a put of a reference
    /// `owner` does not hold is reported, but still decrements, as the kernel would.
    pub fn kref_put(
        &self,
        r: Kref,
        owner: impl Into<Owner>,
        release: impl FnOnce(&Kernel),
    ) -> bool {
        let owner = owner.into();
        let holder = Holder::of(&owner, || self.current());
        let Some(container) = self.kref_check(
            r,
            AccessKind::RefPut,
            &holder,
            ViolationKind::RefcountUnderflow,
            "refcount_t: underflow; use-after-free.",
        ) else {
            return false;
        };
        let mut st = self.st.borrow_mut();
        let k = st.kref(r);
        k.count -= 1;
        let count = k.count;
        let held = k.unhold(&holder);
        let holders: Vec<String> = k
            .holders
            .iter()
            .map(|(o, n)| format!("{o} (x{n})"))
            .collect();
        drop(st);
        self.event(|step, tid, path| Event::RefPut {
            step,
            tid,
            path,
            obj: container,
            owner: owner.to_string(),
            count,
        });
        if !held {
            let mut details = vec![format!(
                "holders now: {}",
                if holders.is_empty() {
                    "none".into()
                } else {
                    holders.join(", ")
                }
            )];
            details.insert(0, format!("put by \"{owner}\", which holds no reference"));
            self.violation_with(
                ViolationKind::RefNotHeld,
                Some(container),
                Some(AccessKind::RefPut),
                format!("put of reference \"{owner}\" that is not held"),
                details,
            );
        }
        if count == 0 {
            release(self);
            true
        } else {
            false
        }
    }

    /// `kref_read`: the current count. A scheduling point (it reads shared state).
    pub fn kref_read(&self, r: Kref) -> u32 {
        self.point(Access::new(r.0, AccessKind::RefRead));
        self.st.borrow_mut().kref(r).count
    }

    /// `kref_read` where the value is only printed (the `refcount:` line of the bridges
    /// debugfs files): a load of the count's memory in its container, declared as a read of
    /// the container's part [`KREF_PART`] rather than as an access to the count. No get or
    /// put touches that part (they access the count's own object), so the explorer never
    /// reorders the read against them; a whole-container write still conflicts with it, and
    /// a read after the container's free ([`crate::AccessKind::Free`]) is reported as a
    /// use-after-free, as KASAN reports the load (the explorer predicts it from
    /// happens-before, or reorders it under its `conflict` free rule).
    ///
    /// Why that is sound: the explorer observes violations and control flow, never printed
    /// text. A value that flows only into output changes neither, so the executions that
    /// differ only in where such a read falls among the gets and puts give the same outcome
    /// and need not be told apart; the count is still the count at the step that reads it.
    /// A caller must not branch on the value (use [`Kernel::kref_read`] for that).
    pub fn kref_read_for_print(&self, r: Kref) -> u32 {
        let container = self.st.borrow_mut().kref(r).container;
        self.point(Access::to_field(
            container,
            AccessKind::Read,
            field_named(KREF_PART),
        ));
        let mut st = self.st.borrow_mut();
        let count = st.kref(r).count;
        let freed = matches!(&st.obj(container).kind, ObjKind::Heap(slot) if slot.free.is_some());
        drop(st);
        if freed {
            self.violation(
                ViolationKind::UseAfterFree,
                Some(container),
                Some(AccessKind::Read),
                "Read of freed object".into(),
            );
        }
        count
    }

    /// Hand a reference from one owner to another without touching the count (a getter's
    /// result stored into a field, say). Bookkeeping only: not a scheduling point.
    pub fn kref_transfer(&self, r: Kref, from: impl Into<Owner>, to: impl Into<Owner>) {
        let t = || self.current();
        let (from, to) = (Holder::of(&from.into(), t), Holder::of(&to.into(), t));
        let mut st = self.st.borrow_mut();
        let k = st.kref(r);
        if k.unhold(&from) {
            k.hold(to);
        }
    }

    /// The owners holding references now, with counts. Model introspection (no point).
    pub fn kref_owners(&self, r: Kref) -> Vec<(String, u32)> {
        self.st
            .borrow_mut()
            .kref(r)
            .holders
            .iter()
            .map(|(o, n)| (o.to_string(), *n))
            .collect()
    }

    /// The count now, without a scheduling point. Model introspection for tests.
    pub fn kref_peek(&self, r: Kref) -> u32 {
        self.st.borrow_mut().kref(r).count
    }
}
