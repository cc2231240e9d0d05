//! Equivalents of the upstream KUnit suite `drm_bridge_alloc` (upstream.md §7, tests 6–7):
//! a bare device, a container from `devm_drm_bridge_alloc`, `.destroy` setting a flag.

use crate::common;

use common::*;
use drm::bridge::{drm_bridge_get, drm_bridge_put, drm_bridge_refcount};
use drm::Release;

/// drm_test_drm_bridge_alloc_basic: the allocation reference alone keeps the bridge; the
/// device's devres drops it (1 → 0) and freeing goes through `.destroy`.
#[test]
fn drm_test_drm_bridge_alloc_basic() {
    for rel in [Release::V6_17, Release::V6_19, Release::V7_2] {
        let k = run(rel, |k| {
            let dev = bare_device(k, "kunit-dev");
            let log = new_log();
            let tb = alloc(k, dev, "bridge", &log);
            assert!(!tb.destroyed.get());
            assert_eq!(drm_bridge_refcount(k, tb.bridge), 1);
            assert_eq!(owners(k, tb.bridge), ["devres of kunit-dev"]);
            k.device_del(dev); // kunit_device_unregister: devres put, 1 -> 0
            assert!(tb.destroyed.get());
            assert!(k.is_freed(tb.bridge.obj()));
        });
        assert_clean(&k);
    }
}

/// drm_test_drm_bridge_alloc_get_put: the last put, not device removal, frees.
#[test]
fn drm_test_drm_bridge_alloc_get_put() {
    for rel in [Release::V6_17, Release::V6_19, Release::V7_2] {
        let k = run(rel, |k| {
            let dev = bare_device(k, "kunit-dev");
            let log = new_log();
            let tb = alloc(k, dev, "bridge", &log);
            assert!(!tb.destroyed.get());
            drm_bridge_get(k, Some(tb.bridge), "test"); // 1 -> 2
            assert_eq!(drm_bridge_refcount(k, tb.bridge), 2);
            assert!(!tb.destroyed.get());
            k.device_del(dev); // 2 -> 1
            assert_eq!(drm_bridge_refcount(k, tb.bridge), 1);
            assert_eq!(owners(k, tb.bridge), ["test"]);
            assert!(!tb.destroyed.get());
            drm_bridge_put(k, tb.bridge, "test"); // 1 -> 0
            assert!(tb.destroyed.get());
            assert!(k.is_freed(tb.bridge.obj()));
        });
        assert_clean(&k);
    }
}

/// Before `.destroy` existed (v6.16) the last put frees without calling it.
#[test]
fn v6_16_last_put_frees_without_destroy() {
    let k = run(Release::V6_16, |k| {
        let dev = bare_device(k, "kunit-dev");
        let tb = alloc(k, dev, "bridge", &new_log());
        k.device_del(dev);
        assert!(k.is_freed(tb.bridge.obj()));
        assert!(!tb.destroyed.get());
    });
    assert_clean(&k);
}
