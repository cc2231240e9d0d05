//! The suites `drm_test_bridge_get_current_state` and `drm_test_bridge_helper_reset_crtc` of
//! drivers/gpu/drm/tests/drm_bridge_test.c (byte-identical in every corpus release v6.17–v7.1),
//! five of its seven cases, as model tests under every release from v6.17 with the same
//! assertions. The fixture is `drm_test_bridge_init`: a drm_device, an encoder, the test bridge
//! added (removed at teardown) and attached at the head, a bridge-connector.
//!
//! Not modelled, and why: the primary plane, the CRTC and the display mode (CEA VIC 16) of the
//! fixture (the model has one pipeline per encoder and one mode); the modeset acquire context
//! and its -EDEADLK retry loops (the model's modeset locks never back off); the bridge's `type`
//! (the model's bridge-connector has no connector type).

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

/// The releases the suite runs under: every one from v6.17, where the test file appears.
fn releases() -> impl Iterator<Item = Release> {
    Release::ALL.into_iter().filter(|&r| r >= Release::V6_17)
}

/// `drm_test_bridge_init`, then `body`, then the teardown (remove action, drmm encoder
/// cleanup, device devres): the bridge is freed only after all three.
fn with_fixture(
    rel: Release,
    atomic: bool,
    body: impl FnOnce(&Kernel, DrmBridge, &Log) + 'static,
) -> (Kernel, Log) {
    let log = new_log();
    let l = log.clone();
    let k = run(rel, move |k| {
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
        assert_eq!(rc, 3, "{rel}: devres + published + chain");
        drm_dev_put(k, drm, TEST); // drmm: encoder cleanup detaches (-1)
        assert_eq!(drm_bridge_refcount(k, b), 2, "{rel}");
        k.device_del(dev); // devres: remove (-1), then the allocation put (-1)
        assert!(k.is_freed(b.obj()), "{rel}");
    });
    assert_clean(&k);
    (k, log)
}

fn count(log: &Log, what: &str) -> usize {
    log.borrow().iter().filter(|l| l.ends_with(what)).count()
}

/// (enable_count, disable_count) of the test bridge.
fn counts(log: &Log) -> (usize, usize) {
    (count(log, ":enable"), count(log, ":disable"))
}

fn encoder_of(k: &Kernel, b: DrmBridge) -> drm::encoder::DrmEncoder {
    k.read(b.obj(), |x| x.encoder_ptr())
        .expect("attached by the fixture")
}

/// A commit installs a new bridge state; the current state is the committed one.
#[test]
fn drm_test_drm_bridge_get_current_state_atomic() {
    for rel in releases() {
        with_fixture(rel, true, move |k, b, _| {
            let enc = encoder_of(k, b);
            assert_eq!(drm_bridge_get_current_state(k, b), Some(0), "{rel}");
            drm_atomic_helper_commit_modeset_enables(k, enc);
            assert_eq!(
                drm_bridge_get_current_state(k, b),
                Some(1),
                "{rel}: the committed state"
            );
        });
    }
}

/// A bridge without `.atomic_reset` has no state.
#[test]
fn drm_test_drm_bridge_get_current_state_legacy() {
    for rel in releases() {
        with_fixture(rel, false, move |k, b, _| {
            assert_eq!(drm_bridge_get_current_state(k, b), None, "{rel}")
        });
    }
}

/// Enable, then reset the CRTC: one more enable and one disable (atomic callbacks, or the
/// legacy `.enable`/`.disable`).
fn reset_crtc_of_an_enabled_pipeline(atomic: bool) {
    for rel in releases() {
        with_fixture(rel, atomic, move |k, b, l| {
            let enc = encoder_of(k, b);
            drm_atomic_helper_commit_modeset_enables(k, enc);
            assert_eq!(counts(l), (1, 0), "{rel}");
            assert_eq!(drm_bridge_helper_reset_crtc(k, b), Ok(()), "{rel}");
            assert_eq!(counts(l), (2, 1), "{rel}");
            drm::atomic::drm_atomic_helper_commit_modeset_disables(k, enc);
        });
    }
}

#[test]
fn drm_test_drm_bridge_helper_reset_crtc_atomic() {
    reset_crtc_of_an_enabled_pipeline(true);
}

#[test]
fn drm_test_drm_bridge_helper_reset_crtc_legacy() {
    reset_crtc_of_an_enabled_pipeline(false);
}

/// Resetting a CRTC that was never enabled fails (a negative error code) and calls nothing.
#[test]
fn drm_test_drm_bridge_helper_reset_crtc_atomic_disabled() {
    for rel in releases() {
        with_fixture(rel, true, move |k, b, l| {
            assert_eq!(counts(l), (0, 0), "{rel}");
            assert!(drm_bridge_helper_reset_crtc(k, b).is_err(), "{rel}");
            assert_eq!(counts(l), (0, 0), "{rel}");
        });
    }
}
