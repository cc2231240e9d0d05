//! `bridgesim audit`: real kernel driver C in, lifetime hazards out.
//!
//! - [`cfile`] parses one file with tree-sitter-c (no configured build, no preprocessor) into
//!   structured statements, struct definitions and initialised ops tables;
//! - [`vocab`] classifies every call: a framework call of the lifetime vocabulary, a neutral
//!   call, a static function of the file, or unknown (listed, never dropped);
//! - [`extract`] turns a file into a driver description: compatibles, bus, private fields,
//!   and per callback the framework calls in order with their branches;
//! - [`hazards`] walks each function's paths (and a driver's functions together) for the
//!   patterns of the single-function pass, each with its shortest path;
//! - [`stress`] puts an extracted driver on a synthetic board and writes its stress
//!   scenarios (explored by `bridgesim audit --explore`);
//! - [`report`] runs all of it over files, directories or kernel trees, per release, renders
//!   text or JSON, and compares two trees (`--base/--head`).

pub mod cfile;
pub mod emit;
pub mod extract;
pub mod hazards;
pub mod report;
pub mod source;
pub mod stress;
pub mod vocab;

pub use report::{audit, diff, Audit, AuditError, Diff, Options};

/// Serialising `drm::Release` (which has no serde impl) as its name.
pub(crate) mod ser {
    use drm::Release;
    use serde::Serializer;

    pub fn release_opt<S: Serializer>(r: &Option<Release>, s: S) -> Result<S::Ok, S::Error> {
        match r {
            Some(r) => s.serialize_some(r.name()),
            None => s.serialize_none(),
        }
    }

    pub fn release<S: Serializer>(r: &Release, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.name())
    }

    pub fn releases<S: Serializer>(rs: &[Release], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(rs.iter().map(|r| r.name()))
    }
}
