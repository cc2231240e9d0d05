//! The behaviour tests upstream.md §7 lists for an independent model, plus the WARN-level
//! checks. Each states the reference deltas it expects.

use crate::common;

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;

use common::*;
use drm::bridge::*;
use drm::drv::drm_dev_put;
use drm::encoder::drm_encoder_cleanup;
use drm::{Release, Rules};
use kmodel::of::NodeId;
use kmodel::{Errno, Kernel, Obj, ViolationKind};

fn debugfs(k: &Kernel) -> String {
    drm_bridge_debugfs_show(k).unwrap_or_default()
}

/// add: +1 "published", on bridge_list; remove: −1, on the lingering list (v6.19+).
#[test]
fn add_remove_moves_between_lists_with_plus_minus_one() {
    for rel in [Release::V6_19, Release::V7_0, Release::V7_2] {
        let k = run(rel, |k| {
            let dev = bare_device(k, "dev");
            let tb = alloc(k, dev, "A", &new_log());
            let b = tb.bridge;
            drm_bridge_get(k, Some(b), "test"); // keep it past device_del
            assert_eq!(drm_bridge_refcount(k, b), 2);
            drm_bridge_add(k, b);
            assert_eq!(drm_bridge_refcount(k, b), 3);
            assert_eq!(owners(k, b), ["devres of dev", "published", "test"]);
            assert_eq!(debugfs(k), "bridge[0]: A\n\trefcount: 3\n");
            drm_bridge_remove(k, b);
            assert_eq!(drm_bridge_refcount(k, b), 2);
            assert_eq!(owners(k, b), ["devres of dev", "test"]);
            assert_eq!(debugfs(k), "bridge[0]: A [lingering]\n\trefcount: 2\n");
            k.device_del(dev);
            assert_eq!(debugfs(k), "bridge[0]: A [lingering]\n\trefcount: 1\n");
            drm_bridge_put(k, b, "test");
            assert!(tb.destroyed.get());
            assert_eq!(debugfs(k), "");
        });
        assert_clean(&k);
    }
}

/// Before v6.19 remove unlinks (no lingering list, no lingering section in debugfs).
#[test]
fn v6_17_remove_unlinks_without_lingering() {
    let k = run(Release::V6_17, |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        drm_bridge_add(k, b);
        drm_bridge_remove(k, b);
        assert_eq!(debugfs(k), "");
        assert_eq!(drm_bridge_refcount(k, b), 1);
        k.device_del(dev);
    });
    assert_clean(&k);
    let k = run(Release::V6_15, |k| {
        assert_eq!(drm_bridge_debugfs_show(k), None)
    });
    assert_clean(&k);
}

/// Re-adding a removed, still-allocated bridge (§5.4): ±0 over a cycle, lists consistent.
#[test]
fn re_add_after_remove_keeps_lists_consistent() {
    for rel in [Release::V6_17, Release::V6_19, Release::V7_2] {
        let k = run(rel, |k| {
            let dev = bare_device(k, "dev");
            let b = alloc(k, dev, "dsim", &new_log()).bridge;
            for _ in 0..3 {
                drm_bridge_add(k, b);
                assert_eq!(drm_bridge_refcount(k, b), 2);
                drm_bridge_remove(k, b);
                assert_eq!(drm_bridge_refcount(k, b), 1);
            }
            drm_bridge_add(k, b);
            assert_eq!(debugfs(k), "bridge[0]: dsim\n\trefcount: 2\n");
            drm_bridge_remove(k, b);
            k.device_del(dev);
            assert!(k.is_freed(b.obj()));
        });
        assert_clean(&k);
    }
}

/// A bridge freed without ever being added (§5.3): `list_del` on the self-linked node is
/// harmless, and `.destroy` runs.
#[test]
fn freed_without_add_is_clean_and_destroyed() {
    let k = run(Release::V7_2, |k| {
        let dev = bare_device(k, "dev");
        let tb = alloc(k, dev, "A", &new_log());
        k.device_del(dev); // 1 -> 0
        assert!(tb.destroyed.get());
    });
    assert_clean(&k);
}

/// When the devres action cannot be registered it runs at once: 1 -> 0, `.destroy`, -ENOMEM.
#[test]
fn alloc_devres_failure_frees_at_once() {
    let k = run(Release::V7_2, |k| {
        let dev = bare_device(k, "dev");
        let log = new_log();
        let destroyed = Rc::new(Cell::new(false));
        let funcs = Rc::new(TestFuncs {
            log: log.clone(),
            destroyed: destroyed.clone(),
            attach_err: None,
        });
        k.devres_inject_enomem(dev);
        let r = devm_drm_bridge_alloc(k, dev, "struct drm_bridge_priv", "A", Some(funcs), ());
        assert_eq!(r.err(), Some(Errno::ENOMEM));
        assert!(destroyed.get());
        let r = devm_drm_bridge_alloc::<()>(k, dev, "struct drm_bridge_priv", "B", None, ());
        assert_eq!(r.err(), Some(Errno::EINVAL));
        k.device_del(dev);
    });
    assert_clean(&k);
}

/// Every attach error path is refcount-neutral and leaves the bridge detached.
#[test]
fn attach_error_paths_are_refcount_neutral() {
    for rel in [Release::V6_17, Release::V7_0, Release::V7_2] {
        let k = run(rel, |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let log = new_log();
            let a = alloc(k, dev, "A", &log).bridge;
            let b = alloc(k, dev, "B", &log).bridge;
            let bad = alloc_with(k, dev, "C", &log, Some(Errno::EPROBE_DEFER)).bridge;
            for x in [a, b, bad] {
                drm_bridge_add(k, x);
            }
            // NULL encoder or bridge.
            assert_eq!(
                drm_bridge_attach(k, None, Some(a), None, 0),
                Err(Errno::EINVAL)
            );
            assert_eq!(
                drm_bridge_attach(k, Some(enc), None, None, 0),
                Err(Errno::EINVAL)
            );
            // `previous` not attached to this encoder.
            assert_eq!(
                drm_bridge_attach(k, Some(enc), Some(a), Some(b), 0),
                Err(Errno::EINVAL)
            );
            assert_eq!(drm_bridge_refcount(k, a), 2);
            // Already attached: -EBUSY.
            drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
            assert_eq!(drm_bridge_refcount(k, a), 3);
            assert_eq!(
                drm_bridge_attach(k, Some(enc), Some(a), None, 0),
                Err(Errno::EBUSY)
            );
            assert_eq!(drm_bridge_refcount(k, a), 3);
            // `.attach` fails: unlinked again, ±0.
            assert_eq!(
                drm_bridge_attach(k, Some(enc), Some(bad), Some(a), 0),
                Err(Errno::EPROBE_DEFER)
            );
            assert_eq!(drm_bridge_refcount(k, bad), 2);
            assert_eq!(owners(k, bad), ["devres of dev", "published"]);
            assert_eq!(drm_bridge_chain_get_last_bridge(k, enc, "t"), Some(a));
            if drm::rules(k).next_last_bridge_counted {
                drm_bridge_put(k, a, "t");
            }
            assert_eq!(drm_bridge_chain_get_first_bridge(k, enc, "t"), Some(a));
            if drm::rules(k).first_bridge_counted {
                drm_bridge_put(k, a, "t");
            }
            for x in [a, b, bad] {
                drm_bridge_remove(k, x);
            }
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        });
        assert_clean(&k);
    }
}

/// Detach (from encoder cleanup) runs `.detach` and puts the chain reference (−1).
#[test]
fn detach_puts_the_chain_reference() {
    let log = new_log();
    let l = log.clone();
    let k = run(Release::V7_0, move |k| {
        let dev = bare_device(k, "dev");
        let (drm, enc) = drm_with_encoder(k, dev);
        let a = alloc(k, dev, "A", &l).bridge;
        drm_bridge_add(k, a);
        drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
        assert_eq!(
            owners(k, a),
            ["chain of encoder-0", "devres of dev", "published"]
        );
        drm_encoder_cleanup(k, enc);
        assert_eq!(owners(k, a), ["devres of dev", "published"]);
        drm_bridge_detach(k, Some(a)); // not attached: WARN, ±0
        assert_eq!(drm_bridge_refcount(k, a), 2);
        drm_bridge_remove(k, a);
        drm_dev_put(k, drm, TEST);
        k.device_del(dev);
    });
    assert_eq!(kinds(&k), [ViolationKind::Warn]);
    assert!(k.violations()[0].message.contains("not attached"));
    assert_eq!(*log.borrow(), ["A:attach", "A:detach", "A:destroy"]);
}

fn chain3(
    k: &Kernel,
    log: &Log,
) -> (
    kmodel::device::DeviceId,
    drm::drv::DrmDevice,
    drm::encoder::DrmEncoder,
    [DrmBridge; 3],
) {
    let dev = bare_device(k, "dev");
    let (drm, enc) = drm_with_encoder(k, dev);
    let a = alloc(k, dev, "A", log).bridge;
    let b = alloc(k, dev, "B", log).bridge;
    let c = alloc(k, dev, "C", log).bridge;
    for x in [a, b, c] {
        drm_bridge_add(k, x);
    }
    drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
    drm_bridge_attach(k, Some(enc), Some(b), Some(a), 0).unwrap();
    drm_bridge_attach(k, Some(enc), Some(c), Some(b), 0).unwrap();
    (dev, drm, enc, [a, b, c])
}

fn teardown(
    k: &Kernel,
    dev: kmodel::device::DeviceId,
    drm: drm::drv::DrmDevice,
    bridges: &[DrmBridge],
) {
    for &x in bridges {
        drm_bridge_remove(k, x);
    }
    drm_dev_put(k, drm, TEST);
    k.device_del(dev);
}

/// The scoped loop holds +1 on its cursor only, balances on break, and ends on an empty
/// chain; v7.2 holds the chain mutex during the body.
#[test]
fn scoped_loop_balances_references() {
    for rel in [Release::V6_19, Release::V7_2] {
        let k = run(rel, move |k| {
            let log = new_log();
            let dev0 = bare_device(k, "dev0");
            let (drm0, empty) = drm_with_encoder(k, dev0);
            assert_eq!(
                drm_for_each_bridge_in_chain_scoped(k, empty, |_| ControlFlow::Break(())),
                None
            );
            let (dev, drm, enc, [a, b, c]) = chain3(k, &log);
            let base = [a, b, c].map(|x| drm_bridge_refcount(k, x));
            let mut seen = Vec::new();
            let held = rel >= Release::V7_2;
            let r = drm_for_each_bridge_in_chain_scoped(k, enc, |x| {
                seen.push(drm_bridge_name(k, x));
                assert_eq!(
                    k.lockdep_held().contains(&"&encoder->bridge_chain_mutex"),
                    held
                );
                let total: u32 = [a, b, c].iter().map(|&y| drm_bridge_refcount(k, y)).sum();
                assert_eq!(
                    total,
                    base.iter().sum::<u32>() + 1,
                    "exactly one cursor reference"
                );
                if x == b {
                    ControlFlow::Break(7)
                } else {
                    ControlFlow::Continue(())
                }
            });
            assert_eq!(r, Some(7));
            assert_eq!(seen, ["A", "B"]);
            assert_eq!([a, b, c].map(|x| drm_bridge_refcount(k, x)), base);
            assert!(k.lockdep_held().is_empty());
            // Full walk and `_from`.
            let mut n = 0;
            assert_eq!(
                drm_for_each_bridge_in_chain_scoped(k, enc, |_| {
                    n += 1;
                    ControlFlow::<()>::Continue(())
                }),
                None
            );
            assert_eq!(n, 3);
            let mut from = Vec::new();
            drm_for_each_bridge_in_chain_from(k, b, |x| {
                from.push(drm_bridge_name(k, x));
                ControlFlow::<()>::Continue(())
            });
            assert_eq!(from, ["B", "C"]);
            assert_eq!([a, b, c].map(|x| drm_bridge_refcount(k, x)), base);
            teardown(k, dev, drm, &[a, b, c]);
            drm_dev_put(k, drm0, TEST);
            k.device_del(dev0);
        });
        assert_clean(&k);
    }
}

/// next_bridge is put by the core right after `.destroy`; the put cascades in order.
#[test]
fn next_bridge_put_after_destroy_and_cascades() {
    let log = new_log();
    let l = log.clone();
    let k = run(Release::V7_0, move |k| {
        let dev = bare_device(k, "dev");
        let a = alloc(k, dev, "A", &l).bridge;
        let b = alloc(k, dev, "B", &l).bridge;
        let c = alloc(k, dev, "C", &l).bridge;
        let nb = drm_bridge_get(k, Some(b), "next_bridge of A");
        k.write(a.obj(), |x| x.next_bridge = nb);
        let nc = drm_bridge_get(k, Some(c), "next_bridge of B");
        k.write(b.obj(), |x| x.next_bridge = nc);
        assert_eq!(owners(k, b), ["devres of dev", "next_bridge of A"]);
        k.device_del(dev); // C: 2->1, B: 2->1, A: 1->0 -> B -> C
    });
    assert_clean(&k);
    assert_eq!(*log.borrow(), ["A:destroy", "B:destroy", "C:destroy"]);
}

/// Before v7.0 the core does not put next_bridge: the driver's reference leaks.
#[test]
fn v6_19_does_not_put_next_bridge() {
    let k = run(Release::V6_19, |k| {
        let dev = bare_device(k, "dev");
        let a = alloc(k, dev, "A", &new_log()).bridge;
        let b = alloc(k, dev, "B", &new_log()).bridge;
        let nb = drm_bridge_get(k, Some(b), "next_bridge of A");
        k.write(a.obj(), |x| x.next_bridge = nb);
        k.device_del(dev);
    });
    let leaks = of_kind(&k, ViolationKind::Leak);
    assert_eq!(leaks.len(), 1);
    assert!(leaks[0]
        .details
        .iter()
        .any(|d| d.contains("next_bridge of A")));
}

struct Holder {
    bridge: Option<DrmBridge>,
}

/// `.destroy` that records whether the holder's field was already cleared.
struct SeesHolder {
    holder: Rc<Cell<Option<Obj<Holder>>>>,
    seen: Rc<RefCell<Vec<bool>>>,
}

impl DrmBridgeFuncs for SeesHolder {
    fn destroy(&self, k: &Kernel, _b: DrmBridge) {
        let h = self.holder.get().unwrap();
        let cleared = k.read(h, |x| x.bridge.is_none());
        self.seen.borrow_mut().push(cleared);
    }
}

/// drm_bridge_clear_and_put clears the stored pointer before the (last) put (§5.9).
#[test]
fn clear_and_put_clears_before_the_put() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let k = run(Release::V7_1, move |k| {
        let dev = bare_device(k, "dev");
        let holder_cell = Rc::new(Cell::new(None));
        let funcs = Rc::new(SeesHolder {
            holder: holder_cell.clone(),
            seen: s,
        });
        let b = devm_drm_bridge_alloc(k, dev, "struct x", "B", Some(funcs.clone()), ()).unwrap();
        let h = k.kzalloc("struct holder", "holder", Holder { bridge: None });
        holder_cell.set(Some(h));
        let r = drm_bridge_get(k, Some(b), "holder");
        k.write(h, |x| x.bridge = r);
        k.device_del(dev); // 2 -> 1
        drm_bridge_clear_and_put(k, h, |x| &mut x.bridge, "holder"); // clear, then 1 -> 0
                                                                     // The open-coded put-then-clear: destroy still sees the stale pointer.
        let dev2 = bare_device(k, "dev2");
        let b2 = devm_drm_bridge_alloc(k, dev2, "struct x", "B2", Some(funcs), ()).unwrap();
        let r = drm_bridge_get(k, Some(b2), "holder");
        k.write(h, |x| x.bridge = r);
        k.device_del(dev2);
        drm_bridge_put(k, b2, "holder");
        k.write(h, |x| x.bridge = None);
        k.kfree(h);
    });
    assert_clean(&k);
    assert_eq!(*seen.borrow(), [true, false]);
}

/// of_drm_find_and_get_bridge finds only published bridges (+1 each time it finds one).
#[test]
fn find_and_get_finds_only_published() {
    let k = run(Release::V7_0, |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "B", &new_log()).bridge;
        k.write(b.obj(), |x| x.of_node = Some(NodeId::from_raw(5)));
        assert_eq!(
            of_drm_find_and_get_bridge(k, NodeId::from_raw(5), "consumer"),
            None
        );
        drm_bridge_add(k, b);
        assert_eq!(
            of_drm_find_and_get_bridge(k, NodeId::from_raw(6), "consumer"),
            None
        );
        assert_eq!(
            of_drm_find_and_get_bridge(k, NodeId::from_raw(5), "consumer"),
            Some(b)
        );
        assert_eq!(owners(k, b), ["consumer", "devres of dev", "published"]);
        // of_drm_find_bridge: borrowed (±0), via get+put from v7.0.
        assert_eq!(of_drm_find_bridge(k, NodeId::from_raw(5)), Some(b));
        assert_eq!(drm_bridge_refcount(k, b), 3);
        drm_bridge_remove(k, b);
        assert_eq!(
            of_drm_find_and_get_bridge(k, NodeId::from_raw(5), "consumer"),
            None
        );
        assert_eq!(
            of_drm_get_bridge_by_endpoint(k, None, "c"),
            Err(Errno::ENODEV)
        );
        assert_eq!(
            of_drm_get_bridge_by_endpoint(k, Some(NodeId::from_raw(5)), "c"),
            Err(Errno::EPROBE_DEFER)
        );
        drm_bridge_add(k, b);
        assert_eq!(
            of_drm_get_bridge_by_endpoint(k, Some(NodeId::from_raw(5)), "c"),
            Ok(b)
        );
        drm_bridge_put(k, b, "c");
        drm_bridge_remove(k, b);
        k.device_del(dev);
        drm_bridge_put(k, b, "consumer");
    });
    assert_clean(&k);
}

/// drm_bridge_put(NULL) is a no-op everywhere; drm_bridge_put(ERR_PTR) from v7.2 only.
#[test]
fn put_null_and_err_ptr() {
    let k = run(Release::V7_2, |k| {
        drm_bridge_put(k, None, "x");
        drm_bridge_put(k, Err::<DrmBridge, _>(Errno::EPROBE_DEFER), "x");
    });
    assert_clean(&k);
    let k = run(Release::V7_1, |k| {
        drm_bridge_put(k, None, "x");
        drm_bridge_put(k, Err::<DrmBridge, _>(Errno::ENODEV), "x");
    });
    assert_eq!(kinds(&k), [ViolationKind::Warn]);
    assert!(k.violations()[0].message.contains("ERR_PTR"));
}

/// drm_bridge_unplug waits for open enter/exit sections, makes new enters fail, and
/// removes once (−1 "published").
#[test]
fn unplug_waits_for_sections_fails_new_enters_and_removes_once() {
    let events = Rc::new(RefCell::new(Vec::<String>::new()));
    let ev = events.clone();
    let k = run_rr(Rules::for_release(Release::V7_0), move |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "B", &new_log()).bridge;
        drm_bridge_add(k, b);
        assert_eq!(drm_bridge_refcount(k, b), 2);
        let outer = drm_bridge_enter(k, b).expect("not unplugged yet");
        let returned = Rc::new(Cell::new(false));
        let r2 = returned.clone();
        let ev2 = ev.clone();
        let t = k.spawn("unplug", move |k| {
            drm_bridge_unplug(k, b);
            r2.set(true);
            ev2.borrow_mut().push("unplug returned".into());
        });
        // Spin on nested enters until the flag is seen.
        let mut spins = 0;
        while let Some(i) = drm_bridge_enter(k, b) {
            drm_bridge_exit(k, i);
            spins += 1;
            assert!(spins < 1000);
        }
        ev.borrow_mut().push("enter failed".into());
        for _ in 0..20 {
            drm_bridge_refcount(k, b);
            k.read(b.obj(), |_| ());
        }
        assert!(!returned.get(), "unplug returned while a section was open");
        ev.borrow_mut().push("exit".into());
        drm_bridge_exit(k, outer);
        k.join(t);
        assert!(returned.get());
        assert_eq!(drm_bridge_enter(k, b), None);
        assert_eq!(owners(k, b), ["devres of dev"]);
        k.device_del(dev);
    });
    assert_clean(&k);
    assert_eq!(
        *events.borrow(),
        ["enter failed", "exit", "unplug returned"]
    );
}

/// The WARN-level checks: attach without add (v6.19+), no container (add in v6.17–v6.18,
/// attach from v6.19), and a double remove.
#[test]
fn warnings_for_api_misuse() {
    // Attach without add: v6.19 warns, v6.18 does not; a lingering bridge passes (§5.12).
    for (rel, warns) in [(Release::V6_18, 0), (Release::V6_19, 1), (Release::V7_2, 1)] {
        let k = run(rel, |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let a = alloc(k, dev, "A", &new_log()).bridge;
            drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
            let b = alloc(k, dev, "B", &new_log()).bridge;
            drm_bridge_add(k, b);
            drm_bridge_remove(k, b);
            drm_bridge_attach(k, Some(enc), Some(b), Some(a), 0).unwrap();
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        });
        let w = of_kind(&k, ViolationKind::Warn);
        assert_eq!(w.len(), warns, "{rel}");
        assert!(w.iter().all(|v| v
            .message
            .contains("Missing drm_bridge_add() before attach (A)")));
        assert_eq!(k.violations().len(), warns);
    }
    // Double remove: WARN, then the published reference is put twice.
    let k = run(Release::V7_0, |k| {
        let dev = bare_device(k, "dev");
        let a = alloc(k, dev, "A", &new_log()).bridge;
        drm_bridge_get(k, Some(a), "test");
        drm_bridge_add(k, a);
        drm_bridge_remove(k, a);
        drm_bridge_remove(k, a);
        k.device_del(dev);
    });
    assert_eq!(
        kinds(&k)[..2],
        [ViolationKind::Warn, ViolationKind::RefNotHeld]
    );
    assert!(k.violations()[0].message.contains("double remove"));
}

struct Legacy;
impl DrmBridgeFuncs for Legacy {}

fn legacy_run(rel: Release) -> Kernel {
    run(rel, |k| {
        let dev = bare_device(k, "dev");
        let (drm, enc) = drm_with_encoder(k, dev);
        let b = devm_drm_bridge_alloc_legacy(k, dev, "struct imx_pd", "pd", Rc::new(Legacy), ())
            .unwrap();
        drm_bridge_add(k, b);
        drm_bridge_attach(k, Some(enc), Some(b), None, 0).unwrap();
        drm_dev_put(k, drm, TEST);
        drm_bridge_remove(k, b);
        k.device_del(dev);
    })
}

/// A bridge with no container (§5.2): fine before refcounting; v6.17 warns in add and hits
/// "refcount_t: addition on 0"; v6.19 warns in attach instead.
#[test]
fn legacy_bridge_without_container() {
    assert_clean(&legacy_run(Release::V6_15));
    assert_clean(&legacy_run(Release::V6_16));
    let k = legacy_run(Release::V6_17);
    let ks = kinds(&k);
    assert_eq!(
        ks[..2],
        [ViolationKind::Warn, ViolationKind::RefcountAddOnZero]
    );
    assert!(k.violations()[0].message.contains("drm_bridge_add"));
    assert!(k
        .render(&k.violations()[1])
        .contains("refcount_t: addition on 0; use-after-free."));
    let k = legacy_run(Release::V6_19);
    let w = of_kind(&k, ViolationKind::Warn);
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("drm_bridge_attach"));
    assert!(kinds(&k).contains(&ViolationKind::RefcountAddOnZero));
}

/// pre_enable/enable/disable/post_disable order, with and without pre_enable_prev_first.
#[test]
fn atomic_chain_order() {
    for prev_first in [false, true] {
        let log = new_log();
        let l = log.clone();
        let k = run(Release::V7_2, move |k| {
            let (dev, drm, enc, [a, b, c]) = chain3(k, &l);
            k.write(b.obj(), |x| x.pre_enable_prev_first = prev_first);
            l.borrow_mut().clear();
            drm::atomic::drm_atomic_helper_commit_modeset_enables(k, enc);
            drm::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
            teardown(k, dev, drm, &[a, b, c]);
            l.borrow_mut().truncate(12);
        });
        assert_clean(&k);
        let want: Vec<&str> = if prev_first {
            vec![
                "C:pre_enable",
                "A:pre_enable",
                "B:pre_enable",
                "A:enable",
                "B:enable",
                "C:enable",
                "C:disable",
                "B:disable",
                "A:disable",
                "B:post_disable",
                "A:post_disable",
                "C:post_disable",
            ]
        } else {
            vec![
                "C:pre_enable",
                "B:pre_enable",
                "A:pre_enable",
                "A:enable",
                "B:enable",
                "C:enable",
                "C:disable",
                "B:disable",
                "A:disable",
                "A:post_disable",
                "B:post_disable",
                "C:post_disable",
            ]
        };
        assert_eq!(*log.borrow(), want);
    }
}

/// drm_encoder_cleanup detaches every bridge (−1 chain each); from v7.2 the chain is cut
/// under the mutex and detached without it (§5.7).
#[test]
fn encoder_cleanup_detaches_all_without_the_chain_mutex() {
    struct NoLockDetach(Rc<RefCell<Vec<Vec<&'static str>>>>);
    impl DrmBridgeFuncs for NoLockDetach {
        fn detach(&self, k: &Kernel, _b: DrmBridge) {
            self.0.borrow_mut().push(k.lockdep_held());
        }
    }
    for rel in [Release::V7_1, Release::V7_2] {
        let held = Rc::new(RefCell::new(Vec::new()));
        let h = held.clone();
        let k = run(rel, move |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let f = Rc::new(NoLockDetach(h));
            let a = devm_drm_bridge_alloc(k, dev, "struct x", "A", Some(f.clone()), ()).unwrap();
            let b = devm_drm_bridge_alloc(k, dev, "struct x", "B", Some(f), ()).unwrap();
            drm_bridge_add(k, a);
            drm_bridge_add(k, b);
            drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
            drm_bridge_attach(k, Some(enc), Some(b), Some(a), 0).unwrap();
            drm_encoder_cleanup(k, enc);
            assert_eq!(drm_bridge_chain_get_first_bridge(k, enc, "t"), None);
            assert_eq!(owners(k, a), ["devres of dev", "published"]);
            assert_eq!(owners(k, b), ["devres of dev", "published"]);
            teardown(k, dev, drm, &[a, b]);
        });
        assert_clean(&k);
        assert_eq!(held.borrow().len(), 2);
        assert!(
            held.borrow().iter().all(|h| h.is_empty()),
            "{rel}: {:?}",
            held.borrow()
        );
    }
}

/// §5.5 vs §5.6: a loop body that unplugs the bridge it stands on. Without references
/// (v6.18) the walk reads the freed entry; with the scoped loop (v6.19) the cursor keeps
/// the memory, but the next pointer is LIST_POISON1 (references alone do not protect the
/// chain).
#[test]
fn loop_body_removing_its_cursor() {
    fn scenario(rel: Release) -> Kernel {
        run(rel, |k| {
            let log = new_log();
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let dev_a = bare_device(k, "dev-a");
            let a = alloc(k, dev_a, "A", &log).bridge;
            let b = alloc(k, dev, "B", &log).bridge;
            drm_bridge_add(k, a);
            drm_bridge_add(k, b);
            drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
            drm_bridge_attach(k, Some(enc), Some(b), Some(a), 0).unwrap();
            drm_for_each_bridge_in_chain_scoped(k, enc, |x| {
                if x == a {
                    drm_bridge_detach(k, Some(a));
                    drm_bridge_remove(k, a);
                    k.device_del(dev_a);
                }
                ControlFlow::<()>::Continue(())
            });
            drm_bridge_remove(k, b);
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        })
    }
    let k = scenario(Release::V6_18);
    assert_eq!(kinds(&k)[0], ViolationKind::UseAfterFree);
    assert!(k
        .render(&k.violations()[0])
        .contains("drm_for_each_bridge_in_chain_scoped"));
    let k = scenario(Release::V6_19);
    assert!(!kinds(&k).contains(&ViolationKind::UseAfterFree));
    assert_eq!(kinds(&k), [ViolationKind::ListCorruption]);
}
