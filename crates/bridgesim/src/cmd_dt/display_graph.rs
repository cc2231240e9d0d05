//! The display graph `bridgesim dt show` prints (DRM knowledge, so not in
//! the `dts` front end): from each display controller (CRTC side)
//! along `remote-endpoint` links through bridges to panels and connectors,
//! classified by `compatible` (or, for panels, the node name `panel`).

use std::collections::BTreeMap;
use std::fmt::Write;

use kmodel::of::{DeviceTree, NodeId, OfGraphError};

/// What a device node is in a DRM display pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DisplayKind {
    /// A display controller / CRTC provider (LCDIF, DU, VOP, LTDC, TCON...).
    Controller,
    /// Anything between a controller and a sink (DSI hosts, LVDS/HDMI
    /// encoders, bridge chips).
    Bridge,
    Panel,
    Connector,
}

/// Compatible patterns of display controllers: (prefix, substring).
const CONTROLLERS: &[(&str, &str)] = &[
    ("fsl,", "-lcdif"),
    ("fsl,", "-dcss"),
    ("ti,", "-tilcdc"),
    ("ti,", "-dss"),
    ("renesas,du-", ""),
    ("rockchip,", "-vop"),
    ("st,stm32-ltdc", ""),
    ("allwinner,", "-tcon-"),
    ("allwinner,", "-de2-mixer"),
    ("qcom,", "-dpu"),
    ("qcom,mdp5", ""),
];

/// Classifies a node by its compatible list (most specific first).
pub fn classify(dt: &DeviceTree, n: NodeId) -> DisplayKind {
    let compat = dt.compatible(n);
    for c in &compat {
        if CONTROLLERS
            .iter()
            .any(|(p, s)| c.starts_with(p) && c.contains(s))
        {
            return DisplayKind::Controller;
        }
        if c.ends_with("-connector") {
            return DisplayKind::Connector;
        }
        if c.starts_with("panel-") || c.contains(",panel-") {
            return DisplayKind::Panel;
        }
    }
    if dt.base_name(n).starts_with("panel") {
        return DisplayKind::Panel;
    }
    DisplayKind::Bridge
}

/// Graph neighbours that are not display devices: audio links (I2S, the
/// i.MX8MP HDMI PAI) and PHY/USB nodes (USB-C DP alt-mode graphs).
fn is_non_display(dt: &DeviceTree, n: NodeId) -> bool {
    dt.compatible(n).iter().any(|c| {
        ["i2s", "audio", "-pai", "sound", "-phy", "usb", "dwc3"]
            .iter()
            .any(|k| c.contains(k))
    })
}

/// Whether `n` has a graph link to a display controller (it is then the
/// first stage after a controller, so reaching it from a later stage means
/// going back upstream, as from lt9611 to the second DSI host).
fn fed_by_controller(dt: &DeviceTree, n: NodeId) -> bool {
    dt.of_graph_endpoints(n).iter().any(|ep| {
        dt.of_graph_get_remote_endpoint_unchecked(ep.node)
            .ok()
            .and_then(|r| dt.parent(r))
            .and_then(|p| dt.of_graph_get_port_parent(p))
            .is_some_and(|d| classify(dt, d) == DisplayKind::Controller)
    })
}

fn labels_by_path(dt: &DeviceTree) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(sym) = dt.child_by_full_name(dt.root(), "__symbols__") {
        for p in dt.properties(sym) {
            if let Some(path) = p.as_str() {
                m.entry(path.to_string()).or_insert_with(|| p.name.clone());
            }
        }
    }
    m
}

fn describe(dt: &DeviceTree, n: NodeId, labels: &BTreeMap<String, String>) -> String {
    let path = dt.full_name(n);
    let label = dt
        .labels(n)
        .first()
        .cloned()
        .or_else(|| labels.get(&path).cloned());
    let compat = dt
        .compatible(n)
        .first()
        .map(|c| c.to_string())
        .unwrap_or_default();
    let mut s = String::new();
    if let Some(l) = label {
        let _ = write!(s, "{l} ");
    }
    let _ = write!(s, "{path} ({compat})");
    if !dt.is_effectively_available(n) {
        s.push_str(" [disabled]");
    }
    s
}

/// One hop of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub node: NodeId,
    pub kind: DisplayKind,
    /// The link into this node is one-way (see [`OfGraphError::OneWayLink`]).
    pub one_way: bool,
}

/// Every chain from every display controller, in tree order: controller
/// first, then each device reached by following endpoints away from it.
pub fn chains(dt: &DeviceTree) -> Vec<Vec<Hop>> {
    let mut out = Vec::new();
    for n in dt.all_nodes() {
        if classify(dt, n) != DisplayKind::Controller {
            continue;
        }
        let mut path = vec![Hop {
            node: n,
            kind: DisplayKind::Controller,
            one_way: false,
        }];
        walk(dt, &mut path, &mut out);
    }
    out.dedup();
    out
}

fn walk(dt: &DeviceTree, path: &mut Vec<Hop>, out: &mut Vec<Vec<Hop>>) {
    let cur = path.last().unwrap().node;
    let mut extended = false;
    for ep in dt.of_graph_endpoints(cur) {
        let (remote_ep, one_way) = match dt.of_graph_get_remote_endpoint(ep.node) {
            Ok(r) => (r, false),
            Err(OfGraphError::OneWayLink { remote, .. }) => (remote, true),
            Err(_) => continue,
        };
        let Some(dev) = dt
            .parent(remote_ep)
            .and_then(|port| dt.of_graph_get_port_parent(port))
        else {
            continue;
        };
        let kind = classify(dt, dev);
        if path.iter().any(|h| h.node == dev)
            || kind == DisplayKind::Controller
            || is_non_display(dt, dev)
            || (path.len() > 1 && fed_by_controller(dt, dev))
        {
            continue;
        }
        extended = true;
        path.push(Hop {
            node: dev,
            kind,
            one_way,
        });
        if matches!(kind, DisplayKind::Panel | DisplayKind::Connector) {
            out.push(path.clone());
        } else {
            walk(dt, path, out);
        }
        path.pop();
    }
    if !extended {
        out.push(path.clone());
    }
}

/// The text of `bridgesim dt show`'s graph section.
pub fn render(dt: &DeviceTree) -> String {
    let labels = labels_by_path(dt);
    let mut s = String::from("display graph (controller → bridges → panel/connector):\n");
    let all = chains(dt);
    if all.is_empty() {
        s.push_str("  (no display controller found)\n");
    }
    for chain in all {
        s.push_str("  ");
        for (i, h) in chain.iter().enumerate() {
            if i > 0 {
                s.push_str(if h.one_way {
                    " ⇢(one-way link) "
                } else {
                    " → "
                });
            }
            let tag = match h.kind {
                DisplayKind::Controller => "controller",
                DisplayKind::Bridge => "bridge",
                DisplayKind::Panel => "panel",
                DisplayKind::Connector => "connector",
            };
            let _ = write!(s, "[{tag}] {}", describe(dt, h.node, &labels));
        }
        if chain.len() == 1 {
            s.push_str(" → (no output)");
        }
        s.push('\n');
    }
    let one_way = dt.of_graph_one_way_links();
    for (a, b, back) in one_way {
        let _ = writeln!(
            s,
            "  warning: one-way graph link {} → {} (which points back to {})",
            dt.full_name(a),
            dt.full_name(b),
            back.map(|x| dt.full_name(x))
                .unwrap_or_else(|| "nothing".into())
        );
    }
    s
}
