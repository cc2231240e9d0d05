//! The `hpd` step raises the HPD interrupt of whichever driver model requested one
//! (`drivers::registry::HpdIrq`): LT9611 and ADV7535 boards explore without a panic, and each
//! handler does what its v7.1 driver does. A node whose driver has no HPD interrupt is a load
//! error (`tests/bad-scenarios/hpd-*.toml`).

use std::path::Path;
use std::sync::Arc;

use bridgesim::scenario::{Prepared, Scenario};
use bridgesim::verdict::{self, RulesColumn, SearchSpec};
use kmodel::{Config, Kernel, ThreadOrder};

/// A scenario on one of the driver tests' boards: the display on and an HPD interrupt fired,
/// then its handler and the queued work racing the bridge's unbind.
fn scenario(dts: &str, lcdif: &str, bridge: &str) -> Arc<Prepared> {
    let src = format!(
        r#"
name = "hpd-{dts}"
setup = [{{ op = "enable", crtc = "{lcdif}" }}, {{ op = "hpd", bridge = "{bridge}" }}]
[board]
dts = "{dts}"
[[thread]]
name = "work"
steps = [{{ op = "run-work" }}]
[[thread]]
name = "unbind"
steps = [{{ op = "unbind", node = "{bridge}" }}]
"#
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../drivers/tests/data");
    let sc = Scenario::parse(&format!("hpd-{dts}.toml"), &dir, &src).expect("parses");
    Arc::new(Prepared::new(sc).unwrap_or_else(|e| panic!("{e:?}")))
}

fn lt9611() -> Arc<Prepared> {
    scenario(
        "lt9611.dts",
        "/soc/lcdif@32e80000",
        "/soc/i2c@30a30000/hdmi-bridge@3b",
    )
}

fn adv7535() -> Arc<Prepared> {
    scenario(
        "adv7535.dts",
        "/soc/lcdif@32e80000",
        "/soc/i2c@30a30000/hdmi@3d",
    )
}

/// One run in thread order (the interrupt before the unbind): the functions it went through.
fn functions_of_one_run(p: &Arc<Prepared>, release: &str) -> String {
    let col = RulesColumn::parse(release).unwrap();
    let rules = col.rules(p.rules(Some(col.release)).unwrap());
    let k = Kernel::new(Config::default());
    let prog = p.program(rules);
    k.run(&mut ThreadOrder, move |k| prog(k));
    k.trace().to_json_lines()
}

#[test]
fn lt9611_hpd_runs_its_irq_thread_and_the_hotplug_event() {
    let trace = functions_of_one_run(&lt9611(), "v7.2");
    assert!(trace.contains("lt9611_irq_thread_handler"), "no handler");
    // v7.1 lt9611_irq_thread_handler: drm_kms_helper_hotplug_event, not drm_bridge_hpd_notify.
    assert!(trace.contains("drm_kms_helper_hotplug_event"));
    assert!(!trace.contains("drm_bridge_hpd_notify"));
}

#[test]
fn adv7535_hpd_queues_its_work_which_notifies_through_the_bridge() {
    let trace = functions_of_one_run(&adv7535(), "v7.2");
    assert!(trace.contains("adv7511_irq_process"));
    assert!(trace.contains("adv7511_hpd_work"));
    assert!(trace.contains("drm_bridge_hpd_notify"));
}

/// DPOR over the interrupt's aftermath racing the unbind, in the first and the last release:
/// the search covers the whole space with no panic and no input error.
#[test]
fn hpd_on_lt9611_and_adv7535_explores() {
    for p in [lt9611(), adv7535()] {
        for release in ["v6.15", "v7.2"] {
            let col = RulesColumn::parse(release).unwrap();
            let mut spec = SearchSpec::default();
            spec.options.collect = true;
            let v = verdict::explore(&p, &col, &spec).expect("explores");
            assert!(v.exhaustive, "{} {release}", p.scenario.file.name);
            eprintln!(
                "{} {release}: {} in {} executions",
                p.scenario.file.name,
                v.summary(),
                v.stats.executions
            );
            // ADV7535's queued work races the unbind; LT9611's handler has run in setup.
            if p.scenario.file.name.contains("adv7535") {
                assert!(v.stats.executions > 1, "{}", v.stats.executions);
            }
        }
    }
}
