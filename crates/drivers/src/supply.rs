//! Generic supplier models and the consumer-side lookups.
//!
//! A supplier driver binds and does nothing else; what matters is *that* it is bound, because
//! the consumer lookups below follow the consumer's `*-supply` / `*-gpios` / `pwms` phandle
//! and return `-EPROBE_DEFER` while the supplier's device is not bound, as the regulator core
//! and gpiolib do.

use kmodel::device::{DeviceId, Driver};
use kmodel::hw::{Hw, HwKind};
use kmodel::{Errno, Kernel};

/// A supplier with nothing to model but its binding.
pub struct Supplier {
    name: &'static str,
    compatible: &'static [&'static str],
}

impl Driver for Supplier {
    fn name(&self) -> &'static str {
        self.name
    }
    fn of_match_table(&self) -> &[&'static str] {
        self.compatible
    }
    fn probe(&self, k: &Kernel, dev: DeviceId) -> Result<(), Errno> {
        // A supplier may itself need a supply (vin-supply of a fixed regulator).
        if self.name == "reg-fixed-voltage" {
            devm_regulator_get_optional(k, dev, "vin")?;
        }
        Ok(())
    }
}

/// `reg-fixed-voltage` (drivers/regulator/fixed.c).
pub const REGULATOR_FIXED: Supplier = Supplier {
    name: "reg-fixed-voltage",
    compatible: &["regulator-fixed"],
};

/// GPIO controllers of the boards bridgesim reads (gpio-mxc, gpio-pca953x, pcf857x, gpio-rockchip,
/// pinctrl-sunxi, gpio-rcar, gpio-davinci, stm32 pinctrl banks).
pub const GPIO_CONTROLLERS: Supplier = Supplier {
    name: "gpio-controller",
    compatible: &[
        "fsl,imx35-gpio",
        "fsl,imx8mp-gpio",
        "fsl,imx8mm-gpio",
        "nxp,pca9670",
        "nxp,pca9555",
        "ti,tca6408",
        "rockchip,gpio-bank",
        "renesas,rcar-gen3-gpio",
        "ti,dm6441-gpio",
    ],
};

/// I2C controllers (i2c-imx, i2c-rk3x, i2c-rcar, i2c-davinci, i2c-stm32, i2c-mv64xxx).
pub const I2C_CONTROLLERS: Supplier = Supplier {
    name: "i2c-controller",
    compatible: kmodel::of_platform::I2C_ADAPTER_COMPATIBLES,
};

/// PMICs whose regulators supply display parts (pca9450, bd718x7, axp803, rk808, stpmic1).
pub const PMICS: Supplier = Supplier {
    name: "pmic",
    compatible: &[
        "nxp,pca9450a",
        "nxp,pca9450b",
        "nxp,pca9450c",
        "rohm,bd71847",
        "rohm,bd71837",
        "x-powers,axp803",
        "rockchip,rk808",
        "st,stpmic1",
    ],
};

/// i.MX block controllers; their children (the LDB, the DSI/LVDS PHYs) get devices once they
/// bind.
pub const BLK_CTRLS: Supplier = Supplier {
    name: "imx8m-blk-ctrl",
    compatible: &[
        "fsl,imx8mp-media-blk-ctrl",
        "fsl,imx8mm-disp-blk-ctrl",
        "fsl,imx8mp-hdmi-blk-ctrl",
    ],
};

/// PWM controllers and backlights (pwm-imx27, pwm_bl, led_bl).
pub const PWM_AND_BACKLIGHTS: Supplier = Supplier {
    name: "pwm-backlight",
    compatible: &[
        "fsl,imx27-pwm",
        "pwm-backlight",
        "led-backlight",
        "rockchip,rk3328-pwm",
    ],
};

/// Follow a consumer property's phandle: `None` if there is none, `Some(false)` while the
/// supplier's device is not bound, `Some(true)` once it is (after linking consumer to supplier).
fn supplier_state(k: &Kernel, dev: DeviceId, prop: &str) -> Option<bool> {
    let node = k.dev_of_node(dev)?;
    let mut supplier = k.of_tree(|t| t.of_parse_phandle(node, prop, 0))?;
    // A regulator or GPIO bank described as a child of its controller (a PMIC's regulators
    // node, say) is provided by the nearest ancestor that has a device, as fw_devlink finds
    // the supplier device.
    let dev_of_supplier = loop {
        if let Some(d) = k.of_find_device_by_node(supplier) {
            break Some(d);
        }
        match k.of_tree_peek(|t| t.parent(supplier).filter(|&p| p != t.root())) {
            Some(p) => supplier = p,
            None => break None,
        }
    };
    match dev_of_supplier.filter(|&d| k.device_is_bound(d)) {
        Some(d) => {
            // fw_devlink: the consumer unbinds before its supplier.
            k.device_link_add(dev, d);
            Some(true)
        }
        None => Some(false),
    }
}

fn devm_get(
    k: &Kernel,
    dev: DeviceId,
    prop: &str,
    kind: HwKind,
    name: &str,
    optional: bool,
) -> Result<Option<Hw>, Errno> {
    match supplier_state(k, dev, prop) {
        Some(true) => Ok(Some(k.devm_hw_get(dev, kind, name))),
        Some(false) => Err(Errno::EPROBE_DEFER),
        None if optional => Ok(None),
        // The kernel hands out a dummy regulator when none is described; model it as a
        // resource of the consumer itself.
        None if kind == HwKind::Regulator => Ok(Some(k.devm_hw_get(dev, kind, name))),
        None => Err(Errno::ENOENT),
    }
}

/// `drm_panel_of_backlight(panel)` → `devm_of_find_backlight(dev)`: follows `backlight`;
/// `Ok(false)` without the property, `-EPROBE_DEFER` until the backlight's device binds (then
/// the panel is linked as its consumer).
pub fn devm_of_find_backlight(k: &Kernel, dev: DeviceId) -> Result<bool, Errno> {
    let _f = k.func("devm_of_find_backlight");
    match supplier_state(k, dev, "backlight") {
        Some(true) => Ok(true),
        Some(false) => Err(Errno::EPROBE_DEFER),
        None => Ok(false),
    }
}

/// `devm_regulator_get(dev, id)`: follows `<id>-supply`. A missing property gives the dummy
/// regulator; an unbound supplier gives `-EPROBE_DEFER`.
pub fn devm_regulator_get(k: &Kernel, dev: DeviceId, id: &str) -> Result<Hw, Errno> {
    let _f = k.func("devm_regulator_get");
    devm_get(
        k,
        dev,
        &format!("{id}-supply"),
        HwKind::Regulator,
        id,
        false,
    )
    .map(|h| h.expect("regulators always resolve"))
}

/// `devm_regulator_get_optional`.
pub fn devm_regulator_get_optional(
    k: &Kernel,
    dev: DeviceId,
    id: &str,
) -> Result<Option<Hw>, Errno> {
    let _f = k.func("devm_regulator_get_optional");
    devm_get(k, dev, &format!("{id}-supply"), HwKind::Regulator, id, true)
}

/// `devm_gpiod_get_optional(dev, con_id)`: follows `<con_id>-gpios`, or `gpios` for an empty
/// (NULL) con_id, as drivers/gpio/gpiolib-of.c:of_find_gpio does.
pub fn devm_gpiod_get_optional(
    k: &Kernel,
    dev: DeviceId,
    con_id: &str,
) -> Result<Option<Hw>, Errno> {
    let _f = k.func("devm_gpiod_get_optional");
    let prop = if con_id.is_empty() {
        "gpios".to_string()
    } else {
        format!("{con_id}-gpios")
    };
    devm_get(
        k,
        dev,
        &prop,
        HwKind::Gpio,
        prop.trim_end_matches("-gpios"),
        true,
    )
}

/// `devm_gpiod_get_optional(dev, con_id)` with a NULL `con_id` (`None`): follows the plain
/// `gpios` property (`devm_gpiod_get_index_optional(dev, NULL, index)`; the index only names the
/// line).
pub fn devm_gpiod_get_index_optional(
    k: &Kernel,
    dev: DeviceId,
    con_id: Option<&str>,
    index: u32,
) -> Result<Option<Hw>, Errno> {
    let _f = k.func("devm_gpiod_get_index_optional");
    let prop = match con_id {
        Some(c) => format!("{c}-gpios"),
        None => "gpios".to_string(),
    };
    let name = format!("{}{index}", con_id.unwrap_or("gpio"));
    devm_get(k, dev, &prop, HwKind::Gpio, &name, true)
}
