//! For each release, the reference deltas of add, remove, attach, detach and the getters
//! (upstream.md §1.2, §2.3). The expected table is written out by hand, independently of
//! `Rules::for_release`, so it checks that mapping too.

use crate::common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use drm::bridge::*;
use drm::drv::drm_dev_put;
use drm::encoder::drm_encoder_cleanup;
use drm::Release;
use kmodel::of::NodeId;

/// Deltas: add, attach, get_first, get_last, get_prev, get_next, of_drm_find_bridge,
/// of_drm_find_and_get_bridge (None: not tested there), detach, remove.
type Row = (Release, [i32; 7], Option<i32>, [i32; 2]);

const TABLE: [Row; 8] = [
    (Release::V6_15, [0, 0, 0, 0, 0, 0, 0], None, [0, 0]),
    (Release::V6_16, [0, 0, 0, 0, 0, 0, 0], None, [0, 0]),
    (Release::V6_17, [1, 1, 0, 0, 0, 0, 0], None, [-1, -1]),
    (Release::V6_18, [1, 1, 1, 0, 1, 0, 0], None, [-1, -1]),
    (Release::V6_19, [1, 1, 1, 1, 1, 1, 0], None, [-1, -1]),
    (Release::V7_0, [1, 1, 1, 1, 1, 1, 0], Some(1), [-1, -1]),
    (Release::V7_1, [1, 1, 1, 1, 1, 1, 0], Some(1), [-1, -1]),
    (Release::V7_2, [1, 1, 1, 1, 1, 1, 0], Some(1), [-1, -1]),
];

#[test]
fn reference_deltas_per_release() {
    for (rel, expect, find_get, expect_tail) in TABLE {
        let got: Rc<RefCell<Vec<i32>>> = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        let k = run(rel, move |k| {
            let dev = bare_device(k, "dev");
            let (drm, enc) = drm_with_encoder(k, dev);
            let log = new_log();
            let a = alloc(k, dev, "A", &log).bridge;
            let b = alloc(k, dev, "B", &log).bridge;
            k.write(a.obj(), |x| x.of_node = Some(NodeId::from_raw(7)));
            let rc = |x: DrmBridge| drm_bridge_refcount(k, x) as i32;
            let d = |x: DrmBridge, op: &mut dyn FnMut()| {
                let before = rc(x);
                op();
                g.borrow_mut().push(rc(x) - before);
            };
            d(a, &mut || drm_bridge_add(k, a));
            drm_bridge_add(k, b);
            d(a, &mut || {
                drm_bridge_attach(k, Some(enc), Some(a), None, 0).unwrap()
            });
            drm_bridge_attach(k, Some(enc), Some(b), Some(a), 0).unwrap();
            // Each getter's result is put again where it was counted.
            let counted = |x: Option<DrmBridge>, delta: i32| {
                if delta == 1 {
                    drm_bridge_put(k, x, "getter");
                }
            };
            let mut r = None;
            d(a, &mut || {
                r = drm_bridge_chain_get_first_bridge(k, enc, "getter")
            });
            assert_eq!(r, Some(a));
            counted(r, *g.borrow().last().unwrap());
            d(b, &mut || {
                r = drm_bridge_chain_get_last_bridge(k, enc, "getter")
            });
            assert_eq!(r, Some(b));
            counted(r, *g.borrow().last().unwrap());
            d(a, &mut || r = drm_bridge_get_prev_bridge(k, b, "getter"));
            assert_eq!(r, Some(a));
            counted(r, *g.borrow().last().unwrap());
            d(b, &mut || r = drm_bridge_get_next_bridge(k, a, "getter"));
            assert_eq!(r, Some(b));
            counted(r, *g.borrow().last().unwrap());
            d(a, &mut || r = of_drm_find_bridge(k, NodeId::from_raw(7)));
            assert_eq!(r, Some(a));
            if find_get.is_some() {
                d(a, &mut || {
                    r = of_drm_find_and_get_bridge(k, NodeId::from_raw(7), "getter")
                });
                assert_eq!(r, Some(a));
                drm_bridge_put(k, r, "getter");
            }
            d(a, &mut || drm_encoder_cleanup(k, enc));
            d(a, &mut || drm_bridge_remove(k, a));
            drm_bridge_remove(k, b);
            drm_dev_put(k, drm, TEST);
            k.device_del(dev);
            assert!(k.is_freed(a.obj()) && k.is_freed(b.obj()));
        });
        assert_clean(&k);
        let got = got.borrow().clone();
        let mut want: Vec<i32> = expect.to_vec();
        want.extend(find_get);
        want.extend(expect_tail);
        assert_eq!(got, want, "reference deltas under {rel}");
    }
}
