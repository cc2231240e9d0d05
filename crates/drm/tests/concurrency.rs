//! Two-thread races on the bridge chain, run with a scheduler that preempts at every
//! scheduling point (upstream.md §5.5–§5.7).

use crate::common;

use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;

use common::*;
use drm::bridge::*;
use drm::drv::drm_dev_put;
use drm::encoder::drm_encoder_cleanup;
use drm::{Release, Rules};
use kmodel::{Kernel, ViolationKind};

/// Thread 1 walks the chain with the scoped loop, reading each bridge `reads` times, while
/// thread 2 runs drm_encoder_cleanup. v6.19: references keep the memory but the walk steps
/// onto a deleted entry (§5.6). v7.2: the chain mutex serialises them; nothing is reported.
/// `reads` shifts how the round-robin schedule lines the two threads up.
fn walk_vs_cleanup(rel: Release, reads: usize) -> Kernel {
    run_rr(Rules::for_release(rel), move |k| {
        let log = new_log();
        let dev = bare_device(k, "dev");
        let (drm, enc) = drm_with_encoder(k, dev);
        let bs: Vec<DrmBridge> = ["A", "B", "C"]
            .iter()
            .map(|n| alloc(k, dev, n, &log).bridge)
            .collect();
        let mut prev = None;
        for &b in &bs {
            drm_bridge_add(k, b);
            drm_bridge_attach(k, Some(enc), Some(b), prev, 0).unwrap();
            prev = Some(b);
        }
        let walker = k.spawn("walker", move |k| {
            drm_for_each_bridge_in_chain_scoped(k, enc, |b| {
                for _ in 0..reads {
                    k.read(b.obj(), |_| ());
                }
                ControlFlow::<()>::Continue(())
            });
        });
        let cleaner = k.spawn("cleanup", move |k| drm_encoder_cleanup(k, enc));
        k.join(walker);
        k.join(cleaner);
        for &b in &bs {
            drm_bridge_remove(k, b);
        }
        drm_dev_put(k, drm, TEST);
        k.device_del(dev);
    })
}

#[test]
fn scoped_walk_racing_encoder_cleanup() {
    // Some alignment of the two threads makes the walk step onto the unlinked entry; none
    // frees the memory under it.
    let v6_19: Vec<Vec<ViolationKind>> = (0..8)
        .map(|reads| kinds(&walk_vs_cleanup(Release::V6_19, reads)))
        .collect();
    assert!(
        v6_19
            .iter()
            .any(|ks| ks.contains(&ViolationKind::ListCorruption)),
        "{v6_19:?}"
    );
    assert!(
        v6_19
            .iter()
            .all(|ks| !ks.contains(&ViolationKind::UseAfterFree)),
        "{v6_19:?}"
    );
    for reads in 0..8 {
        assert_clean(&walk_vs_cleanup(Release::V7_2, reads));
    }
}

/// The unreferenced walk (v6.18) racing a hot-unplug that frees the bridge: §5.5.
#[test]
fn unreferenced_walk_racing_unplug_is_use_after_free() {
    fn scenario(rel: Release) -> Kernel {
        run_rr(Rules::for_release(rel), |k| {
            let log = new_log();
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let bdev = bare_device(k, "bdev");
            let a = alloc(k, dev, "A", &log).bridge;
            let b = alloc(k, bdev, "B", &log).bridge;
            for (x, p) in [(a, None), (b, Some(a))] {
                drm_bridge_add(k, x);
                drm_bridge_attach(k, Some(enc), Some(x), p, 0).unwrap();
            }
            let c = alloc(k, dev, "C", &log).bridge;
            drm_bridge_add(k, c);
            drm_bridge_attach(k, Some(enc), Some(c), Some(b), 0).unwrap();
            let walker = k.spawn("walker", move |k| {
                drm_for_each_bridge_in_chain_scoped(k, enc, |x| {
                    // Linger on B long enough for the unplug to free it.
                    let n = if x == b { 80 } else { 1 };
                    for _ in 0..n {
                        k.read(x.obj(), |_| ());
                    }
                    ControlFlow::<()>::Continue(())
                });
            });
            let unplug = k.spawn("unplug", move |k| {
                for _ in 0..12 {
                    k.read(a.obj(), |_| ());
                }
                drm_bridge_detach(k, Some(b));
                drm_bridge_remove(k, b);
                k.device_del(bdev);
            });
            k.join(walker);
            k.join(unplug);
            for x in [a, c] {
                drm_bridge_remove(k, x);
            }
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        })
    }
    let k = scenario(Release::V6_18);
    let uaf = of_kind(&k, ViolationKind::UseAfterFree);
    assert!(!uaf.is_empty(), "{:?}", kinds(&k));
    assert!(
        k.render(&uaf[0]).contains("walker"),
        "{}",
        k.render(&uaf[0])
    );
    // v6.19: the cursor reference keeps B's memory; the walk still steps onto a deleted
    // entry (§5.6), which only the v7.2 chain mutex prevents.
    let k = scenario(Release::V6_19);
    assert!(
        !kinds(&k).contains(&ViolationKind::UseAfterFree),
        "{:?}",
        kinds(&k)
    );
}

struct Holder {
    bridge: Option<DrmBridge>,
}

/// §5.9: a holder drops its reference while a reader loads the stored pointer. With the
/// open-coded put-then-clear the reader can load the pointer after the free and before the
/// clear (a stale load); drm_bridge_clear_and_put (v7.1) clears first, so no load ever
/// returns freed memory. (A reader that loaded just *before* the clear still needs its own
/// reference; clear_and_put does not cover that.)
#[test]
fn put_then_clear_window_vs_clear_and_put() {
    fn stale_loads(use_clear_and_put: bool, pad: usize) -> usize {
        let stale = Rc::new(Cell::new(0));
        let st = stale.clone();
        let k = run_rr(Rules::for_release(Release::V7_1), move |k| {
            let dev = bare_device(k, "dev");
            let b = alloc(k, dev, "dsi-out", &new_log()).bridge;
            let h = k.kzalloc("struct samsung_dsim", "dsim", Holder { bridge: None });
            let r = drm_bridge_get(k, Some(b), "out_bridge");
            k.write(h, |x| x.bridge = r);
            k.device_del(dev); // only "out_bridge" holds it now
            let reader = k.spawn("reader", move |k| {
                for _ in 0..40 {
                    if let Some(b) = k.read(h, |x| x.bridge) {
                        if k.is_freed(b.obj()) {
                            st.set(st.get() + 1);
                        }
                    }
                }
            });
            let dropper = k.spawn("detach", move |k| {
                for _ in 0..pad {
                    k.read(h, |_| ());
                }
                if use_clear_and_put {
                    drm_bridge_clear_and_put(k, h, |x| &mut x.bridge, "out_bridge");
                } else {
                    let b = k.read(h, |x| x.bridge);
                    drm_bridge_put(k, b, "out_bridge");
                    k.write(h, |x| x.bridge = None);
                }
            });
            k.join(reader);
            k.join(dropper);
            k.kfree(h);
        });
        assert_clean(&k);
        stale.get()
    }
    assert!(
        (0..4).any(|pad| stale_loads(false, pad) > 0),
        "put-then-clear never exposed the window"
    );
    for pad in 0..8 {
        assert_eq!(stale_loads(true, pad), 0);
    }
}

/// §5.7: the probe helper takes the modeset locks, then (mode_valid's `_from` loop) the
/// chain mutex. Detaching with the chain mutex held (v1 of the series) takes them the other
/// way round once private-object removal locks (§5.17 proposal): lockdep reports the ABBA.
/// The merged cut-then-detach `drm_encoder_cleanup` does not.
#[test]
fn encoder_cleanup_lock_order() {
    fn scenario(v1_cleanup: bool) -> Kernel {
        let rules = Rules {
            private_obj_fini_locking: true,
            ..Rules::for_release(Release::V7_2)
        };
        run_rules(rules, move |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let a = alloc(k, dev, "A", &new_log()).bridge;
            drm_bridge_add(k, a);
            drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
            let c = drm::bridge_connector::drm_bridge_connector_init(k, drm, enc).unwrap();
            drm::connector::drm_helper_probe_single_connector_modes(k, c);
            if v1_cleanup {
                drm::encoder::drm_encoder_chain_lock(k, enc);
                drm_bridge_detach(k, Some(a));
                drm::encoder::drm_encoder_chain_unlock(k, enc);
            } else {
                drm_encoder_cleanup(k, enc);
            }
            drm_bridge_remove(k, a);
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        })
    }
    let k = scenario(true);
    assert_eq!(kinds(&k), [ViolationKind::LockInversion]);
    assert_clean(&scenario(false));
}

/// §5.17: userspace's property ioctl runs a lock-all (`DRM_MODESET_LOCK_ALL_BEGIN`), which
/// walks the mode config's private objects and holds each one's lock, while a runtime detach
/// of an atomic bridge runs `drm_atomic_private_obj_fini` (unlink without a lock, then the
/// lock's fini). `pad` delays the property ioctl and the detach by that many steps each, which
/// shifts how the round-robin schedule lines the two threads up.
fn lock_all_vs_private_obj_fini(rules: Rules, pad: (usize, usize)) -> Kernel {
    run_rr(rules, move |k| {
        let log = new_log();
        let dev = bare_device(k, "dev");
        let (drm, enc) = drm_with_encoder(k, dev);
        let a = alloc(k, dev, "A", &log).bridge;
        let b = alloc(k, dev, "B", &log).bridge;
        for (x, p) in [(a, None), (b, Some(a))] {
            drm_bridge_add(k, x);
            drm_bridge_attach(k, Some(enc), Some(x), p, 0).unwrap();
        }
        let user = k.spawn("user", move |k| {
            for _ in 0..pad.0 {
                k.read(drm.obj(), |_| ());
            }
            drm::mode_object::drm_mode_obj_get_properties_ioctl(k, drm);
        });
        let unplug = k.spawn("unplug", move |k| {
            for _ in 0..pad.1 {
                k.read(enc.obj(), |_| ());
            }
            drm_bridge_detach(k, Some(b))
        });
        k.join(user);
        k.join(unplug);
        for x in [a, b] {
            drm_bridge_remove(k, x);
        }
        drm_dev_put(k, drm, TEST);
        k.device_del(dev);
    })
}

#[test]
fn private_obj_fini_racing_lock_all() {
    // v7.1:drivers/gpu/drm/drm_atomic.c:drm_atomic_private_obj_fini takes no lock: some
    // alignment finds the walk's lock still held at fini (the WARN 5.17 was found by) and
    // some the walk stepping through the unlinked entry.
    let pads: Vec<(usize, usize)> = (0..12).flat_map(|p| [(p, 0), (0, p)]).collect();
    let v7_1: Vec<Vec<ViolationKind>> = pads
        .iter()
        .map(|&pad| {
            kinds(&lock_all_vs_private_obj_fini(
                Rules::for_release(Release::V7_1),
                pad,
            ))
        })
        .collect();
    assert!(
        v7_1.iter().any(|ks| ks.contains(&ViolationKind::Warn)),
        "{v7_1:?}"
    );
    assert!(
        v7_1.iter()
            .any(|ks| ks.contains(&ViolationKind::ListCorruption)),
        "{v7_1:?}"
    );
    // The posted fix takes the lock-all around the unlink: clean in every alignment.
    let fixed = Rules {
        private_obj_fini_locking: true,
        ..Rules::for_release(Release::V7_1)
    };
    for &pad in &pads {
        assert_clean(&lock_all_vs_private_obj_fini(fixed, pad));
    }
}

/// The private object is on the mode config's list exactly between attach and detach: a
/// lock-all after the detach does not reach the bridge (so it does not touch it once freed).
#[test]
fn private_obj_list_follows_attach_and_detach() {
    let k = run(Release::V7_1, |k| {
        let log = new_log();
        let dev = bare_device(k, "dev");
        let (drm, enc) = drm_with_encoder(k, dev);
        let bdev = bare_device(k, "bdev");
        let a = alloc(k, bdev, "A", &log).bridge;
        drm_bridge_add(k, a);
        drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap();
        drm::mode_object::drm_mode_obj_get_properties_ioctl(k, drm);
        drm_bridge_detach(k, Some(a));
        drm_bridge_remove(k, a);
        k.device_del(bdev); // the last put: A is freed
        drm::mode_object::drm_mode_obj_get_properties_ioctl(k, drm);
        drm_dev_put(k, drm, TEST);
        k.device_del(dev);
    });
    assert_clean(&k);
}
