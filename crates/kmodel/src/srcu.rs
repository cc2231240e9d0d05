//! `linux/srcu.h`: sleepable RCU.
//!
//! `synchronize_srcu` waits for the read sections that had started before it was called, and
//! not for later ones. It is modelled as two steps: a snapshot of the open read sections, then
//! a wait that is enabled once every snapshotted section has ended.

use crate::lockdep::LockMode;
use crate::report::ViolationKind;
use crate::sched::{Access, AccessKind, Kernel, ObjId, WaitFor};
use crate::trace::Event;
use crate::{ObjKind, State};

/// An SRCU domain. Its name is its lockdep class.
///
/// # Invariants
///
/// Always names a [`SrcuRec`] in its kernel's object table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Srcu(ObjId);

impl Srcu {
    pub fn id(self) -> ObjId {
        self.0
    }
}

/// The index `srcu_read_lock` returns, to give back to `srcu_read_unlock`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SrcuIdx(pub u32);

pub(crate) struct SrcuRec {
    pub class: &'static str,
    pub next_token: u32,
    /// Open read sections.
    pub active: Vec<u32>,
    /// Where each section was opened (token, thread, step, call path), for the report of a
    /// `synchronize_srcu` that never returns.
    pub opened: Vec<(u32, crate::report::Site)>,
    /// The step at which each token's section ended.
    pub unlock_steps: Vec<(u32, u32)>,
}

impl State {
    fn srcu(&mut self, s: ObjId) -> &mut SrcuRec {
        match &mut self.obj_mut(s).kind {
            ObjKind::Srcu(r) => r,
            _ => unreachable!("not an srcu_struct"),
        }
    }

    pub(crate) fn srcu_readers_gone(&self, s: ObjId, tokens: &[u32]) -> bool {
        match &self.obj(s).kind {
            ObjKind::Srcu(r) => !tokens.iter().any(|t| r.active.contains(t)),
            _ => true,
        }
    }

    /// Where the still-open sections among `tokens` were entered.
    pub(crate) fn srcu_open_sections(&self, s: ObjId, tokens: &[u32]) -> Vec<crate::report::Site> {
        match &self.obj(s).kind {
            ObjKind::Srcu(r) => r
                .opened
                .iter()
                .filter(|(t, _)| tokens.contains(t) && r.active.contains(t))
                .map(|(_, site)| *site)
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn srcu_unlock_steps(&self, s: ObjId, tokens: &[u32]) -> Vec<u32> {
        match &self.obj(s).kind {
            ObjKind::Srcu(r) => r
                .unlock_steps
                .iter()
                .filter(|(t, _)| tokens.contains(t))
                .map(|(_, st)| *st)
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Kernel {
    /// `init_srcu_struct` / `DEFINE_STATIC_SRCU`.
    pub fn init_srcu_struct(&self, class: &'static str) -> Srcu {
        let mut st = self.st.borrow_mut();
        Srcu(st.new_object(
            "struct srcu_struct",
            class.to_string(),
            ObjKind::Srcu(SrcuRec {
                class,
                next_token: 0,
                active: Vec::new(),
                opened: Vec::new(),
                unlock_steps: Vec::new(),
            }),
        ))
    }

    /// `srcu_read_lock`: open a read section. Never blocks; sections may nest.
    pub fn srcu_read_lock(&self, s: Srcu) -> SrcuIdx {
        self.point(Access::new(s.0, AccessKind::SrcuRead));
        let (class, tok) = {
            let mut st = self.st.borrow_mut();
            let r = st.srcu(s.0);
            let tok = r.next_token;
            r.next_token += 1;
            r.active.push(tok);
            (r.class, tok)
        };
        {
            let mut st = self.st.borrow_mut();
            let site = st.site();
            st.srcu(s.0).opened.push((tok, site));
        }
        self.lockdep_acquire(s.0, class, LockMode::Read);
        self.event(|step, tid, path| Event::SrcuReadLock {
            step,
            tid,
            path,
            srcu: s.0,
            idx: tok,
        });
        SrcuIdx(tok)
    }

    /// `srcu_read_unlock`: close the section `idx` opened. Closing one that is not open is a
    /// warning.
    pub fn srcu_read_unlock(&self, s: Srcu, idx: SrcuIdx) {
        self.point(Access::new(s.0, AccessKind::SrcuRead));
        let ok = {
            let mut st = self.st.borrow_mut();
            let step = st.sched.steps.len().saturating_sub(1) as u32;
            let r = st.srcu(s.0);
            match r.active.iter().position(|&t| t == idx.0) {
                Some(i) => {
                    r.active.remove(i);
                    r.unlock_steps.push((idx.0, step));
                    true
                }
                None => false,
            }
        };
        if !ok {
            self.violation(
                ViolationKind::Warn,
                Some(s.0),
                None,
                "srcu_read_unlock of a section that is not open".into(),
            );
        }
        self.lockdep_release(s.0);
        self.event(|step, tid, path| Event::SrcuReadUnlock {
            step,
            tid,
            path,
            srcu: s.0,
            idx: idx.0,
        });
    }

    /// `synchronize_srcu`: wait until every read section open now has ended. Called inside a
    /// read section of the same domain it never returns (reported by lockdep, then a deadlock).
    pub fn synchronize_srcu(&self, s: Srcu) {
        let _f = self.func("synchronize_srcu");
        let class = self.st.borrow_mut().srcu(s.0).class;
        self.lockdep_acquire(s.0, class, LockMode::Sync);
        self.point(Access::new(s.0, AccessKind::SrcuSync));
        let snapshot = self.st.borrow_mut().srcu(s.0).active.clone();
        self.event(|step, tid, path| Event::Synchronize {
            step,
            tid,
            path,
            srcu: s.0,
            waits_for: snapshot.clone(),
        });
        if !snapshot.is_empty() {
            self.point_wait(
                Access::new(s.0, AccessKind::SrcuWait),
                WaitFor::SrcuReaders(snapshot),
            );
        }
    }
}
