//! Writing output files: through a temporary file and a rename, so an
//! interrupted write leaves the old file intact, and never over an input.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: into a new temporary file next to
/// it (same directory, so the rename stays on one file system), synced,
/// then renamed over `path`. On failure the temporary file is removed and
/// `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "expected a file name, not a directory",
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let (tmp, mut f) = create_temp(dir, name)?;
    let written = f
        .write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| {
            drop(f);
            fs::rename(&tmp, path)
        });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// A new `.NAME.PID.N.tmp` in `dir` (`create_new`, so a leftover of an
/// earlier run is never reused).
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, fs::File)> {
    let mut n = 0u32;
    loop {
        let mut t = OsString::from(".");
        t.push(name);
        t.push(format!(".{}.{n}.tmp", std::process::id()));
        let p = dir.join(t);
        match OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The input `output` would overwrite, if any: paths are compared
/// canonicalised (so `./a.dts`, `dir/../a.dts` and a symlink to it are the
/// same file). An output that does not exist yet overwrites nothing.
pub fn overwritten_input<'a>(
    output: &Path,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Option<&'a Path> {
    let out = fs::canonicalize(output).ok()?;
    inputs
        .into_iter()
        .find(|i| fs::canonicalize(i).is_ok_and(|c| c == out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("bridgesim-output-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temporary() {
        let d = scratch("replace");
        let p = d.join("out.dtb");
        fs::write(&p, b"old").unwrap();
        write_atomic(&p, b"new contents").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new contents");
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("out.dtb")]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_intact() {
        let d = scratch("fail");
        let p = d.join("out.dtb");
        fs::write(&p, b"old").unwrap();
        // The rename cannot replace a directory: the write fails after the
        // temporary file was written.
        let sub = d.join("sub");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("x"), b"x").unwrap();
        assert!(write_atomic(&sub, b"new").is_err());
        assert!(sub.is_dir());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // A missing directory fails before anything is written.
        assert!(write_atomic(&d.join("no/such/dir/out.dtb"), b"new").is_err());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn overwritten_input_compares_canonical_paths() {
        let d = scratch("canon");
        let a = d.join("a.dts");
        fs::write(&a, b"x").unwrap();
        let other = d.join("b.dts");
        fs::write(&other, b"y").unwrap();
        let dotted = d.join("sub/../a.dts");
        fs::create_dir(d.join("sub")).unwrap();
        assert_eq!(overwritten_input(&dotted, [a.as_path()]), Some(a.as_path()));
        assert_eq!(overwritten_input(&other, [a.as_path()]), None);
        assert_eq!(overwritten_input(&d.join("new.dtb"), [a.as_path()]), None);
        fs::remove_dir_all(&d).unwrap();
    }
}
