//! Turning a checked scenario into a model program: compile its board and overlays, check
//! its node paths, and build the entry closure the runtime (or the explorer) runs once per
//! execution.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use drivers::data::DriverData;
use drivers::display::{display_lookup, display_pipes};
use drivers::registry::{claim_in, Claim, Role};
use drivers::variant::{set_variant, Variant};
use drm::bridge::{
    drm_bridge_debugfs_show, drm_bridge_put, of_drm_find_and_get_bridge, of_drm_find_bridge,
    of_drm_get_bridge_by_endpoint,
};
use drm::drv::{drm_dev_get, drm_dev_put, DrmDevice};
use drm::of::{drm_of_find_panel_or_bridge, LookupApi};
use drm::rules::{rules, set_rules};
use drm::{Release, Rules, Switch};
use kmodel::of::{DeviceTree, NodeId, OvcsId};
use kmodel::{Kernel, Obj};
use miette::Diagnostic;

use super::{Scenario, ScenarioError, Step};

/// A scenario that could not be prepared: a located scenario error, or a device-tree error
/// from one of its files.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Scenario(Box<ScenarioError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Dts(Box<dts::DtsError>),
}

impl From<Box<ScenarioError>> for LoadError {
    fn from(e: Box<ScenarioError>) -> Self {
        LoadError::Scenario(e)
    }
}

/// The board data compiled into bridgesim.
pub const BUILTINS: &[(&str, &str)] = &[
    (
        "sunh",
        include_str!("../../../../scenarios/boards/imx8mp-sunh.dts"),
    ),
    (
        "sunh-addon",
        include_str!("../../../../scenarios/boards/sunh-addon.dtso"),
    ),
    (
        "sunh-addon-vga",
        include_str!("../../../../scenarios/boards/sunh-addon-vga.dtso"),
    ),
    // The i.MX6 parallel display (catalog 5.2 and 5.12 on the real driver).
    (
        "imx6-parallel-display",
        include_str!("../../../../scenarios/boards/imx6q-parallel-display.dts"),
    ),
];

/// Scenarios compiled into bridgesim (`builtin:NAME`).
pub const BUILTIN_SCENARIOS: &[(&str, &str)] = &[
    (
        "demo",
        include_str!("../../../../scenarios/demo/sunh-unplug-during-modeset.toml"),
    ),
    // The demo's second part: the same unplug with an add-on made only of bridges.
    (
        "demo-bridges",
        include_str!("../../../../scenarios/catalog/5.15-hw-access-after-unplug.toml"),
    ),
];

/// A compiled overlay and where it goes.
#[derive(Clone, Debug)]
pub struct PreparedOverlay {
    pub name: String,
    pub tree: DeviceTree,
    /// The base node path (`of_overlay_fdt_apply(..., base)`).
    pub target: Option<String>,
    pub plugged: bool,
}

/// A scenario ready to run: its trees compiled, its names resolved.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub scenario: Scenario,
    pub base: DeviceTree,
    pub overlays: Vec<PreparedOverlay>,
    /// Driver variant overrides.
    pub variants: Vec<(String, Variant)>,
    /// Description overrides: compatible string → description name.
    pub descriptions: Vec<(String, String)>,
    /// The drivers the scenario defines (`[[driver]]`).
    pub defined: Vec<Arc<DriverData>>,
}

fn compile(
    sc: &Scenario,
    spec: &toml::Spanned<String>,
    include: &[std::path::PathBuf],
) -> Result<DeviceTree, LoadError> {
    let s = spec.get_ref();
    if let Some(name) = s.strip_prefix("builtin:") {
        let Some((_, src)) = BUILTINS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
            return Err(sc
                .error(
                    spec.span(),
                    format!("no built-in board data `{name}`"),
                    "unknown name",
                )
                .with_help(format!("expected one of: {}", names.join(", ")))
                .into());
        };
        let c = dts::compile_bytes(s, None, src.as_bytes().to_vec(), &dts::Options::default())
            .map_err(|e| LoadError::Dts(Box::new(e)))?;
        return Ok(c.tree);
    }
    let path = sc.dir.join(s);
    if !path.exists() {
        return Err(sc
            .error(
                spec.span(),
                format!("{} does not exist", path.display()),
                "file not found",
            )
            .into());
    }
    let opts = dts::Options {
        include_dirs: include.to_vec(),
        ..Default::default()
    };
    dts::load(&path, &opts)
        .map(|c| c.tree)
        .map_err(|e| LoadError::Dts(Box::new(e)))
}

impl Prepared {
    /// Compile the board and overlays and check every name the steps use.
    pub fn new(sc: Scenario) -> Result<Prepared, LoadError> {
        let f = &sc.file;
        let include: Vec<_> = f
            .board
            .include
            .iter()
            .map(|i| sc.dir.join(i.get_ref()))
            .collect();
        let base = compile(&sc, &f.board.dts, &include)?;
        let mut overlays = Vec::new();
        for (name, o) in &f.overlays {
            let ov = o.get_ref();
            let tree = compile(&sc, &ov.file, &include)?;
            if let Some(t) = &ov.target {
                if base.of_find_node_by_path(t.get_ref()).is_none() {
                    return Err(sc
                        .error(
                            t.span(),
                            format!("target node {} does not exist in the board", t.get_ref()),
                            "no such node",
                        )
                        .into());
                }
            }
            // The overlay must apply to the board.
            let mut scratch = base.clone();
            let target = ov
                .target
                .as_ref()
                .and_then(|t| base.of_find_node_by_path(t.get_ref()));
            if let Err(e) = scratch.of_overlay_apply(&tree, target) {
                return Err(sc
                    .error(
                        ov.file.span(),
                        format!("overlay `{name}` does not apply to the board: {e}"),
                        "here",
                    )
                    .into());
            }
            overlays.push(PreparedOverlay {
                name: name.clone(),
                tree,
                target: ov.target.as_ref().map(|t| t.get_ref().clone()),
                plugged: ov.plugged,
            });
        }
        let defined = defined_drivers(&sc)?;
        let mut variants = Vec::new();
        let mut descriptions = Vec::new();
        for (compat, v) in &f.drivers {
            match v.get_ref().parse::<Variant>() {
                Ok(variant) => variants.push((compat.clone(), variant)),
                Err(m) => {
                    let claimant = defined
                        .iter()
                        .chain(drivers::data::builtin().unwrap_or(&[]).iter())
                        .find(|d| d.compatible.contains(&compat.as_str()));
                    let Some(d) = claimant else {
                        return Err(sc
                            .error(v.span(), m, "unknown variant")
                            .with_help(format!("no described driver claims `{compat}`, so only a variant name applies"))
                            .into());
                    };
                    if let Err(why) = drivers::data::override_target(d, v.get_ref()) {
                        return Err(sc
                            .error(
                                v.span(),
                                format!("{why}; or a variant name: {m}"),
                                "unknown description",
                            )
                            .into());
                    }
                    descriptions.push((compat.clone(), v.get_ref().clone()));
                }
            }
        }
        let p = Prepared {
            scenario: sc,
            base,
            overlays,
            variants,
            descriptions,
            defined,
        };
        p.check_plugged_stack()?;
        p.check_nodes()?;
        p.check_unplugs()?;
        p.rules(None).map_err(LoadError::Scenario)?;
        Ok(p)
    }

    /// The overlays plugged at boot must apply on top of each other, in the order boot applies
    /// them (each was checked alone against the board).
    fn check_plugged_stack(&self) -> Result<(), LoadError> {
        let apply = |tree: &mut DeviceTree, o: &PreparedOverlay| {
            let target = o
                .target
                .as_deref()
                .and_then(|t| tree.of_find_node_by_path(t));
            tree.of_overlay_apply(&o.tree, target).map(|_| ())
        };
        let plugged: Vec<&PreparedOverlay> = self.overlays.iter().filter(|o| o.plugged).collect();
        let mut tree = self.base.clone();
        for (i, o) in plugged.iter().enumerate() {
            let Err(e) = apply(&mut tree, o) else {
                continue;
            };
            // Name the earlier overlay it conflicts with: the first one it does not apply on.
            let other = plugged[..i]
                .iter()
                .find(|prev| {
                    let mut t = self.base.clone();
                    apply(&mut t, prev).is_ok() && apply(&mut t, o).is_err()
                })
                .or(plugged[..i].last())
                .map(|prev| prev.name.as_str())
                .unwrap_or("(none)");
            let span = self.scenario.file.overlays[&o.name].span();
            return Err(self
                .scenario
                .error(
                    span,
                    format!(
                        "overlays `{other}` and `{}` are both plugged at boot, but `{}` does not \
                         apply on top of `{other}`: {e}",
                        o.name, o.name
                    ),
                    "plugged after the other",
                )
                .with_help(
                    "expected overlays that stack: set `plugged = false` on one of them and \
                     plug it in a step, or give it a `target` where it applies",
                )
                .into());
        }
        Ok(())
    }

    /// An `unplug` must name an overlay that can be plugged at that point of its thread: at
    /// boot, by setup, earlier in the same thread, or by a `plug` step of another thread.
    fn check_unplugs(&self) -> Result<(), LoadError> {
        let f = &self.scenario.file;
        let mut plugged: BTreeSet<String> = self
            .overlays
            .iter()
            .filter(|o| o.plugged)
            .map(|o| o.name.clone())
            .collect();
        let plugs = |steps: &[toml::Spanned<Step>]| -> BTreeSet<String> {
            steps
                .iter()
                .filter_map(|s| match s.get_ref() {
                    Step::Plug { overlay } => Some(overlay.clone()),
                    _ => None,
                })
                .collect()
        };
        let check = |where_: &str,
                     steps: &[toml::Spanned<Step>],
                     state: &mut BTreeSet<String>,
                     others: &BTreeSet<String>|
         -> Result<(), LoadError> {
            for s in steps {
                match s.get_ref() {
                    Step::Plug { overlay } => {
                        state.insert(overlay.clone());
                    }
                    // `remove` in the guard: a plugged overlay is unplugged here.
                    Step::Unplug { overlay }
                        if !state.remove(overlay) && !others.contains(overlay) =>
                    {
                        return Err(self
                            .scenario
                            .error(
                                s.span(),
                                format!(
                                    "`unplug` of overlay `{overlay}`, which is not plugged \
                                         at this point of {where_}"
                                ),
                                "not plugged here",
                            )
                            .with_help(
                                "expected an overlay plugged at boot (`plugged = true`), by \
                                     setup, by an earlier `plug` in the same thread, or by a \
                                     `plug` in another thread",
                            )
                            .into());
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        check("setup", &f.setup, &mut plugged, &BTreeSet::new())?;
        for (i, th) in f.threads.iter().enumerate() {
            let others: BTreeSet<String> = f
                .threads
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, t)| plugs(&t.steps))
                .collect();
            let mut state = plugged.clone();
            check(
                &format!("thread `{}`", th.name),
                &th.steps,
                &mut state,
                &others,
            )?;
        }
        Ok(())
    }

    /// Every node path a step names must exist in the board, or in the board with one of the
    /// overlays applied, and be of the kind its step acts on.
    fn check_nodes(&self) -> Result<(), LoadError> {
        let mut trees = vec![self.base.clone()];
        for o in &self.overlays {
            let mut t = self.base.clone();
            let target = o
                .target
                .as_ref()
                .and_then(|p| self.base.of_find_node_by_path(p));
            if t.of_overlay_apply(&o.tree, target).is_ok() {
                trees.push(t);
            }
        }
        let f = &self.scenario.file;
        for s in f
            .setup
            .iter()
            .chain(f.threads.iter().flat_map(|t| t.steps.iter()))
        {
            {
                if let Some(path) = s.get_ref().node() {
                    let found = trees
                        .iter()
                        .find_map(|t| t.of_find_node_by_path(path).map(|n| (t, n)));
                    if let Some((tree, n)) = found {
                        if let Err((message, help)) =
                            step_kind_ok(s.get_ref(), path, tree, n, &self.defined)
                        {
                            return Err(self
                                .scenario
                                .error(s.span(), message, "wrong kind of node")
                                .with_help(help)
                                .into());
                        }
                    } else {
                        return Err(self
                            .scenario
                            .error(
                                s.span(),
                                format!("node {path} does not exist in the board or its overlays"),
                                "no such node",
                            )
                            .with_help(
                                "node paths are full paths from the root, e.g. /soc@0/dsi@32e60000",
                            )
                            .into());
                    }
                }
            }
        }
        Ok(())
    }

    /// The rules of a run: `release` (the command line's) or the scenario's, with the
    /// scenario's switches on top.
    pub fn rules(&self, release: Option<Release>) -> Result<Rules, Box<ScenarioError>> {
        let sc = &self.scenario;
        let spec = &sc.file.rules;
        let release = match (release, &spec.release) {
            (Some(r), _) => r,
            (None, Some(r)) => r.get_ref().parse().map_err(|_| {
                sc.error(
                    r.span(),
                    format!("unknown release `{}`", r.get_ref()),
                    "unknown release",
                )
                .with_help(format!("expected one of: {}", Release::names()))
            })?,
            (None, None) => Release::LATEST,
        };
        let mut rules = Rules::for_release(release);
        for (name, value) in &spec.switches {
            let switch: Switch = name.parse().map_err(|_| {
                sc.error(
                    value.span(),
                    format!("unknown rule switch `{name}`"),
                    "unknown switch",
                )
                .with_help(format!("expected one of: {}", Switch::names()))
            })?;
            rules.set(switch, *value.get_ref());
        }
        self.check_lookup_apis(release, &rules)?;
        Ok(rules)
    }

    /// Every `lookup` step's `api` must exist under the rules of the run (the release's, with
    /// the scenario's switches): asking for one a release lacks names the releases that have
    /// it.
    fn check_lookup_apis(&self, release: Release, rules: &Rules) -> Result<(), Box<ScenarioError>> {
        let f = &self.scenario.file;
        for s in f
            .setup
            .iter()
            .chain(f.threads.iter().flat_map(|t| t.steps.iter()))
        {
            if let Step::Lookup { api: Some(api), .. } = s.get_ref() {
                if !api.available(rules) {
                    let have: Vec<String> = api.releases().iter().map(|r| r.to_string()).collect();
                    return Err(self
                        .scenario
                        .error(
                            s.span(),
                            format!(
                                "`lookup` api `{api}` does not exist in {release}; it exists in {}",
                                have.join(", ")
                            ),
                            "not in this release",
                        )
                        .with_help(format!(
                            "run it under one of {} (--rules), or pick an api of {release}",
                            have.join(", ")
                        )));
                }
            }
        }
        Ok(())
    }

    /// One execution under `rules` in thread order (no preemption), for a look at its trace.
    pub fn run_once(self: &Arc<Self>, rules: Rules) -> Kernel {
        let k = Kernel::new(kmodel::Config::default());
        let prog = self.program(rules);
        k.run(&mut kmodel::ThreadOrder, move |k| prog(k));
        k
    }

    /// The entry closure of one execution under `rules`.
    pub fn program(self: &Arc<Self>, rules: Rules) -> impl Fn(&Kernel) + Send + Sync + 'static {
        let p = self.clone();
        move |k: &Kernel| boot_and_run(k, &p, rules)
    }
}

/// Whether node `n` (at `path` in `tree`) is of the kind `step` acts on, judged by the driver
/// model that claims it: a display controller for `enable`, `disable`, `detect` and
/// `get-modes` (their connector is the controller's), a bridge or panel driver for `lookup`,
/// a driver with an HPD interrupt for `hpd`. A node whose compatible no model claims passes
/// (except for `hpd`): it may be what the step needs, but stays inert, which the run says.
/// The error is a message and a help line.
fn step_kind_ok(
    step: &Step,
    path: &str,
    tree: &DeviceTree,
    n: NodeId,
    defined: &[Arc<DriverData>],
) -> Result<(), (String, String)> {
    let op = step.op();
    let claimed = claim_in(tree, n, &entries(defined));
    let what = match &claimed {
        Claim::NoCompatible => format!("{path} has no compatible, so no driver binds to it"),
        Claim::NotModelled => format!("no driver model claims {path}"),
        Claim::Model(e) => format!("{path} is a {} ({})", e.role, e.driver.name()),
    };
    let bad = |expected: &str| {
        Err((
            format!("`{op}` needs {expected}, but {what}"),
            format!("expected {expected}"),
        ))
    };
    match step {
        Step::Enable { .. }
        | Step::Disable { .. }
        | Step::GetProperties { .. }
        | Step::Detect { .. }
        | Step::GetModes { .. } => {
            let expected = if matches!(step, Step::Detect { .. } | Step::GetModes { .. }) {
                "a node with a connector (a display controller, whose bridge_connector it is)"
            } else {
                "a display controller node (its CRTC)"
            };
            match claimed {
                Claim::NoCompatible => bad(expected),
                Claim::Model(e) if e.role != Role::DisplayController => bad(expected),
                _ => Ok(()),
            }
        }
        Step::Lookup {
            api, port, endpoint, ..
        } if api.is_some_and(|a| a.follows_graph()) => {
            // The graph lookups start at the consumer: it needs that endpoint.
            let (port, endpoint) = (port.unwrap_or(0), endpoint.unwrap_or(0));
            match tree.of_graph_get_endpoint_by_regs(n, port, endpoint) {
                Some(_) => Ok(()),
                None => Err((
                    format!("`lookup` with api `{}` follows the OF graph of {path}, but it has no endpoint {endpoint} in port {port}", api.expect("guarded")),
                    "expected the consumer's node with that port and endpoint (`port`, `endpoint`, default 0)".to_string(),
                )),
            }
        }
        Step::Lookup { port, endpoint, .. } if port.is_some() || endpoint.is_some() => Err((
            "`lookup` takes `port` and `endpoint` only with a graph api".to_string(),
            "expected `api = \"drm_of_find_panel_or_bridge\"` or `\"of_drm_get_bridge_by_endpoint\"` with them".to_string(),
        )),
        Step::Lookup { .. } => {
            let expected =
                "a node with a bridge driver (a bridge, or a panel wrapped in a panel_bridge)";
            match claimed {
                Claim::NoCompatible => bad(expected),
                Claim::Model(e) if matches!(e.role, Role::Supplier | Role::DisplayController) => {
                    bad(expected)
                }
                _ => Ok(()),
            }
        }
        Step::Irq { irq, .. } => {
            let compat = tree.compatible(n);
            let data = defined
                .iter()
                .chain(drivers::data::builtin().unwrap_or(&[]).iter())
                .find(|d| compat.iter().any(|c| d.compatible.contains(c)));
            let Some(d) = data else {
                return bad("a node whose driver is described as data (`bridgesim drivers`) and requests an interrupt");
            };
            let lines: Vec<(String, String)> = d
                .releases
                .values()
                .chain(d.any_release.iter())
                .flat_map(|desc| desc.fields.values())
                .filter(|f| f.kind == drivers::data::format::FieldKind::Irq)
                .map(|f| (f.name.clone(), f.source.clone().unwrap_or_else(|| "interrupts".into())))
                .collect();
            let wanted: Vec<&(String, String)> = lines
                .iter()
                .filter(|(name, _)| irq.as_ref().is_none_or(|i| i == name))
                .collect();
            if wanted.is_empty() {
                let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
                return Err((
                    match irq {
                        Some(i) => format!("`irq` names interrupt `{i}`, but {} has no irq field of that name", d.dir),
                        None => format!("`irq` needs a driver that requests an interrupt, but {} has no irq field", d.dir),
                    },
                    format!("expected one of its irq fields: {}", if names.is_empty() { "(none)".to_string() } else { names.join(", ") }),
                ));
            }
            if !wanted.iter().any(|(_, source)| tree.property(n, source).is_some() || (source == "interrupts" && tree.property(n, "interrupts-extended").is_some())) {
                let mut sources: Vec<&str> = wanted.iter().map(|(_, s)| s.as_str()).collect();
                sources.sort();
                sources.dedup();
                return Err((
                    format!("`irq` needs {path} to have an interrupt, but it has no {} property, so {} requests none", sources.join(" or "), d.dir),
                    "add the property to the node, or raise another node's interrupt".to_string(),
                ));
            }
            Ok(())
        }
        Step::Hpd { .. } => {
            let hpd_drivers: Vec<&str> = drivers::registry::all()
                .iter()
                .filter(|e| e.hpd.is_some())
                .map(|e| e.driver.name())
                .collect();
            let expected = format!(
                "a node whose driver has an HPD interrupt ({})",
                hpd_drivers.join(", ")
            );
            match claimed {
                Claim::Model(e) => match &e.hpd {
                    Some(h) if h.has_hpd_irq(tree, n) => Ok(()),
                    Some(_) => Err((
                        format!(
                            "`hpd` needs an HPD interrupt, but {} requests none for {path}",
                            e.driver.name()
                        ),
                        "display-connector needs `hpd-gpios`, adv7511 an `interrupts` property"
                            .to_string(),
                    )),
                    None => bad(&expected),
                },
                _ => bad(&expected),
            }
        }
        _ => Ok(()),
    }
}

/// The registry entries of a scenario: the drivers it defines first (they take precedence),
/// then every built-in model.
pub fn entries(defined: &[Arc<DriverData>]) -> Vec<drivers::registry::Entry> {
    let mut v: Vec<drivers::registry::Entry> = defined
        .iter()
        .map(|d| drivers::registry::data_entry(d.clone()))
        .collect();
    v.extend(drivers::registry::all());
    v
}

/// The drivers a scenario's `[[driver]]` tables define, loaded and checked: an error inside a
/// description is located in the scenario (inline) or in the included file.
fn defined_drivers(sc: &Scenario) -> Result<Vec<Arc<DriverData>>, LoadError> {
    let mut out: Vec<Arc<DriverData>> = Vec::new();
    for spec in &sc.file.defined_drivers {
        let d = spec.get_ref();
        let loaded = if let Some(inc) = &d.include {
            if d.has_description_keys() {
                return Err(sc
                    .error(
                        spec.span(),
                        "a [[driver]] with `include` has no other key",
                        "here",
                    )
                    .with_help("expected either `include = \"file.toml\"` or an inline description")
                    .into());
            }
            let path = sc.dir.join(inc.get_ref());
            let text = std::fs::read_to_string(&path).map_err(|e| {
                sc.error(
                    inc.span(),
                    format!(
                        "cannot read driver description `{}` (relative to the scenario): {e}",
                        inc.get_ref()
                    ),
                    "cannot read",
                )
            })?;
            let file = path.display().to_string();
            drivers::data::load_inline(&file, &text).map_err(|e| desc_error(&e))?
        } else {
            let src = drivers::data::format::Source {
                file: &sc.path,
                text: &sc.source,
            };
            drivers::data::load_parsed(src, d.clone()).map_err(|e| desc_error(&e))?
        };
        if let Some(c) = out
            .iter()
            .find_map(|o| loaded.compatible.iter().find(|c| o.compatible.contains(c)))
        {
            return Err(sc
                .error(
                    spec.span(),
                    format!("compatible `{c}` is claimed by two [[driver]] tables"),
                    "here",
                )
                .into());
        }
        out.push(loaded);
    }
    Ok(out)
}

/// A description's located error as a scenario error (same file:line:column form).
fn desc_error(e: &drivers::data::format::DescError) -> LoadError {
    LoadError::Scenario(Box::new(ScenarioError::at(
        &e.file,
        &e.src,
        e.span.clone(),
        e.message.clone(),
        "here",
    )))
}

/// The release names, for messages.
pub fn release_names() -> Vec<String> {
    Release::ALL.iter().map(|r| r.to_string()).collect()
}

/// Run-time state shared by the scenario threads: which overlays are plugged, and the DRM
/// devices whose file userspace holds open.
struct RunState {
    plugged: BTreeMap<String, OvcsId>,
    /// Plug order, for teardown.
    order: Vec<String>,
    open_files: Vec<DrmDevice>,
}

/// The prefix of the trace event that lists a node no driver model claims.
pub const NOT_MODELLED: &str = "not modelled: ";

/// How many "not modelled" entries the summary line names before `...`.
pub const NOT_MODELLED_SHOWN: usize = 3;

/// The "not modelled" line of a run, from the entries the trace lists (`PATH (COMPATIBLE, ...)`,
/// as `registry::not_modelled` gives them): the number of nodes and of distinct compatibles,
/// then the first [`NOT_MODELLED_SHOWN`] entries, or every one with `all`
/// (`--list-unmodelled`). `None` when every node is modelled.
pub fn not_modelled_summary(entries: &[String], all: bool) -> Option<String> {
    if entries.is_empty() {
        return None;
    }
    let compatibles: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e.split_once(" (").map(|(_, c)| c.trim_end_matches(')')))
        .flat_map(|c| c.split(", "))
        .filter(|c| !c.is_empty())
        .collect();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let shown = if all {
        entries.len()
    } else {
        NOT_MODELLED_SHOWN
    };
    let mut line = format!(
        "not modelled (inert): {}, {}: {}",
        plural(entries.len(), "node"),
        plural(compatibles.len(), "compatible"),
        entries
            .iter()
            .take(shown)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    );
    if entries.len() > shown {
        line.push_str("; ... (--list-unmodelled for all)");
    }
    Some(line)
}

/// The prefix of the model event that names a device boot left deferred (the kernel's
/// "deferred probe pending" warning).
pub const DEFERRED_PROBE_PENDING: &str = "deferred probe pending: ";

/// The node paths of the devices on the deferred-probe list, sorted.
fn deferred_devices(k: &Kernel) -> Vec<String> {
    let mut out: Vec<String> = k
        .devices()
        .into_iter()
        .filter(|&d| k.device_is_deferred(d))
        .filter_map(|d| k.dev_of_node(d))
        .map(|n| k.of_tree_peek(|t| t.full_name(n)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The devices boot left deferred in an execution's trace (its
/// [`DEFERRED_PROBE_PENDING`] events).
pub fn boot_deferred(trace: &kmodel::trace::Trace) -> Vec<String> {
    trace
        .events
        .iter()
        .filter_map(|e| match e {
            kmodel::trace::Event::Model { what, .. } => what
                .strip_prefix(DEFERRED_PROBE_PENDING)
                .map(str::to_string),
            _ => None,
        })
        .collect()
}

/// The owner of the reference an open DRM file holds.
const DRM_FILE: drm::RefOwner = drm::RefOwner::DrmFile;

fn boot_and_run(k: &Kernel, p: &Arc<Prepared>, r: Rules) {
    set_rules(k, r);
    for (compat, v) in &p.variants {
        set_variant(k, compat, *v);
    }
    // The boot DTB has the plugged overlays merged in (as a bootloader applies them), but as
    // changesets, so a later unplug can revert them.
    let mut tree = p.base.clone();
    let mut plugged = BTreeMap::new();
    let mut order = Vec::new();
    for o in p.overlays.iter().filter(|o| o.plugged) {
        let target = o
            .target
            .as_deref()
            .and_then(|t| tree.of_find_node_by_path(t));
        let (id, _) = tree
            .of_overlay_apply(&o.tree, target)
            .expect("checked when the scenario was loaded");
        plugged.insert(o.name.clone(), id);
        order.push(o.name.clone());
    }
    k.of_set_live_tree(tree);
    drivers::data::interp::set_inject_faults(k, p.scenario.file.inject_faults);
    for (compat, d) in &p.descriptions {
        drivers::data::set_description(k, compat, d);
    }
    let models = entries(&p.defined);
    let claimed = entries(&p.defined);
    drivers::registry::register(k, models);
    k.of_platform_populate();
    // Nodes no model claims are inert; say so once each.
    for entry in drivers::registry::not_modelled(k, &claimed) {
        k.model_event(None, format!("{NOT_MODELLED}{entry}"));
    }
    // The devices boot leaves deferred, as the kernel lists them once the deferred-probe
    // timeout has passed.
    // cite: v7.1:drivers/base/dd.c:deferred_probe_timeout_work_func
    for path in deferred_devices(k) {
        k.model_event(None, format!("{DEFERRED_PROBE_PENDING}{path}"));
    }
    let state: Obj<RunState> = k.static_obj(
        "scenario state",
        "scenario state",
        RunState {
            plugged,
            order,
            open_files: Vec::new(),
        },
    );
    // Userspace opens the card of every pipeline that came up.
    let mut cards = display_pipes(k);
    // One file per card (a controller with several endpoints has a pipeline per encoder).
    cards.dedup_by_key(|p| p.drm);
    for pipe in cards {
        drm_dev_get(k, pipe.drm, DRM_FILE);
        k.write(state, |s| s.open_files.push(pipe.drm));
    }
    for s in &p.scenario.file.setup {
        step(k, p, state, s.get_ref());
    }
    let mut threads = Vec::new();
    for th in &p.scenario.file.threads {
        let steps: Vec<Step> = th.steps.iter().map(|s| s.get_ref().clone()).collect();
        let p2 = p.clone();
        threads.push(k.spawn(&th.name, move |k| {
            crate::fault::maybe_panic(crate::fault::Site::ScenarioThread);
            for s in &steps {
                step(k, &p2, state, s);
            }
        }));
    }
    for t in threads {
        k.join(t);
    }
    if p.scenario.file.teardown {
        teardown(k, state);
    }
}

fn node(k: &Kernel, path: &str) -> Option<NodeId> {
    k.of_tree(|t| t.of_find_node_by_path(path))
}

fn plug(k: &Kernel, p: &Prepared, state: Obj<RunState>, name: &str) {
    let _f = k.func("addon_plug");
    if k.read(state, |s| s.plugged.contains_key(name)) {
        k.model_event(None, format!("overlay {name} is already plugged"));
        return;
    }
    let o = p
        .overlays
        .iter()
        .find(|o| o.name == name)
        .expect("checked at load");
    let target = o.target.as_deref().and_then(|t| node(k, t));
    match k.of_overlay_fdt_apply(&o.tree, target) {
        Ok(id) => k.write(state, |s| {
            s.plugged.insert(name.to_string(), id);
            s.order.push(name.to_string());
        }),
        Err(e) => k.warn(format!("of_overlay_fdt_apply({name}) failed: {e:?}")),
    }
}

fn unplug(k: &Kernel, state: Obj<RunState>, name: &str) {
    let _f = k.func("addon_unplug");
    let Some(id) = k.write(state, |s| {
        s.order.retain(|n| n != name);
        s.plugged.remove(name)
    }) else {
        k.model_event(None, format!("overlay {name} is not plugged"));
        return;
    };
    if let Err(e) = k.of_overlay_remove(id) {
        k.warn(format!("of_overlay_remove({name}) failed: {e:?}"));
    }
}

fn step(k: &Kernel, p: &Prepared, state: Obj<RunState>, s: &Step) {
    match s {
        Step::Plug { overlay } => plug(k, p, state, overlay),
        Step::Unplug { overlay } => unplug(k, state, overlay),
        Step::Bind { node: n } | Step::Unbind { node: n } => {
            let Some(dev) = node(k, n).and_then(|n| k.of_find_device_by_node(n)) else {
                k.model_event(None, format!("no device for {n}"));
                return;
            };
            if matches!(s, Step::Bind { .. }) {
                k.device_attach(dev);
            } else {
                k.device_release_driver(dev);
            }
        }
        Step::Enable { crtc } | Step::Disable { crtc } => {
            let _f = k.func("drm_mode_atomic_ioctl");
            let Some(pipe) = node(k, crtc).and_then(|n| display_lookup(k, n)) else {
                k.model_event(None, format!("no CRTC for {crtc}"));
                return;
            };
            if matches!(s, Step::Enable { .. }) {
                drm::atomic::drm_atomic_helper_commit_modeset_enables(k, pipe.encoder);
            } else {
                drm::atomic::drm_atomic_helper_commit_modeset_disables(k, pipe.encoder);
            }
        }
        Step::Detect { connector } | Step::GetModes { connector } => {
            let _f = k.func("drm_mode_getconnector");
            // The connector userspace finds for the pipeline: on the card's connector list,
            // attached to its encoder (the last bridge's own, in the releases whose display
            // controller attaches without DRM_BRIDGE_ATTACH_NO_CONNECTOR), else the one the
            // controller registered (a drm_bridge_connector).
            let Some(c) = node(k, connector)
                .and_then(|n| display_lookup(k, n))
                .and_then(|p| {
                    drm::connector::drm_connector_for_encoder(k, p.drm, p.encoder).or(p.connector)
                })
            else {
                k.model_event(None, format!("no connector for {connector}"));
                return;
            };
            if matches!(s, Step::Detect { .. }) {
                drm::connector::drm_helper_probe_detect(k, c);
            } else {
                drm::connector::drm_helper_probe_single_connector_modes(k, c);
            }
        }
        Step::Hpd { bridge } => {
            // The hardware raises the HPD line of whichever driver model requested one
            // (`registry::HpdIrq`); after unbind devres has freed it and nothing runs.
            let irq = node(k, bridge)
                .and_then(|n| k.of_find_device_by_node(n))
                .and_then(|d| drivers::registry::hpd_irq(k, d));
            match irq.map(|i| k.fire_irq(i)) {
                Some(Some(_)) => {}
                Some(None) => {
                    k.model_event(None, format!("HPD interrupt of {bridge} not delivered"))
                }
                None => k.model_event(None, format!("no HPD interrupt at {bridge}")),
            }
        }
        Step::RunWork => {
            k.run_queued_work();
        }
        Step::Irq { node: path, irq } => {
            let Some(dev) = node(k, path).and_then(|n| k.of_find_device_by_node(n)) else {
                k.model_event(None, format!("no device at {path}"));
                return;
            };
            let lines = drivers::data::interp::requested_irqs(k, dev);
            let mut fired = false;
            for (field, i) in lines {
                if irq.as_ref().is_none_or(|want| *want == field) {
                    fired |= k.fire_irq(i).is_some();
                }
            }
            if !fired {
                k.model_event(None, format!("no interrupt of {path} delivered"));
            }
        }
        Step::Lookup {
            node: n,
            api,
            port,
            endpoint,
        } => {
            let _f = k.func("bridge_lookup");
            let Some(np) = node(k, n) else { return };
            lookup(k, np, *api, port.unwrap_or(0), endpoint.unwrap_or(0));
        }
        Step::Debugfs => {
            drm_bridge_debugfs_show(k);
        }
        Step::GetProperties { crtc } => {
            let Some(pipe) = node(k, crtc).and_then(|n| display_lookup(k, n)) else {
                k.model_event(None, format!("no CRTC for {crtc}"));
                return;
            };
            drm::mode_object::drm_mode_obj_get_properties_ioctl(k, pipe.drm);
        }
        Step::Close => close(k, state),
    }
}

/// The `lookup` step: find with `api` (default: the counted lookup where the rules have it),
/// use what was found, put it if the api counted it. A borrowed pointer is used with nothing
/// keeping it alive.
fn lookup(k: &Kernel, np: NodeId, api: Option<LookupApi>, port: i32, endpoint: i32) {
    const OWNER: &str = "lookup";
    // cite: v7.0:drivers/gpu/drm/drm_bridge.c:of_drm_find_and_get_bridge
    let api = api.unwrap_or(if rules(k).of_find_and_get {
        LookupApi::OfDrmFindAndGetBridge
    } else {
        LookupApi::OfDrmFindBridge
    });
    let remote = || drivers::graph::remote_node_of(k, np, port, endpoint);
    let bridge = match api {
        LookupApi::OfDrmFindBridge => of_drm_find_bridge(k, np),
        LookupApi::OfDrmFindAndGetBridge => of_drm_find_and_get_bridge(k, np, OWNER),
        LookupApi::DrmOfFindPanelOrBridge => {
            match drm_of_find_panel_or_bridge(k, remote(), true, true) {
                Ok((Some(panel), _)) => {
                    k.read(panel.obj(), |_| ());
                    None
                }
                Ok((None, b)) => b,
                Err(_) => None,
            }
        }
        LookupApi::OfDrmGetBridgeByEndpoint => {
            of_drm_get_bridge_by_endpoint(k, remote(), OWNER).ok()
        }
    };
    if let Some(b) = bridge {
        k.read(b.obj(), |_| ());
    }
    if api.counted() {
        drm_bridge_put(k, bridge, OWNER);
    }
}

fn close(k: &Kernel, state: Obj<RunState>) {
    let _f = k.func("drm_release");
    let files = k.write(state, |s| std::mem::take(&mut s.open_files));
    for drm in files {
        drm_dev_put(k, drm, DRM_FILE);
    }
}

/// Unplug what is plugged (last first), close the files, delete every device (newest first).
fn teardown(k: &Kernel, state: Obj<RunState>) {
    let _f = k.func("teardown");
    while let Some(name) = k.read(state, |s| s.order.last().cloned()) {
        unplug(k, state, &name);
    }
    close(k, state);
    let devs = k.devices();
    for d in devs.into_iter().rev() {
        if k.dev_of_node(d)
            .is_some_and(|n| k.of_find_device_by_node(n) == Some(d))
        {
            k.device_del(d);
        }
    }
}

/// Load, check and prepare a scenario file.
pub fn load(path: &Path) -> Result<Arc<Prepared>, LoadError> {
    let sc = Scenario::load(path)?;
    Ok(Arc::new(Prepared::new(sc)?))
}
