//! Refcount owners held per call (`kref::Owner::local`) and counts read only to be printed
//! (`Kernel::kref_read_for_print`), issue 15: what each reports and what the explorer sees of
//! it (the owner key of each refcount step, the part the print reads).

use kmodel::kref::Owner;
use kmodel::report::Violation;
use kmodel::*;

fn run(body: impl FnOnce(&Kernel) + 'static) -> Kernel {
    let k = Kernel::new(Config::default());
    k.run(&mut ThreadOrder, body);
    k
}

fn kinds(k: &Kernel) -> Vec<ViolationKind> {
    k.violations().iter().map(|v| v.kind).collect()
}

fn only(k: &Kernel, kind: ViolationKind) -> Violation {
    assert_eq!(kinds(k), vec![kind]);
    k.violations()[0].clone()
}

/// (thread, kind, owner key) of every get and put, in order.
fn ref_steps(k: &Kernel) -> Vec<(Tid, AccessKind, u64)> {
    k.steps()
        .iter()
        .filter(|s| {
            matches!(
                s.access.kind,
                AccessKind::RefGet | AccessKind::RefPut | AccessKind::RefDec
            )
        })
        .filter_map(|s| s.kref.map(|r| (s.tid, s.access.kind, r.owner)))
        .collect()
}

const WALK: &str = "drm_mode_validate_pipeline";

/// Two threads run one function that takes and drops a reference: with a local owner each
/// call holds its own (two owner keys, one per thread, the get and put of a thread sharing
/// theirs); the run is clean and the count ends where it began.
#[test]
fn a_local_owner_is_one_holder_per_thread() {
    let k = run(|k| {
        let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
        let r = k.kref_init(o.id(), "devres of dev0");
        let walk = move |k: &Kernel| {
            k.kref_get(r, Owner::local(WALK));
            k.kref_put(r, Owner::local(WALK), |_| {
                unreachable!("the devres holds one")
            });
        };
        let a = k.spawn("modeset", walk);
        let b = k.spawn("probe", walk);
        k.join(a);
        k.join(b);
        assert_eq!(k.kref_owners(r), vec![("devres of dev0".to_string(), 1)]);
        k.kref_put(r, "devres of dev0", move |k| k.kfree(o));
    });
    assert_eq!(kinds(&k), vec![]);
    let steps = ref_steps(&k);
    let walks: Vec<_> = steps.iter().filter(|s| s.0 != Tid(0)).collect();
    assert_eq!(walks.len(), 4, "{steps:?}");
    let (a, b) = (walks[0], walks[2]);
    assert_ne!(a.0, b.0);
    assert_eq!(walks[1].2, a.2, "one thread's get and put name one holder");
    assert_eq!(walks[3].2, b.2, "one thread's get and put name one holder");
    assert_ne!(a.2, b.2, "two threads' calls are two holders");
}

/// The same with a plain owner: one holder whichever thread runs (one owner key), which is
/// what the explorer must keep ordered.
#[test]
fn a_plain_owner_is_one_holder_in_every_thread() {
    let k = run(|k| {
        let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
        let r = k.kref_init(o.id(), "devres of dev0");
        let a = k.spawn("modeset", move |k| k.kref_get(r, WALK));
        k.join(a);
        // Another thread drops the reference the first one took: the same holder, no report.
        let b = k.spawn("probe", move |k| {
            k.kref_put(r, WALK, |_| unreachable!());
        });
        k.join(b);
        k.kref_put(r, "devres of dev0", move |k| k.kfree(o));
    });
    assert_eq!(kinds(&k), vec![]);
    let keys: Vec<u64> = ref_steps(&k)
        .iter()
        .filter(|s| s.0 != Tid(0))
        .map(|s| s.2)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
}

/// A local reference dropped by a thread whose call took none is a put of a reference not
/// held (the planted bug), and a leaked one names its function alone.
#[test]
fn a_local_reference_dropped_in_another_thread_is_not_held() {
    let k = run(|k| {
        let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
        let r = k.kref_init(o.id(), "devres of dev0");
        let a = k.spawn("modeset", move |k| k.kref_get(r, Owner::local(WALK)));
        k.join(a);
        let b = k.spawn("probe", move |k| {
            k.kref_put(r, Owner::local(WALK), |_| unreachable!());
        });
        k.join(b);
        k.kref_put(r, "devres of dev0", move |k| k.kfree(o));
    });
    let v = only(&k, ViolationKind::RefNotHeld);
    assert!(v.message.contains(&format!("\"{WALK}\"")), "{}", v.message);
    assert!(
        v.details.iter().any(|d| d.contains(WALK)),
        "the modeset thread's holder is listed: {:?}",
        v.details
    );

    let k = run(|k| {
        let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
        let r = k.kref_init(o.id(), "devres of dev0");
        let a = k.spawn("modeset", move |k| k.kref_get(r, Owner::local(WALK)));
        k.join(a);
        k.kref_put(r, "devres of dev0", |_| ());
    });
    let v = only(&k, ViolationKind::Leak);
    assert!(
        v.details[1].ends_with(&format!("; held by: {WALK}")),
        "{:?}",
        v.details
    );
}

/// A count read for printing returns the count and is a read of the container's `kref` part:
/// it conflicts with no get or put (the explorer never reorders it against them), at both
/// granularities. Like every access, it commutes with the container's free
/// ([`AccessKind::Free`]): a print after the free is a use-after-free the explorer predicts
/// from happens-before (explore's `FreeRule::Predict`), or finds by reordering under
/// `FreeRule::Conflict`, which turns the free back into a whole-container write.
#[test]
fn a_count_read_for_print_is_the_count_and_conflicts_with_no_refcount_step() {
    let k = run(|k| {
        let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
        let r = k.kref_init(o.id(), "devres of dev0");
        k.kref_get(r, "published");
        assert_eq!(k.kref_read_for_print(r), 2);
        assert_eq!(k.kref_read(r), 2);
        k.kref_put(r, "published", |_| ());
        k.kref_put(r, "devres of dev0", move |k| k.kfree(o));
    });
    assert_eq!(kinds(&k), vec![]);
    let steps = k.steps();
    let part = Field::named(kref::KREF_PART);
    let print = steps
        .iter()
        .find(|s| s.access.field == part)
        .expect("a step of its own");
    assert_eq!(print.access.kind, AccessKind::Read);
    let read = steps
        .iter()
        .find(|s| s.access.kind == AccessKind::RefRead)
        .unwrap();
    assert_ne!(
        print.access.obj, read.access.obj,
        "the container, not the count"
    );
    for s in &steps {
        for g in [Granularity::Field, Granularity::Object] {
            if matches!(
                s.access.kind,
                AccessKind::RefGet | AccessKind::RefPut | AccessKind::RefDec | AccessKind::Free
            ) {
                assert!(!print.access.dependent_at(&s.access, g), "{s:?}");
            }
        }
    }
    // The control: the container's free is one of the steps checked above, and a
    // whole-container write (what `FreeRule::Conflict` makes of it) conflicts with the print.
    let free = steps
        .iter()
        .find(|s| s.access.obj == print.access.obj && s.access.kind == AccessKind::Free)
        .expect("the container is freed");
    let as_write = kmodel::Access::new(free.access.obj, AccessKind::Write);
    assert!(print.access.dependent(&as_write));
    // The control: a plain kref_read conflicts with the puts.
    assert!(steps
        .iter()
        .any(|s| s.access.kind == AccessKind::RefPut && read.access.dependent(&s.access)));
}

/// After the last put freed the container, the print's load is a use-after-free on the
/// container (KASAN's report of the load); before, it is silent (above).
#[test]
fn a_count_read_for_print_of_a_freed_container_is_a_use_after_free() {
    let k = run(|k| {
        let o = k.kzalloc("struct drm_bridge", "b0", 0u32);
        let r = k.kref_init(o.id(), "devres of dev0");
        k.kref_put(r, "devres of dev0", move |k| k.kfree(o));
        assert_eq!(k.kref_read_for_print(r), 0);
    });
    let v = only(&k, ViolationKind::UseAfterFree);
    let part = Field::named(kref::KREF_PART);
    let container = k
        .steps()
        .iter()
        .find(|s| s.access.field == part)
        .unwrap()
        .access
        .obj;
    assert_eq!(v.obj, Some(container));
}
