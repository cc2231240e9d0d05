//! `linux/slab.h`: the object heap.
//!
//! Objects live in the kernel's object table and are addressed by [`Obj<T>`], a typed,
//! copyable handle that behaves like a C pointer: it can be stored anywhere and it can dangle.
//! Every access through it is checked. A freed object stays in quarantine for the rest of the
//! execution (slots are never reused, as with KASAN's quarantine), so an access through a stale
//! handle is always reported as a use-after-free naming the allocation and the free, and the
//! model then goes on with the stale contents, as a KASAN kernel does.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

use crate::report::{Site, ViolationKind};
use crate::sched::{field_named, Access, AccessKind, Field, Kernel, ObjId};
use crate::trace::Event;
use crate::ObjKind;

/// A typed handle to a heap object.
///
/// # Invariants
///
/// `gen` is the generation of the [`Kernel`] that allocated the object; a handle used with
/// another kernel is reported instead of aliasing an unrelated object.
pub struct Obj<T> {
    id: ObjId,
    gen: u32,
    _t: PhantomData<fn() -> T>,
}

impl<T> Obj<T> {
    /// The object id, for scheduling and reports.
    pub fn id(self) -> ObjId {
        self.id
    }

    /// Forget the type (a `void *`).
    pub fn erase(self) -> Obj<()> {
        Obj {
            id: self.id,
            gen: self.gen,
            _t: PhantomData,
        }
    }
}

impl Obj<()> {
    /// Give a `void *` its type back (a `container_of`). The access checks the type.
    pub fn cast<T>(self) -> Obj<T> {
        Obj {
            id: self.id,
            gen: self.gen,
            _t: PhantomData,
        }
    }
}

impl<T> Clone for Obj<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Obj<T> {}
impl<T> PartialEq for Obj<T> {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id && self.gen == o.gen
    }
}
impl<T> Eq for Obj<T> {}
impl<T> std::hash::Hash for Obj<T> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h)
    }
}
impl<T> PartialOrd for Obj<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
/// Ordered by id, then by kernel generation: `cmp` is `Equal` exactly when `==` holds, so
/// handles of two kernels with the same id are distinct keys of a `BTreeMap`. Within one
/// kernel (one generation) the order is the id order.
impl<T> Ord for Obj<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.id, self.gen).cmp(&(o.id, o.gen))
    }
}
impl<T> fmt::Debug for Obj<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Obj({})", self.id)
    }
}

/// A heap slot in the object table.
pub(crate) struct Slot {
    /// `None` while a closure has the value borrowed.
    pub value: Option<Box<dyn Any>>,
    pub alloc: Site,
    pub free: Option<Site>,
    /// Lives for the whole run (a static variable, an IRQ descriptor): not a leak.
    pub persistent: bool,
}

impl Kernel {
    /// `kzalloc` + initialise: a new heap object of C type `ty`, named `name` in reports.
    ///
    /// Not a scheduling point: nobody else can reach fresh memory until it is published.
    pub fn kzalloc<T: 'static>(
        &self,
        ty: &'static str,
        name: impl Into<String>,
        value: T,
    ) -> Obj<T> {
        self.alloc(ty, name.into(), value, false)
    }

    /// A heap object that lives for the whole run (a `static` variable of the kernel, an IRQ
    /// descriptor). Accesses are checked like any other; the leak check skips it.
    pub fn static_obj<T: 'static>(
        &self,
        ty: &'static str,
        name: impl Into<String>,
        value: T,
    ) -> Obj<T> {
        self.alloc(ty, name.into(), value, true)
    }

    fn alloc<T: 'static>(
        &self,
        ty: &'static str,
        name: String,
        value: T,
        persistent: bool,
    ) -> Obj<T> {
        let mut st = self.st.borrow_mut();
        let site = st.site();
        let gen = st.gen;
        let id = st.new_object(
            ty,
            name.clone(),
            ObjKind::Heap(Slot {
                value: Some(Box::new(value)),
                alloc: site,
                free: None,
                persistent,
            }),
        );
        drop(st);
        self.event(|step, tid, path| Event::Alloc {
            step,
            tid,
            path,
            obj: id,
            ty: ty.to_string(),
            name,
        });
        Obj {
            id,
            gen,
            _t: PhantomData,
        }
    }

    /// `kfree`. A second free is reported as a double free and otherwise ignored.
    ///
    /// Its step is an [`AccessKind::Free`]: the object keeps its contents, nothing in kmodel
    /// branches on freed-ness ([`Kernel::is_freed`] is introspection for tests), so the free
    /// commutes with every access but another free; only the use-after-free *reports* depend
    /// on the order, and the explorer predicts them.
    pub fn kfree<T>(&self, h: Obj<T>) {
        let _f = self.func("kfree");
        self.point(Access::new(h.id, AccessKind::Free));
        self.check_gen(h.id, h.gen);
        let mut st = self.st.borrow_mut();
        let site = st.site();
        let already = match &mut st.obj_mut(h.id).kind {
            ObjKind::Heap(slot) => {
                if slot.free.is_some() {
                    true
                } else {
                    slot.free = Some(site);
                    false
                }
            }
            _ => unreachable!("handle to a non-heap object"),
        };
        drop(st);
        if already {
            self.violation(
                ViolationKind::DoubleFree,
                Some(h.id),
                Some(AccessKind::Free),
                "double free".into(),
            );
        } else {
            self.event(|step, tid, path| Event::Free {
                step,
                tid,
                path,
                obj: h.id,
            });
        }
    }

    /// Read the object (a load through the pointer). A scheduling point.
    pub fn read<T: 'static, R>(&self, h: Obj<T>, f: impl FnOnce(&T) -> R) -> R {
        self.point(Access::new(h.id, AccessKind::Read));
        self.with_value(h, AccessKind::Read, |v: &mut T| f(v))
    }

    /// Write the object (a store through the pointer). A scheduling point.
    pub fn write<T: 'static, R>(&self, h: Obj<T>, f: impl FnOnce(&mut T) -> R) -> R {
        self.point(Access::new(h.id, AccessKind::Write));
        self.with_value(h, AccessKind::Write, f)
    }

    /// Read one part of the object: `name` is the field or sub-object `f` reads, and `f`
    /// must read nothing else (see [`Field`]). A scheduling point.
    pub fn read_field<T: 'static, R>(
        &self,
        h: Obj<T>,
        name: &'static str,
        f: impl FnOnce(&T) -> R,
    ) -> R {
        self.point(Access::to_field(h.id, AccessKind::Read, field_named(name)));
        self.with_value(h, AccessKind::Read, |v: &mut T| f(v))
    }

    /// Write one part of the object: `f` must change (and read) nothing but the part `name`.
    /// A scheduling point.
    pub fn write_field<T: 'static, R>(
        &self,
        h: Obj<T>,
        name: &'static str,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        self.point(Access::to_field(h.id, AccessKind::Write, field_named(name)));
        self.with_value(h, AccessKind::Write, f)
    }

    /// A read or write of the memory of one `list_head` member of the object.
    pub(crate) fn touch_field<T: 'static>(&self, h: Obj<T>, kind: AccessKind, field: Field) {
        self.point(Access::to_field(h.id, kind, field));
        self.with_value(h, kind, |_: &mut T| ());
    }

    /// Run `f` on the value without a scheduling point, after the caller made one. The value is
    /// taken out of the table while `f` runs, so `f` may call back into the kernel (but not
    /// access the same object again).
    fn with_value<T: 'static, R>(
        &self,
        h: Obj<T>,
        kind: AccessKind,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        self.check_handle(h.id, h.gen, kind);
        let mut boxed = {
            let mut st = self.st.borrow_mut();
            match &mut st.obj_mut(h.id).kind {
                ObjKind::Heap(slot) => slot
                    .value
                    .take()
                    .expect("re-entrant access to one heap object"),
                _ => unreachable!("handle to a non-heap object"),
            }
        };
        let r = f(boxed
            .downcast_mut::<T>()
            .expect("heap object accessed with the wrong type"));
        if let ObjKind::Heap(slot) = &mut self.st.borrow_mut().obj_mut(h.id).kind {
            slot.value = Some(boxed);
        }
        r
    }

    /// A handle is only meaningful in the kernel that made it. Mixing executions is a bug in
    /// the host program, not a modelled kernel bug, so it panics.
    fn check_gen(&self, id: ObjId, gen: u32) {
        if gen != self.st.borrow().gen {
            panic!("heap handle {id} belongs to another execution");
        }
    }

    /// Report an access through a dangling handle; returns whether the object is live.
    fn check_handle(&self, id: ObjId, gen: u32, kind: AccessKind) -> bool {
        self.check_gen(id, gen);
        let freed =
            matches!(&self.st.borrow().obj(id).kind, ObjKind::Heap(slot) if slot.free.is_some());
        if freed {
            let what = if kind == AccessKind::Read {
                "Read"
            } else {
                "Write"
            };
            self.violation(
                ViolationKind::UseAfterFree,
                Some(id),
                Some(kind),
                format!("{what} of freed object"),
            );
        }
        !freed
    }

    /// `container_of` on a list entry: the typed handle of heap object `id`, as returned by
    /// [`Kernel::list_entries`] or [`Kernel::list_node_owner`]. Pure pointer arithmetic, so not
    /// a scheduling point; the type is checked at the first access. Panics if `id` is not a
    /// heap object (a bug in the host program).
    pub fn heap_handle<T>(&self, id: ObjId) -> Obj<T> {
        let st = self.st.borrow();
        assert!(
            matches!(st.obj(id).kind, ObjKind::Heap(_)),
            "object {id} is not a heap object"
        );
        Obj {
            id,
            gen: st.gen,
            _t: PhantomData,
        }
    }

    /// Whether a heap object has been freed. Model introspection, not a kernel access: no
    /// scheduling point and no report. For tests and debug output only.
    pub fn is_freed<T>(&self, h: Obj<T>) -> bool {
        matches!(&self.st.borrow().obj(h.id).kind, ObjKind::Heap(slot) if slot.free.is_some())
    }

    /// Read a heap object without a scheduling point or a check. Model introspection for tests
    /// and reports, never for model code.
    pub fn peek<T: 'static, R>(&self, h: Obj<T>, f: impl FnOnce(&T) -> R) -> R {
        let st = self.st.borrow();
        match &st.obj(h.id).kind {
            ObjKind::Heap(slot) => f(slot
                .value
                .as_ref()
                .expect("peek during an access")
                .downcast_ref::<T>()
                .expect("wrong type")),
            _ => unreachable!("handle to a non-heap object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering;

    fn obj(id: u32, gen: u32) -> Obj<()> {
        Obj {
            id: ObjId(id),
            gen,
            _t: PhantomData,
        }
    }

    #[test]
    fn handles_of_two_generations_with_one_id_are_not_equal_in_order() {
        assert_ne!(obj(3, 1), obj(3, 2));
        assert_eq!(obj(3, 1).cmp(&obj(3, 2)), Ordering::Less);
        assert_eq!(obj(3, 2).cmp(&obj(3, 1)), Ordering::Greater);
    }

    proptest! {
        /// `Ord` agrees with `Eq` and is a total order (small ranges make equal ids and
        /// generations frequent).
        #[test]
        fn ord_agrees_with_eq(a in (0u32..4, 0u32..3), b in (0u32..4, 0u32..3), c in (0u32..4, 0u32..3)) {
            let (a, b, c) = (obj(a.0, a.1), obj(b.0, b.1), obj(c.0, c.1));
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
            if a.id != b.id {
                // Within and across kernels, ids order first.
                prop_assert_eq!(a.cmp(&b), a.id.cmp(&b.id));
            }
        }
    }
}
