//! Drivers as data (docs/driver-format.md): a driver is a directory of descriptions, one per
//! release (`crates/drivers/data/<driver>/<release>.toml`), each inheriting the previous one
//! and stating what changed. [`format`] parses and checks them with located errors;
//! [`interp`] runs their callbacks on the kernel model. The files are embedded at build time
//! (`build.rs`), so the binary does not read `data/` at run time.
//!
//! Which description a device gets: the scenario's `[drivers]` override for one of its
//! compatible strings, if any; else the description of the run's release, or the nearest
//! earlier release that has one, or, if the driver has none that old, its oldest.

pub mod format;
pub mod interp;

mod files {
    include!(concat!(env!("OUT_DIR"), "/data_files.rs"));
}

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use drm::rules::{rules, Release, Rules, Switch};
use kmodel::{Kernel, Obj};

pub use files::FILES;
use format::{Bus, DescError, Description, DescriptionFile, DriverRole, Layer, Source};

/// Where the embedded files come from, relative to the workspace root (for messages).
pub const DATA_DIR: &str = "crates/drivers/data";

/// One driver: its descriptions per release.
#[derive(Debug)]
pub struct DriverData {
    /// The directory name (`ti-sn65dsi83`), or for an inline description its name.
    pub dir: String,
    pub name: &'static str,
    /// The union of every description's compatible strings, in order of first appearance.
    pub compatible: Vec<&'static str>,
    pub bus: Bus,
    pub role: DriverRole,
    /// The releases with a description file, and the resolved description of each.
    pub releases: BTreeMap<Release, Arc<Description>>,
    /// A description for every release (an inline or included one with no release).
    pub any_release: Option<Arc<Description>>,
}

impl DriverData {
    /// Whether its descriptions differ in `role` (then a device's container is what the
    /// description its probe ran allocated).
    pub fn roles_differ(&self) -> bool {
        self.releases
            .values()
            .chain(self.any_release.iter())
            .any(|d| d.role != self.role)
    }

    /// The description used under `release`, and the release it was written for: that
    /// release's, else the nearest earlier one, else the oldest.
    pub fn for_release(&self, release: Release) -> Arc<Description> {
        if let Some(d) = &self.any_release {
            return d.clone();
        }
        self.releases
            .range(..=release)
            .next_back()
            .or_else(|| self.releases.iter().next())
            .map(|(_, d)| d.clone())
            .expect("a driver has at least one description")
    }

    /// Whether the scenario's `hpd` step can raise an interrupt of this driver's devices.
    pub fn hpd_source(&self) -> Option<String> {
        self.releases
            .values()
            .chain(self.any_release.iter())
            .find_map(|d| {
                d.hpd_field()
                    .map(|f| f.source.clone().unwrap_or_else(|| "interrupts".into()))
            })
    }

    fn from_descriptions(
        dir: String,
        releases: BTreeMap<Release, Arc<Description>>,
        any_release: Option<Arc<Description>>,
    ) -> DriverData {
        let all: Vec<&Arc<Description>> = releases.values().chain(any_release.iter()).collect();
        let newest = all.last().expect("at least one description");
        let mut compatible: Vec<&'static str> = Vec::new();
        for d in &all {
            for c in &d.compatible {
                let c = interp::intern(c);
                if !compatible.contains(&c) {
                    compatible.push(c);
                }
            }
        }
        DriverData {
            dir,
            name: interp::intern(&newest.name),
            compatible,
            bus: newest.bus,
            role: newest.role,
            releases,
            any_release,
        }
    }
}

/// Load one driver directory from `files` (path under the data dir, text).
pub fn load_dir(dir: &str, files: &[(&str, &str)]) -> Result<DriverData, DescError> {
    let mut parsed: BTreeMap<Release, (String, &str, DescriptionFile)> = BTreeMap::new();
    for (path, text) in files {
        let file = format!("{DATA_DIR}/{path}");
        let src = Source { file: &file, text };
        let stem = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".toml");
        let release: Release = stem.parse().map_err(|e: drm::rules::UnknownRelease| {
            src.error(
                0..0,
                format!("file name: {e} (a description is named after its release: v7.0.toml)"),
            )
        })?;
        let f = src.parse()?;
        if let Some(i) = &f.include {
            return Err(src.error(
                i.span(),
                "`include` is for a scenario's [[driver]], not a description file",
            ));
        }
        parsed.insert(release, (file.clone(), text, f));
    }
    let mut releases = BTreeMap::new();
    for (&rel, _) in parsed.iter() {
        // The chain of files: this one, what it inherits, and so on.
        let mut chain: Vec<Release> = vec![rel];
        loop {
            let cur = *chain.last().expect("non-empty");
            let (file, text, f) = &parsed[&cur];
            let Some(inh) = &f.inherits else { break };
            let src = Source { file, text };
            let parent: Release = inh
                .get_ref()
                .parse()
                .map_err(|e: drm::rules::UnknownRelease| src.error(inh.span(), e.to_string()))?;
            if parent >= cur {
                return Err(src.error(
                    inh.span(),
                    format!("{cur} inherits {parent}: a description inherits an earlier release's"),
                ));
            }
            if !parsed.contains_key(&parent) {
                let have: Vec<&str> = parsed.keys().map(|r| r.name()).collect();
                return Err(src.error(
                    inh.span(),
                    format!(
                        "{dir} has no {parent} description to inherit (it has {})",
                        have.join(", ")
                    ),
                ));
            }
            chain.push(parent);
        }
        let layers: Vec<Layer<'_>> = chain
            .iter()
            .rev()
            .map(|r| {
                let (file, text, f) = &parsed[r];
                Layer {
                    src: Source { file, text },
                    file: f.clone(),
                }
            })
            .collect();
        let d = format::resolve(&layers, Some(rel))?;
        releases.insert(rel, Arc::new(d));
    }
    if releases.is_empty() {
        let file = format!("{DATA_DIR}/{dir}");
        return Err(Source {
            file: &file,
            text: "",
        }
        .error(0..0, "no description files"));
    }
    Ok(DriverData::from_descriptions(
        dir.to_string(),
        releases,
        None,
    ))
}

/// Load every driver of `files` (paths `<driver>/<release>.toml`).
pub fn load_all(files: &[(&str, &str)]) -> Result<Vec<Arc<DriverData>>, DescError> {
    let mut dirs: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (path, text) in files {
        let Some((dir, _)) = path.split_once('/') else {
            let file = format!("{DATA_DIR}/{path}");
            return Err(Source { file: &file, text }.error(
                0..0,
                "a description belongs in a driver's directory: <driver>/<release>.toml",
            ));
        };
        dirs.entry(dir).or_default().push((path, text));
    }
    let mut out = Vec::new();
    for (dir, fs) in dirs {
        out.push(Arc::new(load_dir(dir, &fs)?));
    }
    // Two drivers claiming one compatible string is ambiguous.
    for (i, a) in out.iter().enumerate() {
        for b in &out[i + 1..] {
            if let Some(c) = a.compatible.iter().find(|c| b.compatible.contains(c)) {
                let file = format!("{DATA_DIR}/{}", b.dir);
                return Err(Source {
                    file: &file,
                    text: "",
                }
                .error(
                    0..0,
                    format!(
                        "compatible `{c}` is claimed by both {} and {}",
                        a.dir, b.dir
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// A description written outside the data dir (inline in a scenario, or an included file):
/// `text` is the TOML of one description; its `inherits` names a built-in description
/// (`"ti-sn65dsi83/v7.0"`). It applies under every release.
pub fn load_inline(file: &str, text: &str) -> Result<Arc<DriverData>, DescError> {
    let src = Source { file, text };
    let f = src.parse()?;
    if let Some(i) = &f.include {
        return Err(src.error(
            i.span(),
            "`include` is for a scenario's [[driver]], not a description file",
        ));
    }
    load_parsed(src, f)
}

/// [`load_inline`] for a description already parsed from `src` (a scenario's inline
/// `[[driver]]` table: its spans are in the scenario's text).
pub fn load_parsed(src: Source<'_>, f: DescriptionFile) -> Result<Arc<DriverData>, DescError> {
    let (file, text) = (src.file, src.text);
    let mut layers = Vec::new();
    let base;
    let base_layers: Vec<(String, &'static str, DescriptionFile)>;
    if let Some(inh) = &f.inherits {
        base = resolve_builtin_chain(inh.get_ref()).map_err(|m| src.error(inh.span(), m))?;
        base_layers = base;
        for (file, text, df) in &base_layers {
            layers.push(Layer {
                src: Source { file, text },
                file: df.clone(),
            });
        }
    }
    layers.push(Layer {
        src: Source { file, text },
        file: f,
    });
    let d = format::resolve(&layers, None)?;
    let name = d.name.clone();
    Ok(Arc::new(DriverData::from_descriptions(
        name,
        BTreeMap::new(),
        Some(Arc::new(d)),
    )))
}

/// The written layers of built-in description `DIR/RELEASE`, oldest first.
fn resolve_builtin_chain(
    name: &str,
) -> Result<Vec<(String, &'static str, DescriptionFile)>, String> {
    let (dir, rel) = name.split_once('/').ok_or_else(|| {
        format!("inherits `{name}`: expected a built-in description, DRIVER/RELEASE (\"ti-sn65dsi83/v7.0\")")
    })?;
    let mut rel: Release = rel
        .parse()
        .map_err(|e: drm::rules::UnknownRelease| e.to_string())?;
    let mut out = Vec::new();
    loop {
        let path = format!("{dir}/{rel}.toml");
        let Some((p, text)) = FILES.iter().find(|(p, _)| *p == path) else {
            let have = builtin_names().join(", ");
            return Err(format!(
                "no built-in description `{dir}/{rel}` (there are: {have})"
            ));
        };
        let file = format!("{DATA_DIR}/{p}");
        let f = Source { file: &file, text }
            .parse()
            .map_err(|e| e.to_string())?;
        let next = f.inherits.as_ref().map(|i| i.get_ref().clone());
        out.push((file, *text, f));
        match next {
            Some(n) => {
                rel = n
                    .parse()
                    .map_err(|e: drm::rules::UnknownRelease| e.to_string())?
            }
            None => break,
        }
    }
    out.reverse();
    Ok(out)
}

/// Every built-in description's name, `DIR/RELEASE`.
pub fn builtin_names() -> Vec<String> {
    FILES
        .iter()
        .map(|(p, _)| p.trim_end_matches(".toml").to_string())
        .collect()
}

/// The embedded drivers. The data is checked by the tests; a broken file is a build bug.
pub fn builtin() -> Result<&'static [Arc<DriverData>], &'static DescError> {
    static B: OnceLock<Result<Vec<Arc<DriverData>>, DescError>> = OnceLock::new();
    match B.get_or_init(|| load_all(FILES)) {
        Ok(v) => Ok(v),
        Err(e) => Err(e),
    }
}

/// The run's release, as the front end set it ([`set_release`]).
#[derive(Copy, Clone)]
struct RunRelease(Option<Release>);

/// Tell the data drivers which release the run models (the rules column's release). Setup,
/// before boot. Without it the release is inferred from the rules.
pub fn set_release(k: &Kernel, r: Release) {
    k.global(|_| RunRelease(Some(r)));
}

/// The release the data drivers follow: the one set, else the newest release whose rule
/// switches are all on in the run's rules (a column with proposals on top is its release).
pub fn current_release(k: &Kernel) -> Release {
    if let Some(r) = k.global(|_| RunRelease(None)).0 {
        return r;
    }
    release_of_rules(&rules(k))
}

/// The newest release whose switches are all on in `r`.
pub fn release_of_rules(r: &Rules) -> Release {
    let exact = Release::ALL
        .into_iter()
        .find(|rel| Rules::for_release(*rel) == *r);
    if let Some(e) = exact {
        return e;
    }
    Release::ALL
        .into_iter()
        .rev()
        .find(|rel| {
            let want = Rules::for_release(*rel);
            Switch::ALL.iter().all(|s| !want.get(*s) || r.get(*s))
        })
        .unwrap_or(Release::ALL[0])
}

/// A scenario's override: compatible string → description name (`DIR/RELEASE` or a
/// release).
#[derive(Copy, Clone)]
struct Overrides(Obj<BTreeMap<String, String>>);

fn overrides(k: &Kernel) -> Overrides {
    k.global(|k| {
        Overrides(k.static_obj(
            "driver descriptions",
            "driver descriptions",
            BTreeMap::new(),
        ))
    })
}

/// Use description `name` (`"ti-sn65dsi83/v6.15"`, or `"v6.15"` of the driver's own) for
/// the driver matching `compatible`. Setup, before drivers register.
pub fn set_description(k: &Kernel, compatible: &str, name: &str) {
    k.write(overrides(k).0, |o| {
        o.insert(compatible.to_string(), name.to_string())
    });
}

/// Whether `name` is a description `data` has (for checking a scenario's override).
pub fn override_target(data: &DriverData, name: &str) -> Result<Release, String> {
    let rel = match name.split_once('/') {
        Some((dir, rel)) if dir == data.dir => rel,
        Some((dir, _)) => {
            return Err(format!(
                "description `{name}` is of driver {dir}, not {} (which claims this compatible)",
                data.dir
            ))
        }
        None => name,
    };
    let r: Release = rel
        .parse()
        .map_err(|e: drm::rules::UnknownRelease| e.to_string())?;
    if data.any_release.is_none() && !data.releases.contains_key(&r) {
        let have: Vec<String> = data
            .releases
            .keys()
            .map(|r| format!("{}/{r}", data.dir))
            .collect();
        return Err(format!(
            "no description `{}/{r}`: expected one of {}",
            data.dir,
            have.join(", ")
        ));
    }
    Ok(r)
}

/// The description a probe of a device of `data` runs now.
pub fn select(k: &Kernel, data: &DriverData) -> Arc<Description> {
    let current = current_release(k);
    let chosen = k.read(overrides(k).0, |o| {
        data.compatible.iter().find_map(|c| o.get(*c).cloned())
    });
    if let Some(name) = chosen {
        if let Ok(r) = override_target(data, &name) {
            return data.for_release(r);
        }
    }
    // The Rust-era variant names still select by era: pre-refcount is v6.15's description,
    // refcounted v6.16's, next-bridge v7.0's (never past the run's release).
    let variant = crate::variant::overridden(k, &data.compatible);
    if let Some(v) = variant {
        let r = match v {
            crate::variant::Variant::PreRefcount => Release::V6_15,
            crate::variant::Variant::Refcounted => Release::V6_16,
            crate::variant::Variant::NextBridge => Release::V7_0,
        };
        return data.for_release(r.min(current));
    }
    data.for_release(current)
}
