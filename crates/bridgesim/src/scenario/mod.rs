//! Scenario files: a board, its add-on overlays, the rules, and threads of steps, with the
//! verdict expected under each kernel release. The format is documented field by field in
//! `scenarios/README.md`.
//!
//! Loading is strict: unknown fields, unknown steps, wrong types, undeclared overlays and
//! (once the board is resolved) node paths that do not exist are located errors naming the
//! file, line and column and what was expected.

mod format;
mod run;

pub use format::*;
pub use run::*;
