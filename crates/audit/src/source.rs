//! What to audit: the files under the given paths, and the release of the tree they are in.

use std::fmt;
use std::path::{Path, PathBuf};

use drm::Release;

/// Where the bridge drivers are in a kernel tree.
pub const BRIDGE_DIR: &str = "drivers/gpu/drm/bridge";

/// How the releases to audit under were chosen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum ReleaseSource {
    /// `--release R`.
    Option,
    /// The top Makefile's VERSION and PATCHLEVEL.
    Makefile { path: String },
    /// A directory named after a release (`.../v7.1/drivers/...`, as the corpus lays trees).
    PathComponent { component: String },
    /// Nothing said: every release.
    Every,
    /// The Makefile names a release the model does not know: every release.
    Unknown { makefile: String, version: String },
}

impl fmt::Display for ReleaseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseSource::Option => f.write_str("from --release"),
            ReleaseSource::Makefile { path } => write!(f, "from {path}"),
            ReleaseSource::PathComponent { component } => {
                write!(f, "from the path component {component}")
            }
            ReleaseSource::Every => {
                f.write_str("no top Makefile with VERSION/PATCHLEVEL: every release")
            }
            ReleaseSource::Unknown { makefile, version } => write!(
                f,
                "{makefile} says {version}, which is not modelled: every release"
            ),
        }
    }
}

/// An input error (exit 2).
#[derive(Debug, PartialEq, Eq)]
pub struct InputError {
    pub path: PathBuf,
    pub what: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.what)
    }
}

/// The files to audit under `path` and the directory their names are relative to. A kernel
/// tree (a directory holding drivers/gpu/drm/bridge) means its bridge drivers.
pub fn files(path: &Path) -> Result<(PathBuf, Vec<PathBuf>), InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError {
        path: path.to_path_buf(),
        what: format!("cannot read it ({e}); expected a .c file, a directory or a kernel tree"),
    })?;
    if meta.is_file() {
        if path.extension().and_then(|e| e.to_str()) != Some("c") {
            return Err(InputError {
                path: path.to_path_buf(),
                what: "not a .c file; expected a .c file, a directory or a kernel tree".into(),
            });
        }
        let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        return Ok((root, vec![path.to_path_buf()]));
    }
    let dir = if path.join(BRIDGE_DIR).is_dir() {
        path.join(BRIDGE_DIR)
    } else {
        path.to_path_buf()
    };
    let mut out = Vec::new();
    walk(&dir, &mut out).map_err(|e| InputError {
        path: dir.clone(),
        what: format!("cannot list it: {e}"),
    })?;
    out.sort();
    Ok((dir, out))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().and_then(|e| e.to_str()) == Some("c") {
            out.push(p);
        }
    }
    Ok(())
}

/// The release of the tree `path` is in: the nearest top Makefile with VERSION and
/// PATCHLEVEL above it, else a path component named after a release, else every release.
pub fn release_of(path: &Path) -> (Vec<Release>, ReleaseSource) {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    for dir in abs.ancestors() {
        let mk = dir.join("Makefile");
        let Ok(text) = std::fs::read_to_string(&mk) else {
            continue;
        };
        let field = |name: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
        };
        if let (Some(v), Some(p)) = (field("VERSION"), field("PATCHLEVEL")) {
            let name = format!("v{v}.{p}");
            return match name.parse::<Release>() {
                Ok(r) => (
                    vec![r],
                    ReleaseSource::Makefile {
                        path: mk.display().to_string(),
                    },
                ),
                Err(_) => (
                    Release::ALL.to_vec(),
                    ReleaseSource::Unknown {
                        makefile: mk.display().to_string(),
                        version: name,
                    },
                ),
            };
        }
    }
    for c in abs.components().rev() {
        let s = c.as_os_str().to_string_lossy();
        if let Ok(r) = s.parse::<Release>() {
            if s.starts_with('v') {
                return (
                    vec![r],
                    ReleaseSource::PathComponent {
                        component: s.to_string(),
                    },
                );
            }
        }
    }
    (Release::ALL.to_vec(), ReleaseSource::Every)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("audit-src-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join(BRIDGE_DIR)).unwrap();
        d
    }

    #[test]
    fn makefile_version_and_patchlevel_name_the_release() {
        let d = tmp("mk");
        std::fs::write(
            d.join("Makefile"),
            "# SPDX\nVERSION = 7\nPATCHLEVEL = 0\nSUBLEVEL = 3\n",
        )
        .unwrap();
        let (r, src) = release_of(&d.join(BRIDGE_DIR));
        assert_eq!(r, vec![Release::V7_0]);
        assert!(matches!(src, ReleaseSource::Makefile { .. }), "{src:?}");
    }

    #[test]
    fn an_unmodelled_version_means_every_release() {
        let d = tmp("old");
        std::fs::write(d.join("Makefile"), "VERSION = 5\nPATCHLEVEL = 10\n").unwrap();
        let (r, src) = release_of(&d);
        assert_eq!(r, Release::ALL.to_vec());
        assert!(matches!(src, ReleaseSource::Unknown { .. }), "{src:?}");
    }

    #[test]
    fn a_tree_means_its_bridge_directory_and_a_non_c_file_is_an_error() {
        let d = tmp("tree");
        std::fs::write(d.join(BRIDGE_DIR).join("a.c"), "int x;\n").unwrap();
        std::fs::write(d.join(BRIDGE_DIR).join("a.h"), "int y;\n").unwrap();
        let (root, files) = files(&d).unwrap();
        assert_eq!(root, d.join(BRIDGE_DIR));
        assert_eq!(files, vec![d.join(BRIDGE_DIR).join("a.c")]);
        let e = super::files(&d.join(BRIDGE_DIR).join("a.h")).unwrap_err();
        assert!(e.what.contains("not a .c file"), "{e}");
        assert!(super::files(&d.join("nope")).is_err());
    }
}
