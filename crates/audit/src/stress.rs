//! The stress scenarios of an extracted driver (`--emit-scenarios DIR`, `--explore`): a
//! synthetic board where the driver sits in a hot-pluggable chain, and one scenario per stress
//! that applies to it, as files a user reads and reruns with `bridgesim explore`.
//!
//! Everything is derived from the emitted description (`emit`), read back as TOML: its bus,
//! what its probe looks up downstream (a panel, a bridge, or nothing) and on which port, the
//! supplies and GPIOs it asks for by name, whether it requests an interrupt, its work items,
//! and the calls that can fail. The board is one of two: the built-in SUNH board
//! (`builtin:sunh`: LCDIF → samsung-dsim, the add-on on the DSI output and the I2C bus) for a
//! driver that attaches to a DSI host, or the project's parallel-RGB board
//! (`scenarios/boards/imx8mp-dpi.dts`: LCDIF's DPI output to the add-on), written next to the
//! scenarios, for the others. The add-on overlay carries the driver's node, its downstream
//! neighbour (a `mitsubishi,aa104xd12`/`panel-lvds` LVDS panel, or an `hdmi-connector` when the probe wants
//! a bridge), and a fixed regulator for its supplies.

use std::collections::BTreeSet;
use std::fmt;
use std::fmt::Write as _;

use drm::Release;
use toml::Value;

use crate::emit::Emitted;

/// The parallel-RGB board of `scenarios/drivers/`, written next to the generated scenarios of a
/// driver that does not attach to a DSI host.
pub const DPI_BOARD: &str = include_str!("../../../scenarios/boards/imx8mp-dpi.dts");
/// The file name the DPI board is written under.
pub const DPI_BOARD_FILE: &str = "imx8mp-dpi.dts";

/// The boards' display controller, which the generated scenarios select in its
/// bridge-connector shape.
const LCDIF_COMPATIBLE: &str = "fsl,imx8mp-lcdif";
/// The display controller of both boards (the CRTC the modeset steps act on).
pub const LCDIF: &str = "/soc@0/display-controller@32e80000";

/// One stress a driver is put under.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stress {
    /// The add-on unplugged while a modeset turns the display off.
    UnplugVsModeset,
    /// Unplugged while the connector's get_modes and detect run.
    UnplugVsGetModesDetect,
    /// Unplugged while the driver's interrupt handler runs.
    UnplugVsIrq,
    /// Unplugged while a kworker runs the driver's queued work items.
    UnplugVsWork,
    /// Unplugged while the bridges debugfs file is read.
    UnplugVsDebugfs,
    /// The driver unbound and bound twice while the connector's get_modes runs.
    BindUnbind,
    /// The add-on plugged (the driver probes) with every `can_fail` call explored both ways,
    /// then unplugged.
    ProbeErrors,
}

impl Stress {
    pub const ALL: [Stress; 7] = [
        Stress::UnplugVsModeset,
        Stress::UnplugVsGetModesDetect,
        Stress::UnplugVsIrq,
        Stress::UnplugVsWork,
        Stress::UnplugVsDebugfs,
        Stress::BindUnbind,
        Stress::ProbeErrors,
    ];

    /// The name of the stress and of its scenario file.
    pub fn name(self) -> &'static str {
        match self {
            Stress::UnplugVsModeset => "unplug-vs-modeset",
            Stress::UnplugVsGetModesDetect => "unplug-vs-get-modes-detect",
            Stress::UnplugVsIrq => "unplug-vs-irq",
            Stress::UnplugVsWork => "unplug-vs-work",
            Stress::UnplugVsDebugfs => "unplug-vs-debugfs",
            Stress::BindUnbind => "bind-unbind",
            Stress::ProbeErrors => "probe-errors",
        }
    }
}

impl fmt::Display for Stress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the probe looks up downstream.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Downstream {
    /// A panel (or a lookup that accepts one: `devm_drm_of_get_bridge` wraps it).
    Panel,
    /// A bridge: an `hdmi-connector` (display-connector) ends the chain.
    Bridge,
    /// No downstream lookup the description expresses: the driver ends the chain.
    None,
}

/// A file of a stress set: its name in the set's directory and its text.
#[derive(Clone, Debug)]
pub struct File {
    pub name: String,
    pub text: String,
}

/// The stress scenarios of one driver under one release.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StressSet {
    /// The driver's directory name (the C file's stem).
    pub driver: String,
    #[serde(serialize_with = "crate::ser::release")]
    pub release: Release,
    /// The node path of the driver's device on the synthetic board.
    pub node: String,
    /// The container's C type (`struct sn65dsi83`), when the description names it.
    pub container: Option<String>,
    /// The functions of the description (from its cites): a violation in one is the driver's.
    pub functions: Vec<String>,
    /// `builtin:sunh` or the DPI board.
    pub board: String,
    pub downstream: Downstream,
    /// The generated scenarios, in `Stress::ALL` order.
    pub scenarios: Vec<Stress>,
    /// The stresses that do not apply, each with why.
    pub skipped: Vec<(Stress, String)>,
    /// Why the driver cannot be put on a synthetic board at all (then `scenarios` is empty).
    pub not_generated: Option<String>,
    /// The files to write (description, overlay, board, scenarios).
    #[serde(skip)]
    pub files: Vec<File>,
}

impl StressSet {
    /// The directory of the set, relative to the emit directory: `<driver>/<release>`.
    pub fn dir(&self) -> String {
        format!("{}/{}", self.driver, self.release)
    }

    /// A scenario's file name.
    pub fn scenario_file(s: Stress) -> String {
        format!("{}.toml", s.name())
    }

    /// Write the set's files under `root/<driver>/<release>/`.
    pub fn write(&self, root: &std::path::Path) -> std::io::Result<()> {
        let d = root.join(&self.driver).join(self.release.name());
        std::fs::create_dir_all(&d)?;
        for f in &self.files {
            std::fs::write(d.join(&f.name), &f.text)?;
        }
        Ok(())
    }
}

/// What the generator reads off a description.
#[derive(Default)]
struct Facts {
    bus: String,
    role: String,
    /// `devm_mipi_dsi_attach` or `mipi_dsi_attach`, or on the DSI bus.
    dsi_input: bool,
    dsi_host: bool,
    /// (downstream kind, port) of the first lookup in probe order.
    lookup: Option<(Downstream, i64)>,
    supplies: Vec<String>,
    gpios: Vec<String>,
    irq_requested: bool,
    works: Vec<String>,
    /// Some call reachable from probe is `can_fail`.
    probe_can_fail: bool,
    connector_ops: bool,
    functions: Vec<String>,
}

fn calls_of(v: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        if let Some(a) = list.as_array() {
            for c in a {
                out.push(c);
                for k in ["on_error", "or_else", "body"] {
                    if let Some(l) = c.get(k) {
                        walk(l, out);
                    }
                }
            }
        }
    }
    if let Some(l) = v.get("calls") {
        walk(l, &mut out);
    }
    out
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn facts(desc: &Value) -> Facts {
    let mut f = Facts {
        bus: s(desc, "bus").unwrap_or_default().to_string(),
        role: s(desc, "role").unwrap_or_default().to_string(),
        ..Facts::default()
    };
    f.dsi_input = f.bus == "dsi";
    let empty = toml::map::Map::new();
    let cbs = desc
        .get("callbacks")
        .and_then(Value::as_table)
        .unwrap_or(&empty);
    if let Some(fields) = desc.get("fields").and_then(Value::as_table) {
        for (name, fv) in fields {
            if matches!(s(fv, "kind"), Some("work" | "delayed_work")) {
                f.works.push(name.clone());
            }
        }
    }
    for cb in cbs.values() {
        if let Some(c) = s(cb, "cite") {
            if let Some(func) = c.rsplit(':').next() {
                f.functions.push(func.to_string());
            }
        }
    }
    f.connector_ops = ["get_modes", "detect", "edid_read"]
        .iter()
        .any(|k| cbs.contains_key(*k));
    // Probe order: probe, then the functions it calls, depth first.
    let mut order: Vec<String> = Vec::new();
    let mut todo = vec!["probe".to_string()];
    let mut seen = BTreeSet::new();
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        order.push(n.clone());
        if let Some(cb) = cbs.get(&n) {
            let mut callees: Vec<String> = calls_of(cb)
                .iter()
                .filter(|c| matches!(s(c, "call"), Some("call" | "devm_add_action_or_reset")))
                .filter_map(|c| s(c, "function").map(str::to_string))
                .collect();
            callees.reverse();
            todo.extend(callees);
        }
    }
    let probe_set: BTreeSet<&String> = order.iter().collect();
    for n in &order {
        let Some(cb) = cbs.get(n) else { continue };
        for c in calls_of(cb) {
            let call = s(c, "call").unwrap_or_default();
            if c.get("can_fail").and_then(Value::as_bool) == Some(true) {
                f.probe_can_fail = true;
            }
            let port = c.get("port").and_then(Value::as_integer).unwrap_or(0);
            let kind = match call {
                "devm_drm_of_get_bridge" | "of_drm_find_panel" => Some(Downstream::Panel),
                "drm_of_find_panel_or_bridge" if c.get("from").is_some() => Some(Downstream::Panel),
                "drm_of_find_panel_or_bridge"
                | "of_drm_find_bridge"
                | "of_drm_find_and_get_bridge"
                | "of_drm_get_bridge_by_endpoint" => Some(Downstream::Bridge),
                _ => None,
            };
            if let (Some(k), None) = (kind, f.lookup) {
                f.lookup = Some((k, port));
            }
            match call {
                "devm_regulator_get" | "devm_regulator_get_optional" => {
                    if let Some(id) = s(c, "id") {
                        if !f.supplies.iter().any(|x| x == id) {
                            f.supplies.push(id.to_string());
                        }
                    }
                }
                "devm_gpiod_get" | "devm_gpiod_get_optional" => {
                    if let Some(id) = s(c, "id") {
                        if !f.gpios.iter().any(|x| x == id) {
                            f.gpios.push(id.to_string());
                        }
                    }
                }
                "devm_mipi_dsi_attach" | "mipi_dsi_attach" => f.dsi_input = true,
                "mipi_dsi_host_register" => f.dsi_host = true,
                "request_irq" | "devm_request_threaded_irq" => f.irq_requested = true,
                _ => {}
            }
        }
    }
    // A lookup or a DSI attach made later (in .attach, a DSI host callback) still decides the
    // board; supplies asked for outside probe are not looked at.
    for (n, cb) in cbs {
        if probe_set.contains(n) {
            continue;
        }
        for c in calls_of(cb) {
            match s(c, "call").unwrap_or_default() {
                "devm_mipi_dsi_attach" | "mipi_dsi_attach" => f.dsi_input = true,
                "mipi_dsi_host_register" => f.dsi_host = true,
                "of_drm_find_bridge" | "of_drm_find_and_get_bridge" if f.lookup.is_none() => {
                    let port = c.get("port").and_then(Value::as_integer).unwrap_or(0);
                    f.lookup = Some((Downstream::Bridge, port));
                }
                _ => {}
            }
        }
    }
    f
}

/// A DT property name for a consumer id: `vcc` → `vcc-supply`; a NULL con_id (`""`) →
/// `gpios`.
fn gpio_prop(id: &str) -> String {
    if id.is_empty() {
        "gpios".into()
    } else {
        format!("{id}-gpios")
    }
}

/// The stress set of one emitted description.
pub fn generate(e: &Emitted) -> StressSet {
    let mut set = StressSet {
        driver: e.dir.clone(),
        release: e.release,
        node: String::new(),
        container: None,
        functions: Vec::new(),
        board: String::new(),
        downstream: Downstream::None,
        scenarios: Vec::new(),
        skipped: Vec::new(),
        not_generated: None,
        files: Vec::new(),
    };
    let desc: Value = match toml::from_str::<toml::Table>(&e.toml) {
        Ok(v) => Value::Table(v),
        Err(err) => {
            set.not_generated = Some(format!("its description does not read back: {err}"));
            return set;
        }
    };
    set.container = s(&desc, "container").map(str::to_string);
    let compatible = desc
        .get("compatible")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let f = facts(&desc);
    set.functions = f.functions.clone();
    if f.role != "bridge" {
        set.not_generated = Some(format!(
            "a {} driver: the synthetic boards place bridges only",
            f.role
        ));
        return set;
    }
    if f.dsi_host {
        set.not_generated = Some(
            "a DSI host (mipi_dsi_host_register): the synthetic boards have no DSI peripheral to put behind it"
                .into(),
        );
        return set;
    }
    let (board, upstream_label, dsi) = if f.dsi_input {
        ("builtin:sunh".to_string(), "mipi_dsi_out", true)
    } else {
        (DPI_BOARD_FILE.to_string(), "lcdif_dpi_out", false)
    };
    set.board = board.clone();
    let (downstream, out_port) = match f.lookup {
        Some((k, p)) => (k, Some(p)),
        None => (Downstream::None, None),
    };
    set.downstream = downstream;
    let in_port = if out_port == Some(0) { 1 } else { 0 };
    // The driver's node: on the I2C bus, as a DSI peripheral on the host, or on the root.
    let (parent_ref, node_name, reg, node_path) = match f.bus.as_str() {
        "i2c" => (
            "&i2c2",
            "bridge@2c",
            Some("0x2c"),
            "/soc@0/i2c@30a30000/bridge@2c",
        ),
        "dsi" if dsi => (
            "&mipi_dsi",
            "bridge@0",
            Some("0"),
            "/soc@0/dsi@32e60000/bridge@0",
        ),
        "dsi" => {
            set.not_generated = Some("a DSI peripheral with no DSI host on the board".into());
            return set;
        }
        _ => ("&{/}", "bridge", None, "/bridge"),
    };
    set.node = node_path.to_string();
    let mut props = String::new();
    let _ = writeln!(props, "\t\tcompatible = \"{compatible}\";");
    if let Some(r) = reg {
        let _ = writeln!(props, "\t\treg = <{r}>;");
    }
    for id in &f.supplies {
        let _ = writeln!(props, "\t\t{id}-supply = <&reg_stress>;");
    }
    for (i, id) in f.gpios.iter().enumerate() {
        let _ = writeln!(props, "\t\t{} = <&gpio1 {} 0>;", gpio_prop(id), 20 + i);
    }
    if f.irq_requested {
        let _ = writeln!(
            props,
            "\t\tinterrupt-parent = <&gpio1>;\n\t\tinterrupts = <12 8>;"
        );
    }
    let lanes = if dsi {
        "\n\t\t\t\t\tdata-lanes = <1 2 3 4>;"
    } else {
        ""
    };
    let mut ports = format!(
        "\t\tports {{\n\t\t\t#address-cells = <1>;\n\t\t\t#size-cells = <0>;\n\n\t\t\tport@{in_port} {{\n\t\t\t\treg = <{in_port}>;\n\n\t\t\t\tstress_in: endpoint {{\n\t\t\t\t\tremote-endpoint = <&{upstream_label}>;{lanes}\n\t\t\t\t}};\n\t\t\t}};\n"
    );
    if let Some(p) = out_port.filter(|_| downstream != Downstream::None) {
        let _ = write!(
            ports,
            "\n\t\t\tport@{p} {{\n\t\t\t\treg = <{p}>;\n\n\t\t\t\tstress_out: endpoint {{\n\t\t\t\t\tremote-endpoint = <&down_in>;\n\t\t\t\t}};\n\t\t\t}};\n"
        );
    }
    ports.push_str("\t\t};\n");
    let down = match downstream {
        Downstream::Panel => "\n\tpanel {\n\t\tcompatible = \"mitsubishi,aa104xd12\", \"panel-lvds\";\n\t\tpower-supply = <&reg_stress>;\n\t\twidth-mm = <210>;\n\t\theight-mm = <158>;\n\t\tdata-mapping = \"jeida-18\";\n\n\t\tpanel-timing {\n\t\t\tclock-frequency = <65000000>;\n\t\t\thactive = <1024>;\n\t\t\tvactive = <768>;\n\t\t\thback-porch = <220>;\n\t\t\thfront-porch = <40>;\n\t\t\tvback-porch = <21>;\n\t\t\tvfront-porch = <7>;\n\t\t\thsync-len = <60>;\n\t\t\tvsync-len = <10>;\n\t\t};\n\n\t\tport {\n\t\t\tdown_in: endpoint {\n\t\t\t\tremote-endpoint = <&stress_out>;\n\t\t\t};\n\t\t};\n\t};\n",
        Downstream::Bridge => "\n\tconnector {\n\t\tcompatible = \"hdmi-connector\";\n\t\ttype = \"a\";\n\n\t\tport {\n\t\t\tdown_in: endpoint {\n\t\t\t\tremote-endpoint = <&stress_out>;\n\t\t\t};\n\t\t};\n\t};\n",
        Downstream::None => "",
    };
    let node = format!("\t{node_name} {{\n{props}\n{ports}\t}};\n");
    let mut dtso = format!(
        "// SPDX-License-Identifier: (GPL-2.0+ OR MIT)\n/*\n * Generated by `bridgesim audit --emit-scenarios` for {drv} ({rel}): the driver's node\n * ({compatible}) in a hot-pluggable add-on on {board}, its input from {upstream_label},\n * its output to {down_what}, its supplies from one fixed regulator.\n */\n\n/dts-v1/;\n/plugin/;\n\n&{{/}} {{\n\treg_stress: regulator-stress {{\n\t\tcompatible = \"regulator-fixed\";\n\t\tregulator-name = \"STRESS\";\n\t\tvin-supply = <&reg_3p3v>;\n\t}};\n{down}",
        drv = e.dir,
        rel = e.release,
        down_what = match downstream {
            Downstream::Panel => "an LVDS panel",
            Downstream::Bridge => "an HDMI connector",
            Downstream::None => "nothing (the driver ends the chain)",
        },
    );
    if parent_ref == "&{/}" {
        dtso.push('\n');
        dtso.push_str(&node);
        dtso.push_str("};\n");
    } else {
        dtso.push_str("};\n\n");
        let _ = write!(
            dtso,
            "{parent_ref} {{\n\t#address-cells = <1>;\n\t#size-cells = <0>;\n\n{node}}};\n"
        );
    }
    let _ = write!(
        dtso,
        "\n&{upstream_label} {{\n\tremote-endpoint = <&stress_in>;{}\n}};\n",
        if dsi {
            "\n\tdata-lanes = <1 2 3 4>;"
        } else {
            ""
        }
    );
    let desc_file = format!("{}.toml", e.dir);
    set.files.push(File {
        name: desc_file.clone(),
        text: e.toml.clone(),
    });
    set.files.push(File {
        name: "addon.dtso".into(),
        text: dtso,
    });
    if !dsi {
        set.files.push(File {
            name: DPI_BOARD_FILE.into(),
            text: DPI_BOARD.into(),
        });
    }
    let irq_field = desc
        .get("fields")
        .and_then(Value::as_table)
        .is_some_and(|t| t.values().any(|v| s(v, "kind") == Some("irq")));
    for st in Stress::ALL {
        let why_not = match st {
            Stress::UnplugVsGetModesDetect if !f.connector_ops => Some(
                "no .get_modes, .detect or .edid_read: the connector's calls do not reach the driver"
                    .to_string(),
            ),
            Stress::UnplugVsIrq if !(irq_field && f.irq_requested) => {
                Some("requests no interrupt the description expresses".to_string())
            }
            Stress::UnplugVsWork if f.works.is_empty() => {
                Some("has no work item the description expresses".to_string())
            }
            Stress::ProbeErrors if !f.probe_can_fail => Some(
                "no call reachable from probe is marked can_fail: its lookups fail only on the board's state, which the other scenarios cover"
                    .to_string(),
            ),
            _ => None,
        };
        if let Some(w) = why_not {
            set.skipped.push((st, w));
            continue;
        }
        set.files.push(File {
            name: StressSet::scenario_file(st),
            text: scenario(st, e, &board, node_path, &desc_file, &f),
        });
        set.scenarios.push(st);
    }
    set
}

/// A scenario's threads: (name, steps).
type Threads = Vec<(&'static str, Vec<String>)>;
/// What a scenario does: its description, fault injection, whether the add-on is plugged at
/// boot, the setup steps and the threads.
type Shape = (String, bool, bool, Vec<String>, Threads);

fn scenario(
    st: Stress,
    e: &Emitted,
    board: &str,
    node: &str,
    desc_file: &str,
    f: &Facts,
) -> String {
    let enable = format!("{{ op = \"enable\", crtc = \"{LCDIF}\" }}");
    let irq = format!("{{ op = \"irq\", node = \"{node}\" }}");
    let unplug = "{ op = \"unplug\", overlay = \"addon\" }".to_string();
    let (what, inject, plugged, setup, threads): Shape =
        match st {
            Stress::UnplugVsModeset => (
                "the add-on is unplugged while a modeset turns the display off".into(),
                false,
                true,
                vec![enable],
                vec![
                    ("unplug", vec![unplug]),
                    ("modeset", vec![format!("{{ op = \"disable\", crtc = \"{LCDIF}\" }}")]),
                ],
            ),
            Stress::UnplugVsGetModesDetect => (
                "the add-on is unplugged while the connector's get_modes and detect run".into(),
                false,
                true,
                vec![enable],
                vec![
                    ("unplug", vec![unplug]),
                    (
                        "probe-helper",
                        vec![
                            format!("{{ op = \"get-modes\", connector = \"{LCDIF}\" }}"),
                            format!("{{ op = \"detect\", connector = \"{LCDIF}\" }}"),
                        ],
                    ),
                ],
            ),
            Stress::UnplugVsIrq => (
                "the driver's interrupt fires (its handler runs in its own thread) while the add-on is unplugged; every can_fail call is explored both ways".into(),
                true,
                true,
                vec![enable, irq],
                vec![("unplug", vec![unplug])],
            ),
            Stress::UnplugVsWork => {
                let mut setup = vec![enable];
                if f.irq_requested {
                    setup.push(irq);
                }
                (
                    format!(
                        "a kworker runs the driver's queued work ({}) while the add-on is unplugged; the display is on{}; every can_fail call is explored both ways",
                        f.works.join(", "),
                        if f.irq_requested { " and its interrupt has fired" } else { "" }
                    ),
                    true,
                    true,
                    setup,
                    vec![
                        ("kworker", vec!["{ op = \"run-work\" }".to_string()]),
                        ("unplug", vec![unplug]),
                    ],
                )
            }
            Stress::UnplugVsDebugfs => (
                "the add-on is unplugged while the bridges debugfs file is read".into(),
                false,
                true,
                vec![enable],
                vec![
                    ("unplug", vec![unplug]),
                    ("debugfs", vec!["{ op = \"debugfs\" }".to_string()]),
                ],
            ),
            Stress::BindUnbind => (
                "the driver is unbound and bound twice while the connector's get_modes runs".into(),
                false,
                true,
                vec![enable],
                vec![
                    (
                        "cycle",
                        vec![
                            format!("{{ op = \"unbind\", node = \"{node}\" }}"),
                            format!("{{ op = \"bind\", node = \"{node}\" }}"),
                            format!("{{ op = \"unbind\", node = \"{node}\" }}"),
                            format!("{{ op = \"bind\", node = \"{node}\" }}"),
                        ],
                    ),
                    (
                        "probe-helper",
                        vec![format!("{{ op = \"get-modes\", connector = \"{LCDIF}\" }}")],
                    ),
                ],
            ),
            Stress::ProbeErrors => (
                "the add-on is plugged (the driver probes, every can_fail call explored both ways, each failure taking its error branch) and unplugged".into(),
                true,
                false,
                vec![],
                vec![(
                    "hotplug",
                    vec!["{ op = \"plug\", overlay = \"addon\" }".to_string(), unplug],
                )],
            ),
        };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Generated by `bridgesim audit --emit-scenarios` from {} ({}).\n# Rerun from this directory: bridgesim explore {} --rules {}",
        e.dir,
        e.release,
        StressSet::scenario_file(st),
        e.release
    );
    let _ = writeln!(t, "name = \"{}-{}\"", e.dir, st.name());
    let _ = writeln!(
        t,
        "description = \"\"\"\n{}, extracted from its C source, on a synthetic board: {what}.\"\"\"",
        e.dir
    );
    if inject {
        let _ = writeln!(t, "inject_faults = true");
    }
    let _ = writeln!(t, "setup = [{}]", setup.join(", "));
    let _ = writeln!(t, "\n[board]\ndts = \"{board}\"");
    let _ = writeln!(
        t,
        "\n[overlays.addon]\nfile = \"addon.dtso\"\nplugged = {plugged}"
    );
    let _ = writeln!(t, "\n[rules]\nrelease = \"{}\"", e.release);
    // The board's LCDIF in its bridge-connector shape, in every release: most display
    // controllers attach with DRM_BRIDGE_ATTACH_NO_CONNECTOR, and under the real i.MX8MP LCDIF of
    // v6.17-v7.1 (flags 0, v7.1:drivers/gpu/drm/mxsfb/lcdif_drv.c:lcdif_attach_bridge) a chain
    // ending in a display-connector cannot come up, which would leave the driver unexplored.
    let _ = writeln!(
        t,
        "\n[drivers]\n# the bridge-connector LCDIF (a synthetic board's display controller)\n\"{LCDIF_COMPATIBLE}\" = \"lcdif/v7.2\""
    );
    let _ = writeln!(t, "\n[[driver]]\ninclude = \"{desc_file}\"");
    for (name, steps) in threads {
        let _ = writeln!(
            t,
            "\n[[thread]]\nname = \"{name}\"\nsteps = [{}]",
            steps.join(", ")
        );
    }
    t
}
