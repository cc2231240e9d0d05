//! The DTS front end (cpp subset, parser, dtc checks and generation) must
//! return Ok or a located error on any input, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = dts::Options {
        no_file_access: true,
        ..Default::default()
    };
    if let Ok(c) = dts::compile_bytes("fuzz.dts", None, data.to_vec(), &opts) {
        // Whatever compiles must also be writable and read back.
        let blob = dts::fdt::write_dtb(&c.tree);
        let back = dts::fdt::read_dtb(&blob, "fuzz.dtb").expect("own output reads back");
        assert!(back.structurally_eq(&c.tree));
    }
});
