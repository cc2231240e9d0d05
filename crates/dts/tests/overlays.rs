//! Overlays as changesets (kmodel::of, mirroring drivers/of/overlay.c):
//! apply/revert round trips with mirrored notifications, LIFO removal,
//! stacked overlays and fixups from dtc's tests, a target-relative apply,
//! and the OF graph on the merged trees (including the one-way link of
//! MANIFEST note K).

use crate::common;

use std::path::Path;

use kmodel::of::{DeviceTree, OfGraphError, OfReconfigAction, OverlayError, ReconfigChange};

const PAIRS: &[(&str, &str)] = &[
    (
        "dts/src/arm64/freescale/imx8mp-evk.dts",
        "dts/src/arm64/freescale/imx8mp-evk-lvds0-imx-lvds-hdmi.dtso",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-verdin-wifi-dev.dts",
        "dts-next/src/arm64/freescale/imx8mm-verdin-dsi-to-lvds-panel-cap-touch-10inch.dtso",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-verdin-wifi-dev.dts",
        "dts-next/src/arm64/freescale/imx8mm-verdin-dsi-to-hdmi.dtso",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-kontron-bl.dts",
        "dts/src/arm64/freescale/imx8mm-kontron-dl.dtso",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-venice-gw73xx-0x.dts",
        "dts/src/arm64/freescale/imx8mm-venice-gw73xx-0x-rpidsi.dtso",
    ),
    (
        "dts/src/arm64/rockchip/rk3399-puma-haikou.dts",
        "dts/src/arm64/rockchip/rk3399-puma-haikou-video-demo.dtso",
    ),
    (
        "dts/src/arm64/renesas/r8a77990-ebisu.dts",
        "dts/src/arm64/renesas/draak-ebisu-panel-aa104xd12.dtso",
    ),
];

fn compile(c: &Path, rel: &str) -> DeviceTree {
    dts::compile_file(&c.join(rel), &common::kernel_opts(c))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .tree
}

fn dtc_test(c: &Path, f: &str) -> DeviceTree {
    dts::compile_file(&c.join("dtc-tests").join(f), &dts::Options::default())
        .unwrap_or_else(|e| panic!("{f}: {e}"))
        .tree
}

#[test]
fn apply_then_revert_restores_the_tree_and_mirrors_notifications() {
    let Some(c) = common::corpus() else { return };
    for &(b, o) in PAIRS {
        let mut live = compile(&c, b);
        let orig = live.clone();
        let ov = compile(&c, o);
        let (id, applied) = live.of_overlay_apply(&ov, None).unwrap();
        assert!(!applied.is_empty());
        assert!(!live.structurally_eq(&orig), "{o} changed nothing");
        let after_apply = live.clone();
        let reverted = live.of_overlay_remove(id).unwrap();
        assert!(
            live.structurally_eq(&orig),
            "{o}: revert did not restore {b}"
        );
        // Base nodes keep their ids and paths.
        for n in orig.all_nodes() {
            assert!(live.is_attached(n));
            assert_eq!(live.full_name(n), orig.full_name(n));
        }
        assert_eq!(applied.len(), reverted.len());
        for (a, r) in applied.iter().zip(reverted.iter().rev()) {
            assert_eq!(r.action, a.action.inverse(), "{o}: {a:?} vs {r:?}");
            assert_eq!((r.node, &r.path), (a.node, &a.path));
            assert_eq!(
                r.property.as_ref().map(|p| &p.name),
                a.property.as_ref().map(|p| &p.name)
            );
            if a.action == OfReconfigAction::UpdateProperty {
                assert_eq!(r.property, a.old_property);
                assert_eq!(r.old_property, a.property);
            }
        }
        // Applying again gives the same tree (new node ids, same shape).
        let (_, again) = live.of_overlay_apply(&ov, None).unwrap();
        assert_eq!(again.len(), applied.len());
        assert!(live.structurally_eq(&after_apply));
    }
}

#[test]
fn imx8mp_lvds_overlay_notifications_create_the_new_devices() {
    let Some(c) = common::corpus() else { return };
    let mut live = compile(&c, PAIRS[0].0);
    let (id, notes) = live
        .of_overlay_apply(&compile(&c, PAIRS[0].1), None)
        .unwrap();
    let find = |path: &str, action| notes.iter().find(|n| n.path == path && n.action == action);
    let attach =
        find("/lvds-hdmi-connector", OfReconfigAction::AttachNode).expect("connector attached");
    assert!(attach.available);
    assert_eq!(attach.state_change(&live), ReconfigChange::Add);
    let it6263 = find(
        "/soc@0/bus@30800000/i2c@30a30000/hdmi@4c",
        OfReconfigAction::AttachNode,
    )
    .unwrap();
    assert_eq!(it6263.state_change(&live), ReconfigChange::Add);
    let lcdif2 = notes
        .iter()
        .find(|n| {
            n.path == "/soc@0/bus@32c00000/display-controller@32e90000"
                && n.property.as_ref().is_some_and(|p| p.name == "status")
        })
        .expect("lcdif2 status changes");
    assert_eq!(lcdif2.action, OfReconfigAction::UpdateProperty);
    assert!(lcdif2.available);
    assert_eq!(lcdif2.state_change(&live), ReconfigChange::Add);
    // Attach of a parent comes before the properties and children it carries.
    let pos = |p: &str| notes.iter().position(|n| n.path == p).unwrap();
    assert!(pos("/lvds-hdmi-connector") < pos("/lvds-hdmi-connector/port"));
    let rev = live.of_overlay_remove(id).unwrap();
    let detach = rev
        .iter()
        .find(|n| n.path == "/lvds-hdmi-connector" && n.action == OfReconfigAction::DetachNode)
        .unwrap();
    assert_eq!(detach.state_change(&live), ReconfigChange::Remove);
    assert!(!live.is_attached(detach.node));
    let st = rev
        .iter()
        .find(|n| n.node == lcdif2.node && n.property.as_ref().is_some_and(|p| p.name == "status"))
        .unwrap();
    assert_eq!(st.state_change(&live), ReconfigChange::Remove);
}

#[test]
fn only_the_topmost_overlay_can_be_removed() {
    let Some(c) = common::corpus() else { return };
    let mut live = dtc_test(&c, "stacked_overlay_base.dts");
    let orig = live.clone();
    let (bar, _) = live
        .of_overlay_apply(&dtc_test(&c, "stacked_overlay_bar.dts"), None)
        .unwrap();
    let (baz, _) = live
        .of_overlay_apply(&dtc_test(&c, "stacked_overlay_baz.dts"), None)
        .unwrap();
    assert_eq!(live.applied_overlays(), vec![bar, baz]);
    assert_eq!(
        live.of_overlay_remove(bar),
        Err(OverlayError::NotTopmost {
            id: bar,
            topmost: baz
        })
    );
    live.of_overlay_remove(baz).unwrap();
    live.of_overlay_remove(bar).unwrap();
    assert_eq!(
        live.of_overlay_remove(bar),
        Err(OverlayError::NoSuchOverlay(bar))
    );
    assert!(live.structurally_eq(&orig));
}

fn stacked(c: &Path, files: &[&str]) -> DeviceTree {
    let mut live = dtc_test(c, files[0]);
    for f in &files[1..] {
        live.of_overlay_apply(&dtc_test(c, f), None)
            .unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    live
}

#[test]
fn stacked_overlays_resolve_labels_added_by_earlier_overlays() {
    let Some(c) = common::corpus() else { return };
    for files in [
        &[
            "stacked_overlay_base.dts",
            "stacked_overlay_bar.dts",
            "stacked_overlay_baz.dts",
        ][..],
        &[
            "stacked_overlay_base_nolabel.dts",
            "stacked_overlay_addlabel.dts",
            "stacked_overlay_bar.dts",
            "stacked_overlay_baz.dts",
        ][..],
    ] {
        let live = stacked(&c, files);
        let baz = live
            .of_find_node_by_path("/foonode/barnode/baznode")
            .expect("baznode");
        assert_eq!(live.read_string(baz, "baz-property"), Some("baz"));
        let sym = live.of_find_node_by_path("/__symbols__").unwrap();
        assert_eq!(live.read_string(sym, "bar"), Some("/foonode/barnode"));
        assert_eq!(
            live.read_string(sym, "baz"),
            Some("/foonode/barnode/baznode")
        );
        assert_eq!(live.of_find_node_by_label("baz"), Some(baz));
    }
}

#[test]
fn dtc_overlay_tests_apply_as_libfdt_does() {
    let Some(c) = common::corpus() else { return };
    let live = stacked(
        &c,
        &["overlay_base.dts", "overlay_overlay_manual_fixups.dts"],
    );
    let t = live.of_find_node_by_path("/test-node").unwrap();
    assert_eq!(live.read_string(t, "test-str-property"), Some("foobar"));

    let live = stacked(&c, &["overlay_base.dts", "overlay_overlay_long_path.dts"]);
    let n = live
        .of_find_node_by_path(
            "/test-node/sub-test-node/sub-test-node-with-very-long-target-path/test-0",
        )
        .unwrap();
    assert_eq!(live.read_string(n, "prop"), Some("lpath"));

    // Existing phandles in the base do not change.
    let base = dtc_test(&c, "overlay_base_phandle.dts");
    let live = stacked(
        &c,
        &["overlay_base_phandle.dts", "overlay_overlay_phandle.dts"],
    );
    for n in base.all_nodes() {
        if let Some(ph) = base.phandle(n) {
            let m = live.of_find_node_by_path(&base.full_name(n)).unwrap();
            assert_eq!(live.phandle(m), Some(ph), "{}", base.full_name(n));
        }
    }

    // Malformed __fixups__ compile but do not apply.
    for f in [
        "overlay_bad_fixup_bad_index.dts",
        "overlay_bad_fixup_empty.dts",
        "overlay_bad_fixup_empty_index.dts",
        "overlay_bad_fixup_index_trailing.dts",
        "overlay_bad_fixup_path_empty_prop.dts",
        "overlay_bad_fixup_path_only.dts",
        "overlay_bad_fixup_path_only_sep.dts",
        "overlay_bad_fixup_path_prop.dts",
    ] {
        let mut live = dtc_test(&c, "overlay_base_manual_symbols.dts");
        let orig = live.clone();
        let r = live.of_overlay_apply(&dtc_test(&c, f), None);
        assert!(matches!(r, Err(OverlayError::BadFixup(_))), "{f}: {r:?}");
        assert!(live.structurally_eq(&orig));
    }
}

#[test]
fn target_path_is_relative_to_the_base_node() {
    let ov = dts::compile_bytes(
        "rel.dtso",
        None,
        b"/dts-v1/;\n/plugin/;\n&{/} {\n\tadded { compatible = \"x,y\"; };\n};\n&{/sub} {\n\tprop = <1>;\n};\n".to_vec(),
        &dts::Options::default(),
    )
    .unwrap();
    assert!(ov.plugin);
    let base = dts::compile_bytes(
        "base.dts",
        None,
        b"/dts-v1/;\n/ {\n\tconnector { sub { }; };\n\tsub { };\n};\n".to_vec(),
        &dts::Options::default(),
    )
    .unwrap();
    let mut live = base.tree.clone();
    let conn = live.of_find_node_by_path("/connector").unwrap();
    let (id, notes) = live.of_overlay_apply(&ov.tree, Some(conn)).unwrap();
    assert!(live.of_find_node_by_path("/connector/added").is_some());
    assert!(live.of_find_node_by_path("/added").is_none());
    let sub = live.of_find_node_by_path("/connector/sub").unwrap();
    assert_eq!(live.read_u32(sub, "prop"), Some(1));
    assert_eq!(
        live.read_u32(live.of_find_node_by_path("/sub").unwrap(), "prop"),
        None
    );
    assert_eq!(notes[0].action, OfReconfigAction::AttachNode);
    assert_eq!(notes[0].path, "/connector/added");
    live.of_overlay_remove(id).unwrap();
    assert!(live.structurally_eq(&base.tree));
}

#[test]
fn kontron_bl_dl_has_one_one_way_link_reported_not_followed() {
    let Some(c) = common::corpus() else { return };
    let mut live = compile(&c, PAIRS[3].0);
    assert!(
        live.of_graph_one_way_links().is_empty(),
        "the BL base is consistent"
    );
    let (id, _) = live
        .of_overlay_apply(&compile(&c, PAIRS[3].1), None)
        .unwrap();
    let links = live.of_graph_one_way_links();
    assert_eq!(links.len(), 1, "MANIFEST note K: exactly one one-way link");
    let (from, to, back) = links[0];
    let adv_ep = live
        .of_find_node_by_path("/soc@0/bus@30800000/i2c@30a40000/hdmi@39/ports/port@0/endpoint")
        .unwrap();
    let dsi_out = live.of_find_node_by_label("mipi_dsi_out").unwrap();
    let lvds_in = live
        .of_find_node_by_path("/soc@0/bus@30800000/i2c@30a40000/bridge@2c/ports/port@0/endpoint")
        .unwrap();
    assert_eq!((from, to, back), (adv_ep, dsi_out, Some(lvds_in)));
    assert_eq!(
        live.of_graph_get_remote_endpoint(adv_ep),
        Err(OfGraphError::OneWayLink {
            endpoint: adv_ep,
            remote: dsi_out,
            back: Some(lvds_in)
        })
    );
    // The kernel's unchecked walk would follow it; the checked one refuses.
    assert_eq!(
        live.of_graph_get_remote_endpoint_unchecked(adv_ep),
        Ok(dsi_out)
    );
    // The live direction works: DSIM port@1 → sn65dsi84.
    let dsim = live.of_find_node_by_label("mipi_dsi").unwrap();
    let lvds = live.of_find_node_by_label("lvds").unwrap();
    assert_eq!(live.of_graph_get_remote_node(dsim, 1, -1), Ok(lvds));
    assert_eq!(live.of_graph_get_remote_endpoint(dsi_out), Ok(lvds_in));
    live.of_overlay_remove(id).unwrap();
    assert!(live.of_graph_one_way_links().is_empty());
}

#[test]
fn of_graph_helpers_on_the_imx8mp_lvds_chain() {
    let Some(c) = common::corpus() else { return };
    let mut live = compile(&c, PAIRS[0].0);
    let lcdif2 = live.of_find_node_by_label("lcdif2").unwrap();
    let ldb = live.of_find_node_by_label("lvds_bridge").unwrap();
    // Disabled in the base: of_graph_get_remote_node refuses it.
    assert_eq!(
        live.of_graph_get_remote_node(lcdif2, 0, -1),
        Err(OfGraphError::Unavailable { node: ldb })
    );
    live.of_overlay_apply(&compile(&c, PAIRS[0].1), None)
        .unwrap();
    // lcdif2 has a single `port` child; the LDB has `ports { port@N }`.
    let port = live.of_graph_get_port_by_id(lcdif2, 0).unwrap();
    assert_eq!(live.name(port), "port");
    assert_eq!(live.of_graph_get_remote_node(lcdif2, 0, -1), Ok(ldb));
    let ch0 = live.of_graph_get_endpoint_by_regs(ldb, 1, -1).unwrap();
    assert_eq!(live.of_graph_get_port_by_id(ldb, 1), live.parent(ch0));
    let it6263 = live.of_find_node_by_label("it6263").unwrap();
    assert_eq!(live.of_graph_get_remote_port_parent(ch0), Ok(it6263));
    assert_eq!(live.of_graph_get_remote_node(ldb, 1, 0), Ok(it6263));
    assert!(matches!(
        live.of_graph_get_remote_node(ldb, 7, -1),
        Err(OfGraphError::NoEndpoint { .. })
    ));
    let eps = live.of_graph_endpoints(it6263);
    // The overlay carries port@2 then port@0; __of_attach_node() links each
    // new node at the head of its parent's children, so they end reversed.
    assert_eq!(eps.iter().map(|e| e.port).collect::<Vec<_>>(), vec![0, 2]);
    assert!(live.of_device_is_compatible(it6263, "ite,it6263") > 0);
    assert!(live.of_device_is_available(it6263));
}
