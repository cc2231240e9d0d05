//! The accesses a data driver's callbacks make to bridge containers name the part the C
//! touches (issue 15): a connector probe through LT8912B reads `bridge->next_bridge` and
//! `next_bridge->ops` (v7.0:drivers/gpu/drm/bridge/lontium-lt8912b.c:lt8912_connector_detect),
//! never the whole container, so the explorer does not order it against a field write of
//! another thread (`unplugged`, `registered`). The teardown's frees are whole writes, and the
//! same check sees them.

use crate::common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use drm::connector::drm_helper_probe_single_connector_modes;
use drm::rules::Release;
use kmodel::{AccessKind, ObjId, StepRecord};

const LT8912B: &str = include_str!("data/lt8912b.dts");
const LCDIF: &str = "/soc/lcdif@32e80000";
const DSIM: &str = "/soc/dsi@32e60000";
const LT: &str = "/soc/i2c@30a30000/hdmi@48";
const CONN: &str = "/hdmi-connector";

/// The whole-object accesses (kind) among `steps` to the objects `objs`.
fn whole(steps: &[StepRecord], objs: &[ObjId]) -> Vec<AccessKind> {
    steps
        .iter()
        .filter(|s| objs.contains(&s.access.obj) && s.access.field.is_whole())
        .map(|s| s.access.kind)
        .collect()
}

#[test]
fn a_connector_probe_through_a_data_bridge_touches_parts_not_containers() {
    type Seen = (Vec<AccessKind>, Vec<AccessKind>);
    let seen: Rc<RefCell<Seen>> = Rc::default();
    let s2 = seen.clone();
    let k = boot(
        Release::V7_0,
        compile("lt8912b.dts", LT8912B),
        &[],
        move |k| {
            assert!(bound(k, LT) && bound(k, LCDIF));
            let objs: Vec<ObjId> = [DSIM, LT, CONN]
                .iter()
                .map(|p| bridge(k, p).obj().id())
                .collect();
            let pipe = drivers::display::display_pipes(k)[0];
            let conn = pipe
                .connector
                .expect("LT8912B makes the connector (flags 0)");
            let mark = k.with_steps(|s| s.len());
            drm_helper_probe_single_connector_modes(k, conn);
            let probe = k.with_steps(|s| whole(&s[mark..], &objs));
            let mark = k.with_steps(|s| s.len());
            unbind_all(k, &[LCDIF]);
            let teardown = k.with_steps(|s| whole(&s[mark..], &objs));
            *s2.borrow_mut() = (probe, teardown);
        },
    );
    assert_clean(&k, "lt8912b probe");
    let (probe, teardown) = seen.borrow().clone();
    assert_eq!(probe, vec![], "the probe touches whole bridge containers");
    assert!(
        teardown.contains(&AccessKind::Free),
        "the frees at teardown are whole-container accesses: {teardown:?}"
    );
}
