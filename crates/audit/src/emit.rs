//! `--emit-model DIR`: an extracted driver written as a description in the drivers-as-data
//! format (docs/driver-format.md), to be read, corrected and rerun.
//!
//! What the format cannot say is kept as a `# not expressed:` comment at its place, with the
//! C line, never dropped: calls outside the format's vocabulary, conditions that are not a
//! field test, loop and switch structure. Error branches become `on_error` lists: the branch
//! right after a call that can fail (its `if` ends in a return or a goto), followed by the
//! goto's ladder.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use drm::Release;

use crate::cfile::{CFile, CallSite, Cond, Stmt};
use crate::extract::{Driver, FieldKind, Ops};
use crate::vocab::Class;

/// One emitted description.
#[derive(Debug, Clone)]
pub struct Emitted {
    /// The driver's directory name (the C file's stem).
    pub dir: String,
    pub release: Release,
    pub toml: String,
    /// What the format could not express: (C line, what).
    pub not_expressed: Vec<(u32, String)>,
}

/// The format's call names that can fail without `can_fail` (its "fails" column).
const FAILS: &[&str] = &[
    "devm_drm_bridge_alloc",
    "devm_kzalloc",
    "kzalloc",
    "devm_drm_bridge_add",
    "drm_bridge_attach",
    "drm_bridge_enter",
    "of_drm_find_bridge",
    "of_drm_find_and_get_bridge",
    "drm_of_find_panel_or_bridge",
    "devm_drm_of_get_bridge",
    "of_drm_find_panel",
    "devm_drm_panel_bridge_add",
    "drm_panel_bridge_add",
    "devm_regulator_get",
    "devm_regulator_get_optional",
    "devm_gpiod_get",
    "devm_gpiod_get_optional",
    "devm_regmap_init_i2c",
    "devm_platform_ioremap_resource",
    "devm_add_action",
    "devm_add_action_or_reset",
    "request_irq",
    "devm_request_threaded_irq",
    "mipi_dsi_host_register",
    "devm_mipi_dsi_attach",
    "mipi_dsi_attach",
    "call",
];

/// The framework callbacks' names in the format (a driver function of the same name cannot
/// be a `[callbacks.NAME]` of its own).
const SLOT_NAMES: &[&str] = &[
    "probe",
    "remove",
    "attach",
    "detach",
    "destroy",
    "atomic_pre_enable",
    "atomic_enable",
    "atomic_disable",
    "atomic_post_disable",
    "mode_valid",
    "mode_set",
    "get_modes",
    "edid_read",
    "detect",
    "hpd_notify",
    "hpd_enable",
    "hpd_disable",
    "dsi_host_attach",
    "dsi_host_detach",
    "panel_prepare",
    "panel_enable",
    "panel_disable",
    "panel_unprepare",
    "panel_get_modes",
];

/// A framework callback's name in the format, from the ops struct member.
fn slot(ops: Ops, member: &str) -> Option<&'static str> {
    Some(match (ops, member) {
        (
            Ops::I2cDriver | Ops::PlatformDriver | Ops::MipiDsiDriver | Ops::AuxiliaryDriver,
            "probe",
        ) => "probe",
        (
            Ops::I2cDriver | Ops::PlatformDriver | Ops::MipiDsiDriver | Ops::AuxiliaryDriver,
            "remove",
        ) => "remove",
        (Ops::DrmBridgeFuncs, m) => match m {
            "attach" => "attach",
            "detach" => "detach",
            "destroy" => "destroy",
            "atomic_pre_enable" | "pre_enable" => "atomic_pre_enable",
            "atomic_enable" | "enable" => "atomic_enable",
            "atomic_disable" | "disable" => "atomic_disable",
            "atomic_post_disable" | "post_disable" => "atomic_post_disable",
            "mode_valid" => "mode_valid",
            "mode_set" => "mode_set",
            "get_modes" => "get_modes",
            "edid_read" => "edid_read",
            "detect" => "detect",
            "hpd_notify" => "hpd_notify",
            "hpd_enable" => "hpd_enable",
            "hpd_disable" => "hpd_disable",
            _ => return None,
        },
        (Ops::MipiDsiHostOps, "attach") => "dsi_host_attach",
        (Ops::MipiDsiHostOps, "detach") => "dsi_host_detach",
        (Ops::DrmPanelFuncs, m) => match m {
            "prepare" => "panel_prepare",
            "enable" => "panel_enable",
            "disable" => "panel_disable",
            "unprepare" => "panel_unprepare",
            "get_modes" => "panel_get_modes",
            _ => return None,
        },
        _ => return None,
    })
}

/// A call as the format writes it.
#[derive(Debug, Clone, Default)]
struct Out {
    call: String,
    args: Vec<(&'static str, String)>,
    cond: Option<String>,
    can_fail: bool,
    on_error: Vec<Item>,
    body: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    Call(Out),
    Comment(String),
}

fn quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Out {
    fn new(call: &str) -> Out {
        Out {
            call: call.to_string(),
            ..Out::default()
        }
    }

    fn arg(mut self, k: &'static str, v: impl Into<String>) -> Out {
        self.args.push((k, v.into()));
        self
    }

    fn render(&self) -> String {
        let mut parts = vec![format!("call = {}", quote(&self.call))];
        for (k, v) in &self.args {
            if *k == "port" || *k == "endpoint" {
                parts.push(format!("{k} = {v}"));
            } else {
                parts.push(format!("{k} = {}", quote(v)));
            }
        }
        if let Some(c) = &self.cond {
            parts.push(format!("if = {}", quote(c)));
        }
        if self.can_fail {
            parts.push("can_fail = true".into());
        }
        for (key, list) in [("body", &self.body), ("on_error", &self.on_error)] {
            let calls: Vec<String> = list
                .iter()
                .filter_map(|i| match i {
                    Item::Call(c) => Some(c.render()),
                    Item::Comment(_) => None,
                })
                .collect();
            if !calls.is_empty() {
                parts.push(format!("{key} = [{}]", calls.join(", ")));
            }
        }
        format!("{{ {} }}", parts.join(", "))
    }
}

struct Emitter<'a> {
    file: &'a CFile,
    /// Declared fields: name → kind name in the format.
    fields: BTreeMap<String, &'static str>,
    /// Functions that get a `[callbacks.NAME]` (framework slots map to their function).
    wanted: BTreeSet<String>,
    not_expressed: Vec<(u32, String)>,
    /// Locals of the function being written that are stored into a field (`ctx->x = x`):
    /// a lookup into such a local is written into the field.
    local_to_field: BTreeMap<String, String>,
    /// Labels of the function being written that a later `goto` jumps back to (a retry
    /// loop, `goto retry` after `-EDEADLK`): such a goto is not an error exit.
    retry_labels: BTreeSet<String>,
    /// The function being written.
    current: String,
    /// Locals that receive a panel or bridge lookup and are used by a later call of the same
    /// function (`panel = of_drm_find_panel(np); ctx->pb = devm_drm_panel_bridge_add(dev,
    /// panel)`): written as fields of that name, each listed here (name, kind, function, line)
    /// and declared with a comment.
    synthetic: Vec<(String, &'static str, String, u32)>,
    /// Locals of the function being written that hold `of_graph_get_remote_node(np, port,
    /// endpoint)`: a lookup of such a node is a lookup of that port and endpoint.
    remote_nodes: BTreeMap<String, (String, String)>,
}

/// The name a private field called `next_bridge` is written under: the format reserves
/// `next_bridge` for the core's `bridge->next_bridge`.
const PRIV_NEXT_BRIDGE: &str = "priv_next_bridge";

/// `local → field` for the stores `ctx->field = local` of a body.
fn stores(body: &[Stmt], out: &mut BTreeMap<String, String>) {
    for s in body {
        match s {
            Stmt::Store { lhs, rhs, .. } => {
                if let Some(m) = member(lhs) {
                    out.insert(rhs.clone(), m);
                }
            }
            Stmt::If { then, els, .. } => {
                stores(then, out);
                stores(els, out);
            }
            Stmt::Loop { body, .. } | Stmt::Scoped { body, .. } => stores(body, out),
            Stmt::Switch { cases, .. } => {
                for c in cases {
                    stores(c, out);
                }
            }
            _ => {}
        }
    }
}

/// `local → (port, endpoint)` for `local = of_graph_get_remote_node(np, port, endpoint)`.
fn remote_nodes(body: &[Stmt]) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    crate::extract::for_each_call(body, &mut |cs| {
        if cs.name == "of_graph_get_remote_node" {
            if let (Some(v), Some(p), Some(e)) = (&cs.assigned_to, cs.args.get(1), cs.args.get(2)) {
                if let (Some(p), Some(e)) = (int_arg(Some(p)), int_arg(Some(e))) {
                    out.insert(v.trim().to_string(), (p, e));
                }
            }
        }
    });
    out
}

/// Whether `s` is a plain C identifier (a local), not a member access or an expression.
fn is_ident(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s != "NULL"
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `&ctx->foo.work` → `foo`; `ctx->bar` → `bar`; `bridge->next_bridge` → `next_bridge`.
fn member(arg: &str) -> Option<String> {
    let a = arg.trim().trim_start_matches('&').trim();
    let (_, last) = a.rsplit_once("->")?;
    let first = last.split('.').next().unwrap_or(last);
    Some(first.trim().to_string())
}

/// `name(args)` for a report, at most 80 characters.
fn short_call(name: &str, args: &[String]) -> String {
    let s = format!("{name}({})", args.join(", "));
    if s.chars().count() <= 80 {
        s
    } else {
        let cut: String = s.chars().take(76).collect();
        format!("{cut} …)")
    }
}

fn int_arg(a: Option<&String>) -> Option<String> {
    let a = a?.trim();
    a.parse::<i32>().ok().map(|n| n.to_string())
}

fn string_arg(a: Option<&String>) -> Option<String> {
    let a = a?.trim();
    (a.starts_with('"') && a.ends_with('"') && a.len() >= 2).then(|| a[1..a.len() - 1].to_string())
}

impl Emitter<'_> {
    /// Whether a function of the file (or one it calls) makes a framework call: a pure
    /// accessor or computation (`bridge_to_foo`, `foo_get_dsi_range`) is not written.
    fn does_something(&self, name: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_string()];
        while let Some(f) = todo.pop() {
            if !seen.insert(f.clone()) {
                continue;
            }
            let Some(def) = self.file.functions.get(&f) else {
                continue;
            };
            let mut found = false;
            crate::extract::for_each_call(&def.body, &mut |cs| match &cs.class {
                Class::Api(crate::vocab::Api::ContainerOf | crate::vocab::Api::DevErrProbe) => {}
                Class::Api(_) => found = true,
                Class::Internal => todo.push(cs.name.clone()),
                _ => {}
            });
            if found {
                return true;
            }
        }
        false
    }

    /// A lookup into a plain local (`panel = of_drm_find_panel(np)`): the local is written as
    /// a field of its name (of `kind`), declared with a comment saying so, when no field of
    /// the private struct has that name.
    fn local_field(
        &mut self,
        arg: Option<&String>,
        kind: &'static str,
        line: u32,
    ) -> Option<String> {
        let local = arg?.trim().trim_start_matches('&').trim().to_string();
        if !is_ident(&local) || local == "next_bridge" {
            return None;
        }
        if let Some(k) = self.fields.get(&local) {
            return (*k == kind).then_some(local);
        }
        self.fields.insert(local.clone(), kind);
        self.synthetic
            .push((local.clone(), kind, self.current.clone(), line));
        Some(local)
    }

    /// `port`/`endpoint` of a lookup whose node argument is a local holding
    /// `of_graph_get_remote_node(np, port, endpoint)`.
    fn remote_port(&self, node: Option<&String>) -> Option<(String, String)> {
        self.remote_nodes.get(node?.trim()).cloned()
    }

    /// Whether `from` (a function of the file) calls `to`, directly or through the file's
    /// functions (or is `to`).
    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(f) = todo.pop() {
            if f == to {
                return true;
            }
            if !seen.insert(f.clone()) {
                continue;
            }
            let Some(def) = self.file.functions.get(&f) else {
                continue;
            };
            crate::extract::for_each_call(&def.body, &mut |cs| {
                if cs.class == Class::Internal {
                    todo.push(cs.name.clone());
                }
            });
        }
        false
    }

    fn field(&self, arg: Option<&String>, kinds: &[&str]) -> Option<String> {
        let arg = arg?;
        let m = match member(arg) {
            Some(m) => m,
            // A local later stored into a field, or one written as a field of its own.
            None => match self.local_to_field.get(arg.trim()) {
                Some(f) => f.clone(),
                None => {
                    let local = arg.trim().trim_start_matches('&').trim();
                    self.synthetic
                        .iter()
                        .find(|(n, _, f, _)| n == local && *f == self.current)
                        .map(|(n, ..)| n.clone())?
                }
            },
        };
        if m == "next_bridge" && kinds.contains(&"bridge") {
            // `bridge->next_bridge` is the core's field; a private `next_bridge` is renamed.
            let core = arg.trim().trim_start_matches('&').starts_with("bridge->");
            if !core && self.fields.contains_key(PRIV_NEXT_BRIDGE) {
                return Some(PRIV_NEXT_BRIDGE.to_string());
            }
            return Some(m);
        }
        self.fields.get(&m).filter(|k| kinds.contains(k)).map(|_| m)
    }

    fn skip(&mut self, cs: &CallSite, why: &str) -> Item {
        self.not_expressed
            .push((cs.line, format!("{}() {why}", cs.name)));
        Item::Comment(format!("line {}: {}() {why}", cs.line, cs.name))
    }

    /// The format's call for a C call, or a comment.
    fn call(&mut self, cs: &CallSite) -> Option<Item> {
        let a = &cs.args;
        let n = cs.name.as_str();
        let assigned = cs.assigned_to.as_ref();
        let out = match n {
            "devm_drm_bridge_alloc" => Out::new(n),
            "devm_kzalloc" | "kzalloc" => {
                if a.iter().any(|x| x.contains("sizeof(*")) {
                    Out::new(n)
                } else {
                    return Some(self.skip(cs, "allocates something other than the container"));
                }
            }
            "drm_bridge_add"
            | "devm_drm_bridge_add"
            | "drm_bridge_remove"
            | "drm_bridge_unplug"
            | "drm_bridge_enter"
            | "drm_bridge_exit"
            | "drm_bridge_helper_reset_crtc"
            | "mipi_dsi_attach"
            | "mipi_dsi_detach"
            | "devm_mipi_dsi_attach"
            | "drm_panel_add"
            | "drm_panel_remove" => Out::new(n),
            "drm_bridge_attach" => match self.field(a.get(1), &["bridge"]) {
                Some(f) => Out::new(n).arg("field", f),
                None => return Some(self.skip(cs, "attaches a bridge that is not a field")),
            },
            "drm_bridge_put" | "drm_bridge_clear_and_put" | "drm_panel_bridge_remove" => {
                match self.field(a.first(), &["bridge"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "acts on a bridge that is not a field")),
                }
            }
            "drm_bridge_get" => match assigned.and_then(|v| self.field(Some(v), &["bridge"])) {
                Some(f) => {
                    let o = Out::new(n).arg("field", f);
                    match self.field(a.first(), &["bridge"]) {
                        Some(from) => o.arg("from", from),
                        None => o,
                    }
                }
                None => return Some(self.skip(cs, "takes a reference on a local")),
            },
            "of_drm_find_bridge" | "of_drm_find_and_get_bridge" | "of_drm_find_panel" => {
                let kind = if n == "of_drm_find_panel" {
                    "panel"
                } else {
                    "bridge"
                };
                let f = match assigned.and_then(|v| self.field(Some(v), &[kind])) {
                    Some(f) => Some(f),
                    // A counted reference in a local is put through `__free()` or on its
                    // paths, which a field would not show: only borrowed lookups.
                    None if n != "of_drm_find_and_get_bridge" => {
                        self.local_field(assigned, kind, cs.line)
                    }
                    None => None,
                };
                match f {
                    Some(f) => {
                        let mut o = Out::new(n).arg("field", f);
                        if let Some((p, e)) = self.remote_port(a.first()) {
                            o = o.arg("port", p).arg("endpoint", e);
                        }
                        o
                    }
                    None => return Some(self.skip(cs, "is looked up into a local")),
                }
            }
            "devm_drm_of_get_bridge" => {
                let f = match assigned.and_then(|v| self.field(Some(v), &["bridge"])) {
                    Some(f) => Some(f),
                    None => self.local_field(assigned, "bridge", cs.line),
                };
                match f {
                    Some(f) => {
                        let mut o = Out::new(n).arg("field", f);
                        if let Some(p) = int_arg(a.get(2)) {
                            o = o.arg("port", p);
                        }
                        if let Some(e) = int_arg(a.get(3)) {
                            o = o.arg("endpoint", e);
                        }
                        o
                    }
                    None => return Some(self.skip(cs, "is looked up into a local")),
                }
            }
            "drm_of_find_panel_or_bridge" => match self
                .field(a.get(4), &["bridge"])
                .or_else(|| self.local_field(a.get(4), "bridge", cs.line))
            {
                Some(f) => {
                    let mut o = Out::new(n).arg("field", f);
                    let panel = self
                        .field(a.get(3), &["panel"])
                        .or_else(|| self.local_field(a.get(3), "panel", cs.line));
                    if let Some(p) = panel {
                        o = o.arg("from", p);
                    }
                    if let Some(p) = int_arg(a.get(1)) {
                        o = o.arg("port", p);
                    }
                    if let Some(e) = int_arg(a.get(2)) {
                        o = o.arg("endpoint", e);
                    }
                    o
                }
                None => return Some(self.skip(cs, "is looked up into a local")),
            },
            "devm_drm_panel_bridge_add"
            | "drm_panel_bridge_add"
            | "devm_drm_panel_bridge_add_typed"
            | "drm_panel_bridge_add_typed" => {
                // The _typed variants take the connector type too; the format's call is the
                // same.
                let call = n.trim_end_matches("_typed");
                let bridge = match assigned.and_then(|v| self.field(Some(v), &["bridge"])) {
                    Some(f) => Some(f),
                    None => self.local_field(assigned, "bridge", cs.line),
                };
                match (
                    bridge,
                    self.field(a.get(if n.starts_with("devm") { 1 } else { 0 }), &["panel"]),
                ) {
                    (Some(f), Some(p)) => Out::new(call).arg("field", f).arg("from", p),
                    _ => return Some(self.skip(cs, "wraps a panel or into a local")),
                }
            }
            "devm_regulator_get"
            | "devm_regulator_get_optional"
            | "devm_gpiod_get"
            | "devm_gpiod_get_optional" => {
                let kind = if n.contains("regulator") {
                    "regulator"
                } else {
                    "gpio"
                };
                match (
                    assigned.and_then(|v| self.field(Some(v), &[kind])),
                    string_arg(a.get(1)),
                ) {
                    (Some(f), Some(id)) => Out::new(n).arg("field", f).arg("id", id),
                    _ => return Some(self.skip(cs, "gets a resource into a local")),
                }
            }
            "devm_regmap_init_i2c" | "devm_platform_ioremap_resource" => {
                match assigned.and_then(|v| self.field(Some(v), &["regmap"])) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "maps registers into a local")),
                }
            }
            "regulator_enable" | "regulator_disable" => match self.field(a.first(), &["regulator"])
            {
                Some(f) => Out::new(n).arg("field", f),
                None => return Some(self.skip(cs, "acts on a regulator that is not a field")),
            },
            _ if n.starts_with("gpiod_set_value") => match self.field(a.first(), &["gpio"]) {
                Some(f) => Out::new("gpiod_set_value_cansleep")
                    .arg("field", f)
                    .arg("what", short_call(n, a)),
                None => return Some(self.skip(cs, "sets a GPIO that is not a field")),
            },
            _ if n.starts_with("regmap_") => match self.field(a.first(), &["regmap"]) {
                Some(f) => {
                    let call = if n.contains("read") {
                        "regmap_read"
                    } else {
                        "regmap_write"
                    };
                    Out::new(call).arg("field", f).arg("what", short_call(n, a))
                }
                None => return Some(self.skip(cs, "accesses a regmap that is not a field")),
            },
            "devm_add_action" | "devm_add_action_or_reset" | "devm_release_action" => {
                match a
                    .get(1)
                    .filter(|f| self.file.functions.contains_key(f.as_str()))
                {
                    Some(f) => {
                        self.wanted.insert(f.clone());
                        Out::new(n).arg("function", f.clone())
                    }
                    None => return Some(self.skip(cs, "names an action not defined in the file")),
                }
            }
            "request_irq" | "devm_request_threaded_irq" => {
                let i = usize::from(n.starts_with("devm_"));
                match self.field(a.get(i), &["irq"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "requests an IRQ that is not a field")),
                }
            }
            "free_irq" | "disable_irq" | "disable_irq_nosync" | "enable_irq" => {
                match self.field(a.first(), &["irq"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "acts on an IRQ that is not a field")),
                }
            }
            "INIT_WORK" | "schedule_work" | "cancel_work_sync" => {
                match self.field(a.first(), &["work"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "acts on a work that is not a field")),
                }
            }
            "INIT_DELAYED_WORK" | "schedule_delayed_work" | "cancel_delayed_work_sync" => {
                match self.field(a.first(), &["delayed_work"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "acts on a work that is not a field")),
                }
            }
            "drm_panel_prepare"
            | "drm_panel_enable"
            | "drm_panel_disable"
            | "drm_panel_unprepare" => match self.field(a.first(), &["panel"]) {
                Some(f) => Out::new(n).arg("field", f),
                None => return Some(self.skip(cs, "acts on a panel that is not a field")),
            },
            "mipi_dsi_host_register" | "mipi_dsi_host_unregister" => {
                match self.field(a.first(), &["dsi_host"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "registers a host that is not a field")),
                }
            }
            "mutex_init" | "mutex_lock" | "mutex_unlock" | "guard" | "scoped_guard" => {
                let arg = if n.ends_with("guard") {
                    a.last()
                } else {
                    a.first()
                };
                match self.field(arg, &["mutex"]) {
                    Some(f) => Out::new(n).arg("field", f),
                    None => return Some(self.skip(cs, "locks a mutex that is not a field")),
                }
            }
            "drm_bridge_hpd_notify" => {
                let s = a.get(1).map(String::as_str).unwrap_or("");
                let status = if s.contains("disconnected") {
                    "disconnected"
                } else if s.contains("connected") {
                    "connected"
                } else {
                    return Some(self.skip(cs, "notifies a status computed at run time"));
                };
                Out::new(n).arg("status", status)
            }
            // Accessors and error returns: nothing to model (the return is the error branch).
            "container_of" | "container_of_const" | "dev_err_probe" => return None,
            _ if cs.class == Class::Internal && !self.does_something(&cs.name) => return None,
            _ if cs.class == Class::Internal && self.reaches(&cs.name, &self.current) => {
                return Some(self.skip(cs, "is a recursive call (the format has no recursion)"))
            }
            _ if cs.class == Class::Internal && SLOT_NAMES.contains(&n) => {
                return Some(self.skip(cs, "has the name of a framework callback"))
            }
            _ => match cs.class {
                Class::Internal => {
                    self.wanted.insert(cs.name.clone());
                    Out::new("call").arg("function", cs.name.clone())
                }
                Class::Api(_) => return Some(self.skip(cs, "is not in the format's vocabulary")),
                Class::Unknown => return Some(self.skip(cs, "is not known to the audit")),
                Class::Neutral => return None,
            },
        };
        Some(Item::Call(out))
    }

    /// The items of a statement list. `ladder` gives, for a goto label, the calls from it to
    /// the end of the function.
    /// One function's items: its stores, retry labels and remote nodes read first, its goto
    /// ladders written as the error branches they end.
    fn function_items(&mut self, f: &crate::cfile::Function) -> Vec<Item> {
        self.local_to_field.clear();
        stores(&f.body, &mut self.local_to_field);
        self.retry_labels = retry_labels(&f.body);
        self.current = f.name.clone();
        self.remote_nodes = remote_nodes(&f.body);
        let ladder: BTreeMap<String, Vec<Item>> = ladders(&f.body)
            .iter()
            .map(|(l, s)| (l.clone(), self.items(s, &BTreeMap::new())))
            .collect();
        self.items(&f.body, &ladder)
    }

    fn items(&mut self, stmts: &[Stmt], ladder: &BTreeMap<String, Vec<Item>>) -> Vec<Item> {
        let mut out: Vec<Item> = Vec::new();
        let mut i = 0;
        while i < stmts.len() {
            match &stmts[i] {
                Stmt::Call(cs) => {
                    let item = self.call(cs);
                    // An error branch right after a call: `if (...) { ...; return/goto }`.
                    if let (
                        Some(Item::Call(mut c)),
                        Some(Stmt::If {
                            cond, then, els, ..
                        }),
                    ) = (item.clone(), stmts.get(i + 1))
                    {
                        let retry = matches!(then.last(), Some(Stmt::Goto { label, .. }) if self.retry_labels.contains(label));
                        // `if (ret) { ...; } return ret;`: the branch runs, then the
                        // function returns, as an `on_error` does.
                        let returns_next = matches!(stmts.get(i + 2), Some(Stmt::Return { .. }));
                        if !matches!(cond, Cond::Enter { .. })
                            && els.is_empty()
                            && (ends_in_exit(then) || returns_next)
                            && !retry
                        {
                            let mut on_error = self.items(then, ladder);
                            if let Some(Stmt::Goto { label, .. }) = then.last() {
                                on_error.extend(ladder.get(label).cloned().unwrap_or_default());
                            }
                            if !FAILS.contains(&c.call.as_str()) {
                                c.can_fail = true;
                            }
                            c.on_error = on_error;
                            out.push(Item::Call(c));
                            i += 2;
                            continue;
                        }
                    }
                    if let Some(it) = item {
                        out.push(it);
                    }
                }
                Stmt::If {
                    line,
                    cond,
                    then,
                    els,
                } => match cond {
                    // `if (!drm_bridge_enter(...)) return;`: the failing enter returns.
                    Cond::Enter { .. } => {
                        let entered_then = matches!(cond, Cond::Enter { then_entered: true });
                        let body = if entered_then { then } else { els };
                        out.extend(self.items(body, ladder));
                    }
                    Cond::Null { var, then_null }
                        if member(var).is_some_and(|m| self.fields.contains_key(&m)) =>
                    {
                        let m = member(var).unwrap_or_default();
                        for (branch, set) in [(then, !then_null), (els, *then_null)] {
                            let tag = if set { m.clone() } else { format!("!{m}") };
                            for it in self.items(branch, ladder) {
                                out.push(match it {
                                    // `if (ctx->irq) devm_request_threaded_irq(ctx->irq...)`:
                                    // the format's request already happens only when the node
                                    // has the interrupt, and the field is set by the request
                                    // (the C's `ctx->irq = client->irq` is not a call).
                                    Item::Call(c)
                                        if matches!(
                                            c.call.as_str(),
                                            "devm_request_threaded_irq" | "request_irq"
                                        ) && c
                                            .args
                                            .iter()
                                            .any(|(k, v)| *k == "field" && *v == m) =>
                                    {
                                        Item::Call(c)
                                    }
                                    Item::Call(mut c) if c.cond.is_none() => {
                                        c.cond = Some(tag.clone());
                                        Item::Call(c)
                                    }
                                    other => other,
                                });
                            }
                        }
                    }
                    _ => {
                        let t = self.items(then, ladder);
                        let e = self.items(els, ladder);
                        if t.iter().chain(&e).any(|x| matches!(x, Item::Call(_))) {
                            self.not_expressed
                                .push((*line, "a condition that is not a field test".into()));
                            out.push(Item::Comment(format!(
                                "line {line}: under a condition the format cannot test: both branches' calls follow"
                            )));
                        }
                        out.extend(t);
                        out.extend(e);
                    }
                },
                Stmt::Loop { line, body } => {
                    let b = self.items(body, ladder);
                    if b.iter().any(|x| matches!(x, Item::Call(_))) {
                        self.not_expressed
                            .push((*line, "a loop (its body is written once)".into()));
                        out.push(Item::Comment(format!("line {line}: a loop; its body once")));
                    }
                    out.extend(b);
                }
                Stmt::Scoped { body, .. } => {
                    let b = self.items(body, ladder);
                    // The scoped_guard call itself came just before.
                    if let Some(Item::Call(c)) = out.last_mut() {
                        if c.call == "scoped_guard" || c.call == "guard" {
                            c.call = "scoped_guard".into();
                            c.body = b;
                            i += 1;
                            continue;
                        }
                    }
                    out.extend(b);
                }
                Stmt::Switch { line, cases, .. } => {
                    let mut any = Vec::new();
                    for c in cases {
                        any.extend(self.items(c, ladder));
                    }
                    if any.iter().any(|x| matches!(x, Item::Call(_))) {
                        self.not_expressed
                            .push((*line, "a switch (every case's calls follow)".into()));
                        out.push(Item::Comment(format!(
                            "line {line}: a switch; every case's calls"
                        )));
                    }
                    out.extend(any);
                }
                // What follows a return in the same block runs only through a label (an
                // error ladder, written as on_error).
                Stmt::Return { .. } => break,
                _ => {}
            }
            i += 1;
        }
        out
    }
}

fn ends_in_exit(stmts: &[Stmt]) -> bool {
    matches!(stmts.last(), Some(Stmt::Return { .. } | Stmt::Goto { .. }))
}

/// The labels of a function's top level that a `goto` after them jumps back to.
fn retry_labels(body: &[Stmt]) -> BTreeSet<String> {
    fn gotos(stmts: &[Stmt], out: &mut Vec<String>) {
        for s in stmts {
            match s {
                Stmt::Goto { label, .. } => out.push(label.clone()),
                Stmt::If { then, els, .. } => {
                    gotos(then, out);
                    gotos(els, out);
                }
                Stmt::Loop { body, .. } | Stmt::Scoped { body, .. } => gotos(body, out),
                Stmt::Switch { cases, .. } => {
                    for c in cases {
                        gotos(c, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    for (i, s) in body.iter().enumerate() {
        if let Stmt::Label { name, .. } = s {
            let mut later = Vec::new();
            gotos(&body[i + 1..], &mut later);
            if later.contains(name) {
                out.insert(name.clone());
            }
        }
    }
    out
}

/// For each label of a function's top level: the statements from it to the first return.
fn ladders(body: &[Stmt]) -> BTreeMap<String, Vec<Stmt>> {
    let mut out = BTreeMap::new();
    for (i, s) in body.iter().enumerate() {
        if let Stmt::Label { name, .. } = s {
            let rest: Vec<Stmt> = body[i + 1..]
                .iter()
                .take_while(|s| !matches!(s, Stmt::Return { .. }))
                .filter(|s| !matches!(s, Stmt::Label { .. }))
                .cloned()
                .collect();
            out.insert(name.clone(), rest);
        }
    }
    out
}

/// The format's field kind for an extracted field kind.
fn kind_name(k: FieldKind) -> Option<&'static str> {
    Some(match k {
        FieldKind::BridgePtr => "bridge",
        FieldKind::PanelPtr => "panel",
        FieldKind::Regulator => "regulator",
        FieldKind::Gpio => "gpio",
        FieldKind::Regmap => "regmap",
        FieldKind::Work => "work",
        FieldKind::DelayedWork => "delayed_work",
        FieldKind::Mutex => "mutex",
        FieldKind::Irq => "irq",
        FieldKind::DsiHost => "dsi_host",
        _ => return None,
    })
}

/// The description of `driver` for `release`, or `None` when it is not a bridge or panel
/// driver with a bus and compatible strings (the format requires them).
pub fn emit(driver: &Driver, file: &CFile, release: Release, source: &str) -> Option<Emitted> {
    let role = if driver
        .callbacks
        .iter()
        .any(|c| c.ops == Ops::DrmBridgeFuncs)
    {
        "bridge"
    } else if driver.callbacks.iter().any(|c| c.ops == Ops::DrmPanelFuncs) {
        "panel"
    } else {
        return None;
    };
    let bus = match driver.bus? {
        crate::extract::Bus::I2c => "i2c",
        crate::extract::Bus::Platform => "platform",
        crate::extract::Bus::Dsi => "dsi",
        crate::extract::Bus::Auxiliary => return None,
    };
    if driver.compatibles.is_empty() {
        return None;
    }
    let stem = driver
        .file
        .rsplit('/')
        .next()
        .unwrap_or(&driver.file)
        .trim_end_matches(".c")
        .to_string();
    // Work and IRQ functions, from their set-up calls.
    let mut funcs: BTreeMap<String, String> = BTreeMap::new();
    for f in file.functions.values() {
        crate::extract::for_each_call(&f.body, &mut |cs| {
            let (field_arg, fn_arg) = match cs.name.as_str() {
                "INIT_WORK" | "INIT_DELAYED_WORK" => (0, 1),
                "request_irq" | "request_threaded_irq" => (0, 1),
                "devm_request_threaded_irq" => (1, 3),
                "devm_request_irq" => (1, 2),
                _ => return,
            };
            if let (Some(fld), Some(func)) = (cs.args.get(field_arg), cs.args.get(fn_arg)) {
                let func = if file.functions.contains_key(func.as_str()) {
                    func.clone()
                } else if let Some(g) = cs
                    .args
                    .get(fn_arg - 1)
                    .filter(|g| file.functions.contains_key(g.as_str()))
                {
                    g.clone()
                } else {
                    return;
                };
                if let Some(m) = member(fld) {
                    funcs.insert(m, func);
                }
            }
        });
    }
    let mut fields = BTreeMap::new();
    let mut field_lines = Vec::new();
    let mut not_expressed = Vec::new();
    for f in &driver.fields {
        let Some(k) = kind_name(f.kind) else { continue };
        let needs_func = matches!(k, "work" | "delayed_work" | "irq");
        let func = funcs.get(&f.name);
        if needs_func && func.is_none() {
            not_expressed.push((
                f.line,
                format!("field {} ({k}) without a function the file sets up", f.name),
            ));
            continue;
        }
        let name = if f.name == "next_bridge" {
            not_expressed.push((
                f.line,
                format!("the private field next_bridge is written as {PRIV_NEXT_BRIDGE}"),
            ));
            PRIV_NEXT_BRIDGE.to_string()
        } else {
            f.name.clone()
        };
        fields.insert(name.clone(), k);
        field_lines.push(match func {
            Some(func) => format!("{name} = {{ kind = {}, func = {} }}", quote(k), quote(func)),
            None => format!("{name} = {{ kind = {} }}", quote(k)),
        });
    }
    let mut em = Emitter {
        file,
        fields,
        wanted: BTreeSet::new(),
        not_expressed,
        local_to_field: BTreeMap::new(),
        retry_labels: BTreeSet::new(),
        current: String::new(),
        synthetic: Vec::new(),
        remote_nodes: BTreeMap::new(),
    };
    for (_, func) in funcs.iter().filter(|(m, _)| em.fields.contains_key(*m)) {
        em.wanted.insert(func.clone());
    }
    // The framework callbacks, then every function a field or a call names (transitively).
    let mut sections: Vec<(String, String, Vec<Item>)> = Vec::new();
    let mut done = BTreeSet::new();
    for cb in &driver.callbacks {
        let Some(name) = slot(cb.ops, &cb.member) else {
            continue;
        };
        if !done.insert(name.to_string()) {
            continue;
        }
        let Some(f) = file.functions.get(&cb.function) else {
            continue;
        };
        let items = em.function_items(f);
        sections.push((name.to_string(), f.name.clone(), items));
    }
    let mut emitted_fns = BTreeSet::new();
    loop {
        let next = em
            .wanted
            .iter()
            .find(|w| !emitted_fns.contains(*w))
            .cloned();
        let Some(w) = next else { break };
        emitted_fns.insert(w.clone());
        let Some(f) = file.functions.get(&w) else {
            continue;
        };
        let items = em.function_items(f);
        sections.push((w.clone(), w, items));
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Extracted by `bridgesim audit --emit-model` from {source} ({release}).\n# Read it, correct it, and rerun: what the format cannot say is a `not expressed` comment."
    );
    let _ = writeln!(t, "name = {}", quote(&stem));
    let compat: Vec<String> = driver.compatibles.iter().map(|c| quote(c)).collect();
    let _ = writeln!(t, "compatible = [{}]", compat.join(", "));
    let _ = writeln!(t, "bus = {}", quote(bus));
    let _ = writeln!(t, "role = {}", quote(role));
    if let Some(p) = &driver.private {
        let _ = writeln!(t, "container = {}", quote(&format!("struct {p}")));
    }
    let _ = writeln!(t, "source = {}", quote(source));
    for (name, kind, func, line) in &em.synthetic {
        field_lines.push(format!(
            "{name} = {{ kind = {} }}  # a local of {func} (line {line}), written as a field",
            quote(kind)
        ));
    }
    if !field_lines.is_empty() {
        let _ = writeln!(t, "\n[fields]");
        for l in &field_lines {
            let _ = writeln!(t, "{l}");
        }
    }
    let path = source;
    for (name, func, items) in &sections {
        let _ = writeln!(t, "\n[callbacks.{name}]");
        let _ = writeln!(t, "cite = {}", quote(&format!("{release}:{path}:{func}")));
        let _ = writeln!(t, "calls = [");
        for it in items {
            match it {
                Item::Call(c) => {
                    let _ = writeln!(t, "  {},", c.render());
                }
                Item::Comment(c) => {
                    let _ = writeln!(t, "  # not expressed: {c}");
                }
            }
        }
        let _ = writeln!(t, "]");
    }
    let mut not_expressed = em.not_expressed;
    not_expressed.sort();
    Some(Emitted {
        dir: stem,
        release,
        toml: t,
        not_expressed,
    })
}
