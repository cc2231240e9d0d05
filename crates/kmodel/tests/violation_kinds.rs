//! Violation kinds have one name: Display, FromStr and serde agree.

use kmodel::ViolationKind;

#[test]
fn kinds_print_parse_and_serialize_as_one_name() {
    let mut names = std::collections::BTreeSet::new();
    for &k in ViolationKind::ALL {
        let name = k.to_string();
        assert_eq!(name, k.name());
        assert_eq!(name.parse::<ViolationKind>(), Ok(k));
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, format!("\"{name}\""));
        assert_eq!(serde_json::from_str::<ViolationKind>(&json).unwrap(), k);
        assert!(names.insert(name));
    }
    // Spot checks, written out independently of the table.
    assert_eq!(ViolationKind::UseAfterFree.to_string(), "use-after-free");
    assert_eq!(ViolationKind::HwAfterUnplug.to_string(), "hw-after-unplug");
    assert_eq!(
        ViolationKind::RefcountAddOnZero.to_string(),
        "refcount-add-on-zero"
    );
}

#[test]
fn an_unknown_kind_lists_the_valid_ones() {
    let e = "use-after-fre".parse::<ViolationKind>().unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("unknown violation kind `use-after-fre`"),
        "{msg}"
    );
    for &k in ViolationKind::ALL {
        assert!(msg.contains(k.name()), "{msg}");
    }
    assert!(serde_json::from_str::<ViolationKind>("\"UseAfterFree\"").is_err());
}
