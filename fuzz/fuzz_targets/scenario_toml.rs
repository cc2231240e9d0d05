//! The scenario loader (strict TOML, checks, board and overlay compilation, node and step
//! checks) must return a scenario or a located error on any input, never panic or hang; a
//! scenario it accepts must run once in thread order without a host panic.
//!
//! Only `builtin:` board data is compiled: an input naming a file is skipped, so the fuzzer
//! never reads the file system.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use bridgesim::scenario::{Prepared, Scenario};
use kmodel::{Config, Kernel, ThreadOrder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sc) = Scenario::parse("fuzz.toml", Path::new("/nonexistent"), src) else {
        return;
    };
    let f = &sc.file;
    let builtin = |s: &str| s.starts_with("builtin:");
    if !builtin(f.board.dts.get_ref())
        || !f.board.include.is_empty()
        || f.overlays.values().any(|o| !builtin(o.get_ref().file.get_ref()))
    {
        return;
    }
    let Ok(p) = Prepared::new(sc) else {
        return;
    };
    let p = Arc::new(p);
    let Ok(rules) = p.rules(None) else {
        return;
    };
    let k = Kernel::new(Config::default());
    let prog = p.program(rules);
    k.run(&mut ThreadOrder, move |k| prog(k));
});
