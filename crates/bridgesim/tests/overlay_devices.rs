//! Overlays create and remove devices through the OF reconfig notifiers (issue 4, item 4).

use std::rc::Rc;

use kmodel::device::{DeviceId, Driver};
use kmodel::of::DeviceTree;
use kmodel::of_platform::OfBus;
use kmodel::*;

/// An I2C adapter driver: its clients exist only while it is bound.
struct I2cAdapter;
impl Driver for I2cAdapter {
    fn name(&self) -> &'static str {
        "imx-i2c"
    }
    fn of_match_table(&self) -> &[&'static str] {
        &["fsl,imx21-i2c"]
    }
    fn probe(&self, _k: &Kernel, _dev: DeviceId) -> Result<(), Errno> {
        Ok(())
    }
}

const BASE: &str = r#"
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        i2c2: i2c@30a30000 {
            compatible = "fsl,imx8mp-i2c", "fsl,imx21-i2c";
            reg = <0x30a30000 0x10000>;
            #address-cells = <1>;
            #size-cells = <0>;
        };
        dsim: dsi@32e60000 {
            compatible = "fsl,imx8mp-mipi-dsim";
            reg = <0x32e60000 0x400>;
        };
    };
    panel_off: panel {
        compatible = "panel-lvds";
        status = "disabled";
    };
};
"#;

const ADDON: &str = r#"
/dts-v1/;
/plugin/;
&i2c2 {
    bridge@2c {
        compatible = "ti,sn65dsi84";
        reg = <0x2c>;
    };
};
&{/} {
    backlight {
        compatible = "pwm-backlight";
    };
};
&panel_off {
    status = "okay";
};
"#;

fn compile(name: &str, src: &str) -> DeviceTree {
    dts::compile_bytes(
        name,
        None,
        src.as_bytes().to_vec(),
        &dts::Options::default(),
    )
    .unwrap()
    .tree
}

/// The live devices: (path, bus name) for every device that is not deleted.
fn devices(k: &Kernel) -> Vec<String> {
    k.devices()
        .into_iter()
        .filter_map(|d| {
            k.dev_of_node(d)
                .filter(|_| k.of_find_device_by_node(k.dev_of_node(d).unwrap()) == Some(d))
        })
        .map(|n| k.of_tree_peek(|t| t.full_name(n)))
        .collect()
}

#[test]
fn apply_creates_devices_and_revert_removes_them() {
    let base = compile("base.dts", BASE);
    let addon = compile("addon.dtso", ADDON);
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, move |k| {
        let original = base.clone();
        k.of_set_live_tree(base);
        k.driver_register(k.of_bus(OfBus::Platform), Rc::new(I2cAdapter));
        k.of_platform_populate();
        let before = devices(k);
        assert_eq!(before, ["/soc", "/soc/i2c@30a30000", "/soc/dsi@32e60000"]);
        let id = k.of_overlay_fdt_apply(&addon, None).unwrap();
        let after = devices(k);
        assert_eq!(
            after,
            [
                "/soc",
                "/soc/i2c@30a30000",
                "/soc/dsi@32e60000",
                "/soc/i2c@30a30000/bridge@2c",
                "/backlight",
                "/panel"
            ]
        );
        let bridge = k
            .of_tree_peek(|t| t.of_find_node_by_path("/soc/i2c@30a30000/bridge@2c"))
            .unwrap();
        let dev = k.of_find_device_by_node(bridge).unwrap();
        assert_eq!(
            k.dev_parent(dev),
            k.of_tree_peek(|t| t.of_find_node_by_path("/soc/i2c@30a30000"))
                .and_then(|n| k.of_find_device_by_node(n))
        );
        // Unbinding the adapter removes its clients; binding it again brings them back.
        let adapter = k
            .of_find_device_by_node(
                k.of_tree_peek(|t| t.of_find_node_by_path("/soc/i2c@30a30000"))
                    .unwrap(),
            )
            .unwrap();
        k.device_release_driver(adapter);
        assert_eq!(k.of_find_device_by_node(bridge), None);
        k.device_attach(adapter);
        assert!(k.of_find_device_by_node(bridge).is_some());
        k.of_overlay_remove(id).unwrap();
        assert_eq!(devices(k), before);
        assert!(
            k.of_tree_peek(|t| t.structurally_eq(&original)),
            "the revert restores the tree"
        );
        // Tear down the base devices too.
        for d in k.devices() {
            if k.dev_of_node(d)
                .is_some_and(|n| k.of_find_device_by_node(n) == Some(d))
            {
                k.device_del(d);
            }
        }
    });
    assert!(k.violations().is_empty(), "{:?}", k.violations());
    // Device removal on revert went child-first: the bridge and the overlay's root nodes
    // were deleted, in reverse order of creation.
    let dels: Vec<u32> = k
        .trace()
        .events
        .iter()
        .filter_map(|e| match e {
            trace::Event::Device {
                dev,
                what: trace::DeviceEvent::Del,
                ..
            } => Some(dev.0),
            _ => None,
        })
        .collect();
    // bridge@2c (dev 3) went with its adapter's unbind; the revert removed /panel (5),
    // /backlight (4) and the re-created bridge (6), in reverse changeset order.
    assert_eq!(&dels[..4], &[3, 5, 4, 6]);
}
