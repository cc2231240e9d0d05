//! The crate's integration tests, as one test binary (one link instead of one per file;
//! see ARCHITECTURE.md, Testing). Every tests/*.rs is a module here: testkit checks it.

mod common;

mod audit_cli;
mod audit_explore;
mod catalog;
mod catalog_paths;
mod cli_help;
mod corpus_scenarios;
mod data_drivers;
mod demo;
mod dt_cli;
mod granularity;
mod hpd;
mod internal_error;
mod leak_counts;
mod lookup_api;
mod overlay_devices;
mod rules_cli;
mod scenario_errors;
mod scenario_mutations;
mod search_cli;
mod shard;
mod timeline;
mod vocabulary;
