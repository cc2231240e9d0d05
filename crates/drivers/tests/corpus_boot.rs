//! Boot every corpus board (../shared/corpus/dtb: the base boards and the boards merged with
//! their overlay) under v6.15 and v7.2 rules, and check which display nodes bind, which stay
//! unbound (deferred or failed), and what the registry lists as not modelled: the count, and by
//! name the entries that belong to a display pipeline or supply one.
//!
//! The results are the same under both releases: binding and deferral do not depend on the
//! bridge refcounting eras. The expected results are the
//! reviewed snapshot `data/corpus_boot.txt`; `UPDATE_EXPECT=1 cargo test -p drivers --test
//! corpus_boot` rewrites it from what the model does (expect-test), for review in the diff.
//! What each board shows:
//!
//! - **i.MX8MP EVK**: LCDIF1 → DSIM → ADV7535 (`hdmi@3d`) → `hdmi-connector` binds (the
//!   ADV7535's supplies come from the PCA9450 PMIC, a generic supplier model; the DSIM bridge
//!   is added when the ADV7535 attaches as a DSI device). LCDIF3 (`@32fc6000`) stays unbound:
//!   it feeds the HDMI PVI/TX, not modelled. With the LVDS overlay the IT6263 (`hdmi@4c`) and
//!   its `lvds-hdmi-connector` bind, but the LDB (`bridge@5c`, a child of the media block
//!   controller, created when it binds) stays deferred and so does LCDIF2: fsl-ldb accepts
//!   only a panel in every release (v7.1:drivers/gpu/drm/bridge/fsl-ldb.c:fsl_ldb_probe,
//!   `of_drm_find_panel` on the IT6263's node is `-EPROBE_DEFER`), so the chain
//!   real-pipelines.md §2.1 #5 describes never binds.
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

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use drivers::registry;
use drm::rules::{set_rules, Release, Rules};
use expect_test::expect_file;
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

/// The snapshot text of boot results: per board, the bound and unbound display nodes, the
/// number of nodes not modelled and, by name, the display-related ones.
/// One board's row: file, bound, unbound, how many not modelled, display-related not modelled.
type Row = (String, Vec<String>, Vec<String>, usize, Vec<String>);

fn render(results: &[Row]) -> String {
    let mut o = String::new();
    let list = |o: &mut String, title: &str, v: &[String]| {
        if v.is_empty() {
            o.push_str(&format!("  {title}: (none)\n"));
        } else {
            o.push_str(&format!("  {title}:\n"));
            for x in v {
                o.push_str(&format!("    {x}\n"));
            }
        }
    };
    for (name, bound, unbound, n, display) in results {
        o.push_str(&format!("{name}\n"));
        list(&mut o, "bound", bound);
        list(&mut o, "unbound", unbound);
        o.push_str(&format!("  not modelled: {n}\n"));
        list(&mut o, "not modelled, display-related", display);
    }
    o
}

/// The expectation is the reviewed snapshot `data/corpus_boot.txt`; a run only compares.
/// `UPDATE_EXPECT=1` (expect-test's convention, an explicit developer action) rewrites it
/// from what the model does, for review in the diff.
#[test]
fn corpus_boards_boot() {
    let Some(dir) = corpus() else { return };
    let mut rows = Vec::new();
    for sub in ["base", "merged"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let early = boot(&f, Release::V6_15);
            let late = boot(&f, Release::V7_2);
            assert_eq!(early, late, "{name}: v6.15 and v7.2 boot alike");
            // Listed once each.
            let mut u = early.not_modelled.clone();
            u.sort();
            u.dedup();
            assert_eq!(u.len(), early.not_modelled.len(), "{name}: listed once");
            let display: Vec<String> = early
                .not_modelled
                .iter()
                .filter(|x| display_related(x))
                .cloned()
                .collect();
            rows.push((
                name,
                early.bound,
                early.unbound,
                early.not_modelled.len(),
                display,
            ));
        }
    }
    expect_file!["data/corpus_boot.txt"].assert_eq(&render(&rows));
}
