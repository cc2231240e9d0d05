//! `--emit-model`: every extracted description loads with the drivers-as-data loader, and
//! for the drivers with a hand-written description the extracted one agrees call for call,
//! each difference listed with its reason.

use std::collections::BTreeMap;

use crate::common;
use drivers::data::format::{Call, Description};
use drm::Release;

fn emit_file(path: &std::path::Path, release: Release) -> Option<audit::emit::Emitted> {
    let src = String::from_utf8_lossy(&std::fs::read(path).unwrap()).to_string();
    let c = audit::cfile::parse(&src);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let d = audit::extract::extract(&name, &c);
    audit::emit::emit(&d, &c, release, &format!("drivers/gpu/drm/bridge/{name}"))
}

fn load(e: &audit::emit::Emitted) -> std::sync::Arc<Description> {
    let data = drivers::data::load_inline(&format!("{}/{}.toml", e.dir, e.release), &e.toml)
        .unwrap_or_else(|err| panic!("{}/{}: {err}\n{}", e.dir, e.release, e.toml));
    data.for_release(e.release)
}

#[test]
fn every_extracted_v7_1_description_loads() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let dir = common::bridge_dir(&corpus, "v7.1");
    let (_, files) = audit::source::files(&dir).unwrap();
    let mut n = 0;
    for f in files {
        if let Some(e) = emit_file(&f, Release::V7_1) {
            load(&e);
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} descriptions emitted");
}

/// A callback's calls, flattened in order (error branches and scoped bodies after their
/// call), with `call` to another callback of the same description replaced by its calls.
fn flat(d: &Description, calls: &[Call], depth: usize, out: &mut Vec<String>) {
    for c in calls {
        let name = c.name.name();
        match (&c.function, name) {
            (Some(f), "call") if depth < 4 && d.callbacks.contains_key(f) => {
                flat(d, &d.callbacks[f].calls, depth + 1, out)
            }
            _ => out.push(name.to_string()),
        }
        flat(d, &c.body, depth, out);
        if !c.on_error.is_empty() {
            out.push("on_error:".into());
            flat(d, &c.on_error, depth, out);
        }
    }
}

fn framework_callbacks(d: &Description) -> BTreeMap<String, Vec<String>> {
    drivers::data::format::Slot::ALL
        .iter()
        .filter_map(|s| d.slot(*s).map(|cb| (s.name(), cb)))
        .map(|(name, cb)| {
            let mut v = Vec::new();
            flat(d, &cb.calls, 0, &mut v);
            (name.to_string(), v)
        })
        .collect()
}

/// The differences between ti-sn65dsi83's hand description and the extracted one: the
/// releases (first, last), the framework callback, and why. A new difference fails the test
/// until it is listed here with its reason; a listed one that is gone fails it too.
const SN65DSI83_DIFFERENCES: &[(Release, Release, &str, &str)] = &[
    (
        Release::V6_17,
        Release::V7_1,
        "atomic_enable",
        "the C reads REG_IRQ_STAT, writes it back, waits and reads it again, then enables the IRQ with two writes \
         (REG_IRQ_GLOBAL, REG_IRQ_EN); the hand description folds these into one write each: the reads change no state the model checks",
    ),
    (
        Release::V6_17,
        Release::V7_1,
        "atomic_pre_enable",
        "the C programs some twenty CSR registers one by one (and five bulk writes); the hand description keeps one \
         representative regmap_write; the enter/exit section (v7.0+), the error ladders and the devm action (v7.0+) are the same",
    ),
    (
        Release::V6_17,
        Release::V6_19,
        "atomic_disable",
        "the C disables the IRQ with two writes (REG_IRQ_EN, then REG_IRQ_GLOBAL); the hand description writes once",
    ),
];

#[test]
fn sn65dsi83_extracted_agrees_with_the_hand_description_up_to_listed_differences() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let builtin = drivers::data::builtin().expect("the built-in descriptions load");
    let hand = builtin
        .iter()
        .find(|d| d.dir == "ti-sn65dsi83")
        .expect("ti-sn65dsi83 is described");
    let mut report = Vec::new();
    for r in [
        Release::V6_17,
        Release::V6_18,
        Release::V6_19,
        Release::V7_0,
        Release::V7_1,
    ] {
        let f = common::bridge_dir(&corpus, r.name()).join("ti-sn65dsi83.c");
        let e = emit_file(&f, r).expect("ti-sn65dsi83 is emitted");
        let ext = framework_callbacks(&load(&e));
        let hd = framework_callbacks(&hand.for_release(r));
        for name in ext
            .keys()
            .chain(hd.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (a, b) = (hd.get(name), ext.get(name));
            if a != b {
                report.push((r, name.clone(), a.cloned(), b.cloned()));
            }
        }
    }
    let mut unexplained = Vec::new();
    for (r, cb, hand_calls, ext_calls) in &report {
        let listed = SN65DSI83_DIFFERENCES
            .iter()
            .any(|(from, until, c, _)| *c == cb && (*from..=*until).contains(r));
        if !listed {
            unexplained.push(format!(
                "{r} {cb}:\n  hand:      {hand_calls:?}\n  extracted: {ext_calls:?}"
            ));
        }
    }
    assert!(
        unexplained.is_empty(),
        "differences without a reason:\n{}",
        unexplained.join("\n")
    );
    // And every listed difference is still there (a fixed one is taken off the list).
    for (from, until, cb, why) in SN65DSI83_DIFFERENCES {
        for r in Release::ALL
            .into_iter()
            .filter(|r| (*from..=*until).contains(r))
        {
            assert!(
                report.iter().any(|(x, c, _, _)| c == cb && *x == r),
                "{r} {cb} no longer differs ({why}): take it off the list"
            );
        }
    }
}
