//! Determinism, replay and schedule strings.

use kmodel::*;

/// A racy program: a lookup reads an object the unplug thread frees, with refcount traffic.
fn racy(k: &Kernel) {
    let o = k.kzalloc("struct drm_bridge", "sn65dsi84", 1u32);
    let r = k.kref_init(o.id(), "devres of 2-002c");
    let m = k.mutex_init("bridge_lock");
    k.kref_get(r, "modeset");
    k.spawn("lookup", move |k| {
        k.mutex_lock(m);
        k.mutex_unlock(m);
        let _f = k.func("drm_atomic_bridge_chain_enable");
        k.read(o, |v| *v);
    });
    k.spawn("unplug", move |k| {
        k.mutex_lock(m);
        k.mutex_unlock(m);
        k.kref_put(r, "devres of 2-002c", move |k| k.kfree(o));
    });
    k.spawn("modeset", move |k| {
        k.write(o, |v| *v += 1);
        k.kref_put(r, "modeset", move |k| k.kfree(o));
    });
}

fn run(sched: &mut dyn Scheduler) -> Kernel {
    let k = Kernel::new(Config {
        leak_check: false,
        ..Config::default()
    });
    k.run(sched, racy);
    k
}

#[test]
fn same_schedule_gives_the_same_trace_byte_for_byte() {
    let first = run(&mut RoundRobin);
    let schedule = first.schedule();
    assert!(
        schedule.0.len() > 5,
        "a real multi-thread interleaving: {schedule}"
    );
    let a = run(&mut Replay::new(schedule.clone()));
    let b = run(&mut Replay::new(schedule.clone()));
    let (ta, tb) = (a.trace().to_json_lines(), b.trace().to_json_lines());
    assert_eq!(ta, tb);
    assert_eq!(ta, first.trace().to_json_lines());
    assert_eq!(a.steps(), first.steps());
    assert_eq!(a.schedule(), schedule);
    // The text form round-trips and replays the same way.
    let parsed: Schedule = schedule.to_string().parse().unwrap();
    assert_eq!(parsed, schedule);
    let c = run(&mut Replay::new(parsed));
    assert_eq!(c.trace().to_json_lines(), ta);
}

#[test]
fn two_schedules_of_a_racy_program_differ_one_is_a_use_after_free() {
    let safe = run(&mut ThreadOrder);
    assert!(
        safe.violations().is_empty(),
        "lookup runs before unplug in thread order"
    );
    /// Highest-numbered enabled thread first, without preemption: lookup runs last.
    struct Reverse;
    impl Scheduler for Reverse {
        fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
            match view.current {
                Some(c) if view.is_enabled(c) => Some(c),
                _ => view.enabled().last().map(|(t, _)| t),
            }
        }
    }
    let schedule = run(&mut Reverse).schedule();
    let racy_run = run(&mut Replay::new(schedule.clone()));
    assert_eq!(racy_run.schedule(), schedule);
    let kinds: Vec<_> = racy_run.violations().iter().map(|v| v.kind).collect();
    assert!(
        kinds.contains(&ViolationKind::UseAfterFree),
        "{kinds:?} under {}",
        racy_run.schedule()
    );
    let uaf = racy_run
        .violations()
        .into_iter()
        .find(|v| v.kind == ViolationKind::UseAfterFree)
        .unwrap();
    let report = racy_run.render(&uaf);
    assert!(
        report.contains("in drm_atomic_bridge_chain_enable"),
        "{report}"
    );
    assert!(report.contains("Freed by thread unplug (T2)"), "{report}");
    assert_ne!(
        safe.trace().to_json_lines(),
        racy_run.trace().to_json_lines()
    );
}

#[test]
fn schedule_strings_are_compact_and_checked() {
    let s = Schedule(vec![Tid(0), Tid(0), Tid(0), Tid(1), Tid(2), Tid(2)]);
    assert_eq!(s.to_string(), "v1:0x3.1.2x2");
    assert_eq!("v1:".parse::<Schedule>().unwrap(), Schedule(vec![]));
    let e = "v1:0x3.zz".parse::<Schedule>().unwrap_err();
    assert_eq!((e.offset, e.expected), (7, "a thread number"));
    assert!("0x3".parse::<Schedule>().is_err());
    assert!("v1:1x0".parse::<Schedule>().is_err());
}

#[test]
fn schedule_strings_longer_than_the_step_limit_are_rejected_before_allocating() {
    // A huge repeat count is an error at its column, not gigabytes of memory.
    let e = "v1:9x99999999999".parse::<Schedule>().unwrap_err();
    assert_eq!(e.offset, 5);
    assert!(e.to_string().contains("max_steps"), "{e}");
    assert!(
        e.expected.contains(&kmodel::DEFAULT_MAX_STEPS.to_string()),
        "{e}"
    );
    // Runs that add up past the limit are caught too; exactly the limit is accepted.
    let max = Schedule::MAX_LEN;
    let s = format!("v1:0x{}.1x{}", max / 2, max - max / 2);
    assert_eq!(s.parse::<Schedule>().unwrap().0.len(), max);
    assert!(format!("{s}.0").parse::<Schedule>().is_err());
}

#[test]
fn a_stale_schedule_diverges_deterministically() {
    let mut r = Replay::new("v1:7x3".parse().unwrap());
    let k = Kernel::new(Config {
        leak_check: false,
        ..Config::default()
    });
    k.run(&mut r, racy);
    assert!(r.diverged().is_some());
    assert_eq!(k.schedule(), run(&mut ThreadOrder).schedule());
}

#[test]
fn steps_expose_thread_object_and_access_kind() {
    let k = run(&mut ThreadOrder);
    let steps = k.steps();
    assert_eq!(steps[0].access.kind, AccessKind::Begin);
    assert!(steps
        .iter()
        .any(|s| s.access.kind == AccessKind::Lock && s.tid == Tid(1)));
    assert!(steps
        .iter()
        .any(|s| s.access.kind == AccessKind::RefPut && s.tid == Tid(2)));
    // The second lock of bridge_lock waited for the first unlock.
    let unlock = steps
        .iter()
        .position(|s| s.access.kind == AccessKind::Unlock)
        .unwrap() as u32;
    let second_lock = steps
        .iter()
        .filter(|s| s.access.kind == AccessKind::Lock)
        .nth(1)
        .unwrap();
    assert_eq!(second_lock.sync_with, vec![unlock]);
    // Refcount gets commute, a put does not.
    let r = ObjId(9);
    let get = Access::new(r, AccessKind::RefGet);
    let put = Access::new(r, AccessKind::RefPut);
    assert!(!get.dependent(&get));
    assert!(get.dependent(&put) && put.dependent(&put));
    assert!(!Access::new(r, AccessKind::Read).dependent(&Access::new(r, AccessKind::Read)));
    assert!(!Access::new(r, AccessKind::Unlock).dependent(&Access::new(r, AccessKind::Lock)));
}

/// A free conflicts with another free of its object (which one reports the double free), and
/// with nothing else: not a read or a write of any part, not another object's free.
#[test]
fn a_free_commutes_with_everything_but_another_free() {
    let (o, p) = (ObjId(3), ObjId(4));
    let free = Access::new(o, AccessKind::Free);
    assert!(free.dependent(&free));
    assert!(!free.dependent(&Access::new(p, AccessKind::Free)));
    let part = kmodel::Field::named("drm_bridge.unplugged");
    for kind in [AccessKind::Read, AccessKind::Write] {
        for a in [Access::new(o, kind), Access::to_field(o, kind, part)] {
            assert!(!free.dependent(&a) && !a.dependent(&free), "{a:?}");
            assert!(!free.dependent_at(&a, kmodel::Granularity::Object));
        }
    }
    // kfree's step is a Free; a second one is a double free whose report says so.
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, |k| {
        let x = k.kzalloc("u32", "x", 0u32);
        k.kfree(x);
        k.kfree(x);
    });
    let steps = k.steps();
    assert_eq!(
        steps
            .iter()
            .filter(|s| s.access.kind == AccessKind::Free)
            .count(),
        2
    );
    let v = k.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].kind, kmodel::ViolationKind::DoubleFree);
    assert_eq!(v[0].access, Some(AccessKind::Free));
}
