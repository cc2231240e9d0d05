//! The crate's integration tests, as one test binary (one link instead of one per file;
//! see ARCHITECTURE.md, Testing). Every tests/*.rs is a module here: testkit checks it.

mod common;

mod bad_inputs;
mod corpus_vs_dtc;
mod dtc_tests;
mod fdt;
mod features;
mod no_panic;
mod overlays;
mod wide_trees;
