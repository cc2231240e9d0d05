//! Every corpus board and overlay compiles, and the trees equal dtc's
//! (decompiled with `dtc -I dtb -O dts -s`, phandles renumbered by path).
//! Merged board+overlay trees are produced by `kmodel::of`'s overlay code
//! and compared with the corpus's fdtoverlay output (MANIFEST §4).

use crate::common;

use std::path::Path;

/// (base .dts, overlay .dtso, merged .dtb) from MANIFEST §4.
const MERGED: &[(&str, &str, &str)] = &[
    (
        "dts/src/arm64/freescale/imx8mp-evk.dts",
        "dts/src/arm64/freescale/imx8mp-evk-lvds0-imx-lvds-hdmi.dtso",
        "imx8mp-evk-lvds0-imx-lvds-hdmi",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-verdin-wifi-dev.dts",
        "dts-next/src/arm64/freescale/imx8mm-verdin-dsi-to-lvds-panel-cap-touch-10inch.dtso",
        "imx8mm-verdin-wifi-dev-dsi-to-lvds-panel-cap-touch-10inch",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-verdin-wifi-dev.dts",
        "dts-next/src/arm64/freescale/imx8mm-verdin-dsi-to-hdmi.dtso",
        "imx8mm-verdin-wifi-dev-dsi-to-hdmi",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-kontron-bl.dts",
        "dts/src/arm64/freescale/imx8mm-kontron-dl.dtso",
        "imx8mm-kontron-dl",
    ),
    (
        "dts/src/arm64/freescale/imx8mm-venice-gw73xx-0x.dts",
        "dts/src/arm64/freescale/imx8mm-venice-gw73xx-0x-rpidsi.dtso",
        "imx8mm-venice-gw73xx-0x-rpidsi",
    ),
    (
        "dts/src/arm64/rockchip/rk3399-puma-haikou.dts",
        "dts/src/arm64/rockchip/rk3399-puma-haikou-video-demo.dtso",
        "rk3399-puma-haikou-video-demo",
    ),
    (
        "dts/src/arm64/renesas/r8a77990-ebisu.dts",
        "dts/src/arm64/renesas/draak-ebisu-panel-aa104xd12.dtso",
        "r8a77990-ebisu-panel-aa104xd12",
    ),
];

const BASES_ONLY: &[&str] = &[
    "dts/src/arm64/allwinner/sun50i-a64-pinebook.dts",
    "dts/src/arm/ti/davinci/da850-lcdk.dts",
    "dts/src/arm/st/stm32mp157c-dk2.dts",
    "dts/src/arm64/qcom/sdm845-db845c.dts",
];

fn stem(p: &str) -> &str {
    Path::new(p).file_stem().unwrap().to_str().unwrap()
}

fn compile(corpus: &Path, rel: &str) -> dts::Compiled {
    dts::compile_file(&corpus.join(rel), &common::kernel_opts(corpus))
        .unwrap_or_else(|e| panic!("{rel}: {:?}", miette::Report::new(e)))
}

#[test]
fn every_corpus_source_compiles() {
    let Some(c) = common::corpus() else { return };
    let mut n = 0;
    for &(b, o, _) in MERGED {
        assert!(!compile(&c, b).plugin);
        assert!(compile(&c, o).plugin, "{o} must be an overlay");
        n += 2;
    }
    for b in BASES_ONLY {
        compile(&c, b);
        n += 1;
    }
    assert_eq!(n, 18);
}

#[test]
fn bases_and_overlays_equal_dtc() {
    let Some(c) = common::corpus() else { return };
    if !common::have_dtc() {
        return;
    }
    let mut checked = std::collections::BTreeSet::new();
    let bases = MERGED.iter().map(|m| m.0).chain(BASES_ONLY.iter().copied());
    for b in bases {
        if !checked.insert(b) {
            continue;
        }
        let mine = common::decompile(&dts::fdt::write_dtb(&compile(&c, b).tree));
        let reference =
            common::decompile(&std::fs::read(c.join(format!("dtb/base/{}.dtb", stem(b)))).unwrap());
        common::compare_decompiled(&mine, &reference).unwrap_or_else(|e| panic!("{b}: {e}"));
    }
    for &(_, o, _) in MERGED {
        let mine = common::decompile(&dts::fdt::write_dtb(&compile(&c, o).tree));
        let reference = common::decompile(
            &std::fs::read(c.join(format!("dtb/overlay/{}.dtbo", stem(o)))).unwrap(),
        );
        common::compare_decompiled(&mine, &reference).unwrap_or_else(|e| panic!("{o}: {e}"));
    }
    assert_eq!(checked.len(), 10);
}

#[test]
fn merged_trees_equal_fdtoverlay() {
    let Some(c) = common::corpus() else { return };
    if !common::have_dtc() {
        return;
    }
    for &(b, o, m) in MERGED {
        let mut base = compile(&c, b).tree;
        let ov = compile(&c, o).tree;
        base.of_overlay_apply(&ov, None)
            .unwrap_or_else(|e| panic!("{o} on {b}: {e}"));
        let mine = common::decompile(&dts::fdt::write_dtb(&base));
        let reference =
            common::decompile(&std::fs::read(c.join(format!("dtb/merged/{m}.dtb"))).unwrap());
        common::compare_decompiled(&mine, &reference).unwrap_or_else(|e| panic!("{m}: {e}"));
    }
}

#[test]
fn prebuilt_blobs_read_back_identically() {
    let Some(c) = common::corpus() else { return };
    // dtb → tree → dtb is lossless for every prebuilt blob.
    for dir in ["dtb/base", "dtb/overlay", "dtb/merged"] {
        let mut entries: Vec<_> = std::fs::read_dir(c.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let bytes = std::fs::read(&p).unwrap();
            let t = dts::fdt::read_dtb(&bytes, &p.display().to_string()).unwrap();
            let again = dts::fdt::read_dtb(&dts::fdt::write_dtb(&t), "again").unwrap();
            assert!(t.structurally_eq(&again), "{}", p.display());
        }
    }
}
