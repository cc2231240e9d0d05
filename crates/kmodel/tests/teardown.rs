//! The run's teardown on the panic path: a host panic (a bug in model code or in a scheduler)
//! leaves `Kernel::run` after every unfinished thread has been unwound, and the OS thread can
//! run the next kernel.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use kmodel::*;

/// Dropped when its thread unwinds; reads the kernel (its steps) while doing so, as a
/// `FuncGuard` touches the kernel's state.
struct Probe<'k> {
    k: &'k Kernel,
    seen_steps: Rc<Cell<Option<usize>>>,
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.seen_steps.set(Some(self.k.steps().len()));
    }
}

/// `init` spawns a waiter (T1) that enters a model function, holds a probe and waits for
/// T2; T2 runs `last`. Under `ThreadOrder` the waiter is suspended inside its `func` when T2
/// runs.
fn waiter_and(
    seen: Rc<Cell<Option<usize>>>,
    last: impl FnOnce(&Kernel) + 'static,
) -> impl FnOnce(&Kernel) + 'static {
    move |k: &Kernel| {
        let other: Rc<Cell<Option<Tid>>> = Rc::new(Cell::new(None));
        let o = other.clone();
        let waiter = k.spawn("waiter", move |k| {
            let _f = k.func("drm_bridge_remove");
            let _p = Probe {
                k,
                seen_steps: seen,
            };
            k.join(o.get().expect("T2 spawned before T1 runs"));
        });
        other.set(Some(k.spawn("buggy", last)));
        k.join(waiter);
    }
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// A clean two-thread program: the next kernel on the same OS thread runs normally.
fn next_run_is_clean() {
    let k = Kernel::new(Config::default());
    let stop = k.run(&mut RoundRobin, |k| {
        let o = k.kzalloc("struct foo", "foo", 0u32);
        let t = k.spawn("writer", move |k| {
            let _f = k.func("foo_write");
            k.write(o, |v| *v += 1);
        });
        k.join(t);
        assert_eq!(k.read(o, |v| *v), 1);
        k.kfree(o);
    });
    assert_eq!(stop, Stop::Finished);
    assert!(!k.has_violations(), "{:?}", k.violations());
}

#[test]
fn a_host_panic_in_a_model_thread_reaches_the_caller_after_the_others_unwound() {
    let seen = Rc::new(Cell::new(None));
    let k = Kernel::new(Config::default());
    let r = catch_unwind(AssertUnwindSafe(|| {
        k.run(
            &mut ThreadOrder,
            waiter_and(seen.clone(), |_| panic!("host bug in a model thread")),
        )
    }));
    let e = r.expect_err("the panic reaches the caller of run");
    assert_eq!(panic_message(&*e), "host bug in a model thread");
    // The waiter was unwound inside `run`, while the kernel was alive (not later, when the
    // kernel drops its fields), and its probe could read the kernel.
    let steps = k.steps().len();
    assert!(steps > 0);
    assert_eq!(seen.get(), Some(steps));
    // The kernel stays readable, then drops without touching a coroutine.
    assert!(k.trace().events.len() > 1);
    drop(k);
    next_run_is_clean();
}

/// Panics when asked for step `at`.
struct PanickingScheduler {
    at: u32,
}

impl Scheduler for PanickingScheduler {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        assert!(view.step != self.at, "host bug in the scheduler");
        ThreadOrder.choose(view)
    }
}

#[test]
fn a_host_panic_in_the_scheduler_reaches_the_caller_after_every_thread_unwound() {
    // Find the step at which T2 begins: the scheduler then runs inside the waiter's
    // coroutine (its `join` is the point that asks it).
    let clean = Kernel::new(Config::default());
    assert_eq!(
        clean.run(&mut ThreadOrder, waiter_and(Rc::default(), |_| {})),
        Stop::Finished
    );
    let at = clean
        .steps()
        .iter()
        .position(|s| s.tid == Tid(2))
        .expect("T2 runs") as u32;
    drop(clean);

    let seen = Rc::new(Cell::new(None));
    let k = Kernel::new(Config::default());
    let r = catch_unwind(AssertUnwindSafe(|| {
        k.run(
            &mut PanickingScheduler { at },
            waiter_and(seen.clone(), |_| {}),
        )
    }));
    let e = r.expect_err("the panic reaches the caller of run");
    assert_eq!(panic_message(&*e), "host bug in the scheduler");
    assert_eq!(seen.get(), Some(at as usize));
    drop(k);

    // A scheduler that panics at the very first step (in run's own loop, before any thread
    // started).
    let k = Kernel::new(Config::default());
    let r = catch_unwind(AssertUnwindSafe(|| {
        k.run(&mut PanickingScheduler { at: 0 }, |_| {})
    }));
    assert_eq!(
        panic_message(&*r.expect_err("panics")),
        "host bug in the scheduler"
    );
    assert!(k.steps().is_empty());
    drop(k);
    next_run_is_clean();
}
