//! The TOML form of a scenario, and its located errors.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use kmodel::{UnknownViolationKind, ViolationKind};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

/// A scenario as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name, used in tables and test names.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// The upstream failure mode it expresses (a section of upstream.md §5), if any.
    #[serde(default)]
    pub failure_mode: Option<String>,
    pub board: Board,
    /// Named add-on overlays.
    #[serde(default)]
    pub overlays: BTreeMap<String, Spanned<Overlay>>,
    #[serde(default)]
    pub rules: RulesSpec,
    /// Driver overrides: compatible string → a description (`"ti-sn65dsi83/v6.15"`) or a
    /// variant name (`"pre-refcount"`).
    #[serde(default)]
    pub drivers: BTreeMap<String, Spanned<String>>,
    /// Drivers the scenario defines (docs/driver-format.md): inline descriptions, or
    /// `include = "file.toml"`. They take precedence over the built-in ones.
    #[serde(default, rename = "driver")]
    pub defined_drivers: Vec<Spanned<drivers::data::format::DescriptionFile>>,
    /// Explore both outcomes of every `can_fail` call of the data drivers.
    #[serde(default)]
    pub inject_faults: bool,
    /// Steps `init` runs after boot, before the threads start (e.g. enable the display).
    #[serde(default)]
    pub setup: Vec<Spanned<Step>>,
    #[serde(default, rename = "thread")]
    pub threads: Vec<Thread>,
    /// Tear everything down at the end (unplug overlays, unbind devices, close the last DRM
    /// file) and check for leaks. On by default.
    #[serde(default = "yes")]
    pub teardown: bool,
    #[serde(default)]
    pub expect: BTreeMap<String, Spanned<Expect>>,
}

fn yes() -> bool {
    true
}

/// The base device tree.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Board {
    /// A .dts (or .dtb) path, relative to the scenario file, or `builtin:NAME`.
    pub dts: Spanned<String>,
    /// `-I` search paths, relative to the scenario file.
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
}

/// An add-on overlay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// A .dtso (or .dtbo) path, relative to the scenario file, or `builtin:NAME`.
    pub file: Spanned<String>,
    /// Apply relative to this node (as `of_overlay_fdt_apply` with a base node).
    #[serde(default)]
    pub target: Option<Spanned<String>>,
    /// Already plugged when the scenario's threads start.
    #[serde(default)]
    pub plugged: bool,
}

/// The kernel rules: a release name, and optional switches on top.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSpec {
    /// "v6.15" … "v7.2"; the default when the command line gives none.
    #[serde(default)]
    pub release: Option<Spanned<String>>,
    /// Named switches to force on or off.
    #[serde(default)]
    pub switches: BTreeMap<String, Spanned<bool>>,
}

/// A scenario thread: steps run in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    pub name: String,
    pub steps: Vec<Spanned<Step>>,
}

/// One step of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Apply an overlay: OF notifications create devices, drivers probe.
    Plug { overlay: String },
    /// Revert an overlay: its devices are removed in the kernel's order.
    Unplug { overlay: String },
    /// Bind the device of a node (`device_attach`).
    Bind { node: String },
    /// Unbind the device of a node (`device_release_driver`).
    Unbind { node: String },
    /// Atomic commit that enables the CRTC of a display controller node.
    Enable { crtc: String },
    /// Atomic commit that disables it.
    Disable { crtc: String },
    /// `drm_helper_probe_detect` on the connector of a node.
    Detect { connector: String },
    /// The probe helper's `get_modes` on the connector of a node.
    GetModes { connector: String },
    /// Fire the HPD interrupt of the bridge at a node.
    Hpd { bridge: String },
    /// Run the queued work items.
    RunWork,
    /// The hardware raises the interrupts the (data) driver of a node requested: all of them,
    /// or the one in field `irq`.
    Irq {
        node: String,
        #[serde(default)]
        irq: Option<String>,
    },
    /// Look a bridge up, use it, put it if counted. `api` names the function (default: the
    /// counted `of_drm_find_and_get_bridge` under the rules that have it, else
    /// `of_drm_find_bridge`). `node` is the bridge's (or panel's) node, or for the graph
    /// lookups the consumer's node whose endpoint `port`/`endpoint` (default 0/0) is followed.
    Lookup {
        node: String,
        #[serde(default)]
        api: Option<drm::of::LookupApi>,
        #[serde(default)]
        port: Option<i32>,
        #[serde(default)]
        endpoint: Option<i32>,
    },
    /// Read `/sys/kernel/debug/dri/bridges`.
    Debugfs,
    /// `drm_mode_obj_get_properties_ioctl` on the CRTC of a display controller node: a
    /// lock-all (`DRM_MODESET_LOCK_ALL_BEGIN`) that walks the device's private objects.
    GetProperties { crtc: String },
    /// Close the last DRM file: the final `drm_dev_put`.
    Close,
}

impl Step {
    /// The step's `op`, as written in a scenario.
    pub fn op(&self) -> &'static str {
        match self {
            Step::Plug { .. } => "plug",
            Step::Unplug { .. } => "unplug",
            Step::Bind { .. } => "bind",
            Step::Unbind { .. } => "unbind",
            Step::Enable { .. } => "enable",
            Step::Disable { .. } => "disable",
            Step::Detect { .. } => "detect",
            Step::GetModes { .. } => "get-modes",
            Step::Hpd { .. } => "hpd",
            Step::RunWork => "run-work",
            Step::Irq { .. } => "irq",
            Step::Lookup { .. } => "lookup",
            Step::Debugfs => "debugfs",
            Step::GetProperties { .. } => "get-properties",
            Step::Close => "close",
        }
    }

    /// The overlay a step names, if any.
    pub fn overlay(&self) -> Option<&str> {
        match self {
            Step::Plug { overlay } | Step::Unplug { overlay } => Some(overlay),
            _ => None,
        }
    }

    /// The device-tree node path a step names, if any.
    pub fn node(&self) -> Option<&str> {
        match self {
            Step::Bind { node }
            | Step::Unbind { node }
            | Step::Lookup { node, .. }
            | Step::Irq { node, .. } => Some(node),
            Step::Enable { crtc } | Step::Disable { crtc } | Step::GetProperties { crtc } => {
                Some(crtc)
            }
            Step::Detect { connector } | Step::GetModes { connector } => Some(connector),
            Step::Hpd { bridge } => Some(bridge),
            _ => None,
        }
    }
}

/// The verdict expected under a release: `"clean"`, or the violations, each `"kind"` or
/// `"kind:object"` (the object's name must contain `object`), or a table that also says which
/// devices boot leaves deferred.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Expect {
    Verdict(String),
    Violations(Vec<String>),
    Boot(BootExpect),
}

/// `{ deferred = [...], verdict = ... }`: boot leaves exactly the devices named in `deferred`
/// on the deferred-probe list (each entry a substring of one device's node path, every such
/// device named), as the kernel's "deferred probe pending" lines list them
/// (v7.1:drivers/base/dd.c:deferred_probe_timeout_work_func); `verdict` is `"clean"` or a
/// list, as a plain row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BootExpect {
    pub deferred: Vec<String>,
    pub verdict: Box<Expect>,
}

/// A scenario file that could not be loaded, located in its source.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl ScenarioError {
    /// An error at byte range `span` of `src`.
    pub fn at(
        file: &str,
        src: &str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(src, span.start);
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            src: NamedSource::new(file, src.to_string()),
            span: (span.start, span.end.saturating_sub(span.start)).into(),
            label: label.into(),
            help: None,
        }
    }

    pub fn with_help(mut self: Box<Self>, help: impl Into<String>) -> Box<Self> {
        self.help = Some(help.into());
        self
    }
}

/// 1-based line and column (in characters) of byte `offset`: the one rule for every located
/// error, scenario or driver description.
pub use drivers::data::format::line_col;

/// A loaded, checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub file: ScenarioFile,
    /// Where it was read from (paths in it are relative to this directory).
    pub dir: PathBuf,
    /// Its path as given, for messages.
    pub path: String,
    /// Its source text, for located errors found later (node paths).
    pub source: String,
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Verdict(v) => f.write_str(v),
            Expect::Violations(v) => f.write_str(&v.join(", ")),
            Expect::Boot(b) => write!(f, "deferred: {}; {}", b.deferred.join(", "), b.verdict),
        }
    }
}

/// The key of the `expect` row that applies to every column without its own row.
pub const DEFAULT_EXPECT: &str = "default";

/// One entry of an `expect` list: `"kind"` or `"kind:object"`, the kind typed.
pub fn expected_violation(
    entry: &str,
) -> Result<(ViolationKind, Option<&str>), UnknownViolationKind> {
    let (kind, object) = match entry.split_once(':') {
        Some((k, o)) => (k, Some(o)),
        None => (entry, None),
    };
    Ok((kind.parse()?, object))
}

impl Scenario {
    /// Parse and check a scenario's text. `path` names it in errors; relative paths in it
    /// resolve against `dir`.
    pub fn parse(path: &str, dir: &Path, source: &str) -> Result<Scenario, Box<ScenarioError>> {
        let file: ScenarioFile = toml::from_str(source).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            Box::new(ScenarioError::at(
                path,
                source,
                span,
                e.message().trim().to_string(),
                "here",
            ))
        })?;
        let sc = Scenario {
            file,
            dir: dir.to_path_buf(),
            path: path.to_string(),
            source: source.to_string(),
        };
        sc.check()?;
        Ok(sc)
    }

    /// Read and check a scenario file; `builtin:NAME` names one compiled into bridgesim.
    pub fn load(path: &Path) -> Result<Scenario, Box<ScenarioError>> {
        let shown = path.display().to_string();
        if let Some(name) = shown.strip_prefix("builtin:") {
            return match super::BUILTIN_SCENARIOS.iter().find(|(n, _)| *n == name) {
                Some((_, src)) => Scenario::parse(&shown, Path::new("."), src),
                None => Err(Box::new(ScenarioError::at(
                    &shown,
                    "",
                    0..0,
                    format!(
                        "no built-in scenario `{name}`; expected one of: {}",
                        super::BUILTIN_SCENARIOS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "here",
                ))),
            };
        }
        let source = std::fs::read_to_string(path).map_err(|e| {
            Box::new(ScenarioError::at(
                &shown,
                "",
                0..0,
                format!("cannot read the scenario: {e}"),
                "here",
            ))
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::parse(&shown, &dir, &source)
    }

    /// An error located at `span` of this scenario's source.
    pub fn error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Box<ScenarioError> {
        Box::new(ScenarioError::at(
            &self.path,
            &self.source,
            span,
            message,
            label,
        ))
    }

    fn check(&self) -> Result<(), Box<ScenarioError>> {
        let f = &self.file;
        if f.threads.is_empty() {
            return Err(self.error(0..0, "a scenario needs at least one [[thread]]", "here"));
        }
        for s in f
            .setup
            .iter()
            .chain(f.threads.iter().flat_map(|t| t.steps.iter()))
        {
            {
                if let Some(o) = s.get_ref().overlay() {
                    if !f.overlays.contains_key(o) {
                        let known: Vec<&str> = f.overlays.keys().map(String::as_str).collect();
                        return Err(self
                            .error(
                                s.span(),
                                format!("step names overlay `{o}`, which is not declared"),
                                "unknown overlay",
                            )
                            .with_help(format!(
                                "expected one of the [overlays.NAME] tables: {}",
                                if known.is_empty() {
                                    "(none declared)".to_string()
                                } else {
                                    known.join(", ")
                                }
                            )));
                    }
                }
            }
        }
        let mut columns = BTreeMap::new();
        for (key, e) in &f.expect {
            if key != DEFAULT_EXPECT {
                // A rules column, in any spelling (`6.15` is `v6.15`); one row per column.
                let col: drm::RulesColumn = key.parse().map_err(|err| {
                    self.error(e.span(), format!("[expect] `{key}`: {err}"), "for this key")
                        .with_help(format!(
                            "a key is `{DEFAULT_EXPECT}` or a rules column such as `{}` or `{}+proposals`",
                            drm::Release::ALL[0],
                            drm::Release::LATEST
                        ))
                })?;
                if let Some(other) = columns.insert(col.to_string(), key) {
                    return Err(self.error(
                        e.span(),
                        format!("[expect] `{key}` and `{other}` are the same column, {col}"),
                        "second row",
                    ));
                }
            }
            let row = match e.get_ref() {
                Expect::Boot(b) => {
                    if matches!(*b.verdict, Expect::Boot(_)) {
                        return Err(self
                            .error(
                                e.span(),
                                format!("[expect] `{key}`: a table's `verdict` is a table"),
                                "here",
                            )
                            .with_help("write `verdict = \"clean\"` or a list of violations"));
                    }
                    if b.deferred.iter().any(String::is_empty) {
                        return Err(self.error(
                            e.span(),
                            format!(
                                "[expect] `{key}`: an empty `deferred` entry names every device"
                            ),
                            "here",
                        ));
                    }
                    &*b.verdict
                }
                row => row,
            };
            if let Expect::Verdict(v) = row {
                if v != "clean" {
                    return Err(self
                        .error(
                            e.span(),
                            format!("unknown verdict `{v}` for {key}"),
                            "expected \"clean\" or a list",
                        )
                        .with_help(
                            "write \"clean\", or a list of violations such as [\"use-after-free:sn65dsi84\"]",
                        ));
                }
            }
            if let Expect::Violations(vs) = row {
                for v in vs {
                    if let Err(UnknownViolationKind(kind)) = expected_violation(v) {
                        return Err(self
                            .error(
                                e.span(),
                                format!("unknown violation kind `{kind}`"),
                                "in this list",
                            )
                            .with_help(format!(
                                "expected one of: {}",
                                ViolationKind::ALL
                                    .iter()
                                    .map(|k| k.name())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )));
                    }
                }
            }
        }
        Ok(())
    }
}
