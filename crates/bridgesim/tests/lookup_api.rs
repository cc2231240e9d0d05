//! The `lookup` step's `api` field: each function as the sources spell it, under the releases
//! that have it. A counted lookup gets and puts a reference owned by the step ("lookup"); a
//! borrowed one takes none (from v7.0 of_drm_find_bridge gets and puts at once inside the
//! wrapper); the graph lookups follow the consumer's endpoint to the bridge at its remote end.
//! Asking for an api a release lacks is an input error (`tests/bad-scenarios/lookup-api-*`).

use std::path::Path;
use std::sync::Arc;

use bridgesim::scenario::{Prepared, Scenario};
use drm::of::LookupApi;
use drm::Release;
use kmodel::trace::Event;

const SN65: &str = "/soc@0/i2c@30a30000/bridge@2c";
const DSI: &str = "/soc@0/dsi@32e60000";

/// The text of a scenario with the add-on plugged and one lookup step.
fn source(step: &str) -> String {
    format!(
        r#"name = "lookup"
[board]
dts = "builtin:sunh"
[overlays.addon]
file = "builtin:sunh-addon-vga"
plugged = true
[[thread]]
name = "t"
steps = [{step}]
"#
    )
}

/// That scenario, loaded.
fn scenario(step: &str) -> Arc<Prepared> {
    let sc = Scenario::parse("lookup.toml", Path::new("."), &source(step)).expect("parses");
    Arc::new(Prepared::new(sc).unwrap_or_else(|e| panic!("{e:?}")))
}

/// One run: the objects (by name) the step got a reference on, per owner, and the functions
/// of the step's call paths.
struct Seen {
    gets: Vec<(String, String)>,
    puts: Vec<(String, String)>,
    functions: Vec<String>,
}

fn run(p: &Arc<Prepared>, release: Release) -> Seen {
    let k = p.run_once(p.rules(Some(release)).unwrap());
    let tr = k.trace();
    let mut seen = Seen {
        gets: Vec::new(),
        puts: Vec::new(),
        functions: Vec::new(),
    };
    for e in &tr.events {
        let (list, obj, owner, path) = match e {
            Event::RefGet {
                obj, owner, path, ..
            } => (&mut seen.gets, obj, owner, path),
            Event::RefPut {
                obj, owner, path, ..
            } => (&mut seen.puts, obj, owner, path),
            _ => continue,
        };
        let names = tr.path_names(*path);
        if !names.contains(&"bridge_lookup") {
            continue;
        }
        list.push((owner.clone(), k.describe(*obj)));
        seen.functions.extend(names.iter().map(|n| n.to_string()));
    }
    seen
}

#[test]
fn each_api_gets_what_its_release_gives() {
    // (step, api, references the step's owner "lookup" takes, the wrapper's own get+put)
    let by_node = format!(r#"{{ op = "lookup", node = "{SN65}", api = "API" }}"#);
    let by_graph = format!(r#"{{ op = "lookup", node = "{DSI}", api = "API", port = 1 }}"#);
    for api in LookupApi::ALL {
        let step = if api.follows_graph() {
            &by_graph
        } else {
            &by_node
        }
        .replace("API", api.name());
        let p = scenario(&step);
        for release in api.releases() {
            let seen = run(&p, release);
            let lookup_gets: Vec<&String> = seen
                .gets
                .iter()
                .filter(|(o, _)| o == "lookup")
                .map(|(_, d)| d)
                .collect();
            let lookup_puts = seen.puts.iter().filter(|(o, _)| o == "lookup").count();
            let counted = api.counted();
            assert_eq!(lookup_gets.len(), counted as usize, "{api} under {release}");
            assert_eq!(lookup_puts, counted as usize, "{api} under {release}");
            // The graph lookups reach the sn65dsi83 at the DSI host's port 1.
            assert!(
                lookup_gets.iter().all(|d| d.contains(SN65)),
                "{api} under {release}: {lookup_gets:?}"
            );
            // A counted lookup's reference is taken inside the function named.
            if counted {
                assert!(
                    seen.functions.iter().any(|f| f == api.name()),
                    "{api} under {release}: {:?}",
                    seen.functions
                );
            }
            // The deprecated wrapper of v7.0+ gets and puts at once; before, nothing.
            let wrapper = seen
                .gets
                .iter()
                .filter(|(o, _)| o == "of_drm_find_bridge")
                .count();
            let borrowed_via_wrapper = matches!(
                api,
                LookupApi::OfDrmFindBridge | LookupApi::DrmOfFindPanelOrBridge
            ) && drm::Switch::OfFindAndGet.on_in(release);
            assert_eq!(
                wrapper, borrowed_via_wrapper as usize,
                "{api} under {release}"
            );
        }
    }
}

/// Without `api` the step keeps its default: the counted lookup where the release has it.
#[test]
fn the_default_is_the_counted_lookup_where_it_exists() {
    let p = scenario(&format!(r#"{{ op = "lookup", node = "{SN65}" }}"#));
    for release in Release::ALL {
        let seen = run(&p, release);
        let gets = seen.gets.iter().filter(|(o, _)| o == "lookup").count();
        assert_eq!(
            gets,
            drm::Switch::OfFindAndGet.on_in(release) as usize,
            "{release}"
        );
    }
}

/// The command line refuses a release without the api, naming the ones that have it; the
/// same scenario runs under a release that has it.
#[test]
fn a_run_under_a_release_without_the_api_is_an_input_error() {
    let path =
        std::env::temp_dir().join(format!("bridgesim-lookup-api-{}.toml", std::process::id()));
    let src = source(&format!(
        r#"{{ op = "lookup", node = "{DSI}", api = "of_drm_get_bridge_by_endpoint", port = 1 }}"#
    ));
    std::fs::write(&path, src).unwrap();
    let bridgesim = |rules: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_bridgesim"))
            .args(["explore", "--rules", rules])
            .arg(&path)
            .output()
            .unwrap()
    };
    let ok = bridgesim("v7.2");
    let refused = bridgesim("v6.16");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("does not exist in v6.16; it exists in v7.2"),
        "{stderr}"
    );
}
