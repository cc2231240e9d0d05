//! Running the audit over files and releases, and what it reports: per driver, its
//! extraction and hazards; a summary over all drivers; the comparison of two trees.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use drm::Release;
use serde::Serialize;

use crate::cfile;
use crate::extract::{self, CallStats, Driver, Step};
use crate::hazards::{self, Hazard, Kind, Pattern};
use crate::source::{self, InputError, ReleaseSource};

/// The `--json` schema name.
pub const SCHEMA: &str = "bridgesim-audit/1";

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--release R`: instead of the tree's own release.
    pub release: Option<Release>,
    /// `--function F`: report only this function's hazards (the replay of one).
    pub function: Option<String>,
}

/// An error that stops the audit (exit 2).
#[derive(Debug)]
pub enum AuditError {
    Input(InputError),
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Input(e) => write!(f, "{e}"),
        }
    }
}

/// One driver's result.
#[derive(Clone, Debug, Serialize)]
pub struct DriverReport {
    pub driver: Driver,
    pub hazards: Vec<Hazard>,
}

/// Totals over all drivers.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub drivers: usize,
    pub drivers_with_hazards: usize,
    pub hazards: usize,
    pub by_kind: BTreeMap<Kind, usize>,
    pub by_pattern: BTreeMap<Pattern, usize>,
    pub calls: CallStats,
    pub unrecognised_constructs: usize,
}

/// The result of `bridgesim audit PATH...`.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    pub schema: &'static str,
    pub paths: Vec<String>,
    #[serde(serialize_with = "crate::ser::releases")]
    pub releases: Vec<Release>,
    pub release_source: ReleaseSource,
    pub drivers: Vec<DriverReport>,
    pub summary: Summary,
}

impl Audit {
    /// Whether any hazard was found (exit 1).
    pub fn has_hazards(&self) -> bool {
        self.summary.hazards > 0
    }
}

/// Audit one parsed file's text under `releases`.
pub fn audit_source(
    name: &str,
    src: &str,
    releases: &[Release],
    only: Option<&str>,
) -> DriverReport {
    let c = cfile::parse(src);
    let driver = extract::extract(name, &c);
    let mut merged: BTreeMap<(Pattern, String, String, String), Hazard> = BTreeMap::new();
    for r in releases {
        for h in hazards::check(&c, &driver, *r) {
            if only.is_some_and(|f| f != h.function) {
                continue;
            }
            merged
                .entry(h.key())
                .and_modify(|m| {
                    if !m.releases.contains(r) {
                        m.releases.push(*r)
                    }
                })
                .or_insert(h);
        }
    }
    let mut hazards: Vec<Hazard> = merged.into_values().collect();
    hazards.sort_by(|a, b| (a.kind, &a.function, a.line).cmp(&(b.kind, &b.function, b.line)));
    DriverReport { driver, hazards }
}

/// Audit the given paths. `on_file` is called before each file (for a progress bar) with
/// the file's index and the number of files.
pub fn audit(
    paths: &[PathBuf],
    opts: &Options,
    on_file: &mut dyn FnMut(usize, usize, &Path),
) -> Result<Audit, AuditError> {
    let mut all: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut releases: Option<(Vec<Release>, ReleaseSource)> = None;
    for p in paths {
        let (root, files) = source::files(p).map_err(AuditError::Input)?;
        if releases.is_none() {
            releases = Some(match opts.release {
                Some(r) => (vec![r], ReleaseSource::Option),
                None => source::release_of(p),
            });
        }
        all.extend(files.into_iter().map(|f| (root.clone(), f)));
    }
    let (releases, release_source) =
        releases.unwrap_or((Release::ALL.to_vec(), ReleaseSource::Every));
    let n = all.len();
    let mut drivers = Vec::new();
    for (i, (root, f)) in all.iter().enumerate() {
        on_file(i, n, f);
        let bytes = std::fs::read(f).map_err(|e| {
            AuditError::Input(InputError {
                path: f.clone(),
                what: format!("cannot read it: {e}"),
            })
        })?;
        let src = String::from_utf8_lossy(&bytes);
        let name = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .to_string();
        let name = if name.is_empty() {
            f.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        } else {
            name
        };
        drivers.push(audit_source(
            &name,
            &src,
            &releases,
            opts.function.as_deref(),
        ));
    }
    let summary = summarise(&drivers);
    Ok(Audit {
        schema: SCHEMA,
        paths: paths.iter().map(|p| p.display().to_string()).collect(),
        releases,
        release_source,
        drivers,
        summary,
    })
}

fn summarise(drivers: &[DriverReport]) -> Summary {
    let mut s = Summary {
        files: drivers.len(),
        ..Summary::default()
    };
    for d in drivers {
        if d.driver.is_driver() {
            s.drivers += 1;
        }
        if !d.hazards.is_empty() {
            s.drivers_with_hazards += 1;
        }
        s.hazards += d.hazards.len();
        for h in &d.hazards {
            *s.by_kind.entry(h.kind).or_default() += 1;
            *s.by_pattern.entry(h.pattern).or_default() += 1;
        }
        let c = &d.driver.calls;
        s.calls.seen += c.seen;
        s.calls.recognised += c.recognised;
        s.calls.neutral += c.neutral;
        s.calls.internal += c.internal;
        s.calls.unknown += c.unknown;
        s.unrecognised_constructs += d.driver.unrecognised.len();
    }
    s
}

fn releases_text(rs: &[Release]) -> String {
    let all: Vec<Release> = Release::ALL.to_vec();
    if rs == all.as_slice() {
        return "every release".into();
    }
    rs.iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The command that shows one hazard again.
pub fn replay_command(path: &str, h: &Hazard) -> String {
    format!(
        "bridgesim audit {path} --release {} --function {}",
        h.releases.first().copied().unwrap_or(Release::LATEST),
        h.function
    )
}

/// Text rendering. `verbose` lists every unknown call (else the first few per driver).
pub fn render(a: &Audit, verbose: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "bridgesim audit: {} file(s) under {}; releases: {} ({})",
        a.summary.files,
        a.paths.join(", "),
        releases_text(&a.releases),
        a.release_source
    );
    for d in &a.drivers {
        let dr = &d.driver;
        let c = &dr.calls;
        let _ = writeln!(o);
        let bus = dr.bus.map(|b| format!("{b:?}").to_lowercase());
        let _ = writeln!(
            o,
            "{}{}{}",
            dr.file,
            bus.map(|b| format!("  [{b}]")).unwrap_or_default(),
            if dr.compatibles.is_empty() {
                String::new()
            } else {
                format!("  {}", dr.compatibles.join(", "))
            }
        );
        let _ = writeln!(
            o,
            "  calls: {} seen, {} framework, {} neutral, {} internal, {} unknown ({}% understood); {} callbacks{}",
            c.seen,
            c.recognised,
            c.neutral,
            c.internal,
            c.unknown,
            c.understood_percent(),
            dr.callbacks.len(),
            dr.private
                .as_ref()
                .map(|p| format!(", private struct {p} ({} fields known)", dr.fields.len()))
                .unwrap_or_default()
        );
        if !dr.unknown_calls.is_empty() {
            let shown: Vec<String> = dr
                .unknown_calls
                .iter()
                .take(if verbose { usize::MAX } else { 8 })
                .map(|(l, n)| format!("{n}:{l}"))
                .collect();
            let more = dr.unknown_calls.len() - shown.len();
            let _ = writeln!(
                o,
                "  unknown calls: {}{}",
                shown.join(" "),
                if more > 0 {
                    format!(" … and {more} more (--list-unknown)")
                } else {
                    String::new()
                }
            );
        }
        for u in &dr.unrecognised {
            let _ = writeln!(o, "  unrecognised: {}:{}: {}", dr.file, u.line, u.what);
        }
        for h in &d.hazards {
            let _ = writeln!(
                o,
                "  {} [{}] {}:{} in {}() — {}; {}",
                h.kind,
                h.pattern,
                dr.file,
                h.line,
                h.function,
                h.scope,
                releases_text(&h.releases)
            );
            let _ = writeln!(o, "    {}", h.message);
            let path: Vec<String> = h.trail.iter().map(|t| t.to_string()).collect();
            let _ = writeln!(o, "    path: {}", path.join(" → "));
            let _ = writeln!(o, "    models: {}", h.cite);
            let root = a.paths.first().map(String::as_str).unwrap_or(".");
            let file_path = if Path::new(root).is_file() {
                root.to_string()
            } else {
                Path::new(root).join(&dr.file).display().to_string()
            };
            let _ = writeln!(o, "    replay: {}", replay_command(&file_path, h));
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Summary");
    let kinds: Vec<String> = Kind::ALL.iter().map(|k| k.to_string()).collect();
    let _ = writeln!(o, "  {:<36} {}", "driver", kinds.join("  "));
    for d in a.drivers.iter().filter(|d| !d.hazards.is_empty()) {
        let cells: Vec<String> = Kind::ALL
            .iter()
            .zip(&kinds)
            .map(|(k, name)| {
                let n = d.hazards.iter().filter(|h| h.kind == *k).count();
                format!(
                    "{:>w$}",
                    if n == 0 { "-".into() } else { n.to_string() },
                    w = name.len()
                )
            })
            .collect();
        let _ = writeln!(o, "  {:<36} {}", d.driver.file, cells.join("  "));
    }
    let s = &a.summary;
    let _ = writeln!(
        o,
        "  {} hazard(s) in {} of {} file(s) ({} drivers); calls: {} seen, {} understood ({} framework, {} neutral, {} internal), {} unknown; {} unrecognised construct(s)",
        s.hazards,
        s.drivers_with_hazards,
        s.files,
        s.drivers,
        s.calls.seen,
        s.calls.seen - s.calls.unknown,
        s.calls.recognised,
        s.calls.neutral,
        s.calls.internal,
        s.calls.unknown,
        s.unrecognised_constructs
    );
    let by: Vec<String> = s
        .by_pattern
        .iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect();
    if !by.is_empty() {
        let _ = writeln!(o, "  by pattern: {}", by.join(", "));
    }
    o
}

/// A framework call of a callback, as compared between two trees.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CallRef {
    pub callback: String,
    pub call: String,
}

/// What a change does to one driver.
#[derive(Clone, Debug, Serialize, Default)]
pub struct DriverDiff {
    pub file: String,
    /// `added`, `removed` or `changed`.
    pub status: &'static str,
    pub hazards_introduced: Vec<Hazard>,
    pub hazards_closed: Vec<Hazard>,
    pub calls_introduced: Vec<CallRef>,
    pub calls_closed: Vec<CallRef>,
}

/// `--base DIR --head DIR`.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub base: Audit,
    pub head: Audit,
    pub drivers: Vec<DriverDiff>,
}

impl Diff {
    /// Whether the change introduces a hazard (exit 1).
    pub fn introduces_hazards(&self) -> bool {
        self.drivers
            .iter()
            .any(|d| !d.hazards_introduced.is_empty())
    }
}

fn call_refs(d: &Driver) -> BTreeMap<CallRef, usize> {
    fn walk(cb: &str, steps: &[Step], out: &mut BTreeMap<CallRef, usize>) {
        for s in steps {
            match s {
                Step::Call { call, .. } => {
                    *out.entry(CallRef {
                        callback: cb.to_string(),
                        call: call.clone(),
                    })
                    .or_default() += 1
                }
                Step::Branch { then, els, .. } => {
                    walk(cb, then, out);
                    walk(cb, els, out);
                }
                Step::Loop { body, .. } => walk(cb, body, out),
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    for c in &d.callbacks {
        walk(&format!("{}.{}", c.ops, c.member), &c.steps, &mut out);
    }
    out
}

/// Compare two audits, driver by driver (by file name relative to each root).
pub fn diff(base: Audit, head: Audit) -> Diff {
    let b: BTreeMap<&str, &DriverReport> = base
        .drivers
        .iter()
        .map(|d| (d.driver.file.as_str(), d))
        .collect();
    let h: BTreeMap<&str, &DriverReport> = head
        .drivers
        .iter()
        .map(|d| (d.driver.file.as_str(), d))
        .collect();
    let names: BTreeSet<&str> = b.keys().chain(h.keys()).copied().collect();
    let mut out = Vec::new();
    let empty_hazards: Vec<Hazard> = Vec::new();
    for n in names {
        let (bd, hd) = (b.get(n), h.get(n));
        let bh = bd.map(|d| &d.hazards).unwrap_or(&empty_hazards);
        let hh = hd.map(|d| &d.hazards).unwrap_or(&empty_hazards);
        let bkeys: BTreeSet<_> = bh.iter().map(|x| x.key()).collect();
        let hkeys: BTreeSet<_> = hh.iter().map(|x| x.key()).collect();
        let bc = bd.map(|d| call_refs(&d.driver)).unwrap_or_default();
        let hc = hd.map(|d| call_refs(&d.driver)).unwrap_or_default();
        let mut dd = DriverDiff {
            file: n.to_string(),
            status: match (bd, hd) {
                (None, Some(_)) => "added",
                (Some(_), None) => "removed",
                _ => "changed",
            },
            hazards_introduced: hh
                .iter()
                .filter(|x| !bkeys.contains(&x.key()))
                .cloned()
                .collect(),
            hazards_closed: bh
                .iter()
                .filter(|x| !hkeys.contains(&x.key()))
                .cloned()
                .collect(),
            ..DriverDiff::default()
        };
        for (k, n) in &hc {
            for _ in 0..n.saturating_sub(*bc.get(k).unwrap_or(&0)) {
                dd.calls_introduced.push(k.clone());
            }
        }
        for (k, n) in &bc {
            for _ in 0..n.saturating_sub(*hc.get(k).unwrap_or(&0)) {
                dd.calls_closed.push(k.clone());
            }
        }
        let any = !dd.hazards_introduced.is_empty()
            || !dd.hazards_closed.is_empty()
            || !dd.calls_introduced.is_empty()
            || !dd.calls_closed.is_empty()
            || dd.status != "changed";
        if any {
            out.push(dd);
        }
    }
    Diff {
        schema: SCHEMA,
        base,
        head,
        drivers: out,
    }
}

/// Text rendering of a comparison.
pub fn render_diff(d: &Diff) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "bridgesim audit --base {} ({}) --head {} ({}): {} file(s) → {} file(s)",
        d.base.paths.join(","),
        releases_text(&d.base.releases),
        d.head.paths.join(","),
        releases_text(&d.head.releases),
        d.base.summary.files,
        d.head.summary.files
    );
    let (mut intro, mut closed) = (0, 0);
    for dd in &d.drivers {
        let _ = writeln!(o);
        let _ = writeln!(o, "{} ({})", dd.file, dd.status);
        for h in &dd.hazards_introduced {
            intro += 1;
            let _ = writeln!(
                o,
                "  + {} [{}] {}() line {}: {}",
                h.kind, h.pattern, h.function, h.line, h.message
            );
        }
        for h in &dd.hazards_closed {
            closed += 1;
            let _ = writeln!(
                o,
                "  - {} [{}] {}() line {}: {}",
                h.kind, h.pattern, h.function, h.line, h.message
            );
        }
        let fmt_calls = |cs: &[CallRef]| {
            cs.iter()
                .map(|c| format!("{}:{}", c.callback, c.call))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !dd.calls_introduced.is_empty() {
            let _ = writeln!(o, "  calls +: {}", fmt_calls(&dd.calls_introduced));
        }
        if !dd.calls_closed.is_empty() {
            let _ = writeln!(o, "  calls -: {}", fmt_calls(&dd.calls_closed));
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{} hazard(s) introduced, {} closed, in {} file(s) that differ",
        intro,
        closed,
        d.drivers.len()
    );
    o
}

/// What a written description could not express: (C line, what).
pub type NotExpressed = Vec<(u32, String)>;

/// `--emit-model DIR`: write a description per driver and release,
/// `DIR/<driver>/<release>.toml`. Returns the files written with what each could not express.
pub fn emit_models(
    paths: &[PathBuf],
    opts: &Options,
    dir: &Path,
) -> Result<Vec<(PathBuf, NotExpressed)>, AuditError> {
    let mut out = Vec::new();
    for_each_emitted(paths, opts, |r, e| {
        let d = dir.join(&e.dir);
        let target = d.join(format!("{r}.toml"));
        std::fs::create_dir_all(&d)
            .and_then(|_| std::fs::write(&target, &e.toml))
            .map_err(|err| {
                AuditError::Input(InputError {
                    path: target.clone(),
                    what: format!("cannot write it: {err}"),
                })
            })?;
        out.push((target, e.not_expressed));
        Ok(())
    })?;
    Ok(out)
}

/// The stress sets (`stress`) of every driver under `paths`, per release: what
/// `--emit-scenarios` writes and `--explore` explores. A driver the format cannot describe
/// (no bus, no compatible, not a bridge or panel) has no set.
pub fn stress_sets(
    paths: &[PathBuf],
    opts: &Options,
) -> Result<Vec<crate::stress::StressSet>, AuditError> {
    let mut out = Vec::new();
    for_each_emitted(paths, opts, |_, e| {
        out.push(crate::stress::generate(&e));
        Ok(())
    })?;
    Ok(out)
}

/// Every description `emit` writes for the files under `paths`, per selected release, in
/// file order.
fn for_each_emitted(
    paths: &[PathBuf],
    opts: &Options,
    mut each: impl FnMut(Release, crate::emit::Emitted) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    for p in paths {
        let (root, files) = source::files(p).map_err(AuditError::Input)?;
        let releases = match opts.release {
            Some(r) => vec![r],
            None => source::release_of(p).0,
        };
        for f in files {
            let text = std::fs::read(&f).map_err(|e| {
                AuditError::Input(InputError {
                    path: f.clone(),
                    what: format!("cannot read it: {e}"),
                })
            })?;
            let src = String::from_utf8_lossy(&text);
            let c = cfile::parse(&src);
            let name = f
                .strip_prefix(&root)
                .unwrap_or(&f)
                .to_string_lossy()
                .to_string();
            let driver = extract::extract(&name, &c);
            let source_path = format!("{}/{name}", source::BRIDGE_DIR);
            for r in &releases {
                if let Some(e) = crate::emit::emit(&driver, &c, *r, &source_path) {
                    each(*r, e)?;
                }
            }
        }
    }
    Ok(())
}
