//! The audit over every bridge driver of every corpus release: no crash, no hang, every file
//! read; and what it must find in the real sources.

use std::time::{Duration, Instant};

use crate::common;
use audit::hazards::Pattern;
use audit::Options;

/// A whole release's bridge directory takes well under a second here; a hang would not.
const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn every_corpus_bridge_file_is_audited_without_crash_or_hang() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let releases = common::corpus_releases(&corpus);
    assert!(releases.len() >= 5, "corpus releases: {releases:?}");
    for r in releases {
        let dir = common::bridge_dir(&corpus, &r);
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            let a = audit::audit(&[d], &Options::default(), &mut |_, _, _| {});
            let _ = tx.send((a, t.elapsed()));
        });
        let (a, took) = rx
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("{r}: the audit did not end within {LIMIT:?} (a hang)"));
        let a = a.unwrap_or_else(|e| panic!("{r}: {e}"));
        let (_, files) = audit::source::files(&dir).unwrap();
        assert_eq!(a.summary.files, files.len(), "{r}: every .c file is read");
        assert!(
            a.summary.drivers >= 50,
            "{r}: {} drivers",
            a.summary.drivers
        );
        // The release comes from the corpus layout (.../v7.1/drivers/...).
        assert_eq!(a.releases.len(), 1, "{r}");
        assert_eq!(a.releases[0].to_string(), r);
        // Nearly every call is understood (the rest is listed).
        let s = &a.summary.calls;
        assert!(s.unknown * 5 < s.seen, "{r}: {s:?}");
        eprintln!("{r}: {} files in {took:?}", a.summary.files);
    }
}

#[test]
fn sn65dsi83_reset_work_leaves_its_enter_section_open_in_v7_0_and_v7_1() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    for (r, expect) in [("v6.19", false), ("v7.0", true), ("v7.1", true)] {
        let f = common::bridge_dir(&corpus, r).join("ti-sn65dsi83.c");
        let a = audit::audit(&[f], &Options::default(), &mut |_, _, _| {}).unwrap();
        let found = a.drivers[0].hazards.iter().any(|h| {
            h.pattern == Pattern::EnterWithoutExit && h.function == "sn65dsi83_reset_work"
        });
        assert_eq!(found, expect, "{r}: {:?}", a.drivers[0].hazards);
        // And nothing cancels reset_work at remove (upstream.md §0.0).
        let work = a.drivers[0]
            .hazards
            .iter()
            .any(|h| h.pattern == Pattern::WorkNotCancelled && h.message.contains("reset_work"));
        assert!(work, "{r}");
    }
}

#[test]
fn base_head_v7_0_to_v7_1_shows_samsung_dsim_moving_to_clear_and_put() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let k = corpus.join("kernel");
    let opts = Options::default();
    let base = audit::audit(&[k.join("v7.0")], &opts, &mut |_, _, _| {}).unwrap();
    let head = audit::audit(&[k.join("v7.1")], &opts, &mut |_, _, _| {}).unwrap();
    let d = audit::diff(base, head);
    let dsim = d
        .drivers
        .iter()
        .find(|x| x.file == "samsung-dsim.c")
        .expect("samsung-dsim.c changes between v7.0 and v7.1");
    // v7.1:drivers/gpu/drm/bridge/samsung-dsim.c:samsung_dsim_host_attach uses
    // drm_bridge_clear_and_put() (commit 8f3c83720555) where v7.0 put the bridge.
    assert!(dsim
        .calls_introduced
        .iter()
        .any(|c| c.call == "drm_bridge_clear_and_put"));
    assert!(dsim.calls_closed.iter().any(|c| c.call == "drm_bridge_put"));
    // Files only in v7.1 are listed as added.
    assert!(d
        .drivers
        .iter()
        .any(|x| x.file == "lontium-lt8713sx.c" && x.status == "added"));
}
