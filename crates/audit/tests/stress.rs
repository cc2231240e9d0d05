//! The stress scenarios generated for an extracted driver, as data: which board, where its node
//! goes, what is downstream, what its overlay asks for, and which stresses are generated or
//! skipped (with why).

use std::path::{Path, PathBuf};

use crate::common;
use audit::stress::{Downstream, Stress, StressSet};
use audit::Options;

/// One driver and what its stress set must be.
struct Case {
    /// Under crates/bridgesim/tests/audit-explore/, or `corpus:<release>/<file>`.
    file: &'static str,
    release: &'static str,
    board: &'static str,
    node: &'static str,
    downstream: Downstream,
    /// Lines the add-on overlay must contain.
    overlay: &'static [&'static str],
    generated: &'static [Stress],
    skipped: &'static [Stress],
}

const CASES: &[Case] = &[
    Case {
        file: "work_uncancelled.c",
        release: "v7.1",
        board: "imx8mp-dpi.dts",
        node: "/soc@0/i2c@30a30000/bridge@2c",
        downstream: Downstream::Panel,
        overlay: &[
            "compatible = \"bridgesim,work-bridge\";",
            "interrupts = <12 8>;",
            "remote-endpoint = <&lcdif_dpi_out>;",
            "port@1 {",
            "compatible = \"mitsubishi,aa104xd12\", \"panel-lvds\";",
        ],
        generated: &[
            Stress::UnplugVsModeset,
            Stress::UnplugVsIrq,
            Stress::UnplugVsWork,
            Stress::UnplugVsDebugfs,
            Stress::BindUnbind,
        ],
        skipped: &[Stress::UnplugVsGetModesDetect, Stress::ProbeErrors],
    },
    // A DSI peripheral on I2C: the SUNH board, its input from the DSI host, its LVDS output on
    // port 2 (sn65dsi83_parse_dt's devm_drm_of_get_bridge(dev, np, 2, 0)), vcc and enable.
    Case {
        file: "corpus:v7.0/ti-sn65dsi83.c",
        release: "v7.0",
        board: "builtin:sunh",
        node: "/soc@0/i2c@30a30000/bridge@2c",
        downstream: Downstream::Panel,
        overlay: &[
            "vcc-supply = <&reg_stress>;",
            "enable-gpios = <&gpio1 20 0>;",
            "remote-endpoint = <&mipi_dsi_out>;",
            "port@2 {",
        ],
        generated: &[
            Stress::UnplugVsModeset,
            Stress::UnplugVsIrq,
            Stress::UnplugVsWork,
            Stress::UnplugVsDebugfs,
            Stress::BindUnbind,
        ],
        skipped: &[Stress::UnplugVsGetModesDetect, Stress::ProbeErrors],
    },
    // The end of a chain: a platform device with no downstream lookup, its HPD interrupt
    // requested, .detect and .get_modes/.edid_read, and a probe call that can fail.
    Case {
        file: "corpus:v7.1/display-connector.c",
        release: "v7.1",
        board: "imx8mp-dpi.dts",
        node: "/bridge",
        downstream: Downstream::None,
        overlay: &["remote-endpoint = <&lcdif_dpi_out>;"],
        generated: &[
            Stress::UnplugVsModeset,
            Stress::UnplugVsGetModesDetect,
            Stress::UnplugVsIrq,
            Stress::UnplugVsDebugfs,
            Stress::BindUnbind,
            Stress::ProbeErrors,
        ],
        skipped: &[Stress::UnplugVsWork],
    },
];

fn path_of(file: &str) -> Option<PathBuf> {
    match file.strip_prefix("corpus:") {
        Some(rest) => {
            let (release, name) = rest.split_once('/')?;
            Some(common::bridge_dir(&testkit::corpus()?, release).join(name))
        }
        None => Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../bridgesim/tests/audit-explore")
                .join(file),
        ),
    }
}

fn set_of(path: &Path, release: &str) -> StressSet {
    let opts = Options {
        release: Some(release.parse().unwrap()),
        ..Options::default()
    };
    let mut sets = audit::report::stress_sets(&[path.to_path_buf()], &opts).unwrap();
    assert_eq!(sets.len(), 1, "{path:?}");
    sets.remove(0)
}

#[test]
fn each_driver_gets_its_board_neighbours_and_stresses() {
    for case in CASES {
        let Some(path) = path_of(case.file) else {
            continue;
        };
        let s = set_of(&path, case.release);
        assert_eq!(s.not_generated, None, "{}", case.file);
        assert_eq!(s.board, case.board, "{}", case.file);
        assert_eq!(s.node, case.node, "{}", case.file);
        assert_eq!(s.downstream, case.downstream, "{}", case.file);
        let overlay = &s
            .files
            .iter()
            .find(|f| f.name == "addon.dtso")
            .expect("an overlay")
            .text;
        for line in case.overlay {
            assert!(
                overlay.contains(line),
                "{}: {line} in\n{overlay}",
                case.file
            );
        }
        assert_eq!(s.scenarios, case.generated, "{}", case.file);
        let skipped: Vec<Stress> = s.skipped.iter().map(|(st, _)| *st).collect();
        assert_eq!(skipped, case.skipped, "{}", case.file);
        assert!(s.skipped.iter().all(|(_, why)| !why.is_empty()));
        // Every scenario names the description it includes, and the board it runs on.
        for st in &s.scenarios {
            let f = s
                .files
                .iter()
                .find(|f| f.name == StressSet::scenario_file(*st))
                .unwrap();
            assert!(f.text.contains("[[driver]]\ninclude = "), "{}", f.text);
            assert!(f.text.contains(&format!("dts = \"{}\"", case.board)));
            assert!(f.text.contains(&format!("release = \"{}\"", case.release)));
        }
        let has_board = s.files.iter().any(|f| f.name == "imx8mp-dpi.dts");
        assert_eq!(has_board, case.board == "imx8mp-dpi.dts", "{}", case.file);
    }
}

/// A driver the boards cannot hold gets no scenarios and says why.
#[test]
fn a_dsi_host_is_not_generated_and_says_why() {
    let Some(path) = path_of("corpus:v7.1/tc358768.c") else {
        return;
    };
    let s = set_of(&path, "v7.1");
    assert!(s.scenarios.is_empty());
    assert!(
        s.not_generated
            .as_deref()
            .unwrap_or("")
            .contains("DSI host"),
        "{:?}",
        s.not_generated
    );
}
