//! Two-thread races on the bridge chain, run with a scheduler that preempts at every
//! scheduling point (upstream.md §5.5–§5.7).

mod common;

use std::ops::ControlFlow;

use common::*;
use drm::bridge::*;
use drm::drv::drm_dev_put;
use drm::encoder::drm_encoder_cleanup;
use drm::{Release, Rules};
use kmodel::{Kernel, ViolationKind};

/// Thread 1 walks the chain with the scoped loop while thread 2 runs drm_encoder_cleanup.
/// v6.19: references keep the memory but the walk steps onto a deleted entry (§5.6).
/// v7.2: the chain mutex serialises them; nothing is reported.
fn walk_vs_cleanup(rel: Release) -> Kernel {
    run_rr(Rules::for_release(rel), |k| {
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
                for _ in 0..4 {
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
    let k = walk_vs_cleanup(Release::V6_19);
    let ks = kinds(&k);
    assert!(ks.contains(&ViolationKind::ListCorruption), "{ks:?}");
    assert!(!ks.contains(&ViolationKind::UseAfterFree), "{ks:?}");
    let k = walk_vs_cleanup(Release::V7_2);
    assert_clean(&k);
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
