//! Field-granular accesses and commuting refcount decrements (issue 15): the dependency
//! relation as a table, at both granularities, and the classification of a pending put.

use kmodel::{Access, AccessKind, Field, Granularity, ObjId};

/// An access: object, kind, part.
type Op = (ObjId, AccessKind, Field);

const A: Field = Field::named("drm_bridge.unplugged");
const B: Field = Field::named("drm_bridge.private");

#[test]
fn dependency_table_at_both_granularities() {
    use AccessKind::*;
    let o = ObjId(3);
    let other = ObjId(4);
    let w = Field::WHOLE;
    // (first, second, dependent per field, dependent per object)
    let cases: &[(Op, Op, bool, bool)] = &[
        ((o, Write, A), (o, Read, B), false, true),
        ((o, Write, A), (o, Read, A), true, true),
        ((o, Write, A), (o, Read, w), true, true),
        ((o, Write, w), (o, Read, B), true, true),
        ((o, Read, A), (o, Read, A), false, false),
        ((o, Write, A), (other, Write, A), false, false),
        ((o, ListWrite, A), (o, Write, B), false, true),
        ((o, RefDec, w), (o, RefDec, w), false, true),
        ((o, RefDec, w), (o, RefPut, w), true, true),
        ((o, RefDec, w), (o, RefGet, w), true, true),
        ((o, RefDec, w), (o, RefRead, w), true, true),
        ((o, RefGet, w), (o, RefGet, w), false, false),
        ((o, RefPut, w), (o, RefPut, w), true, true),
        ((o, Lock, w), (o, Lock, w), true, true),
        ((o, Unlock, w), (o, Lock, w), false, false),
    ];
    for &(a, b, field, object) in cases {
        let (a, b) = (
            Access::to_field(a.0, a.1, a.2),
            Access::to_field(b.0, b.1, b.2),
        );
        for (x, y) in [(a, b), (b, a)] {
            assert_eq!(x.dependent_at(&y, Granularity::Field), field, "{x:?} {y:?}");
            assert_eq!(
                x.dependent_at(&y, Granularity::Object),
                object,
                "{x:?} {y:?}"
            );
        }
    }
}

#[test]
fn named_parts_are_stable_and_distinct_from_the_whole() {
    assert_eq!(Field::named("x"), Field::named("x"));
    assert_ne!(A, B);
    for f in [A, B, Field::named("")] {
        assert!(!f.is_whole());
        assert!(f.overlaps(f) && f.overlaps(Field::WHOLE) && Field::WHOLE.overlaps(f));
    }
    assert!(!A.overlaps(B));
}
