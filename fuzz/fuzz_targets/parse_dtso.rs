//! Overlays (.dtso): the input, after a `/dts-v1/; /plugin/;` header, must
//! compile to Ok or a located error (fragments, `__fixups__`,
//! `__local_fixups__`), and a compiled overlay must apply to a small base
//! tree or be refused with an error, then revert, never panic or hang.
#![no_main]

use std::sync::OnceLock;

use kmodel::of::DeviceTree;
use libfuzzer_sys::fuzz_target;

const BASE: &str = r#"/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;
	i2c: i2c@1000 {
		reg = <0x1000 0x100>;
		#address-cells = <1>;
		#size-cells = <0>;
	};
	dsi: dsi@2000 {
		reg = <0x2000 0x100>;
		ports {
			#address-cells = <1>;
			#size-cells = <0>;
			port@1 {
				reg = <1>;
				dsi_out: endpoint {
				};
			};
		};
	};
};
"#;

fn opts() -> dts::Options {
    dts::Options {
        no_file_access: true,
        ..Default::default()
    }
}

fn base() -> &'static DeviceTree {
    static BASE_TREE: OnceLock<DeviceTree> = OnceLock::new();
    BASE_TREE.get_or_init(|| {
        dts::compile_bytes("base.dts", None, BASE.as_bytes().to_vec(), &opts())
            .expect("the base compiles")
            .tree
    })
}

fuzz_target!(|data: &[u8]| {
    let mut src = b"/dts-v1/;\n/plugin/;\n".to_vec();
    src.extend_from_slice(data);
    let Ok(ov) = dts::compile_bytes("fuzz.dtso", None, src, &opts()) else {
        return;
    };
    let blob = dts::fdt::write_dtb(&ov.tree);
    let back = dts::fdt::read_dtb(&blob, "fuzz.dtbo").expect("own output reads back");
    assert!(back.structurally_eq(&ov.tree));
    let mut live = base().clone();
    if let Ok((id, _)) = live.of_overlay_apply(&ov.tree, None) {
        live.of_overlay_remove(id).expect("an applied overlay reverts");
    }
});
