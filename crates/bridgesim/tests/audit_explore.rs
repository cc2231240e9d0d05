//! `bridgesim audit --explore`: the stress scenarios generated for extracted drivers, explored,
//! asserted both ways on C twins (a work nothing cancels, and the same driver cancelling it)
//! and on real drivers of the corpus (ti-sn65dsi83 in v7.0; display-connector in v7.1, clean);
//! and the scenario generation over every corpus release, each generated scenario loading.

use std::path::{Path, PathBuf};

use crate::common;
use common::bridgesim;

/// One exploration and what it must show.
struct Case {
    /// A C file: under tests/audit-explore/, or `corpus:<release>/<file>` for the corpus's
    /// bridge directory.
    file: &'static str,
    release: &'static str,
    /// Driver hazards that must be found: `violation:object substring:stress`.
    found: &'static [&'static str],
    /// Violation kinds that must not be among the driver's hazards ("*": none at all).
    absent: &'static [&'static str],
    /// Stresses that must have been explored.
    explored: &'static [&'static str],
    /// When the driver must not be explored: a substring of the reason.
    not_explored: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        file: "work_uncancelled.c",
        release: "v7.1",
        found: &[
            "use-after-free:struct wk:unplug-vs-work",
            "hw-after-unplug:regmap:unplug-vs-work",
        ],
        absent: &["deadlock", "leak"],
        explored: &["unplug-vs-work", "unplug-vs-irq", "unplug-vs-modeset"],
        not_explored: None,
    },
    Case {
        file: "work_cancelled.c",
        release: "v7.1",
        found: &[],
        absent: &["*"],
        explored: &["unplug-vs-work", "unplug-vs-irq", "unplug-vs-modeset"],
        not_explored: None,
    },
    // The reset work that nothing cancels at remove runs on the freed container (catalog
    // 5.19's use-after-free). The catalog's deadlock needs sn65dsi83_reset_pipe() to fail, and
    // in v7.0 it returns 0 on every path
    // (v7.0:drivers/gpu/drm/bridge/ti-sn65dsi83.c:sn65dsi83_reset_pipe), so the extracted driver
    // never leaves reset_work's enter section open: no hang.
    Case {
        file: "corpus:v7.0/ti-sn65dsi83.c",
        release: "v7.0",
        found: &["use-after-free:struct sn65dsi83:unplug-vs-work"],
        absent: &["deadlock"],
        explored: &[
            "unplug-vs-work",
            "unplug-vs-irq",
            "unplug-vs-modeset",
            "bind-unbind",
        ],
        not_explored: None,
    },
    // display-connector guards nothing with enter/exit but touches no hardware in its bridge
    // callbacks and frees its HPD interrupt with devres after remove: clean on the driver's
    // objects (the bridges debugfs file's detached of_node, failure mode 5.18, is the
    // framework's and is listed apart).
    Case {
        file: "corpus:v7.1/display-connector.c",
        release: "v7.1",
        found: &[],
        absent: &["*"],
        explored: &[
            "unplug-vs-modeset",
            "unplug-vs-irq",
            "unplug-vs-get-modes-detect",
        ],
        not_explored: None,
    },
    // lvds-codec's panel is looked up into a local (written as a field of that name): its
    // disable drives the power-down GPIO with no enter/exit, as the hand-written
    // scenarios/drivers/lvds-codec.toml shows (failure mode 5.15).
    Case {
        file: "corpus:v7.1/lvds-codec.c",
        release: "v7.1",
        found: &["hw-after-unplug:powerdown:unplug-vs-modeset"],
        absent: &["deadlock"],
        explored: &["unplug-vs-modeset", "bind-unbind"],
        not_explored: None,
    },
    // tc358775 does not bind on the synthetic board (its probe defers): reported as not
    // explored, with the reason, not dropped.
    Case {
        file: "corpus:v7.1/tc358775.c",
        release: "v7.1",
        found: &[],
        absent: &["*"],
        explored: &[],
        not_explored: Some("the driver did not bind"),
    },
];

fn path_of(file: &str) -> Option<PathBuf> {
    match file.strip_prefix("corpus:") {
        Some(rest) => {
            let (release, name) = rest.split_once('/').unwrap();
            let corpus = testkit::corpus()?;
            Some(
                corpus
                    .join("kernel")
                    .join(release)
                    .join("drivers/gpu/drm/bridge")
                    .join(name),
            )
        }
        None => Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/audit-explore")
                .join(file),
        ),
    }
}

fn explored(file: &Path, release: &str, dir: &Path) -> serde_json::Value {
    let (code, out, err) = bridgesim(&[
        "audit",
        &file.display().to_string(),
        "--release",
        release,
        "--explore",
        "--emit-scenarios",
        &dir.display().to_string(),
        "--json",
    ]);
    assert!(code == 0 || code == 1, "{file:?}: exit {code}: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["schema"], "bridgesim-audit/2");
    v
}

#[test]
fn explored_hazards_are_found_on_the_drivers_objects_both_ways() {
    let tmp = std::env::temp_dir().join(format!(
        "bridgesim-audit-explore-test-{}",
        std::process::id()
    ));
    for case in CASES {
        let Some(file) = path_of(case.file) else {
            continue;
        };
        let v = explored(&file, case.release, &tmp);
        let x = &v["explored"];
        assert!(
            x["bound"].as_str().unwrap().contains("bounded search"),
            "{}",
            x["bound"]
        );
        let d = &x["drivers"][0];
        if let Some(why) = case.not_explored {
            assert_eq!(d["status"], "not-explored", "{}: {d}", case.file);
            assert!(
                d["reason"].as_str().unwrap().contains(why),
                "{}: {d}",
                case.file
            );
            assert!(d["hazards"].as_array().unwrap().is_empty());
            continue;
        }
        assert_eq!(d["status"], "explored", "{}: {d}", case.file);
        let stresses: Vec<&str> = d["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["columns"].as_array().is_some_and(|c| c.len() == 2))
            .map(|s| s["stress"].as_str().unwrap())
            .collect();
        for s in case.explored {
            assert!(
                stresses.contains(s),
                "{}: {s} not explored: {stresses:?}",
                case.file
            );
        }
        let hazards = d["hazards"].as_array().unwrap();
        for f in case.found {
            let mut it = f.splitn(3, ':');
            let (kind, obj, stress) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let h = hazards
                .iter()
                .find(|h| h["violation"] == kind && h["object"].as_str().unwrap().contains(obj))
                .unwrap_or_else(|| panic!("{}: {f} not found in {hazards:?}", case.file));
            let shown = d["scenarios"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["stress"] == stress);
            assert!(shown, "{}: {stress}", case.file);
            // Its replay command reproduces it.
            let replay = h["replay"].as_str().unwrap();
            assert_eq!(h["reproduced"], true, "{}: {h}", case.file);
            let mut args: Vec<&str> = replay.split_whitespace().skip(1).collect();
            args.push("--json");
            let (code, out, err) = bridgesim(&args);
            assert_eq!(code, 1, "{replay}: {out}{err}");
            let r: serde_json::Value = serde_json::from_str(&out).expect("JSON");
            let res = &r["results"][0];
            let shows = res["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["kind"] == kind && g["object"].as_str().unwrap().contains(obj))
                || res["also"].as_array().unwrap().iter().any(|a| {
                    a.as_str().unwrap().contains(kind) && a.as_str().unwrap().contains(obj)
                });
            assert!(shows, "{replay}: {res}");
        }
        for a in case.absent {
            if *a == "*" {
                assert!(hazards.is_empty(), "{}: {hazards:?}", case.file);
            } else {
                assert!(
                    hazards.iter().all(|h| h["violation"] != *a),
                    "{}: {a} in {hazards:?}",
                    case.file
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn generated_scenarios_load_for_every_driver_of_every_corpus_release() {
    let Some(corpus) = testkit::corpus() else {
        return;
    };
    let kernel = corpus.join("kernel");
    let mut releases: Vec<String> = std::fs::read_dir(&kernel)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.parse::<drm::Release>().is_ok())
        .collect();
    releases.sort();
    assert!(releases.len() >= 5, "{releases:?}");
    let tmp = std::env::temp_dir().join(format!("bridgesim-audit-gen-test-{}", std::process::id()));
    for r in &releases {
        let dir = kernel.join(r).join("drivers/gpu/drm/bridge");
        let sets = audit::report::stress_sets(&[dir], &audit::Options::default())
            .unwrap_or_else(|e| panic!("{r}: {e}"));
        assert!(sets.len() >= 40, "{r}: {} stress sets", sets.len());
        bridgesim::audit_explore::write_sets(&sets, &tmp).unwrap();
        let mut loaded = 0;
        for s in &sets {
            if s.not_generated.is_some() {
                assert!(s.scenarios.is_empty(), "{r}/{}", s.driver);
                continue;
            }
            assert_eq!(
                s.scenarios.len() + s.skipped.len(),
                audit::stress::Stress::ALL.len(),
                "{r}/{}: each stress is generated or skipped with a reason",
                s.driver
            );
            for st in &s.scenarios {
                let p = tmp
                    .join(s.dir())
                    .join(audit::stress::StressSet::scenario_file(*st));
                bridgesim::scenario::load(&p)
                    .unwrap_or_else(|e| panic!("{}: does not load: {e:?}", p.display()));
                loaded += 1;
            }
        }
        assert!(loaded >= 100, "{r}: {loaded} scenarios loaded");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `--base/--head --explore` on a tree holding the twin without the cancel and a tree holding
/// the twin with it (the same file name): the cancel closes the explored use-after-free, and
/// the other way round introduces it (exit 1).
#[test]
fn base_head_compares_explored_hazards_both_ways() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit-explore");
    let tmp = std::env::temp_dir().join(format!(
        "bridgesim-audit-explore-diff-{}",
        std::process::id()
    ));
    let (bad, good) = (tmp.join("bad"), tmp.join("good"));
    for (dir, file) in [(&bad, "work_uncancelled.c"), (&good, "work_cancelled.c")] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(src.join(file), dir.join("wk.c")).unwrap();
    }
    let run = |base: &Path, head: &Path| {
        let (code, out, err) = bridgesim(&[
            "audit",
            "--base",
            &base.display().to_string(),
            "--head",
            &head.display().to_string(),
            "--release",
            "v7.1",
            "--explore",
            "--json",
        ]);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        assert_eq!(v["schema"], "bridgesim-audit/2");
        (code, v["explored"]["diff"].clone())
    };
    let has = |list: &serde_json::Value, kind: &str| {
        list.as_array().unwrap().iter().any(|h| {
            h["driver"] == "wk"
                && h["violation"] == kind
                && h["object"].as_str().unwrap().contains("struct wk")
        })
    };
    let (_, fixed) = run(&bad, &good);
    assert!(has(&fixed["closed"], "use-after-free"), "{fixed}");
    assert!(
        fixed["introduced"].as_array().unwrap().is_empty(),
        "{fixed}"
    );
    let (code, broken) = run(&good, &bad);
    assert!(has(&broken["introduced"], "use-after-free"), "{broken}");
    assert!(broken["closed"].as_array().unwrap().is_empty(), "{broken}");
    assert_eq!(code, 1);
    let _ = std::fs::remove_dir_all(&tmp);
}
