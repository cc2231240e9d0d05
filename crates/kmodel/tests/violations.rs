//! Every violation kind: one test plants the bug and asserts the report (kind, object, and the
//! steps of the allocation, free and access), one runs the correct code and asserts silence.

use kmodel::device::{DeviceId, DeviceInfo, Driver};
use kmodel::hw::HwKind;
use kmodel::report::Violation;
use kmodel::*;

/// Follow a script of thread choices while they are enabled, then go on in thread order.
struct Script(Vec<u32>, usize);

impl Scheduler for Script {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        if let Some(&t) = self.0.get(self.1) {
            if view.is_enabled(Tid(t)) {
                self.1 += 1;
                return Some(Tid(t));
            }
        }
        ThreadOrder.choose(view)
    }
}

fn run(sched: &mut dyn Scheduler, body: impl FnOnce(&Kernel) + 'static) -> Kernel {
    let k = Kernel::new(Config::default());
    k.run(sched, body);
    k
}

fn kinds(k: &Kernel) -> Vec<ViolationKind> {
    k.violations().iter().map(|v| v.kind).collect()
}

fn only(k: &Kernel, kind: ViolationKind) -> Violation {
    let vs = k.violations();
    assert_eq!(
        kinds(k),
        vec![kind],
        "reports: {:#?}",
        vs.iter().map(|v| k.render(v)).collect::<Vec<_>>()
    );
    vs[0].clone()
}

/// The step of the first event matching `f`.
fn step_of(k: &Kernel, f: impl Fn(&trace::Event) -> bool) -> u32 {
    k.trace()
        .events
        .iter()
        .find(|e| f(e))
        .map(|e| e.step())
        .expect("event not found")
}

#[test]
fn use_after_free_is_reported_with_alloc_free_and_access_sites() {
    let k = run(&mut ThreadOrder, |k| {
        let o = k.kzalloc("struct foo", "foo0", 7u32);
        let t = k.spawn("freer", move |k| {
            let _f = k.func("foo_release");
            k.kfree(o);
        });
        k.join(t);
        let _f = k.func("foo_show");
        assert_eq!(
            k.read(o, |v| *v),
            7,
            "the stale value is still readable (quarantine)"
        );
    });
    let v = only(&k, ViolationKind::UseAfterFree);
    let alloc = step_of(&k, |e| matches!(e, trace::Event::Alloc { .. }));
    let free = step_of(&k, |e| matches!(e, trace::Event::Free { .. }));
    assert!(alloc < free && free < v.site.step);
    assert_eq!(v.access, Some(AccessKind::Read));
    assert_eq!(k.describe(v.obj.unwrap()), "struct foo foo0");
    let r = k.render(&v);
    assert!(
        r.contains("BUG: KASAN: slab-use-after-free in foo_show"),
        "{r}"
    );
    let id = v.obj.unwrap();
    assert!(
        r.contains(&format!(
            "Read of struct foo foo0 ({id}) by thread init (T0) at step {}:",
            v.site.step
        )),
        "{r}"
    );
    assert!(
        r.contains(&format!("Allocated by thread init (T0) at step {alloc}:")),
        "{r}"
    );
    assert!(
        r.contains(&format!(
            "Freed by thread freer (T1) at step {free}:\n  kfree\n  foo_release"
        )),
        "{r}"
    );
}

#[test]
fn access_before_free_is_silent() {
    let k = run(&mut ThreadOrder, |k| {
        let o = k.kzalloc("struct foo", "foo0", 7u32);
        k.write(o, |v| *v += 1);
        assert_eq!(k.read(o, |v| *v), 8);
        k.kfree(o);
    });
    assert!(k.violations().is_empty());
}

#[test]
fn double_free_is_reported() {
    let k = run(&mut ThreadOrder, |k| {
        let o = k.kzalloc("struct foo", "foo0", ());
        k.kfree(o);
        k.kfree(o);
    });
    let v = only(&k, ViolationKind::DoubleFree);
    let r = k.render(&v);
    assert!(
        r.starts_with("==") && r.contains("BUG: KASAN: double-free in kfree"),
        "{r}"
    );
    assert!(r.contains("Freed by thread init (T0)"), "{r}");
}

fn counted(k: &Kernel) -> (Obj<u32>, kref::Kref) {
    let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
    let r = k.kref_init(o.id(), "devres of dev0");
    (o, r)
}

#[test]
fn get_on_zero_is_addition_on_zero() {
    let k = run(&mut ThreadOrder, |k| {
        let (o, r) = counted(k);
        assert!(k.kref_put(r, "devres of dev0", move |k| k.kfree(o)));
        k.kref_get(r, "consumer");
    });
    let v = only(&k, ViolationKind::RefcountAddOnZero);
    let r = k.render(&v);
    assert!(
        r.contains("refcount_t: addition on 0; use-after-free."),
        "{r}"
    );
    assert!(
        r.contains("Last reference operations on the object:"),
        "{r}"
    );
    assert!(r.contains("put   -> 0 owner \"devres of dev0\""), "{r}");
}

#[test]
fn put_below_zero_is_underflow_and_saturates() {
    let k = run(&mut ThreadOrder, |k| {
        let (o, r) = counted(k);
        k.kref_put(r, "devres of dev0", move |k| k.kfree(o));
        assert!(!k.kref_put(r, "devres of dev0", |_| unreachable!("released twice")));
        k.kref_put(r, "devres of dev0", |_| {
            unreachable!("saturated counts never release")
        });
    });
    let v = only(&k, ViolationKind::RefcountUnderflow);
    assert!(k
        .render(&v)
        .contains("refcount_t: underflow; use-after-free."));
}

#[test]
fn put_of_a_reference_not_held_is_reported_and_still_decrements() {
    let k = run(&mut ThreadOrder, |k| {
        let (o, r) = counted(k);
        k.kref_get(r, "published");
        k.kref_put(r, "chain of encoder-0", |_| ());
        assert_eq!(k.kref_peek(r), 1);
        k.kref_put(r, "published", move |k| k.kfree(o));
    });
    let v = only(&k, ViolationKind::RefNotHeld);
    assert!(
        v.message.contains("\"chain of encoder-0\""),
        "{}",
        v.message
    );
    assert!(
        v.details
            .iter()
            .any(|d| d.contains("devres of dev0") && d.contains("published")),
        "{:?}",
        v.details
    );
}

#[test]
fn balanced_gets_and_puts_are_silent_and_release_runs_in_the_putter() {
    let k = run(&mut ThreadOrder, |k| {
        let (o, r) = counted(k);
        k.kref_get(r, "published");
        let t = k.spawn("remover", move |k| {
            assert!(!k.kref_put(r, "published", |_| unreachable!()));
        });
        k.join(t);
        let freer = k.spawn("last-put", move |k| {
            let me = k.current();
            assert!(k.kref_put(r, "devres of dev0", move |k| {
                assert_eq!(k.current(), me, "release runs in the putter's thread");
                k.kfree(o)
            }));
        });
        k.join(freer);
    });
    assert!(k.violations().is_empty(), "{:?}", kinds(&k));
}

#[test]
fn leak_report_names_the_holders() {
    let k = run(&mut ThreadOrder, |k| {
        let (_o, r) = counted(k);
        k.kref_get(r, "next_bridge of sn65dsi84");
        k.kref_put(r, "devres of dev0", |_| ());
    });
    let v = only(&k, ViolationKind::Leak);
    assert_eq!(leak_count(&v.message), Some(1));
    assert_eq!(v.details[0], "1 x struct drm_bridge b0 still allocated:");
    assert!(
        v.details[1].ends_with("; held by: next_bridge of sn65dsi84"),
        "{:?}",
        v.details
    );
    assert!(k
        .render(&v)
        .contains("kmemleak: unreferenced object struct drm_bridge b0"));
}

/// Objects of one type and name are one leak with their count, each object listed with its
/// holders and the owners summed: three allocations on one device's devres, one of them
/// also held by a consumer. An object of another name is its own leak; a freed one is none.
#[test]
fn leaks_of_one_type_and_name_are_counted_with_their_owners() {
    let k = run(&mut ThreadOrder, |k| {
        for i in 0..3 {
            let o = k.kzalloc("struct panel_bridge", "panel_bridge /panel", 0u32);
            let r = k.kref_init(o.id(), "devres of /panel");
            if i == 0 {
                k.kref_get(r, "consumer");
            }
        }
        let other = k.kzalloc("struct panel_bridge", "panel_bridge /panel2", 0u32);
        k.kref_init(other.id(), "devres of /panel2");
        let freed = k.kzalloc("struct panel_bridge", "panel_bridge /panel", 0u32);
        k.kfree(freed);
    });
    let leaks: Vec<Violation> = k
        .violations()
        .into_iter()
        .filter(|v| v.kind == ViolationKind::Leak)
        .collect();
    assert_eq!(leaks.len(), 2, "{leaks:?}");
    let counts: Vec<Option<usize>> = leaks.iter().map(|v| leak_count(&v.message)).collect();
    assert_eq!(counts, [Some(3), Some(1)]);
    let d = &leaks[0].details;
    assert_eq!(
        d[0],
        "3 x struct panel_bridge panel_bridge /panel still allocated:"
    );
    assert_eq!(d.len(), 5, "{d:?}");
    assert!(
        d[1].ends_with("held by: devres of /panel, consumer"),
        "{d:?}"
    );
    assert!(
        d[2..4]
            .iter()
            .all(|l| l.ends_with("held by: devres of /panel")),
        "{d:?}"
    );
    assert_eq!(d[4], "references by owner: devres of /panel (x3), consumer");
    assert!(k
        .render(&leaks[0])
        .contains("kmemleak: 3 unreferenced objects like struct panel_bridge panel_bridge /panel"));
}

#[test]
fn leak_count_reads_only_leak_messages() {
    assert_eq!(leak_count(&leak_message(7)), Some(7));
    assert_eq!(leak_count(&leak_message(1)), Some(1));
    assert_eq!(leak_count("7 objects freed twice"), None);
    assert_eq!(leak_count("double free"), None);
}

#[test]
fn lock_inversion_is_reported_without_a_deadlock() {
    let k = run(&mut ThreadOrder, |k| {
        let a = k.mutex_init("bridge_lock");
        let b = k.mutex_init("&encoder->bridge_chain_mutex");
        let t1 = k.spawn("probe", move |k| {
            k.mutex_lock(a);
            let _f = k.func("drm_bridge_chain_mode_valid");
            k.mutex_lock(b);
            k.mutex_unlock(b);
            k.mutex_unlock(a);
        });
        k.join(t1);
        let t2 = k.spawn("cleanup", move |k| {
            k.mutex_lock(b);
            let _f = k.func("drm_atomic_private_obj_fini");
            k.mutex_lock(a);
            k.mutex_unlock(a);
            k.mutex_unlock(b);
        });
        k.join(t2);
    });
    let v = only(&k, ViolationKind::LockInversion);
    let r = k.render(&v);
    assert!(
        r.contains("WARNING: possible circular locking dependency detected"),
        "{r}"
    );
    assert!(
        r.contains("trying to acquire bridge_lock while holding &encoder->bridge_chain_mutex"),
        "{r}"
    );
    assert!(r.contains("*** DEADLOCK ***"), "{r}");
    // Both acquisition stacks: this one (the violation's), and the earlier one of the chain.
    let lines: Vec<&str> = r.lines().collect();
    let at = |l: &str| lines.iter().position(|x| x.trim() == l);
    let here = at("trying to acquire bridge_lock while holding &encoder->bridge_chain_mutex");
    assert_eq!(
        here.map(|i| lines[i + 1].trim()),
        Some("drm_atomic_private_obj_fini"),
        "{r}"
    );
    let earlier = lines
        .iter()
        .position(|x| {
            x.contains(
                "-> &encoder->bridge_chain_mutex acquired while holding bridge_lock (thread T1",
            ) && x.ends_with("from:")
        })
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(
        lines[earlier + 1].trim(),
        "drm_bridge_chain_mode_valid",
        "{r}"
    );
}

#[test]
fn consistent_lock_order_is_silent() {
    let k = run(&mut RoundRobin, |k| {
        let a = k.mutex_init("a");
        let b = k.mutex_init("b");
        for name in ["t1", "t2"] {
            k.spawn(name, move |k| {
                k.mutex_lock(a);
                k.mutex_lock(b);
                k.mutex_unlock(b);
                k.mutex_unlock(a);
            });
        }
    });
    assert!(k.violations().is_empty(), "{:?}", kinds(&k));
}

#[test]
fn recursive_mutex_is_reported_then_deadlocks() {
    let k = run(&mut ThreadOrder, |k| {
        let a = k.mutex_init("hpd_mutex");
        k.mutex_lock(a);
        k.mutex_lock(a);
    });
    assert_eq!(
        kinds(&k),
        vec![ViolationKind::RecursiveLock, ViolationKind::Deadlock]
    );
}

#[test]
fn abba_deadlock_names_what_each_thread_waits_for() {
    // init: begin, spawn, spawn; t1: begin, lock(a); t2: begin, lock(b); then each blocks.
    let k = run(&mut Script(vec![0, 0, 0, 1, 1, 2, 2], 0), |k| {
        let a = k.mutex_init("a");
        let b = k.mutex_init("b");
        k.spawn("t1", move |k| {
            k.mutex_lock(a);
            k.mutex_lock(b);
        });
        k.spawn("t2", move |k| {
            k.mutex_lock(b);
            k.mutex_lock(a);
        });
    });
    assert_eq!(
        kinds(&k),
        vec![ViolationKind::LockInversion, ViolationKind::Deadlock]
    );
    let d = &k.violations()[1];
    assert_eq!(
        d.details,
        vec![
            "t1 (T1) blocked in mutex_lock(b), held by t2 (T2)".to_string(),
            "t2 (T2) blocked in mutex_lock(a), held by t1 (T1)".to_string()
        ]
    );
}

#[test]
fn synchronize_srcu_waits_for_earlier_readers_only() {
    let k = run(&mut RoundRobin, |k| {
        let s = k.init_srcu_struct("drm_bridge_unplug_srcu");
        let log = k.kzalloc("log", "log", Vec::<&'static str>::new());
        // Round robin: the reader enters, unplug snapshots it, then the late reader enters
        // and stays inside past the moment synchronize_srcu returns.
        k.spawn("reader", move |k| {
            let idx = k.srcu_read_lock(s);
            k.write(log, |l| l.push("reader in"));
            k.write(log, |l| l.push("reader busy"));
            k.write(log, |l| l.push("reader out"));
            k.srcu_read_unlock(s, idx);
        });
        k.spawn("unplug", move |k| {
            k.write(log, |l| l.push("unplug"));
            k.synchronize_srcu(s);
            k.write(log, |l| l.push("synchronized"));
        });
        k.spawn("late-reader", move |k| {
            k.write(log, |l| l.push("late"));
            let idx = k.srcu_read_lock(s);
            for _ in 0..6 {
                k.write(log, |l| l.push("late busy"));
            }
            k.write(log, |l| l.push("late out"));
            k.srcu_read_unlock(s, idx);
        });
        k.join(Tid(1));
        k.join(Tid(2));
        k.join(Tid(3));
        let l = k.read(log, |l| l.clone());
        let pos = |s: &str| l.iter().position(|x| *x == s).unwrap();
        assert!(pos("reader out") < pos("synchronized"), "{l:?}");
        assert!(pos("unplug") < pos("late busy"), "{l:?}");
        assert!(
            pos("synchronized") < pos("late out"),
            "did not wait for the late reader: {l:?}"
        );
        k.kfree(log);
    });
    assert!(k.violations().is_empty(), "{:?}", kinds(&k));
    let trace = k.trace();
    let waits = trace.events.iter().filter_map(|e| match e {
        trace::Event::Synchronize { waits_for, .. } => Some(waits_for.clone()),
        _ => None,
    });
    assert_eq!(
        waits.collect::<Vec<_>>(),
        vec![vec![0]],
        "waits for the first reader only"
    );
}

#[test]
fn synchronize_inside_own_read_section_is_reported() {
    let k = run(&mut ThreadOrder, |k| {
        let s = k.init_srcu_struct("srcu");
        let _idx = k.srcu_read_lock(s);
        k.synchronize_srcu(s);
    });
    assert_eq!(
        kinds(&k),
        vec![ViolationKind::RecursiveLock, ViolationKind::Deadlock]
    );
}

#[test]
fn srcu_mutex_inversion_is_reported() {
    let k = run(&mut ThreadOrder, |k| {
        let s = k.init_srcu_struct("srcu");
        let m = k.mutex_init("m");
        let idx = k.srcu_read_lock(s);
        k.mutex_lock(m);
        k.mutex_unlock(m);
        k.srcu_read_unlock(s, idx);
        k.mutex_lock(m);
        k.synchronize_srcu(s);
        k.mutex_unlock(m);
    });
    assert_eq!(kinds(&k), vec![ViolationKind::LockInversion]);
}

#[test]
fn list_corruption_is_reported() {
    let k = run(&mut ThreadOrder, |k| {
        let head = k.list_head_init("bridge_list");
        let other = k.list_head_init("bridge_lingering_list");
        let o = k.kzalloc("struct drm_bridge", "b0", ());
        let n = k.list_node(o);
        k.list_del(n); // zeroed: never initialised
        k.init_list_head(o, n);
        k.list_add_tail(n, head);
        k.list_add_tail(n, other); // still on bridge_list
        k.list_del(n);
        k.list_del(n); // poisoned
        k.kfree(o);
    });
    let msgs: Vec<String> = k.violations().iter().map(|v| v.message.clone()).collect();
    assert_eq!(
        kinds(&k),
        vec![ViolationKind::ListCorruption; 3],
        "{msgs:?}"
    );
    assert!(msgs[0].contains("NULL"));
    assert!(msgs[1].contains("list_add corruption: entry is still on list bridge_list"));
    assert!(msgs[2].contains("LIST_POISON1"));
}

#[test]
fn list_usage_by_the_rules_is_silent() {
    let k = run(&mut ThreadOrder, |k| {
        let head = k.list_head_init("bridge_list");
        let lingering = k.list_head_init("bridge_lingering_list");
        let o = k.kzalloc("struct drm_bridge", "b0", ());
        let n = k.list_node(o);
        k.init_list_head(o, n);
        k.list_del(n); // harmless on a self-linked node
        k.init_list_head(o, n);
        k.list_add_tail(n, head);
        k.list_move_tail(n, lingering);
        k.list_del_init(n);
        assert!(k.list_node_empty(o, n));
        assert!(k.list_entries(head).is_empty() && k.list_entries(lingering).is_empty());
        k.kfree(o);
    });
    assert!(k.violations().is_empty(), "{:?}", kinds(&k));
}

#[test]
fn list_walk_without_references_hits_a_freed_entry() {
    let k = run(&mut ThreadOrder, |k| {
        let head = k.list_head_init("bridge_list");
        let a = k.kzalloc("struct drm_bridge", "a", ());
        let b = k.kzalloc("struct drm_bridge", "b", ());
        let (na, nb) = (k.list_node(a), k.list_node(b));
        k.init_list_head(a, na);
        k.init_list_head(b, nb);
        k.list_add_tail(na, head);
        k.list_add_tail(nb, head);
        let first = k.list_first(head).unwrap();
        assert_eq!(first, na);
        // Another path removes and frees the entry the walker stands on.
        k.list_del(na);
        k.kfree(a);
        assert_eq!(k.list_next(head, a, na), None);
        k.list_del(nb);
        k.kfree(b);
    });
    let ks = kinds(&k);
    assert_eq!(
        ks,
        vec![ViolationKind::UseAfterFree, ViolationKind::ListCorruption],
        "{ks:?}"
    );
}

struct Simple;
impl Driver for Simple {
    fn name(&self) -> &'static str {
        "simple"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["test,simple"]
    }
    fn probe(&self, _k: &Kernel, _dev: DeviceId) -> Result<(), Errno> {
        Ok(())
    }
}

fn bound_device(k: &Kernel) -> DeviceId {
    let bus = k.bus_register("platform");
    k.driver_register(bus, std::rc::Rc::new(Simple));
    k.device_add(
        bus,
        DeviceInfo {
            name: "hpd".into(),
            compatible: vec!["test,simple".into()],
            ..Default::default()
        },
    )
}

#[test]
fn hardware_access_after_unbind_and_double_release_are_reported() {
    let k = run(&mut ThreadOrder, |k| {
        let dev = bound_device(k);
        let irq = k.devm_hw_get(dev, HwKind::Irq, "hpd-irq");
        let reg = k.devm_hw_get(dev, HwKind::Regulator, "vcc");
        k.hw_enable(reg);
        k.hw_disable(reg);
        k.hw_disable(reg);
        k.device_release_driver(dev);
        k.hw_access(irq, "handle HPD interrupt");
        k.device_del(dev);
    });
    assert_eq!(
        kinds(&k),
        vec![ViolationKind::DoubleRelease, ViolationKind::HwAfterUnplug]
    );
    let r = k.render(&k.violations()[1]);
    assert!(r.contains("BUG: hardware access after unplug"), "{r}");
    assert!(
        r.contains("handle HPD interrupt after its device was unbound"),
        "{r}"
    );
}

#[test]
fn hardware_access_while_bound_is_silent() {
    let k = run(&mut ThreadOrder, |k| {
        let dev = bound_device(k);
        let reg = k.devm_hw_get(dev, HwKind::Regulator, "vcc");
        k.hw_enable(reg);
        k.hw_access(reg, "set voltage");
        k.hw_disable(reg);
        k.device_del(dev);
    });
    assert!(k.violations().is_empty(), "{:?}", kinds(&k));
}

#[test]
fn hardware_marked_gone_is_reported() {
    let k = run(&mut ThreadOrder, |k| {
        let dev = bound_device(k);
        let i2c = k.devm_hw_get(dev, HwKind::I2c, "regmap");
        k.hw_mark_gone(dev);
        k.hw_access(i2c, "regmap_write");
        k.device_del(dev);
    });
    let v = only(&k, ViolationKind::HwAfterUnplug);
    assert!(v.message.contains("after the hardware was unplugged"));
}

#[test]
fn devm_release_action_of_a_missing_action_warns() {
    let k = run(&mut ThreadOrder, |k| {
        let dev = bound_device(k);
        k.devm_add_action(dev, "drm_bridge_put_void", 1, |_| ())
            .unwrap();
        k.devm_release_action(dev, "drm_bridge_put_void", 1);
        k.devm_release_action(dev, "drm_bridge_put_void", 1);
        k.device_del(dev);
    });
    let v = only(&k, ViolationKind::Warn);
    assert!(
        v.message
            .contains("no devres action drm_bridge_put_void on hpd"),
        "{}",
        v.message
    );
}

/// A read section that is never left (failure mode 5.19): the deadlock report of the
/// synchronize_srcu waiting for it names the section's owner, the step it was entered at and
/// the call path it was entered from; a section that is left lets the same program finish.
#[test]
fn a_section_never_left_is_named_in_the_deadlock_report() {
    for leave in [false, true] {
        let k = run(&mut ThreadOrder, move |k| {
            let s = k.init_srcu_struct("drm_bridge_unplug_srcu");
            let w = k.spawn("kworker", move |k| {
                let _f = k.func("sn65dsi83_reset_work");
                let _g = k.func("drm_bridge_enter");
                let idx = k.srcu_read_lock(s);
                if leave {
                    k.srcu_read_unlock(s, idx);
                }
            });
            k.join(w);
            let _f = k.func("drm_bridge_unplug");
            k.synchronize_srcu(s);
        });
        if leave {
            assert_eq!(kinds(&k), vec![], "a section that is left");
            continue;
        }
        let v = only(&k, ViolationKind::Deadlock);
        let entered = step_of(&k, |e| matches!(e, trace::Event::SrcuReadLock { .. }));
        assert_eq!(
            v.details[0],
            "init (T0) blocked in synchronize_srcu(drm_bridge_unplug_srcu)"
        );
        assert_eq!(
            v.details[1],
            format!(
                "open read section of drm_bridge_unplug_srcu entered by kworker (T1) at step \
                 {entered} (the thread has exited), from:"
            )
        );
        assert_eq!(
            &v.details[2..],
            ["  drm_bridge_enter", "  sn65dsi83_reset_work"]
        );
    }
}

/// Runs `init` in thread order, except that once it is about to store (its list write after
/// its list read) every other thread goes first.
struct BetweenLoadsAndStores;

impl Scheduler for BetweenLoadsAndStores {
    fn choose(&mut self, view: &SchedView<'_>) -> Option<Tid> {
        let enabled: Vec<(Tid, Access)> = view.enabled().collect();
        let init_stores = enabled
            .iter()
            .any(|(t, a)| t.0 == 0 && a.kind == AccessKind::ListWrite);
        let other = enabled.iter().find(|(t, _)| t.0 != 0).map(|(t, _)| *t);
        match (init_stores, other) {
            (true, Some(t)) => Some(t),
            _ => enabled.first().map(|(t, _)| *t),
        }
    }
}

/// An unlocked `list_del_init` (drm_bridge_add's on the lingering list, failure mode 5.4)
/// racing a locked append after it: when the append lands between its loads and stores the
/// list is corrupted; in thread order (no overlap) the same program is clean.
#[test]
fn unlocked_list_del_init_racing_an_append_is_corruption() {
    for overlap in [false, true] {
        let body = |k: &Kernel| {
            let head = k.list_head_init("bridge_lingering_list");
            let lock = k.mutex_init("bridge_lock");
            let a = k.kzalloc("struct drm_bridge", "a", ());
            let na = k.list_node(a);
            k.init_list_head(a, na);
            k.list_add_tail(na, head);
            let b = k.kzalloc("struct drm_bridge", "b", ());
            let nb = k.list_node(b);
            k.init_list_head(b, nb);
            let t = k.spawn("remove", move |k| {
                k.mutex_lock(lock);
                k.list_add_tail(nb, head);
                k.mutex_unlock(lock);
            });
            k.list_del_init_unlocked(na);
            k.join(t);
        };
        let k = if overlap {
            run(&mut BetweenLoadsAndStores, body)
        } else {
            run(&mut ThreadOrder, body)
        };
        let corrupt = kinds(&k).contains(&ViolationKind::ListCorruption);
        assert_eq!(corrupt, overlap, "{:?}", kinds(&k));
    }
}
