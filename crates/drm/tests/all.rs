//! The crate's integration tests, as one test binary (one link instead of one per file;
//! see ARCHITECTURE.md, Testing). Every tests/*.rs is a module here: testkit checks it.

mod common;

mod behaviour;
mod behaviour_more;
mod citations;
mod concurrency;
mod drm_device;
mod imx_parallel_display;
mod kunit_bridge;
mod kunit_bridge_alloc;
mod legacy_connector;
mod panel;
mod release_deltas;
mod rules;
mod seed;
