//! More core behaviour: HPD and `hpd_mutex` validity, scope-based put, the bus-format walk,
//! leak reports naming the holder, unplug combined with devm_drm_bridge_add.

use crate::common;

use std::cell::Cell;
use std::rc::Rc;

use common::*;
use drm::atomic::drm_atomic_bridge_chain_select_bus_fmts;
use drm::bridge::*;
use drm::connector::ConnectorStatus;
use drm::drv::drm_dev_put;
use drm::Release;
use kmodel::of::NodeId;
use kmodel::ViolationKind;

/// HPD works while published; after remove `hpd_mutex` is destroyed, so an HPD notification
/// from a lingering bridge's IRQ is reported.
#[test]
fn hpd_notify_needs_a_published_bridge() {
    let seen = Rc::new(Cell::new(0));
    let s = seen.clone();
    let k = run(Release::V7_0, move |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        k.write(b.obj(), |x| x.ops.hpd = true);
        drm_bridge_add(k, b);
        let s2 = s.clone();
        drm_bridge_hpd_enable(
            k,
            b,
            Rc::new(move |_, st| {
                assert_eq!(st, ConnectorStatus::Connected);
                s2.set(s2.get() + 1);
            }),
        );
        drm_bridge_hpd_notify(k, b, ConnectorStatus::Connected);
        drm_bridge_remove(k, b);
        drm_bridge_hpd_notify(k, b, ConnectorStatus::Connected);
        k.device_del(dev);
    });
    assert_eq!(seen.get(), 2);
    assert_eq!(kinds(&k), [ViolationKind::Warn]);
    assert!(k.violations()[0].message.contains("hpd_mutex"));
}

/// `drm_bridge_hpd_enable` does nothing on a bridge without `DRM_BRIDGE_OP_HPD`, and WARNs
/// when a callback is already set, keeping the first
/// (v7.1:drivers/gpu/drm/drm_bridge.c:drm_bridge_hpd_enable).
#[test]
fn hpd_enable_needs_op_hpd_and_warns_when_enabled_twice() {
    let seen = Rc::new(Cell::new(0));
    let s = seen.clone();
    let k = run(Release::V7_1, move |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        drm_bridge_add(k, b);
        let cb = |s: Rc<Cell<u32>>, n: u32| -> HpdCb { Rc::new(move |_, _| s.set(s.get() + n)) };
        drm_bridge_hpd_enable(k, b, cb(s.clone(), 100));
        drm_bridge_hpd_notify(k, b, ConnectorStatus::Connected);
        assert_eq!(s.get(), 0, "no OP_HPD: nothing stored");
        k.write(b.obj(), |x| x.ops.hpd = true);
        drm_bridge_hpd_enable(k, b, cb(s.clone(), 1));
        drm_bridge_hpd_enable(k, b, cb(s.clone(), 10));
        drm_bridge_hpd_notify(k, b, ConnectorStatus::Connected);
        drm_bridge_hpd_disable(k, b);
        drm_bridge_hpd_notify(k, b, ConnectorStatus::Connected);
        drm_bridge_remove(k, b);
        k.device_del(dev);
    });
    assert_eq!(seen.get(), 1, "the first callback only, once");
    assert_eq!(kinds(&k), [ViolationKind::Warn]);
    assert!(k.violations()[0]
        .message
        .contains("Hot plug detection already enabled"));
}

/// `__free(drm_bridge_put)`: the getter's reference is put when the scope ends (±0).
#[test]
fn scope_based_put_balances() {
    let k = run(Release::V7_0, |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        k.write(b.obj(), |x| x.of_node = Some(NodeId::from_raw(1)));
        drm_bridge_add(k, b);
        let found = of_drm_find_and_get_bridge(k, NodeId::from_raw(1), "scoped");
        let rc = drm_bridge_with_put(k, found, "scoped", |x| drm_bridge_refcount(k, x.unwrap()));
        assert_eq!(rc, 3);
        assert_eq!(drm_bridge_refcount(k, b), 2);
        drm_bridge_remove(k, b);
        k.device_del(dev);
    });
    assert_clean(&k);
}

/// The bus-format walk from the last bridge back is balanced under every release.
#[test]
fn select_bus_fmts_is_balanced_in_every_release() {
    for rel in Release::ALL {
        let k = run(rel, |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let log = new_log();
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
            let before: Vec<u32> = bs.iter().map(|&b| drm_bridge_refcount(k, b)).collect();
            assert_eq!(drm_atomic_bridge_chain_select_bus_fmts(k, enc), 3);
            let after: Vec<u32> = bs.iter().map(|&b| drm_bridge_refcount(k, b)).collect();
            assert_eq!(before, after);
            assert_eq!(
                drm_encoder_bridges_show(k, enc),
                "bridge[0]: A\nbridge[1]: B\nbridge[2]: C\n"
            );
            for &b in &bs {
                drm_bridge_remove(k, b);
            }
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        });
        assert_clean(&k);
    }
}

/// A consumer that never puts its counted lookup: kmemleak names the holder.
#[test]
fn leak_report_names_the_holder() {
    let k = run(Release::V7_0, |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        k.write(b.obj(), |x| x.of_node = Some(NodeId::from_raw(1)));
        drm_bridge_add(k, b);
        of_drm_find_and_get_bridge(k, NodeId::from_raw(1), "consumer lcdif");
        drm_bridge_remove(k, b);
        k.device_del(dev);
    });
    let leaks = of_kind(&k, ViolationKind::Leak);
    assert_eq!(leaks.len(), 1);
    assert_eq!(kmodel::leak_count(&leaks[0].message), Some(1));
    assert!(
        leaks[0].details[1].ends_with("; held by: consumer lcdif"),
        "{:?}",
        leaks[0].details
    );
    assert_eq!(
        leaks[0].details.last().map(String::as_str),
        Some("references by owner: consumer lcdif")
    );
}

/// drm_bridge_unplug replaces drm_bridge_remove: combined with devm_drm_bridge_add the
/// bridge is removed twice (upstream.md §2.3, inference): the sources have no WARN for it, so
/// the report is the put of a reference that is no longer held.
#[test]
fn unplug_with_devm_drm_bridge_add_removes_twice() {
    let k = run(Release::V7_0, |k| {
        let dev = bare_device(k, "dev");
        let b = alloc(k, dev, "A", &new_log()).bridge;
        drm_bridge_get(k, Some(b), "test");
        devm_drm_bridge_add(k, dev, b).unwrap();
        drm_bridge_unplug(k, b);
        k.device_del(dev);
        drm_bridge_put(k, b, "test");
    });
    let ks = kinds(&k);
    assert_eq!(ks[..1], [ViolationKind::RefNotHeld], "{ks:?}");
}

/// Bridge B of §5.8: its enable dereferences its downstream bridge C, found by OF lookup.
struct UsesNext {
    put_in_remove: bool,
}

/// B's private part: its counted pointer to C (the pre-v7.0 pattern keeps it here).
struct BPriv {
    next: Option<DrmBridge>,
}

impl DrmBridgeFuncs for UsesNext {
    fn atomic_enable(&self, k: &kmodel::Kernel, b: DrmBridge) {
        let next = if self.put_in_remove {
            drm_bridge_priv::<BPriv, _>(k, b, |p| p.next)
        } else {
            k.read(b.obj(), |x| x.next_bridge)
        };
        if let Some(c) = next {
            k.read(c.obj(), |x| x.ops);
        }
    }
}

/// §5.8: encoder → A → B, B stores a counted pointer to C (not in this chain). B and C are
/// removed and their devices unbound. If B puts C in its `.remove` (devm), C is freed while
/// B lingers in the chain, and the next encoder op reads C: use-after-free. With the v7.0
/// `next_bridge` field the core puts C only when B is freed: nothing is reported.
#[test]
fn stored_next_bridge_window() {
    fn scenario(put_in_remove: bool) -> kmodel::Kernel {
        run(Release::V7_0, move |k| {
            let log = new_log();
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let a = alloc(k, dev, "A", &log).bridge;
            let (bdev, cdev) = (bare_device(k, "b-dev"), bare_device(k, "c-dev"));
            let c = alloc(k, cdev, "C", &log).bridge;
            k.write(c.obj(), |x| x.of_node = Some(NodeId::from_raw(30)));
            drm_bridge_add(k, c);
            let funcs = Rc::new(UsesNext { put_in_remove });
            let b =
                devm_drm_bridge_alloc(k, bdev, "struct b", "B", Some(funcs), BPriv { next: None })
                    .unwrap();
            let owner = if put_in_remove {
                "B private"
            } else {
                "next_bridge of B"
            };
            let found = of_drm_find_and_get_bridge(k, NodeId::from_raw(30), owner);
            if put_in_remove {
                drm_bridge_priv_mut::<BPriv, _>(k, b, |p| p.next = found);
                // devm_drm_of_find_bridge()-style put at B's unbind (§6.10, rejected).
                k.devm_add_action(bdev, "put_next", 0, move |k| {
                    drm_bridge_put(k, found, "B private")
                })
                .unwrap();
            } else {
                k.write(b.obj(), |x| x.next_bridge = found);
            }
            for (x, p) in [(a, None), (b, Some(a))] {
                drm_bridge_add(k, x);
                drm_bridge_attach(k, Some(enc), Some(x), p, 0).unwrap();
            }
            // B and C go away.
            drm_bridge_remove(k, c);
            k.device_del(cdev);
            drm_bridge_remove(k, b);
            k.device_del(bdev);
            drm::atomic::drm_atomic_helper_commit_modeset_enables(k, enc);
            drm::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
            drm_bridge_remove(k, a);
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
        })
    }
    let k = scenario(true);
    let uaf = of_kind(&k, ViolationKind::UseAfterFree);
    assert_eq!(uaf.len(), 1, "{:?}", kinds(&k));
    let r = k.render(&uaf[0]);
    assert!(r.contains("Read of struct drm_bridge_priv C"), "{r}");
    assert_clean(&scenario(false));
}
