//! Device-tree source front end for bridgesim: the kernel's .dts/.dtsi/.dtso
//! read as they are (the cpp subset the kernel build uses, then dtc's
//! language with dtc's semantics), .dtb/.dtbo in and out, and the tree handed
//! to the kernel model as a [`kmodel::of::DeviceTree`].
//!
//! Pipeline: [`cpp`] (includes, macros, conditionals) → [`parser`] (dtc
//! grammar, merging, deletion, overlay fragments) → [`resolve`] (dtc's
//! ERROR-level checks, phandles, `__symbols__`, `__fixups__`,
//! `__local_fixups__`) → `DeviceTree`.
//!
//! A pure device-tree front end: nothing here knows DRM (the display graph
//! `bridgesim dt show` prints lives with that command).

pub mod cpp;
pub mod fdt;
pub mod parser;
pub mod print;
pub mod resolve;
pub mod source;
pub mod tree;

use std::path::{Path, PathBuf};

use kmodel::of::DeviceTree;

pub use source::{DtsError, ErrorKind, Location};

/// Search paths and definitions, as `cpp -I` / `dtc -i` / `cpp -D`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Searched for `#include <..>`, `#include ".."` (after the including
    /// file's directory), `/include/` and `/incbin/`.
    pub include_dirs: Vec<PathBuf>,
    pub defines: Vec<(String, String)>,
    /// dtc's `-@` is bridgesim's default; set to true to compile as plain
    /// `dtc` does (no `__symbols__`, no phandles for labels only, and
    /// `/omit-if-no-ref/` also drops labelled nodes).
    pub no_symbols: bool,
    /// Refuse every `#include`, `/include/` and `/incbin/` (for fuzzing
    /// untrusted input: an absolute path could name /proc/kcore).
    pub no_file_access: bool,
}

/// A compiled tree.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub tree: DeviceTree,
    /// The source had `/plugin/` (or the blob has fragments/fixups).
    pub plugin: bool,
    /// The files read: the input, then every `#include`d and `/include/`d
    /// file, in the order first read (a writer must not overwrite them).
    pub sources: Vec<PathBuf>,
}

/// Compiles source bytes (`name` is used in messages and to resolve
/// relative includes when `path` is given).
pub fn compile_bytes(
    name: &str,
    path: Option<&Path>,
    bytes: Vec<u8>,
    opts: &Options,
) -> Result<Compiled, DtsError> {
    let mut sm = source::SourceMap::default();
    let file = sm.add_file(name.to_string(), path.map(Path::to_path_buf), bytes);
    let cpp_opts = cpp::CppOptions {
        include_dirs: opts.include_dirs.clone(),
        defines: opts.defines.clone(),
        no_file_access: opts.no_file_access,
    };
    let buf = cpp::Cpp::new(&mut sm, &cpp_opts).run(file)?;
    let mut parser = parser::Parser::new(&mut sm, buf, &opts.include_dirs);
    parser.no_file_access = opts.no_file_access;
    let info = parser.parse()?;
    let plugin = info.plugin;
    let tree = resolve::resolve(&sm, info, !opts.no_symbols)?;
    let mut sources: Vec<PathBuf> = Vec::new();
    for p in sm.files.iter().filter_map(|f| f.path.as_ref()) {
        if !sources.contains(p) {
            sources.push(p.clone());
        }
    }
    Ok(Compiled {
        tree,
        plugin,
        sources,
    })
}

/// Compiles a .dts/.dtso file.
pub fn compile_file(path: &Path, opts: &Options) -> Result<Compiled, DtsError> {
    let name = source::display_name(path);
    let bytes = std::fs::read(path).map_err(|e| {
        DtsError::unlocated(ErrorKind::Io, &name, format!("{name}: cannot read: {e}"))
    })?;
    compile_bytes(&name, Some(path), bytes, opts)
}

/// Whether a path names a compiled blob (.dtb/.dtbo).
pub fn is_blob(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("dtb" | "dtbo")
    )
}

/// Loads a source or a blob, by extension.
pub fn load(path: &Path, opts: &Options) -> Result<Compiled, DtsError> {
    if is_blob(path) {
        let name = source::display_name(path);
        let bytes = std::fs::read(path).map_err(|e| {
            DtsError::unlocated(ErrorKind::Io, &name, format!("{name}: cannot read: {e}"))
        })?;
        let tree = fdt::read_dtb(&bytes, &name)?;
        let r = tree.root();
        let plugin = tree.child_by_full_name(r, "__fixups__").is_some()
            || tree
                .children(r)
                .iter()
                .any(|&c| tree.child_by_full_name(c, "__overlay__").is_some());
        return Ok(Compiled {
            tree,
            plugin,
            sources: vec![path.to_path_buf()],
        });
    }
    compile_file(path, opts)
}
