//! Boot every corpus board (../shared/corpus/dtb: the base boards and the boards merged with
//! their overlay) under v6.15 and v7.2 rules, and check which display nodes bind, which stay
//! unbound (deferred or failed), and what the registry lists as not modelled: the count, and by
//! name the entries that belong to a display pipeline or supply one.
//!
//! The results are the same under both releases: binding and deferral do not depend on the
//! bridge refcounting eras. `UPDATE_EXPECT=1 cargo test -p drivers --test corpus_boot`
//! rewrites the table from what the model does; review the diff. What each board shows:
//!
//! - **i.MX8MP EVK**: LCDIF1 → DSIM → ADV7535 (`hdmi@3d`) → `hdmi-connector` binds (the
//!   ADV7535's supplies come from the PCA9450 PMIC, a generic supplier model; the DSIM bridge
//!   is added when the ADV7535 attaches as a DSI device). LCDIF3 (`@32fc6000`) stays unbound:
//!   it feeds the HDMI PVI/TX, not modelled. With the LVDS overlay, LCDIF2 → LDB (`bridge@5c`,
//!   a child of the media block controller, created when it binds) → IT6263 (`hdmi@4c`) →
//!   `lvds-hdmi-connector` binds as well: the chain real-pipelines.md §2.1 #5 describes.
//! - **Kontron BL (i.MX8MM)**: LCDIF (the mxsfb variant) → DSIM → ADV7535 (`hdmi@39`) →
//!   `hdmi-out`. The merged DL overlay disables the ADV7535 and binds DSIM → SN65DSI84 →
//!   panel-lvds instead; `hdmi-out` stays bound, unused.
//! - **Verdin (i.MX8MM)**: the base board has no enabled display nodes. The DSI-to-HDMI overlay
//!   binds LCDIF → DSIM → LT8912B → hdmi-connector; the DSI-to-LVDS overlay binds LCDIF → DSIM →
//!   SN65DSI84 → panel.
//! - **Venice GW73xx + RPi DSI display**: TC358762, the panel and so the LCDIF stay unbound:
//!   their `vddc` / `power` supply is the Raspberry Pi 7" panel MCU regulator (`regulator@45`),
//!   not modelled. The DSIM binds (a host with nothing attached).
//! - **Ebisu (R-Car E3)**: the VGA chain (adv7123 simple-bridge → vga connector) and the HDMI
//!   chain (thc63lvd1024 → ADV7511W → hdmi-out) bind, without the DU or the R-Car LVDS encoders.
//!   The display-connector model also binds the V4L2 *input* connectors `hdmi-in` and `cvbs-in`
//!   (as the kernel's display-connector driver would: it matches on compatible only). The
//!   merged panel overlay adds a panel-simple `panel` that binds (its LVDS encoder is not
//!   modelled).
//! - **DB845c**: the LT9611 never gets a device: its I2C controller (`qcom,geni-i2c`) is not a
//!   modelled supplier, so I2C children are never created. Only `hdmi-out` binds.
//! - **Pinebook**: `panel-edp` defers (its supplies come from the AXP803 PMIC on the RSB bus,
//!   which is not modelled); the ANX6345 bridge has no model.
//! - **Puma Haikou (+ video demo)**, **STM32MP157C-DK2**, **DA850 LCDK**: every display
//!   controller is unmodelled (dw-mipi-dsi, the leadtek/orisetech DSI panels sit under
//!   unmodelled DSI hosts, SiI9022, tilcdc); DA850's VGA bridge and connector bind on their own.

mod common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use drivers::registry;
use drm::rules::{set_rules, Release, Rules};
use kmodel::{Config, Kernel, ThreadOrder};

/// The corpus's `dtb` directory (a visible skip without the corpus, see `testkit`).
fn corpus() -> Option<PathBuf> {
    testkit::corpus().map(|c| c.join("dtb"))
}

/// What one boot shows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Seen {
    bound: Vec<String>,
    unbound: Vec<String>,
    not_modelled: Vec<String>,
}

fn boot(path: &Path, release: Release) -> Seen {
    let tree = dts::load(path, &dts::Options::default())
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
        .tree;
    let out: Rc<RefCell<Seen>> = Rc::default();
    let o = out.clone();
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, move |k| {
        set_rules(k, Rules::for_release(release));
        k.of_set_live_tree(tree);
        registry::register(k, registry::all());
        k.of_platform_populate();
        let display: Vec<&str> = registry::display_drivers()
            .iter()
            .flat_map(|e| e.driver.of_match_table().to_vec())
            .collect();
        let mut r = o.borrow_mut();
        for d in k.devices() {
            let Some(n) = k.dev_of_node(d) else { continue };
            if k.of_find_device_by_node(n) != Some(d) {
                continue;
            }
            let (name, compat) = k.of_tree_peek(|t| {
                (
                    t.full_name(n),
                    t.compatible(n)
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>(),
                )
            });
            if compat.iter().any(|c| display.contains(&c.as_str())) {
                if k.device_is_bound(d) {
                    r.bound.push(name);
                } else {
                    r.unbound.push(name);
                }
            }
        }
        r.not_modelled = registry::not_modelled(k, &registry::all());
    });
    let mut r = out.borrow().clone();
    r.bound.sort();
    r.unbound.sort();
    r
}

/// Whether a not-modelled entry ("path (compatibles)") is part of a display pipeline or one of
/// its suppliers worth naming: display controllers, encoders, bridges, panels, connectors,
/// and the PMIC regulators / syscons that display nodes depend on.
fn display_related(entry: &str) -> bool {
    const KEYS: &[&str] = &[
        "lcd",
        "display",
        "dsi",
        "hdmi",
        "lvds",
        "panel",
        "vop",
        "tcon",
        "ltdc",
        "mdss",
        "mdp",
        "ldb",
        "bridge",
        "connector",
        "anx",
        "sii",
        ",du",
        "blk-ctrl",
        "pmic",
        "pca9450",
        "regulator",
        "backlight",
        "-de2",
        "mixer",
        "touchscreen",
    ];
    let e = entry.to_ascii_lowercase();
    KEYS.iter().any(|k| e.contains(k))
}

struct Expect {
    file: &'static str,
    bound: &'static [&'static str],
    unbound: &'static [&'static str],
    not_modelled: usize,
    not_modelled_display: &'static [&'static str],
}

const EXPECT: &[Expect] = &[
    Expect {
        file: "da850-lcdk.dtb",
        bound: &[
            "/vga",
            "/vga-bridge",
        ],
        unbound: &[],
        not_modelled: 39,
        not_modelled_display: &[
            "/soc@1c00000/display@213000 (ti,da850-tilcdc)",
        ],
    },
    Expect {
        file: "imx8mm-kontron-bl.dtb",
        bound: &[
            "/hdmi-out",
            "/soc@0/bus@30800000/i2c@30a40000/hdmi@39",
            "/soc@0/bus@32c00000/dsi@32e10000",
            "/soc@0/bus@32c00000/lcdif@32e00000",
        ],
        unbound: &[],
        not_modelled: 63,
        not_modelled_display: &[
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
        ],
    },
    Expect {
        file: "imx8mm-venice-gw73xx-0x.dtb",
        bound: &[],
        unbound: &[],
        not_modelled: 75,
        not_modelled_display: &[
            "/soc@0/bus@30800000/i2c@30a20000/pmic@69 (mps,mp5416)",
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
        ],
    },
    Expect {
        file: "imx8mm-verdin-wifi-dev.dtb",
        bound: &[],
        unbound: &[],
        not_modelled: 77,
        not_modelled_display: &[
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
            "/regulator-usdhc2-vqmmc (regulator-gpio)",
        ],
    },
    Expect {
        file: "imx8mp-evk.dtb",
        bound: &[
            "/hdmi-connector",
            "/native-hdmi-connector",
            "/soc@0/bus@30800000/i2c@30a30000/hdmi@3d",
            "/soc@0/bus@32c00000/display-controller@32e80000",
            "/soc@0/bus@32c00000/dsi@32e60000",
        ],
        unbound: &[
            "/soc@0/bus@32c00000/display-controller@32fc6000",
        ],
        not_modelled: 96,
        not_modelled_display: &[
            "/soc@0/bus@32c00000/blk-ctrl@32f10000 (fsl,imx8mp-hsio-blk-ctrl, syscon)",
            "/soc@0/bus@32c00000/display-bridge@32fc4000 (fsl,imx8mp-hdmi-pvi)",
            "/soc@0/bus@32c00000/audio-bridge@32fc4800 (fsl,imx8mp-hdmi-pai)",
            "/soc@0/bus@32c00000/hdmi@32fd8000 (fsl,imx8mp-hdmi-tx)",
            "/soc@0/bus@32c00000/phy@32fdff00 (fsl,imx8mp-hdmi-phy)",
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mp-vpu-blk-ctrl, syscon)",
            "/sound-hdmi (fsl,imx-audio-hdmi)",
        ],
    },
    Expect {
        file: "r8a77990-ebisu.dtb",
        bound: &[
            "/cvbs-in",
            "/hdmi-in",
            "/hdmi-out",
            "/lvds-decoder",
            "/soc/i2c@e6500000/hdmi-encoder@39",
            "/vga",
            "/vga-encoder",
        ],
        unbound: &[],
        not_modelled: 84,
        not_modelled_display: &[
            "/soc/display@feb00000 (renesas,du-r8a77990)",
            "/soc/lvds-encoder@feb90000 (renesas,r8a77990-lvds)",
            "/soc/lvds-encoder@feb90100 (renesas,r8a77990-lvds)",
            "/regulator-vccq-sdhi0 (regulator-gpio)",
            "/regulator-vccq-sdhi1 (regulator-gpio)",
        ],
    },
    Expect {
        file: "rk3399-puma-haikou.dtb",
        bound: &[],
        unbound: &[],
        not_modelled: 105,
        not_modelled_display: &[
            "/display-subsystem (rockchip,display-subsystem)",
            "/i2c@ff3c0000/regulator@60 (fcs,fan53555)",
            "/i2c@ff3e0000/regulator@60 (fcs,fan53555)",
            "/vop@ff8f0000 (rockchip,rk3399-vop-lit)",
            "/vop@ff900000 (rockchip,rk3399-vop-big)",
            "/hdmi-sound (simple-audio-card)",
            "/hdmi@ff940000 (rockchip,rk3399-dw-hdmi)",
            "/extcon-usb3 (linux,extcon-usb-gpio)",
            "/regulator-vdd-log (pwm-regulator)",
        ],
    },
    Expect {
        file: "sdm845-db845c.dtb",
        bound: &[
            "/hdmi-out",
        ],
        unbound: &[],
        not_modelled: 118,
        not_modelled_display: &[
            "/opp-table-dsi (operating-points-v2)",
            "/soc@0/regulator@ff1000 (qcom,sdm845-refgen-regulator)",
            "/soc@0/display-subsystem@ae00000 (qcom,sdm845-mdss)",
            "/soc@0/spmi@c440000 (qcom,spmi-pmic-arb)",
        ],
    },
    Expect {
        file: "stm32mp157c-dk2.dtb",
        bound: &[],
        unbound: &[],
        not_modelled: 54,
        not_modelled_display: &[
            "/soc/display-controller@5a001000 (st,stm32-ltdc)",
            "/soc/bus@5c007000/i2c@40012000/hdmi-transmitter@39 (sil,sii9022)",
            "/soc/bus@5c007000/i2c@40012000/touchscreen@38 (focaltech,ft6236)",
            "/soc/dsi@5a000000 (st,stm32-dsi)",
        ],
    },
    Expect {
        file: "sun50i-a64-pinebook.dtb",
        bound: &[],
        unbound: &[
            "/panel-edp",
        ],
        not_modelled: 52,
        not_modelled_display: &[
            "/display-engine (allwinner,sun50i-a64-display-engine)",
            "/soc/bus@1000000 (allwinner,sun50i-a64-de2)",
            "/soc/lcd-controller@1c0c000 (allwinner,sun50i-a64-tcon-lcd, allwinner,sun8i-a83t-tcon-lcd)",
            "/soc/lcd-controller@1c0d000 (allwinner,sun50i-a64-tcon-tv, allwinner,sun8i-a83t-tcon-tv)",
            "/soc/hdmi-phy@1ef0000 (allwinner,sun50i-a64-hdmi-phy)",
            "/soc/i2c@1f02400/anx6345@38 (analogix,anx6345)",
        ],
    },
    Expect {
        file: "imx8mm-kontron-dl.dtb",
        bound: &[
            "/hdmi-out",
            "/panel",
            "/soc@0/bus@30800000/i2c@30a40000/bridge@2c",
            "/soc@0/bus@32c00000/dsi@32e10000",
            "/soc@0/bus@32c00000/lcdif@32e00000",
        ],
        unbound: &[],
        not_modelled: 64,
        not_modelled_display: &[
            "/soc@0/bus@30800000/i2c@30a30000/touchscreen@5d (goodix,gt928)",
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
        ],
    },
    Expect {
        file: "imx8mm-venice-gw73xx-0x-rpidsi.dtb",
        bound: &[
            "/soc@0/bus@32c00000/dsi@32e10000",
        ],
        unbound: &[
            "/panel",
            "/soc@0/bus@32c00000/dsi@32e10000/bridge@0",
            "/soc@0/bus@32c00000/lcdif@32e00000",
        ],
        not_modelled: 76,
        not_modelled_display: &[
            "/soc@0/bus@30800000/i2c@30a20000/pmic@69 (mps,mp5416)",
            "/soc@0/bus@30800000/i2c@30a40000/regulator@45 (raspberrypi,7inch-touchscreen-panel-regulator)",
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
        ],
    },
    Expect {
        file: "imx8mm-verdin-wifi-dev-dsi-to-hdmi.dtb",
        bound: &[
            "/hdmi-connector",
            "/soc@0/bus@30800000/i2c@30a50000/hdmi@48",
            "/soc@0/bus@32c00000/dsi@32e10000",
            "/soc@0/bus@32c00000/lcdif@32e00000",
        ],
        unbound: &[],
        not_modelled: 77,
        not_modelled_display: &[
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
            "/regulator-usdhc2-vqmmc (regulator-gpio)",
        ],
    },
    Expect {
        file: "imx8mm-verdin-wifi-dev-dsi-to-lvds-panel-cap-touch-10inch.dtb",
        bound: &[
            "/panel-lvds-bridge",
            "/soc@0/bus@30800000/i2c@30a50000/bridge@2c",
            "/soc@0/bus@32c00000/dsi@32e10000",
            "/soc@0/bus@32c00000/lcdif@32e00000",
        ],
        unbound: &[],
        not_modelled: 78,
        not_modelled_display: &[
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mm-vpu-blk-ctrl, syscon)",
            "/regulator-usdhc2-vqmmc (regulator-gpio)",
        ],
    },
    Expect {
        file: "imx8mp-evk-lvds0-imx-lvds-hdmi.dtb",
        bound: &[
            "/hdmi-connector",
            "/lvds-hdmi-connector",
            "/native-hdmi-connector",
            "/soc@0/bus@30800000/i2c@30a30000/hdmi@3d",
            "/soc@0/bus@30800000/i2c@30a30000/hdmi@4c",
            "/soc@0/bus@32c00000/blk-ctrl@32ec0000/bridge@5c",
            "/soc@0/bus@32c00000/display-controller@32e80000",
            "/soc@0/bus@32c00000/display-controller@32e90000",
            "/soc@0/bus@32c00000/dsi@32e60000",
        ],
        unbound: &[
            "/soc@0/bus@32c00000/display-controller@32fc6000",
        ],
        not_modelled: 96,
        not_modelled_display: &[
            "/soc@0/bus@32c00000/blk-ctrl@32f10000 (fsl,imx8mp-hsio-blk-ctrl, syscon)",
            "/soc@0/bus@32c00000/display-bridge@32fc4000 (fsl,imx8mp-hdmi-pvi)",
            "/soc@0/bus@32c00000/audio-bridge@32fc4800 (fsl,imx8mp-hdmi-pai)",
            "/soc@0/bus@32c00000/hdmi@32fd8000 (fsl,imx8mp-hdmi-tx)",
            "/soc@0/bus@32c00000/phy@32fdff00 (fsl,imx8mp-hdmi-phy)",
            "/soc@0/blk-ctrl@38330000 (fsl,imx8mp-vpu-blk-ctrl, syscon)",
            "/sound-hdmi (fsl,imx-audio-hdmi)",
        ],
    },
    Expect {
        file: "r8a77990-ebisu-panel-aa104xd12.dtb",
        bound: &[
            "/cvbs-in",
            "/hdmi-in",
            "/hdmi-out",
            "/lvds-decoder",
            "/panel",
            "/soc/i2c@e6500000/hdmi-encoder@39",
            "/vga",
            "/vga-encoder",
        ],
        unbound: &[],
        not_modelled: 84,
        not_modelled_display: &[
            "/soc/display@feb00000 (renesas,du-r8a77990)",
            "/soc/lvds-encoder@feb90000 (renesas,r8a77990-lvds)",
            "/soc/lvds-encoder@feb90100 (renesas,r8a77990-lvds)",
            "/regulator-vccq-sdhi0 (regulator-gpio)",
            "/regulator-vccq-sdhi1 (regulator-gpio)",
        ],
    },
    Expect {
        file: "rk3399-puma-haikou-video-demo.dtb",
        bound: &[],
        unbound: &[],
        not_modelled: 108,
        not_modelled_display: &[
            "/display-subsystem (rockchip,display-subsystem)",
            "/i2c@ff110000/touchscreen@14 (goodix,gt911)",
            "/i2c@ff3c0000/regulator@60 (fcs,fan53555)",
            "/i2c@ff3e0000/regulator@60 (fcs,fan53555)",
            "/vop@ff8f0000 (rockchip,rk3399-vop-lit)",
            "/vop@ff900000 (rockchip,rk3399-vop-big)",
            "/hdmi-sound (simple-audio-card)",
            "/hdmi@ff940000 (rockchip,rk3399-dw-hdmi)",
            "/dsi@ff960000 (rockchip,rk3399-mipi-dsi, snps,dw-mipi-dsi)",
            "/extcon-usb3 (linux,extcon-usb-gpio)",
            "/regulator-vdd-log (pwm-regulator)",
        ],
    },
];

/// The `EXPECT` table for `results`, as Rust source (`UPDATE_EXPECT=1` writes it back).
fn expect_source(results: &[(String, Seen)]) -> String {
    let list = |v: &[String]| -> String {
        if v.is_empty() {
            "&[]".to_string()
        } else {
            let items: String = v.iter().map(|x| format!("            {x:?},\n")).collect();
            format!("&[\n{items}        ]")
        }
    };
    let mut o = String::from("const EXPECT: &[Expect] = &[\n");
    for (name, s) in results {
        let d: Vec<String> = s
            .not_modelled
            .iter()
            .filter(|x| display_related(x))
            .cloned()
            .collect();
        o.push_str(&format!(
            "    Expect {{\n        file: {name:?},\n        bound: {},\n        unbound: {},\n        not_modelled: {},\n        not_modelled_display: {},\n    }},\n",
            list(&s.bound),
            list(&s.unbound),
            s.not_modelled.len(),
            list(&d)
        ));
    }
    o.push_str("];\n");
    o
}

#[test]
fn corpus_boards_boot() {
    let Some(dir) = corpus() else { return };
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let mut results = Vec::new();
        for sub in ["base", "merged"] {
            let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                results.push((
                    f.file_name().unwrap().to_string_lossy().to_string(),
                    boot(&f, Release::V6_15),
                ));
            }
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_boot.rs");
        let src = std::fs::read_to_string(&path).unwrap();
        let a = src.find("const EXPECT: &[Expect] = &[").unwrap();
        let b = a + src[a..].find("\n];\n").unwrap() + 4;
        std::fs::write(
            &path,
            format!("{}{}{}", &src[..a], expect_source(&results), &src[b..]),
        )
        .unwrap();
        return;
    }
    let mut seen_files = Vec::new();
    for sub in ["base", "merged"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let e = EXPECT
                .iter()
                .find(|e| e.file == name)
                .unwrap_or_else(|| panic!("no expectation for {name}"));
            let early = boot(&f, Release::V6_15);
            let late = boot(&f, Release::V7_2);
            assert_eq!(early, late, "{name}: v6.15 and v7.2 boot alike");
            assert_eq!(early.bound, e.bound, "{name}: bound display nodes");
            assert_eq!(early.unbound, e.unbound, "{name}: unbound display nodes");
            assert_eq!(
                early.not_modelled.len(),
                e.not_modelled,
                "{name}: not modelled"
            );
            let d: Vec<&str> = early
                .not_modelled
                .iter()
                .map(|s| s.as_str())
                .filter(|x| display_related(x))
                .collect();
            assert_eq!(
                d, e.not_modelled_display,
                "{name}: display-related not modelled"
            );
            // Listed once each.
            let mut u = early.not_modelled.clone();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), early.not_modelled.len(), "{name}: listed once");
            seen_files.push(name);
        }
    }
    assert_eq!(seen_files.len(), EXPECT.len(), "every expectation was used");
}
