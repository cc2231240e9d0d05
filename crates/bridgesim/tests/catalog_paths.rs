//! The catalog scenarios whose verdict is "clean" in every release with the mechanism must
//! still reach the path they are about; these tests check that in the trace of one run.

use std::path::Path;
use std::sync::Arc;

use bridgesim::scenario::{self, Prepared};
use drm::{Release, Switch};
use kmodel::trace::Event;

fn load(name: &str) -> Arc<Prepared> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/catalog")
        .join(name);
    scenario::load(&path).unwrap_or_else(|e| panic!("{e:?}"))
}

/// 5.3: a container freed by its devres put without ever being published (a probe that
/// failed after devm_drm_bridge_alloc and before drm_bridge_add), in every refcounted release.
#[test]
fn probe_error_before_add_frees_a_bridge_never_published() {
    let p = load("5.3-probe-error-before-add.toml");
    for release in Release::ALL
        .into_iter()
        .filter(|r| Switch::AddRemoveRef.on_in(*r))
    {
        let k = p.run_once(p.rules(Some(release)).unwrap());
        let tr = k.trace();
        let sn65: Vec<_> = tr
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Alloc { obj, ty, .. } if ty == "struct sn65dsi83" => Some(*obj),
                _ => None,
            })
            .collect();
        let published = |o| {
            tr.events.iter().any(
                |e| matches!(e, Event::RefGet { obj, owner, .. } if *obj == o && owner == "published"),
            )
        };
        let freed = |o| {
            tr.events
                .iter()
                .any(|e| matches!(e, Event::Free { obj, .. } if *obj == o))
        };
        let never = sn65.iter().position(|&o| freed(o) && !published(o));
        let Some(never) = never else {
            panic!("under {release}: no sn65dsi83 freed before being added")
        };
        // The deferred probe succeeds once the panel is back: a later one is published.
        assert!(
            sn65[never + 1..].iter().any(|&o| published(o)),
            "under {release}"
        );
    }
}
