//! The HTML timeline (`--html FILE`, docs/timeline.md): the demo's page shows the SUNH
//! use-after-free under each release, with the panel's lifeline ending before the
//! panel_bridge's access from v6.17 on; a clean run has lanes and lifelines and no marker;
//! both render in headless Chromium without script errors. Leaks name their holders, hangs
//! their open sections. Pages are deterministic and never overwrite an input.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bridgesim::timeline::{Category, Header, RunKind, SectionKind, Timeline};
use kmodel::{Config, Kernel, Replay, ViolationKind};
use serde_json::Value;

use crate::common;
use common::bridgesim;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bridgesim-timeline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// The embedded JSON of every timeline on a page, in order.
fn timelines(page: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find("<script type=\"application/json\" id=\"tl-") {
        let body = &rest[i..];
        let start = body.find('>').expect("tag end") + 1;
        let end = body.find("</script>").expect("script end");
        out.push(serde_json::from_str(&body[start..end]).expect("timeline JSON"));
        rest = &body[end..];
    }
    out
}

/// The function names of a path in a timeline's JSON.
fn stack(t: &Value, path: u64) -> Vec<String> {
    let paths = t["paths"].as_array().expect("paths");
    let mut out = Vec::new();
    let mut p = path as usize;
    while p != 0 {
        out.push(paths[p][1].as_str().expect("name").to_string());
        p = paths[p][0].as_u64().expect("parent") as usize;
    }
    out.reverse();
    out
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The browser, or `None` after a visible notice (a failure when `CI=true`): testkit.
fn chromium() -> Option<PathBuf> {
    testkit::need_tool(testkit::Tool::Chromium).then(|| PathBuf::from("chromium"))
}

/// Render `file` in headless Chromium (a visible skip without one) and check its DOM against
/// the timelines it embeds.
fn render_and_check(file: &Path, ts: &[Value]) {
    if let Some(browser) = chromium() {
        check_rendered(&dump_dom(&browser, file), ts);
    }
}

/// The DOM of `file` after its scripts ran, from headless Chromium.
fn dump_dom(browser: &Path, file: &Path) -> String {
    let profile = tmpdir(&format!(
        "profile-{}",
        file.file_stem().unwrap().to_string_lossy()
    ));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish rendering {}", file.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().expect("reader")
}

fn sum(ts: &[Value], f: impl Fn(&Value) -> usize) -> usize {
    ts.iter().map(f).sum()
}

/// Lanes, lifelines and violation markers in the rendered DOM match the data, every chart
/// was drawn and the page raised no script error.
fn check_rendered(dom: &str, ts: &[Value]) {
    let body = &dom[dom.find("<body").expect("body")..];
    let body = &body[..body.find('>').expect("body tag end")];
    assert!(body.contains("data-errors=\"0\""), "script errors: {body}");
    assert!(
        body.contains(&format!("data-drawn=\"{}\"", ts.len())),
        "not every timeline was drawn: {body}"
    );
    let lanes = sum(ts, |t| t["threads"].as_array().unwrap().len());
    let lifelines = sum(ts, |t| t["lifelines"].as_array().unwrap().len());
    let markers = sum(ts, |t| t["violations"].as_array().unwrap().len());
    assert_eq!(count(dom, "<g class=\"lane\""), lanes);
    assert_eq!(count(dom, "<g class=\"lifeline "), lifelines);
    assert_eq!(count(dom, "class=\"violation-marker\""), markers);
}

#[test]
fn demo_page_shows_the_sunh_use_after_free_under_each_release() {
    let dir = tmpdir("demo");
    let file = dir.join("demo.html");
    let (code, _, err) = bridgesim(&["demo", "--html", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&file).expect("page written");
    // Self-contained: nothing is fetched.
    for fetch in [" src=", "href=\"http", "@import", "url(", "<link"] {
        assert!(!page.contains(fetch), "the page fetches: {fetch}");
    }
    let ts = timelines(&page);
    let releases: Vec<&str> = ts
        .iter()
        .map(|t| t["header"]["rules"].as_str().unwrap())
        .collect();
    assert_eq!(
        releases,
        ["v6.15", "v6.16", "v6.17", "v6.18", "v6.19", "v7.0", "v7.1", "v7.2"],
        "one timeline per release with a counterexample"
    );
    for t in &ts {
        let rules = t["header"]["rules"].as_str().unwrap();
        assert_eq!(t["header"]["scenario"], "sunh-unplug-during-modeset");
        let vs = t["violations"].as_array().unwrap();
        let uaf = vs
            .iter()
            .find(|v| v["kind"] == "use-after-free")
            .unwrap_or_else(|| panic!("{rules}: no use-after-free"));
        let li = uaf["lifeline"].as_u64().expect("linked to a lifeline") as usize;
        let obj = &t["lifelines"][li];
        let step = uaf["step"].as_u64().unwrap();
        let end = obj["end"].as_u64().expect("freed");
        assert!(end < step, "{rules}: freed at {end}, accessed at {step}");
        let tid = uaf["tid"].as_u64().unwrap();
        assert!(
            obj["accesses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a[0] == step && a[1] == tid),
            "{rules}: the access is on the lifeline"
        );
        assert_eq!(t["threads"][tid as usize], "modeset", "{rules}");
        // From v6.17 the panel_bridge holds its own reference, so the freed object is the
        // panel, still used through the panel_bridge's borrowed pointer (§5.11).
        let after_617 = !matches!(rules, "v6.15" | "v6.16");
        if after_617 {
            assert_eq!(obj["category"], "panel", "{rules}: {}", obj["label"]);
            let s = stack(t, uaf["path"].as_u64().unwrap());
            assert!(
                s.iter().any(|f| f.starts_with("drm_atomic_bridge_chain"))
                    && s.iter().any(|f| f.starts_with("drm_panel_")),
                "{rules}: {s:?}"
            );
            let panel_bridge_alive = t["lifelines"].as_array().unwrap().iter().any(|l| {
                l["category"] == "panel_bridge"
                    && l["start"].as_u64().unwrap() < step
                    && l["end"].as_u64().is_none_or(|e| e > step)
            });
            assert!(
                panel_bridge_alive,
                "{rules}: the panel_bridge outlives its panel"
            );
        }
        // The header: release, switches, verdict, replay command.
        assert!(page.contains(&format!(
            "bridgesim replay builtin:demo --rules {rules} --schedule {}",
            t["header"]["schedule"].as_str().unwrap()
        )));
    }
    // The matrix links every failing release to its timeline.
    for i in 0..ts.len() {
        assert!(
            page.contains(&format!("<a href=\"#tl-{i}\">")),
            "cell link {i}"
        );
    }
    render_and_check(&file, &ts);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clean_run_renders_lanes_and_lifelines_without_a_marker() {
    let dir = tmpdir("clean");
    let file = dir.join("clean.html");
    let (code, out, err) = bridgesim(&[
        "run",
        "builtin:demo-bridges",
        "--rules",
        "v7.2+proposals",
        "--html",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no violation"), "{out}");
    let page = std::fs::read_to_string(&file).expect("page written");
    assert!(page.contains("No violation in this run."));
    let ts = timelines(&page);
    assert_eq!(ts.len(), 1);
    let t = &ts[0];
    assert!(t["violations"].as_array().unwrap().is_empty());
    assert!(t["threads"].as_array().unwrap().len() >= 2);
    let cats: Vec<&str> = t["lifelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    for want in ["drm_device", "bridge", "device", "regulator"] {
        assert!(cats.contains(&want), "{want} in {cats:?}");
    }
    // A clean run with teardown: every reference put, every object freed.
    for l in t["lifelines"].as_array().unwrap() {
        for b in l["refs"].as_array().unwrap() {
            assert!(
                !b["to"].is_null(),
                "{} still held by {}",
                l["label"],
                b["owner"]
            );
        }
    }
    render_and_check(&file, &ts);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pages_are_deterministic_and_never_overwrite_an_input() {
    let dir = tmpdir("determinism");
    let (a, b) = (dir.join("a.html"), dir.join("b.html"));
    for f in [&a, &b] {
        let (code, _, err) = bridgesim(&[
            "replay",
            "builtin:demo",
            "--rules",
            "v6.17",
            "--schedule",
            "v1:0.1x97.0",
            "--html",
            f.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{err}");
    }
    let (pa, pb) = (
        std::fs::read(&a).expect("a written"),
        std::fs::read(&b).expect("b written"),
    );
    assert!(pa == pb, "same scenario and schedule, same page");
    // No temporary file left beside the page.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 2);

    let scenario = dir.join("s.toml");
    let text = include_str!("../../../scenarios/catalog/5.15-hw-access-after-unplug.toml");
    std::fs::write(&scenario, text).unwrap();
    let (code, _, err) = bridgesim(&[
        "run",
        scenario.to_str().unwrap(),
        "--html",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("input file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&scenario).unwrap(),
        text,
        "input untouched"
    );
    let (code, _, err) = bridgesim(&[
        "run",
        "builtin:demo",
        "--html",
        dir.join("no/such/dir/x.html").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn header() -> Header {
    Header {
        scenario: "t".into(),
        source: "t.toml".into(),
        rules: "v7.2".into(),
        release: "v7.2".into(),
        switches: Vec::new(),
        verdict: String::new(),
        run: RunKind::ThreadOrder,
        stop: String::new(),
        schedule: String::new(),
    }
}

#[test]
fn a_leak_shows_the_owners_still_holding() {
    let k = Kernel::new(Config::default());
    k.run(&mut kmodel::ThreadOrder, |k| {
        let b = k.kzalloc("struct drm_bridge", "bridge", 0u32);
        let r = k.kref_init(b.id(), "devres of dev");
        k.kref_get(r, "lookup");
        k.kref_put(r, "devres of dev", |_| {});
    });
    let t = Timeline::from_kernel(&k, header());
    let leak = t
        .violations
        .iter()
        .find(|v| v.kind == ViolationKind::Leak)
        .expect("leak reported");
    let l = &t.lifelines[leak.lifeline.expect("linked")];
    assert_eq!(l.category, Category::Bridge);
    assert_eq!(leak.holders, ["lookup"]);
    assert_eq!(l.counts.last().map(|c| c[1]), Some(1));
    // Correct code: the same object put by both owners leaves nothing held.
    let k = Kernel::new(Config::default());
    k.run(&mut kmodel::ThreadOrder, |k| {
        let b = k.kzalloc("struct drm_bridge", "bridge", 0u32);
        let r = k.kref_init(b.id(), "devres of dev");
        k.kref_get(r, "lookup");
        k.kref_put(r, "lookup", |_| {});
        k.kref_put(r, "devres of dev", move |k| k.kfree(b));
    });
    let t = Timeline::from_kernel(&k, header());
    assert!(t.violations.is_empty());
    assert!(t.lifelines[0].holders_at_end().is_empty());
    assert!(t.lifelines[0].end.is_some());
}

#[test]
fn a_hang_shows_the_open_sections_and_who_waits() {
    // Two threads take two mutexes in opposite orders; the schedule interleaves them.
    let prog = |k: &Kernel| {
        let a = k.mutex_init("lock_a");
        let b = k.mutex_init("lock_b");
        let t1 = k.spawn("one", move |k| {
            k.mutex_lock(a);
            k.mutex_lock(b);
            k.mutex_unlock(b);
            k.mutex_unlock(a);
        });
        let t2 = k.spawn("two", move |k| {
            k.mutex_lock(b);
            k.mutex_lock(a);
            k.mutex_unlock(a);
            k.mutex_unlock(b);
        });
        k.join(t1);
        k.join(t2);
    };
    // The choices where more than one thread can run: init spawns `two`; `one` begins and
    // locks a; `two` begins and locks b; then both block (and init, joining `one`).
    let k = Kernel::new(Config::default());
    k.run(&mut Replay::new("v1:0.1x2.2x2".parse().unwrap()), prog);
    let t = Timeline::from_kernel(&k, header());
    let hang = t
        .violations
        .iter()
        .find(|v| v.kind == ViolationKind::Deadlock)
        .unwrap();
    let open: Vec<(&str, &str)> = hang
        .open_sections
        .iter()
        .map(|&i| {
            let s = &t.sections[i];
            assert_eq!(s.kind, SectionKind::Mutex);
            (t.threads[s.tid as usize].as_str(), s.label.as_str())
        })
        .collect();
    assert!(open.contains(&("one", "struct mutex lock_a")), "{open:?}");
    assert!(open.contains(&("two", "struct mutex lock_b")), "{open:?}");
    assert!(
        !hang.details.is_empty(),
        "the report says who waits for what"
    );
}
