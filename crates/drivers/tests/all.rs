//! The crate's integration tests, as one test binary (one link instead of one per file;
//! see ARCHITECTURE.md, Testing). Every tests/*.rs is a module here: testkit checks it.

mod common;

mod bridges;
mod components;
mod corpus_boot;
mod data_format;
mod field_tags;
mod panels;
