//! Extraction: from a parsed file to a driver description — its compatibles, bus, private
//! struct and fields, and for each callback the framework calls it makes, in order, with the
//! branches they sit in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::cfile::{CFile, CallSite, Cond, Ret, Stmt, Unrecognised};
use crate::vocab::{Api, Class};

/// The struct a callback is found through.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ops {
    DrmBridgeFuncs,
    DrmPanelFuncs,
    MipiDsiHostOps,
    I2cDriver,
    PlatformDriver,
    MipiDsiDriver,
    AuxiliaryDriver,
    /// An IRQ handler passed to request_irq() and friends.
    Irq,
    /// A work function passed to INIT_WORK() / INIT_DELAYED_WORK().
    Work,
    /// A devm action (devm_add_action*()).
    DevmAction,
}

impl Ops {
    /// The C struct type a table of callbacks has.
    pub fn from_struct(ty: &str) -> Option<Ops> {
        Some(match ty {
            "drm_bridge_funcs" => Ops::DrmBridgeFuncs,
            "drm_panel_funcs" => Ops::DrmPanelFuncs,
            "mipi_dsi_host_ops" => Ops::MipiDsiHostOps,
            "i2c_driver" => Ops::I2cDriver,
            "platform_driver" => Ops::PlatformDriver,
            "mipi_dsi_driver" => Ops::MipiDsiDriver,
            "auxiliary_driver" => Ops::AuxiliaryDriver,
            _ => return None,
        })
    }

    fn bus(self) -> Option<Bus> {
        match self {
            Ops::I2cDriver => Some(Bus::I2c),
            Ops::PlatformDriver => Some(Bus::Platform),
            Ops::MipiDsiDriver => Some(Bus::Dsi),
            Ops::AuxiliaryDriver => Some(Bus::Auxiliary),
            _ => None,
        }
    }
}

impl fmt::Display for Ops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ops::DrmBridgeFuncs => "drm_bridge_funcs",
            Ops::DrmPanelFuncs => "drm_panel_funcs",
            Ops::MipiDsiHostOps => "mipi_dsi_host_ops",
            Ops::I2cDriver => "i2c_driver",
            Ops::PlatformDriver => "platform_driver",
            Ops::MipiDsiDriver => "mipi_dsi_driver",
            Ops::AuxiliaryDriver => "auxiliary_driver",
            Ops::Irq => "irq",
            Ops::Work => "work",
            Ops::DevmAction => "devm_action",
        })
    }
}

/// The bus a driver binds on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bus {
    I2c,
    Platform,
    Dsi,
    Auxiliary,
}

/// A kind of private field.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// `struct drm_bridge` embedded: the driver's own bridge.
    Bridge,
    /// `struct drm_bridge *`: another bridge.
    BridgePtr,
    PanelPtr,
    Panel,
    Regulator,
    Gpio,
    Regmap,
    Work,
    DelayedWork,
    Mutex,
    Irq,
    DsiDevice,
    DsiHost,
    I2cClient,
    Clk,
    Connector,
}

impl FieldKind {
    fn of(ty: &str, name: &str) -> Option<FieldKind> {
        let t = ty.trim();
        Some(match t {
            "struct drm_bridge" => FieldKind::Bridge,
            "struct drm_bridge *" => FieldKind::BridgePtr,
            "struct drm_panel *" => FieldKind::PanelPtr,
            "struct drm_panel" => FieldKind::Panel,
            "struct regulator *" => FieldKind::Regulator,
            "struct gpio_desc *" => FieldKind::Gpio,
            "struct regmap *" => FieldKind::Regmap,
            "struct work_struct" => FieldKind::Work,
            "struct delayed_work" => FieldKind::DelayedWork,
            "struct mutex" => FieldKind::Mutex,
            "struct mipi_dsi_device *" => FieldKind::DsiDevice,
            "struct mipi_dsi_host" => FieldKind::DsiHost,
            "struct i2c_client *" => FieldKind::I2cClient,
            "struct clk *" => FieldKind::Clk,
            "struct drm_connector" | "struct drm_connector *" => FieldKind::Connector,
            _ if t.starts_with("struct regulator_bulk_data") => FieldKind::Regulator,
            "int" | "unsigned int" | "u32" if name.contains("irq") => FieldKind::Irq,
            _ => return None,
        })
    }
}

/// A private field the audit knows the kind of.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    pub line: u32,
}

/// One step of a callback: a framework call, or the branch structure around calls.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    Call {
        call: String,
        line: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        api: Option<Api>,
        #[serde(skip_serializing_if = "Option::is_none")]
        into: Option<String>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        internal: bool,
    },
    Branch {
        line: u32,
        then: Vec<Step>,
        #[serde(rename = "else", skip_serializing_if = "Vec::is_empty")]
        els: Vec<Step>,
    },
    Loop {
        line: u32,
        body: Vec<Step>,
    },
    Return {
        line: u32,
        error: bool,
    },
    Goto {
        line: u32,
        label: String,
    },
    Label {
        line: u32,
        name: String,
    },
}

/// A function the framework calls, with what it does.
#[derive(Clone, Debug, Serialize)]
pub struct Callback {
    pub ops: Ops,
    /// The member of the ops struct (`atomic_enable`), or the function name for IRQs, work
    /// items and devm actions.
    pub member: String,
    pub function: String,
    pub line: u32,
    pub steps: Vec<Step>,
}

/// How much of a driver's calls the audit understood.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct CallStats {
    pub seen: usize,
    /// In the lifetime vocabulary.
    pub recognised: usize,
    /// Known to have no lifetime effect (logging, delays, DT reads).
    pub neutral: usize,
    /// Static functions of the same file (followed).
    pub internal: usize,
    /// Not known: each is listed in `unknown_calls`.
    pub unknown: usize,
}

impl CallStats {
    /// Calls understood, in percent.
    pub fn understood_percent(&self) -> u32 {
        if self.seen == 0 {
            return 100;
        }
        (((self.seen - self.unknown) * 100) / self.seen) as u32
    }
}

/// A driver, extracted from one C file.
#[derive(Clone, Debug, Serialize)]
pub struct Driver {
    /// The file, relative to the audited root.
    pub file: String,
    pub compatibles: Vec<String>,
    pub bus: Option<Bus>,
    /// The private struct (`struct sn65dsi83`), found through container_of /
    /// devm_drm_bridge_alloc, else the struct that embeds a `struct drm_bridge`.
    pub private: Option<String>,
    pub fields: Vec<Field>,
    pub callbacks: Vec<Callback>,
    pub calls: CallStats,
    /// Calls not in the vocabulary: (line, callee).
    pub unknown_calls: Vec<(u32, String)>,
    pub unrecognised: Vec<Unrecognised>,
}

impl Driver {
    /// The callbacks found through a table (ops or driver struct).
    pub fn callback(&self, ops: Ops, member: &str) -> Option<&Callback> {
        self.callbacks
            .iter()
            .find(|c| c.ops == ops && c.member == member)
    }

    /// Whether the file is a driver (has an ops table or a driver struct) or only helpers.
    pub fn is_driver(&self) -> bool {
        !self.callbacks.is_empty()
    }
}

/// Visit every call site of a statement list, nested ones included.
pub fn for_each_call<'a>(stmts: &'a [Stmt], f: &mut dyn FnMut(&'a CallSite)) {
    for s in stmts {
        match s {
            Stmt::Call(c) => f(c),
            Stmt::If { then, els, .. } => {
                for_each_call(then, f);
                for_each_call(els, f);
            }
            Stmt::Loop { body, .. } | Stmt::Scoped { body, .. } => for_each_call(body, f),
            Stmt::Switch { cases, .. } => {
                for c in cases {
                    for_each_call(c, f);
                }
            }
            _ => {}
        }
    }
}

/// Extract the driver of a parsed file.
pub fn extract(file: &str, c: &CFile) -> Driver {
    let mut callbacks = Vec::new();
    let mut bus = None;
    let mut compatibles = Vec::new();
    for init in &c.initialised {
        compatibles.extend(init.compatibles.iter().cloned());
        let Some(ops) = Ops::from_struct(&init.ty) else {
            continue;
        };
        bus = bus.or(ops.bus());
        for (member, value, _) in &init.members {
            if let Some(f) = c.functions.get(value) {
                callbacks.push(Callback {
                    ops,
                    member: member.clone(),
                    function: f.name.clone(),
                    line: f.line,
                    steps: steps(&f.body),
                });
            }
        }
    }
    // IRQ handlers, work functions and devm actions: functions passed to their registrars.
    let mut seen_fn = BTreeSet::new();
    for f in c.functions.values() {
        for_each_call(&f.body, &mut |cs| {
            let (ops, idx): (Ops, &[usize]) = match cs.class {
                Class::Api(Api::RequestIrq { managed: true }) => (Ops::Irq, &[2, 3]),
                Class::Api(Api::RequestIrq { managed: false }) => (Ops::Irq, &[1, 2]),
                Class::Api(Api::InitWork) if cs.name.starts_with("devm_") => (Ops::Work, &[2]),
                Class::Api(Api::InitWork) => (Ops::Work, &[1]),
                Class::Api(Api::DevmAction) => (Ops::DevmAction, &[1]),
                _ => return,
            };
            for i in idx {
                let Some(a) = cs.args.get(*i) else { continue };
                if let Some(g) = c.functions.get(a.as_str()) {
                    if seen_fn.insert((ops, g.name.clone())) {
                        callbacks.push(Callback {
                            ops,
                            member: g.name.clone(),
                            function: g.name.clone(),
                            line: g.line,
                            steps: steps(&g.body),
                        });
                    }
                }
            }
        });
    }
    let private = private_struct(c);
    let fields = private
        .as_ref()
        .and_then(|p| c.structs.get(p))
        .map(|(_, members)| {
            members
                .iter()
                .filter_map(|m| {
                    FieldKind::of(&m.ty, &m.name).map(|kind| Field {
                        name: m.name.clone(),
                        kind,
                        line: m.line,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut calls = CallStats::default();
    let mut unknown_calls = Vec::new();
    for f in c.functions.values() {
        for_each_call(&f.body, &mut |cs| {
            calls.seen += 1;
            match &cs.class {
                Class::Api(_) => calls.recognised += 1,
                Class::Neutral => calls.neutral += 1,
                Class::Internal => calls.internal += 1,
                Class::Unknown => {
                    calls.unknown += 1;
                    unknown_calls.push((cs.line, cs.name.clone()));
                }
            }
        });
    }
    unknown_calls.sort();
    compatibles.sort();
    compatibles.dedup();
    Driver {
        file: file.to_string(),
        compatibles,
        bus,
        private,
        fields,
        callbacks,
        calls,
        unknown_calls,
        unrecognised: c.unrecognised.clone(),
    }
}

/// The private struct: the type named in devm_drm_bridge_alloc(dev, struct X, ...) or
/// container_of(p, struct X, ...), else the first struct that embeds a `struct drm_bridge`.
fn private_struct(c: &CFile) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in c.functions.values() {
        for_each_call(&f.body, &mut |cs| {
            let i = match cs.name.as_str() {
                "devm_drm_bridge_alloc" | "container_of" | "container_of_const" => 1,
                _ => return,
            };
            if let Some(a) = cs.args.get(i) {
                if let Some(s) = a.strip_prefix("struct ") {
                    if c.structs.contains_key(s.trim()) {
                        *counts.entry(s.trim().to_string()).or_default() += 1;
                    }
                }
            }
        });
    }
    if let Some((s, _)) = counts.iter().max_by_key(|(_, n)| **n) {
        return Some(s.clone());
    }
    c.structs
        .iter()
        .find(|(_, (_, m))| m.iter().any(|m| m.ty == "struct drm_bridge"))
        .map(|(s, _)| s.clone())
}

/// The steps of a body: the framework calls and the branches around them.
pub fn steps(body: &[Stmt]) -> Vec<Step> {
    let mut out = Vec::new();
    for s in body {
        match s {
            Stmt::Call(cs) => match &cs.class {
                Class::Api(a) => out.push(Step::Call {
                    call: cs.name.clone(),
                    line: cs.line,
                    api: Some(*a),
                    into: cs.assigned_to.clone(),
                    internal: false,
                }),
                Class::Internal => out.push(Step::Call {
                    call: cs.name.clone(),
                    line: cs.line,
                    api: None,
                    into: cs.assigned_to.clone(),
                    internal: true,
                }),
                _ => {}
            },
            Stmt::If {
                line,
                then,
                els,
                cond,
                ..
            } => {
                let then = steps(then);
                let els = steps(els);
                if !then.is_empty() || !els.is_empty() || matches!(cond, Cond::Enter { .. }) {
                    out.push(Step::Branch {
                        line: *line,
                        then,
                        els,
                    });
                }
            }
            Stmt::Loop { line, body } | Stmt::Scoped { line, body } => {
                let body = steps(body);
                if !body.is_empty() {
                    out.push(Step::Loop { line: *line, body });
                }
            }
            Stmt::Switch { line, cases, .. } => {
                for c in cases {
                    let then = steps(c);
                    if !then.is_empty() {
                        out.push(Step::Branch {
                            line: *line,
                            then,
                            els: Vec::new(),
                        });
                    }
                }
            }
            Stmt::Return { line, value } => out.push(Step::Return {
                line: *line,
                error: *value == Ret::Error,
            }),
            Stmt::Goto { line, label } => out.push(Step::Goto {
                line: *line,
                label: label.clone(),
            }),
            Stmt::Label { line, name } => out.push(Step::Label {
                line: *line,
                name: name.clone(),
            }),
            Stmt::Store { .. }
            | Stmt::Set { .. }
            | Stmt::Cleanup { .. }
            | Stmt::Break { .. }
            | Stmt::Continue { .. } => {}
        }
    }
    out
}
