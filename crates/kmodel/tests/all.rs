//! The crate's integration tests, as one test binary (one link instead of one per file;
//! see ARCHITECTURE.md, Testing). Every tests/*.rs is a module here: testkit checks it.

mod device;
mod field_access;
mod interrupt;
mod kref_owners;
mod of_platform;
mod runtime;
mod teardown;
mod violation_kinds;
mod violations;
