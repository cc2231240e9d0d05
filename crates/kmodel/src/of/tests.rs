//! Unit tests on hand-built trees (the dts crate tests the same code on the
//! kernel's own trees).

use super::*;

fn s(v: &str) -> Vec<u8> {
    let mut b = v.as_bytes().to_vec();
    b.push(0);
    b
}

fn u(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// / { enc { port { ep: endpoint { remote-endpoint = <&pin>; } } }
///     bridge { status = "disabled"; ports { port@0 { reg = <0>; pin: endpoint { remote-endpoint = <&ep>; } }
///                                         port@1 { reg = <1>; pout: endpoint { remote-endpoint = <&cin>; } } } }
///     conn { port { cin: endpoint { remote-endpoint = <&enc_ep>; } } } }   (one-way back)
///     __symbols__ { bridge = "/bridge"; } }
fn sample() -> (DeviceTree, [NodeId; 6]) {
    let mut t = DeviceTree::new();
    let r = t.root();
    let enc = t.add_child(r, "enc@10");
    t.set_property(enc, "compatible", s("vendor,enc"));
    let ep_port = t.add_child(enc, "port");
    let ep = t.add_child(ep_port, "endpoint");
    let bridge = t.add_child(r, "bridge");
    t.set_property(
        bridge,
        "compatible",
        [s("a,b"), s("simple-bridge")].concat(),
    );
    t.set_property(bridge, "status", s("disabled"));
    t.set_property(bridge, "phandle", u(&[5]));
    let ports = t.add_child(bridge, "ports");
    let p0 = t.add_child(ports, "port@0");
    t.set_property(p0, "reg", u(&[0]));
    let pin = t.add_child(p0, "endpoint");
    let p1 = t.add_child(ports, "port@1");
    t.set_property(p1, "reg", u(&[1]));
    let pout = t.add_child(p1, "endpoint");
    let conn = t.add_child(r, "conn");
    let cport = t.add_child(conn, "port");
    let cin = t.add_child(cport, "endpoint");
    for (i, n) in [ep, pin, pout, cin].into_iter().enumerate() {
        t.set_property(n, "phandle", u(&[i as u32 + 1]));
    }
    t.set_property(ep, "remote-endpoint", u(&[2]));
    t.set_property(pin, "remote-endpoint", u(&[1]));
    t.set_property(pout, "remote-endpoint", u(&[4]));
    t.set_property(cin, "remote-endpoint", u(&[1]));
    let sym = t.add_child(r, "__symbols__");
    t.set_property(sym, "bridge", s("/bridge"));
    (t, [enc, ep, bridge, pin, pout, cin])
}

#[test]
fn lookups() {
    let (t, [enc, ep, bridge, ..]) = sample();
    assert_eq!(t.full_name(ep), "/enc@10/port/endpoint");
    assert_eq!(t.of_find_node_by_path("/enc@10/port/endpoint"), Some(ep));
    assert_eq!(t.of_find_node_by_path("/enc/port"), t.parent(ep));
    assert_eq!(t.of_find_node_by_phandle(Phandle(5)), Some(bridge));
    assert_eq!(t.of_find_node_by_label("bridge"), Some(bridge));
    assert!(
        t.of_device_is_compatible(bridge, "a,b")
            > t.of_device_is_compatible(bridge, "simple-bridge")
    );
    assert_eq!(t.of_device_is_compatible(enc, "simple-bridge"), 0);
    assert!(!t.of_device_is_available(bridge));
    assert!(t.of_device_is_available(enc));
    assert_eq!(t.max_phandle(), 5);
}

#[test]
fn graph_single_port_and_ports_and_one_way_links() {
    let (t, [enc, ep, bridge, pin, pout, cin]) = sample();
    assert_eq!(t.of_graph_get_port_by_id(enc, 0), t.parent(ep));
    assert_eq!(t.of_graph_get_endpoint_by_regs(bridge, 1, -1), Some(pout));
    assert_eq!(t.of_graph_get_endpoint_count(bridge), 2);
    assert_eq!(t.of_graph_get_next_endpoint(bridge, None), Some(pin));
    assert_eq!(t.of_graph_get_next_endpoint(bridge, Some(pin)), Some(pout));
    assert_eq!(t.of_graph_get_next_endpoint(bridge, Some(pout)), None);
    assert_eq!(t.of_graph_get_endpoint_by_regs(bridge, -1, 0), Some(pin));
    assert_eq!(t.of_graph_get_remote_endpoint(ep), Ok(pin));
    assert_eq!(t.of_graph_get_remote_port_parent(ep), Ok(bridge));
    assert_eq!(
        t.of_graph_get_remote_node(enc, 0, -1),
        Err(OfGraphError::Unavailable { node: bridge })
    );
    // pout → cin, but cin → ep: one-way.
    assert_eq!(
        t.of_graph_get_remote_endpoint(pout),
        Err(OfGraphError::OneWayLink {
            endpoint: pout,
            remote: cin,
            back: Some(ep)
        })
    );
    let links = t.of_graph_one_way_links();
    assert_eq!(links, vec![(pout, cin, Some(ep)), (cin, ep, Some(pin))]);
}

/// An overlay in compiled form: fragment@0 targets &bridge (through
/// __fixups__), enables it and adds a panel whose endpoint refers to a
/// local node (through __local_fixups__).
fn overlay() -> DeviceTree {
    let mut o = DeviceTree::new();
    let r = o.root();
    let f = o.add_child(r, "fragment@0");
    o.set_property(f, "target", u(&[0xffff_ffff]));
    let ov = o.add_child(f, "__overlay__");
    o.set_property(ov, "status", s("okay"));
    o.set_property(ov, "new-prop", u(&[1]));
    let panel = o.add_child(ov, "panel");
    o.set_property(panel, "compatible", s("panel-simple"));
    o.set_property(panel, "phandle", u(&[1]));
    o.set_property(panel, "self", u(&[1]));
    let fx = o.add_child(r, "__fixups__");
    o.set_property(fx, "bridge", s("/fragment@0:target:0"));
    let lf = o.add_child(r, "__local_fixups__");
    let lf0 = o.add_child(lf, "fragment@0");
    let lfo = o.add_child(lf0, "__overlay__");
    let lfp = o.add_child(lfo, "panel");
    o.set_property(lfp, "self", u(&[0]));
    let sy = o.add_child(r, "__symbols__");
    o.set_property(sy, "panel", s("/fragment@0/__overlay__/panel"));
    o
}

#[test]
fn apply_resolves_fixups_and_revert_restores() {
    let (mut t, [_, _, bridge, ..]) = sample();
    let orig = t.clone();
    let (id, notes) = t.of_overlay_apply(&overlay(), None).unwrap();
    let panel = t.of_find_node_by_path("/bridge/panel").unwrap();
    // Renumbered above the live maximum (5) + 1, as resolver.c does.
    assert_eq!(t.phandle(panel), Some(Phandle(7)));
    assert_eq!(t.read_u32(panel, "self"), Some(7));
    assert!(t.of_device_is_available(bridge));
    assert_eq!(t.of_find_node_by_label("panel"), Some(panel));
    let actions: Vec<_> = notes
        .iter()
        .map(|n| {
            (
                n.action,
                n.path.as_str(),
                n.property.as_ref().map(|p| p.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (OfReconfigAction::UpdateProperty, "/bridge", Some("status")),
            (OfReconfigAction::AddProperty, "/bridge", Some("new-prop")),
            (OfReconfigAction::AttachNode, "/bridge/panel", None),
            (
                OfReconfigAction::AddProperty,
                "/bridge/panel",
                Some("compatible")
            ),
            (
                OfReconfigAction::AddProperty,
                "/bridge/panel",
                Some("phandle")
            ),
            (OfReconfigAction::AddProperty, "/bridge/panel", Some("self")),
            (OfReconfigAction::AddProperty, "/__symbols__", Some("panel")),
        ]
    );
    assert_eq!(notes[0].state_change(&t), ReconfigChange::Add);
    assert_eq!(notes[2].state_change(&t), ReconfigChange::Add);
    assert_eq!(notes[1].state_change(&t), ReconfigChange::NoChange);
    let rev = t.of_overlay_remove(id).unwrap();
    assert!(t.structurally_eq(&orig));
    assert!(!t.is_attached(panel));
    let ra: Vec<_> = rev.iter().map(|n| n.action).collect();
    let mirrored: Vec<_> = notes.iter().rev().map(|n| n.action.inverse()).collect();
    assert_eq!(ra, mirrored);
    assert_eq!(rev.last().unwrap().state_change(&t), ReconfigChange::Remove);
}

#[test]
fn failed_apply_leaves_the_tree_unchanged_and_removal_is_lifo() {
    let (mut t, _) = sample();
    let orig = t.clone();
    let mut bad = overlay();
    let fx = bad.of_find_node_by_path("/__fixups__").unwrap();
    bad.set_property(fx, "nosuchlabel", s("/fragment@0:target:0"));
    assert_eq!(
        t.of_overlay_apply(&bad, None),
        Err(OverlayError::UnresolvedSymbol("nosuchlabel".into()))
    );
    assert!(t.structurally_eq(&orig));
    let (a, _) = t.of_overlay_apply(&overlay(), None).unwrap();
    let mut second = overlay();
    let ov = second
        .of_find_node_by_path("/fragment@0/__overlay__")
        .unwrap();
    second.remove_property(ov, "status");
    let panel = second
        .of_find_node_by_path("/fragment@0/__overlay__/panel")
        .unwrap();
    second.n_mut(panel).name = "panel2".into();
    let lfp = second
        .of_find_node_by_path("/__local_fixups__/fragment@0/__overlay__/panel")
        .unwrap();
    second.n_mut(lfp).name = "panel2".into();
    let sy = second.of_find_node_by_path("/__symbols__").unwrap();
    second.remove_property(sy, "panel");
    let (b, _) = t.of_overlay_apply(&second, None).unwrap();
    assert_eq!(
        t.of_overlay_remove(a),
        Err(OverlayError::NotTopmost { id: a, topmost: b })
    );
    t.of_overlay_remove(b).unwrap();
    t.of_overlay_remove(a).unwrap();
    assert!(t.structurally_eq(&orig));
}
