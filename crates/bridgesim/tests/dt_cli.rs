//! `bridgesim dt` end to end: the display chain of the i.MX8MP EVK with
//! its LVDS overlay, located errors with exit code 2, compile output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bridgesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridgesim"))
        .args(args)
        .output()
        .expect("run bridgesim")
}

/// `../shared/corpus` (a visible skip without it, see `testkit`).
fn corpus() -> Option<PathBuf> {
    testkit::corpus()
}

#[test]
fn show_imx8mp_evk_with_lvds_overlay_prints_lcdif2_ldb_it6263_connector() {
    let Some(c) = corpus() else { return };
    let s = |p: &str| c.join(p).to_str().unwrap().to_string();
    let out = bridgesim(&[
        "dt",
        "show",
        &s("dts/src/arm64/freescale/imx8mp-evk.dts"),
        "-I",
        &s("dts/include"),
        "-I",
        &s("dts/src"),
        "--overlay",
        &s("dts/src/arm64/freescale/imx8mp-evk-lvds0-imx-lvds-hdmi.dtso"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The resolved tree comes first.
    assert!(text.starts_with("/dts-v1/;"));
    assert!(text.contains("compatible = \"ite,it6263\";"));
    let chain = text
        .lines()
        .find(|l| l.contains("[controller] lcdif2 "))
        .unwrap_or_else(|| panic!("no lcdif2 chain in:\n{text}"));
    let order = [
        "lcdif2 /soc@0/bus@32c00000/display-controller@32e90000 (fsl,imx8mp-lcdif)",
        "→ [bridge] lvds_bridge /soc@0/bus@32c00000/blk-ctrl@32ec0000/bridge@5c (fsl,imx8mp-ldb)",
        "→ [bridge] it6263 /soc@0/bus@30800000/i2c@30a30000/hdmi@4c (ite,it6263)",
        "→ [connector] /lvds-hdmi-connector (hdmi-connector)",
    ];
    let mut at = 0;
    for o in order {
        let i = chain[at..]
            .find(o)
            .unwrap_or_else(|| panic!("missing {o:?} after col {at} in {chain}"));
        at += i + o.len();
    }
    // The overlay enabled LCDIF2 and the LDB.
    assert!(!chain.contains("[disabled]"), "{chain}");
}

#[test]
fn show_without_overlay_marks_lcdif2_disabled() {
    let Some(c) = corpus() else { return };
    let out = bridgesim(&[
        "dt",
        "show",
        c.join("dtb/base/imx8mp-evk.dtb").to_str().unwrap(),
        "--graph-only",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let chain = text.lines().find(|l| l.contains("lcdif2")).unwrap();
    assert!(
        chain.contains("(fsl,imx8mp-lcdif) [disabled] → [bridge] lvds_bridge"),
        "{chain}"
    );
}

#[test]
fn bad_inputs_exit_2_with_a_located_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dts/tests/bad");
    let table = include_str!("../../dts/tests/bad/expected.txt");
    let out_dtb = std::env::temp_dir().join(format!("bridgesim-cli-{}.dtb", std::process::id()));
    let mut n = 0;
    for l in table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let w: Vec<&str> = l.split_whitespace().collect();
        let (file, line, col) = (w[0], w[2], w[3]);
        let out = bridgesim(&[
            "dt",
            "compile",
            dir.join(file).to_str().unwrap(),
            "-o",
            out_dtb.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert!(
            err.contains(&format!(":{line}:{col}")),
            "{file}: no {line}:{col} in\n{err}"
        );
        let out = bridgesim(&["dt", "show", dir.join(file).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "show {file}");
        n += 1;
    }
    assert!(n >= 15);
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(bridgesim(&["dt", "compile"]).status.code(), Some(2));
    assert_eq!(bridgesim(&["dt", "frobnicate"]).status.code(), Some(2));
    let out = bridgesim(&[
        "dt",
        "compile",
        "/nonexistent/x.dts",
        "-o",
        "/tmp/never.dtb",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = bridgesim(&["dt", "show", "/nonexistent/x.dtb"]);
    assert_eq!(out.status.code(), Some(2));
    // A truncated blob is an input error, not a panic.
    let p = std::env::temp_dir().join(format!("bridgesim-trunc-{}.dtb", std::process::id()));
    std::fs::write(&p, [0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 0x40]).unwrap();
    let out = bridgesim(&["dt", "show", p.to_str().unwrap()]);
    let _ = std::fs::remove_file(&p);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn compile_writes_a_dtb_equal_to_the_library_tree() {
    let Some(c) = corpus() else { return };
    let out_dtb =
        std::env::temp_dir().join(format!("bridgesim-cli-ok-{}.dtbo", std::process::id()));
    let src = c.join("dts/src/arm64/freescale/imx8mm-kontron-dl.dtso");
    let out = bridgesim(&[
        "dt",
        "compile",
        "-@",
        src.to_str().unwrap(),
        "-I",
        c.join("dts/include").to_str().unwrap(),
        "-I",
        c.join("dts/src").to_str().unwrap(),
        "-o",
        out_dtb.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blob = std::fs::read(&out_dtb).unwrap();
    let _ = std::fs::remove_file(&out_dtb);
    let back = dts::fdt::read_dtb(&blob, "out").unwrap();
    let opts = dts::Options {
        include_dirs: vec![c.join("dts/include"), c.join("dts/src")],
        ..Default::default()
    };
    let lib = dts::compile_file(&src, &opts).unwrap();
    assert!(lib.plugin);
    assert!(back.structurally_eq(&lib.tree));
    // Deterministic: a second run gives the same bytes.
    assert_eq!(dts::fdt::write_dtb(&lib.tree), blob);
}

#[test]
fn show_applies_an_overlay_relative_to_a_target_node() {
    let dir = std::env::temp_dir().join(format!("bridgesim-rel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("base.dts");
    let ov = dir.join("addon.dtso");
    std::fs::write(&base, "/dts-v1/;\n/ {\n\tconnector {\n\t};\n};\n").unwrap();
    std::fs::write(
        &ov,
        "/dts-v1/;\n/plugin/;\n&{/} {\n\tpanel {\n\t\tcompatible = \"panel-simple\";\n\t};\n};\n",
    )
    .unwrap();
    let spec = format!("{}:/connector", ov.display());
    let out = bridgesim(&["dt", "show", base.to_str().unwrap(), "--overlay", &spec]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("\tconnector {\n\n\t\tpanel {\n\t\t\tcompatible = \"panel-simple\";"),
        "{text}"
    );
    let bad = format!("{}:/nowhere", ov.display());
    let out = bridgesim(&["dt", "show", base.to_str().unwrap(), "--overlay", &bad]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh scratch directory for one test.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bridgesim-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn compile_refuses_to_overwrite_its_input_or_an_included_file() {
    let dir = scratch("selfout");
    let inc = dir.join("part.dtsi");
    let src = dir.join("board.dts");
    std::fs::write(&inc, "/ {\n\tmodel = \"m\";\n};\n").unwrap();
    let text = "/dts-v1/;\n#include \"part.dtsi\"\n/ {\n};\n";
    std::fs::write(&src, text).unwrap();
    // The input itself, by another spelling of its path, and an include.
    let dotted = dir.join(".").join("board.dts");
    let compile_to = |out: &Path| {
        bridgesim(&[
            "dt",
            "compile",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
    };
    for out in [&src, &dotted, &inc] {
        let o = compile_to(out);
        assert_eq!(o.status.code(), Some(2), "-o {}", out.display());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("refusing to overwrite the input"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&src).unwrap(), text);
    assert!(std::fs::read_to_string(&inc).unwrap().contains("model"));
    // A new output is written, through a temporary file that is gone after.
    let out = dir.join("board.dtb");
    let o = compile_to(&out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["board.dtb", "board.dts", "part.dtsi"]);
    let back = dts::fdt::read_dtb(&std::fs::read(&out).unwrap(), "out").unwrap();
    let root = back.root();
    assert_eq!(back.property(root, "model").unwrap().value, b"m\0");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_include_cycle_is_summarised_unless_the_full_chain_is_asked_for() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dts/tests/bad/include-cycle.dts");
    let run = |extra: &[&str]| {
        let mut args = vec!["dt", "show", bad.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = bridgesim(&args);
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let short = run(&[]);
    let levels = |s: &str| s.matches("included from").count();
    assert!(levels(&short) <= 8, "{short}");
    assert!(
        short.contains("more (an include chain of 200 levels through 3 files"),
        "{short}"
    );
    assert!(short.contains("--full-include-chain"), "{short}");
    assert!(short.lines().count() < 40, "{short}");
    let full = run(&["--full-include-chain"]);
    assert_eq!(levels(&full), 200, "{full}");
}
