//! The crate's integration tests, as one test binary (one link instead of one per file;
//! see ARCHITECTURE.md, Testing). Every tests/*.rs is a module here: testkit checks it.

#[path = "support/irq.rs"]
mod irq;
#[path = "support/naive.rs"]
mod naive;

mod closed_form;
mod collect;
mod coverage;
mod determinism;
mod hotplug;
mod kref_oracle;
mod many_threads;
mod oracle;
mod panics;
mod planted;
mod shard_order;
mod uaf_oracle;
