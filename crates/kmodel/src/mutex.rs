//! `linux/mutex.h`: a sleeping mutex.

use crate::lockdep::LockMode;
use crate::report::ViolationKind;
use crate::sched::{Access, AccessKind, Kernel, ObjId, ThreadRec, Tid};
use crate::trace::Event;
use crate::{ObjKind, State};

/// A mutex. Its name is its lockdep class.
///
/// # Invariants
///
/// Always names a [`MutexRec`] in its kernel's object table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mutex(ObjId);

impl Mutex {
    pub fn id(self) -> ObjId {
        self.0
    }
}

pub(crate) struct MutexRec {
    pub owner: Option<Tid>,
    pub class: &'static str,
    /// Not checked by lockdep (`lockdep_set_novalidate_class`, as for `device->mutex`).
    pub novalidate: bool,
    pub last_unlock: Option<u32>,
}

impl State {
    fn mutex(&mut self, m: ObjId) -> &mut MutexRec {
        match &mut self.obj_mut(m).kind {
            ObjKind::Mutex(r) => r,
            _ => unreachable!("not a mutex"),
        }
    }

    pub(crate) fn mutex_owner(&self, m: ObjId) -> Option<Tid> {
        match &self.obj(m).kind {
            ObjKind::Mutex(r) => r.owner,
            _ => None,
        }
    }

    pub(crate) fn mutex_can_lock(&self, m: ObjId, _th: &ThreadRec) -> bool {
        self.mutex_owner(m).is_none()
    }

    pub(crate) fn mutex_last_unlock(&self, m: ObjId) -> Option<u32> {
        match &self.obj(m).kind {
            ObjKind::Mutex(r) => r.last_unlock,
            _ => None,
        }
    }
}

impl Kernel {
    /// `mutex_init`: `class` names it in reports and is its lockdep class.
    pub fn mutex_init(&self, class: &'static str) -> Mutex {
        self.new_mutex(class, class.to_string(), false)
    }

    pub(crate) fn new_mutex(&self, class: &'static str, name: String, novalidate: bool) -> Mutex {
        let mut st = self.st.borrow_mut();
        Mutex(st.new_object(
            "struct mutex",
            name,
            ObjKind::Mutex(MutexRec {
                owner: None,
                class,
                novalidate,
                last_unlock: None,
            }),
        ))
    }

    /// `mutex_lock`: sleep until the mutex is free, then own it. Taking a mutex the thread
    /// already holds is reported (lockdep) and then blocks forever, as in the kernel.
    pub fn mutex_lock(&self, m: Mutex) {
        let (class, novalidate, owner) = {
            let mut st = self.st.borrow_mut();
            let r = st.mutex(m.0);
            (r.class, r.novalidate, r.owner)
        };
        let me = self.current();
        if !novalidate {
            self.lockdep_acquire(m.0, class, LockMode::Exclusive);
        } else if owner == Some(me) {
            self.violation(
                ViolationKind::RecursiveLock,
                Some(m.0),
                None,
                format!("mutex_lock({class}) by its owner"),
            );
        }
        self.point(Access::new(m.0, AccessKind::Lock));
        self.st.borrow_mut().mutex(m.0).owner = Some(me);
        self.event(|step, tid, path| Event::Lock {
            step,
            tid,
            path,
            lock: m.0,
        });
    }

    /// `mutex_unlock`. Unlocking a mutex the thread does not own is a warning.
    pub fn mutex_unlock(&self, m: Mutex) {
        self.point(Access::new(m.0, AccessKind::Unlock));
        let me = self.current();
        let (owner, class) = {
            let mut st = self.st.borrow_mut();
            let step = st.sched.steps.len().saturating_sub(1) as u32;
            let r = st.mutex(m.0);
            let owner = r.owner;
            r.owner = None;
            r.last_unlock = Some(step);
            (owner, r.class)
        };
        if owner != Some(me) {
            self.violation(
                ViolationKind::Warn,
                Some(m.0),
                None,
                format!("mutex_unlock({class}) by a thread that does not own it"),
            );
        }
        self.lockdep_release(m.0);
        self.event(|step, tid, path| Event::Unlock {
            step,
            tid,
            path,
            lock: m.0,
        });
    }

    /// Run `f` with `m` held (`guard(mutex)` / `scoped_guard`).
    pub fn with_mutex<R>(&self, m: Mutex, f: impl FnOnce() -> R) -> R {
        self.mutex_lock(m);
        let r = f();
        self.mutex_unlock(m);
        r
    }
}
