//! Equivalents of the other upstream KUnit suites of drm_bridge_test.c (upstream.md §7,
//! tests 1–5), on the `drm_test_bridge_init` fixture: a drm_device, an encoder, the test
//! bridge added (removed at teardown) and attached at the head, a bridge-connector.

use crate::common;

use std::rc::Rc;

use common::*;
use drm::atomic::{drm_atomic_helper_commit_modeset_enables, drm_bridge_helper_reset_crtc};
use drm::bridge::*;
use drm::bridge_connector::drm_bridge_connector_init;
use drm::drv::drm_dev_put;
use drm::Release;
use kmodel::Kernel;

struct LegacyFuncs(Log);
impl DrmBridgeFuncs for LegacyFuncs {
    fn atomic_enable(&self, k: &Kernel, b: DrmBridge) {
        self.0
            .borrow_mut()
            .push(format!("{}:enable", drm_bridge_name(k, b)));
    }
    fn atomic_disable(&self, k: &Kernel, b: DrmBridge) {
        self.0
            .borrow_mut()
            .push(format!("{}:disable", drm_bridge_name(k, b)));
    }
}

/// `drm_test_bridge_init`, then `body`, then the teardown (remove action, drmm encoder
/// cleanup, device devres): the bridge is freed only after all three.
fn with_fixture(
    atomic: bool,
    body: impl FnOnce(&Kernel, DrmBridge, &Log) + 'static,
) -> (Kernel, Log) {
    let log = new_log();
    let l = log.clone();
    let k = run(Release::V7_2, move |k| {
        let dev = bare_device(k, "kunit");
        let (drm, enc) = drm_with_encoder(k, dev);
        let b = if atomic {
            alloc(k, dev, "test_bridge", &l).bridge
        } else {
            devm_drm_bridge_alloc(
                k,
                dev,
                "struct drm_bridge_priv",
                "test_bridge",
                Some(Rc::new(LegacyFuncs(l.clone()))),
                (),
            )
            .unwrap()
        };
        devm_drm_bridge_add(k, dev, b).unwrap();
        drm_bridge_attach(k, Some(enc), Some(b), None, 0).unwrap();
        drm_bridge_connector_init(k, drm, enc).unwrap();
        body(k, b, &l);
        let rc = drm_bridge_refcount(k, b);
        assert_eq!(rc, 3, "devres + published + chain");
        drm_dev_put(k, drm, TEST); // drmm: encoder cleanup detaches (-1)
        assert_eq!(drm_bridge_refcount(k, b), 2);
        k.device_del(dev); // devres: remove (-1), then the allocation put (-1)
        assert!(k.is_freed(b.obj()));
    });
    assert_clean(&k);
    (k, log)
}

fn count(log: &Log, what: &str) -> usize {
    log.borrow().iter().filter(|l| l.ends_with(what)).count()
}

#[test]
fn drm_test_drm_bridge_get_current_state_atomic() {
    with_fixture(true, |k, b, _| {
        let enc = b.obj();
        let enc = k.read(enc, |x| x.encoder_ptr()).unwrap();
        assert_eq!(drm_bridge_get_current_state(k, b), Some(0));
        drm_atomic_helper_commit_modeset_enables(k, enc);
        assert_eq!(
            drm_bridge_get_current_state(k, b),
            Some(1),
            "the committed state"
        );
    });
}

#[test]
fn drm_test_drm_bridge_get_current_state_legacy() {
    with_fixture(false, |k, b, _| {
        assert_eq!(drm_bridge_get_current_state(k, b), None)
    });
}

#[test]
fn drm_test_drm_bridge_helper_reset_crtc_atomic_and_legacy() {
    for atomic in [true, false] {
        let (_k, log) = with_fixture(atomic, |k, b, l| {
            let enc = k.read(b.obj(), |x| x.encoder_ptr()).unwrap();
            drm_atomic_helper_commit_modeset_enables(k, enc);
            assert_eq!((count(l, ":enable"), count(l, ":disable")), (1, 0));
            assert_eq!(drm_bridge_helper_reset_crtc(k, b), Ok(()));
            assert_eq!((count(l, ":enable"), count(l, ":disable")), (2, 1));
            drm::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
        });
        assert_eq!(count(&log, ":enable"), 2);
    }
}

#[test]
fn drm_test_drm_bridge_helper_reset_crtc_atomic_disabled() {
    with_fixture(true, |k, b, l| {
        assert!(drm_bridge_helper_reset_crtc(k, b).is_err());
        assert_eq!((count(l, ":enable"), count(l, ":disable")), (0, 0));
    });
}
