//! Reading an arbitrary blob as .dtb, then applying it as an overlay to a
//! small tree, must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = dts::fdt::read_dtb(data, "fuzz.dtb") {
        let mut live = kmodel::of::DeviceTree::new();
        let r = live.root();
        let sym = live.add_child(r, "__symbols__");
        let n = live.add_child(r, "n");
        live.set_property(n, "phandle", vec![0, 0, 0, 1]);
        live.set_property(sym, "n", b"/n\0".to_vec());
        let orig = live.clone();
        if let Ok((id, _)) = live.of_overlay_apply(&t, None) {
            live.of_overlay_remove(id).expect("topmost");
            assert!(live.structurally_eq(&orig));
        }
    }
});
